#!/usr/bin/env bash
# The viewer end to end: run the two-service example into a fresh embedded store, write
# its trace as an HTML page with `traced view --html`, open the page in headless
# Chromium (scripts/check_html.sh installs Debian's chromium when missing) and check that
# every span of the trace is on it.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

cargo build -q -p traced-examples --bin two_services -p traced-viewer --bin traced
TARGET_DIR="${CARGO_TARGET_DIR:-$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json,sys; print(json.load(sys.stdin)["target_directory"])')}"
BIN="$TARGET_DIR/debug"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# Only the embedded store: no OTLP or Langfuse setting of the caller leaks in.
env -u OTEL_EXPORTER_OTLP_ENDPOINT -u OTEL_EXPORTER_OTLP_TRACES_ENDPOINT \
    -u LANGFUSE_HOST -u LANGFUSE_BASE_URL -u LANGFUSE_PUBLIC_KEY -u LANGFUSE_SECRET_KEY \
    TRACED_DIR="$work/traces" "$BIN/two_services" >"$work/run.txt"
trace_id=$(sed -n 's/^trace \([0-9a-f]\{32\}\)$/\1/p' "$work/run.txt" | head -n 1)
if [[ -z $trace_id ]]; then
    echo "e2e_viewer: no trace id in the example's output:" >&2
    cat "$work/run.txt" >&2
    exit 1
fi

"$BIN/traced" view "$work/traces" --trace "$trace_id" --html "$work/page.html" >/dev/null
scripts/check_html.sh "$work/page.html" "$trace_id" "POST /run" "flow" "start" "node A" \
    "node A-1" "node A-1 sub-task" "node B" "guardrail" "end" "server-a" "server-b"
echo "e2e_viewer: 1 passed, 0 failed"
