#!/usr/bin/env bash
# Interop with the real Python SDKs of LangSmith and Langfuse, both ways:
#
#   bash scripts/python_sdks.sh
#
# 1. Makes a venv (default ~/.cache/traced-python-sdks) and pip installs
#    scripts/python_sdks/requirements.txt into it (langsmith, langfuse and the
#    OpenTelemetry SDK, pinned). A second run reuses it while the requirements' hash
#    matches the stamp file written after the last successful install.
# 2. Runs the ignored tests in tests/tests/python_sdks.rs, which start the scripts in
#    scripts/python_sdks/ (one per direction and SDK) with that venv's python.
#
# Needs: python3 (>= 3.9; 3.11 is what the pins are checked on) with venv and pip
# (python3-venv is installed with apt-get when missing, with sudo when not root), cargo,
# sha256sum, and access to PyPI for the first run.
#
# Environment knobs (all optional):
#   TRACED_PYSDK_VENV    the venv (default ~/.cache/traced-python-sdks)
#   TRACED_PYSDK_PYTHON  python used to make the venv (default python3)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SCRIPTS="$ROOT/scripts/python_sdks"
REQUIREMENTS="$SCRIPTS/requirements.txt"
VENV="${TRACED_PYSDK_VENV:-$HOME/.cache/traced-python-sdks}"
VENV_PY="$VENV/bin/python"
PY="${TRACED_PYSDK_PYTHON:-python3}"

die() {
  printf 'python_sdks: FAILED: %s\n' "$*" >&2
  exit 1
}

command -v "$PY" >/dev/null 2>&1 || die "no $PY on PATH (set TRACED_PYSDK_PYTHON)"
[ -f "$REQUIREMENTS" ] || die "missing $REQUIREMENTS"

# shellcheck source=lib/venv.sh
. "$ROOT/scripts/lib/venv.sh"
ensure_venv python_sdks "$VENV" "$PY" "$REQUIREMENTS" 'import langsmith, langfuse, opentelemetry.sdk'

# Only the tests' own pipelines: no OTLP, Langfuse or LangSmith setting of the caller
# leaks into them (the Python scripts drop theirs themselves).
env -u OTEL_EXPORTER_OTLP_ENDPOINT -u OTEL_EXPORTER_OTLP_TRACES_ENDPOINT \
  -u LANGFUSE_HOST -u LANGFUSE_BASE_URL -u LANGFUSE_PUBLIC_KEY -u LANGFUSE_SECRET_KEY \
  -u LANGSMITH_API_KEY -u LANGSMITH_ENDPOINT -u LANGSMITH_PROJECT \
  TRACED_PYTHON="$VENV_PY" TRACED_PYSDK_SCRIPTS="$SCRIPTS" \
  cargo test -p traced-tests --test python_sdks -- --ignored --test-threads=1
