#!/usr/bin/env bash
# The object-store tests against a local S3 (moto's server):
#
#   bash scripts/object_store.sh
#
# 1. Makes a venv (default ~/.cache/traced-moto) and pip installs
#    scripts/object_store/requirements.txt into it (moto[server], boto3, pinned). A second
#    run reuses it while the requirements' hash matches the stamp file written after the
#    last successful install.
# 2. Starts moto's S3 server on a free port of 127.0.0.1 (its log in a temp dir) and waits
#    until it answers HTTP; it is stopped, and the temp dir removed, when this script exits.
# 3. Creates the bucket traced-test in it with boto3 (access key and secret `test`,
#    region us-east-1).
# 4. Runs the ignored tests in tests/tests/object_store.rs with TRACED_TEST_S3_ENDPOINT set
#    to the server and TRACED_TEST_S3_VERIFY to a command (scripts/object_store/get_object.py
#    under the venv's python) that prints an object's bytes: `$VERIFY ENDPOINT BUCKET KEY`.
#
# Needs: python3 (>= 3.9; 3.11 is what the pins are checked on) with venv and pip
# (python3-venv is installed with apt-get when missing, with sudo when not root), cargo,
# sha256sum, and access to PyPI for the first run. Talks to nothing but 127.0.0.1 otherwise.
#
# Environment knobs (all optional):
#   TRACED_MOTO_VENV    the venv (default ~/.cache/traced-moto)
#   TRACED_MOTO_PYTHON  python used to make the venv (default python3)
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

SCRIPTS="$ROOT/scripts/object_store"
REQUIREMENTS="$SCRIPTS/requirements.txt"
VENV="${TRACED_MOTO_VENV:-$HOME/.cache/traced-moto}"
VENV_PY="$VENV/bin/python"
PY="${TRACED_MOTO_PYTHON:-python3}"
BUCKET="traced-test"
WAIT_SECS=30

die() {
  printf 'object_store: FAILED: %s\n' "$*" >&2
  exit 1
}

command -v "$PY" >/dev/null 2>&1 || die "no $PY on PATH (set TRACED_MOTO_PYTHON)"
[ -f "$REQUIREMENTS" ] || die "missing $REQUIREMENTS"
[ -f "$SCRIPTS/get_object.py" ] || die "missing $SCRIPTS/get_object.py"

# shellcheck source=lib/venv.sh
. "$ROOT/scripts/lib/venv.sh"
ensure_venv object_store "$VENV" "$PY" "$REQUIREMENTS" 'import moto, boto3'
[ -x "$VENV/bin/moto_server" ] || die "no $VENV/bin/moto_server after the install"

# Only the local server: no AWS setting or proxy of the caller leaks into boto3 here.
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 \
  AWS_CONFIG_FILE AWS_SHARED_CREDENTIALS_FILE AWS_SESSION_TOKEN
export NO_PROXY="127.0.0.1,localhost${NO_PROXY:+,$NO_PROXY}"
export no_proxy="$NO_PROXY"

TMP="$(mktemp -d)"
MOTO_PID=""
cleanup() {
  if [ -n "$MOTO_PID" ] && kill -0 "$MOTO_PID" 2>/dev/null; then
    kill "$MOTO_PID" 2>/dev/null || true
    wait "$MOTO_PID" 2>/dev/null || true
  fi
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PORT="$("$VENV_PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()')"
ENDPOINT="http://127.0.0.1:$PORT"
LOG="$TMP/moto_server.log"

echo "object_store: starting moto_server on $ENDPOINT (log: $LOG)"
"$VENV/bin/moto_server" -H 127.0.0.1 -p "$PORT" >"$LOG" 2>&1 &
MOTO_PID=$!

server_failed() {
  echo "--- moto_server log ---" >&2
  tail -n 40 "$LOG" >&2 || true
  die "$*"
}

deadline=$((SECONDS + WAIT_SECS))
until "$VENV_PY" -c '
import sys, urllib.request, urllib.error
try:
    urllib.request.urlopen(sys.argv[1], timeout=2).read()
except urllib.error.HTTPError:
    pass  # any HTTP answer will do
' "$ENDPOINT/" >/dev/null 2>&1; do
  kill -0 "$MOTO_PID" 2>/dev/null || server_failed "moto_server exited before it answered"
  [ "$SECONDS" -lt "$deadline" ] || server_failed "moto_server did not answer on $ENDPOINT within ${WAIT_SECS}s"
  sleep 0.3
done

"$VENV_PY" - "$ENDPOINT" "$BUCKET" <<'PYEOF' || server_failed "could not create the bucket $BUCKET"
import sys
import boto3

endpoint, bucket = sys.argv[1:]
s3 = boto3.client("s3", endpoint_url=endpoint, region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
s3.create_bucket(Bucket=bucket)
s3.head_bucket(Bucket=bucket)
PYEOF
echo "object_store: bucket $BUCKET ready"

# not exec: the EXIT trap must stop the server after the tests
TRACED_TEST_S3_ENDPOINT="$ENDPOINT" \
  TRACED_TEST_S3_VERIFY="$VENV_PY $ROOT/scripts/object_store/get_object.py" \
  cargo test -p traced-tests --test object_store -- --ignored --test-threads=1
