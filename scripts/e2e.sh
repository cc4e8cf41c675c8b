#!/usr/bin/env bash
# End-to-end check of traced's exports against real backends.
#
#   bash scripts/e2e.sh
#
# 1. Installs Arize Phoenix (pinned) into a cached venv, ~/.cache/traced-e2e/phoenix-venv
#    (a second run reuses it), and starts it on 127.0.0.1 with telemetry and every other
#    outbound request off, its data in a fresh temporary directory.
# 2. Builds the examples (`cargo build -p traced-examples --bins`, honouring
#    CARGO_TARGET_DIR) and runs `two_services` and `streaming` against Phoenix, once over
#    OTLP/HTTP and once over OTLP/gRPC.
# 3. Reads every trace back from Phoenix's REST API and checks it (scripts/e2e_check.py):
#    the tree across the two services, kinds, inputs and outputs, the streamed text and
#    usage, the guardrail's error.
# 4. Runs `streaming` (and `two_services`) with LANGFUSE_HOST/… pointing at a stand-in
#    for Langfuse's OTLP endpoint (scripts/e2e_langfuse_receiver.py) and checks it was
#    called on the right path with the right Basic auth and content type, and carried the
#    trace with its attributes as exported (and, for two_services, each span's service).
# 5. TLS: Phoenix's gRPC collector serves TLS with a certificate from a CA made for the
#    run (trustme, installed into the same venv) and requires a client certificate from
#    that CA (mutual TLS), so every gRPC run above goes over https:// with
#    OTEL_EXPORTER_OTLP_CERTIFICATE, _CLIENT_CERTIFICATE and _CLIENT_KEY; a run with the
#    wrong CA, and one without the client certificate, must say that their spans were not
#    delivered, and why (TLS).
# 6. A real HTTP proxy: tinyproxy (Debian's package, installed with apt-get when
#    missing) between `streaming` and Phoenix's OTLP/HTTP endpoint, through
#    HTTP_PROXY: the trace must reach Phoenix and tinyproxy must have tunnelled it.
#
# Needs: python3 >= 3.11 with venv and pip (python3-venv is installed with apt-get when
# missing), cargo, coreutils and util-linux. Exits non-zero, saying which check failed,
# when anything fails; every process it starts is stopped on exit.
#
# Environment knobs (all optional):
#   TRACED_E2E_CACHE            cache folder (default ~/.cache/traced-e2e)
#   TRACED_E2E_PHOENIX_VERSION  arize-phoenix version to install (default below)
#   TRACED_E2E_PYTHON           python used to make the venv (default: first python3.11+ found)
#   TRACED_E2E_KEEP=1           keep the temporary folder (logs, Phoenix's database)
#   E2E_FAKE_EXAMPLES=1         run scripts/e2e_fake_examples.py (OpenTelemetry Python SDK)
#                               instead of the Rust examples: tests this harness itself
set -euo pipefail
SECONDS=0

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

PHOENIX_VERSION="${TRACED_E2E_PHOENIX_VERSION:-20.26.1}"
TRUSTME_VERSION=1.2.1
CACHE_DIR="${TRACED_E2E_CACHE:-$HOME/.cache/traced-e2e}"
VENV="$CACHE_DIR/phoenix-venv"
VENV_PY="$VENV/bin/python"
STAMP="$VENV/.traced-e2e-arize-phoenix-$PHOENIX_VERSION"
FAKE="${E2E_FAKE_EXAMPLES:-0}"
HEALTH_TIMEOUT="${TRACED_E2E_HEALTH_TIMEOUT:-120}"   # s for Phoenix to answer /healthz
INGEST_TIMEOUT="${TRACED_E2E_INGEST_TIMEOUT:-60}"    # s for a trace to show up in Phoenix's REST API
EXAMPLE_TIMEOUT="${TRACED_E2E_EXAMPLE_TIMEOUT:-120}"  # s for one example run
LF_PUBLIC=pk-lf-test
LF_SECRET=sk-lf-test

say() { printf '\n== %s  [%ds]\n' "$*" "$SECONDS"; }
die() {
  printf '\ne2e: FAILED: %s\n' "$*" >&2
  exit 1
}

# ------------------------------------------------------------------ cleanup
WORK="$(mktemp -d "${TMPDIR:-/tmp}/traced-e2e.XXXXXX")"
PIDS=()      # process-group leaders started here (each started with setsid or timeout)
FAILED=()    # names of the checks that failed
PASSED=()

stop_group() { # pid: TERM its process group, then KILL what is left after 10 s
  local pid=$1
  kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL -- "-$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

forget_pid() { # pid: stopped and reaped, so cleanup must not signal that number again
  local kept=() p
  for p in "${PIDS[@]}"; do [ "$p" = "$1" ] || kept+=("$p"); done
  PIDS=("${kept[@]}")
}

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  local pid
  for pid in "${PIDS[@]}"; do stop_group "$pid"; done
  if [ "$rc" -ne 0 ] && [ -f "$WORK/phoenix.log" ]; then
    echo "---- last lines of Phoenix's log ($WORK/phoenix.log)"
    tail -n 30 "$WORK/phoenix.log" || true
  fi
  if [ "${TRACED_E2E_KEEP:-0}" = 1 ]; then
    echo "e2e: kept $WORK"
  else
    rm -rf "$WORK"
  fi
  echo "e2e: total time ${SECONDS}s"
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

# ------------------------------------------------------------------ helpers
find_python() {
  local candidate
  for candidate in "${TRACED_E2E_PYTHON:-}" python3 python3.11 python3.12 python3.13 python3.14; do
    [ -n "$candidate" ] || continue
    command -v "$candidate" >/dev/null 2>&1 || continue
    if "$candidate" -c 'import sys; sys.exit(0 if (3, 11) <= sys.version_info[:2] < (3, 15) else 1)' 2>/dev/null; then
      command -v "$candidate"
      return 0
    fi
  done
  return 1
}

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

http_ok() { # url: exit 0 when it answers 2xx
  "$PY" - "$1" <<'EOF' >/dev/null 2>&1
import sys, urllib.request
with urllib.request.urlopen(sys.argv[1], timeout=2) as r:
    sys.exit(0 if 200 <= r.status < 300 else 1)
EOF
}

record() { # name rc
  if [ "$2" -eq 0 ]; then PASSED+=("$1"); else FAILED+=("$1"); fi
}

# ------------------------------------------------------------------ 1. Phoenix
say "Phoenix $PHOENIX_VERSION"
PY="$(find_python)" || die "needs python 3.11 to 3.14 (arize-phoenix $PHOENIX_VERSION requires it); set TRACED_E2E_PYTHON"

# shellcheck source=lib/venv.sh
. "$ROOT/scripts/lib/venv.sh"

venv_ready() { # the stamp of a finished install, and a venv whose python still runs it
  [ -f "$STAMP" ] && "$VENV_PY" -c \
    'import sys, importlib.metadata as m; sys.exit(m.version("arize-phoenix") != sys.argv[1])' \
    "$PHOENIX_VERSION" >/dev/null 2>&1
}

if venv_ready; then
  echo "reusing $VENV"
else
  echo "installing arize-phoenix==$PHOENIX_VERSION into $VENV (a few minutes the first time)"
  rm -rf "$VENV"
  mkdir -p "$CACHE_DIR"
  # Debian's python3 ships venv/ensurepip separately: the shared helper installs it.
  VENV_NAME="e2e"
  venv_make "$VENV" "$PY"
  "$VENV_PY" -m pip install --disable-pip-version-check --no-input -q "arize-phoenix==$PHOENIX_VERSION" \
    || die "pip install arize-phoenix==$PHOENIX_VERSION failed"
  "$VENV_PY" -c 'import phoenix.server.main' || die "arize-phoenix installed but does not import"
  touch "$STAMP"
  echo "installed in ${SECONDS}s"
fi
if ! "$VENV_PY" -c 'import trustme' >/dev/null 2>&1; then
  "$VENV_PY" -m pip install --disable-pip-version-check --no-input -q "trustme==$TRUSTME_VERSION" \
    || die "pip install trustme==$TRUSTME_VERSION failed"
fi

# A CA for this run, a certificate for 127.0.0.1 signed by it, and a CA that signed nothing.
TLS_DIR="$WORK/tls"
mkdir -p "$TLS_DIR"
"$VENV_PY" - "$TLS_DIR" <<'EOF_TLS' || die "could not make the test CA"
import sys, trustme
from pathlib import Path
out = Path(sys.argv[1])
ca = trustme.CA()
server = ca.issue_cert("127.0.0.1", "localhost")
ca.cert_pem.write_to_path(str(out / "ca.pem"))
server.private_key_pem.write_to_path(str(out / "server-key.pem"))
client = ca.issue_cert("client.traced.test")
client.private_key_pem.write_to_path(str(out / "client-key.pem"))
(out / "client.pem").write_bytes(b"".join(blob.bytes() for blob in client.cert_chain_pems))
(out / "server.pem").write_bytes(b"".join(blob.bytes() for blob in server.cert_chain_pems))
trustme.CA().cert_pem.write_to_path(str(out / "other-ca.pem"))
EOF_TLS

PHOENIX_PORT="$(free_port)"
PHOENIX_GRPC_PORT="$(free_port)"
while [ "$PHOENIX_GRPC_PORT" = "$PHOENIX_PORT" ]; do PHOENIX_GRPC_PORT="$(free_port)"; done
mkdir -p "$WORK/phoenix"
PHOENIX_URL="http://127.0.0.1:$PHOENIX_PORT"

# A clean environment for Phoenix: none of the caller's PHOENIX_*/OTEL_* settings (a
# database URL, auth, a collector endpoint) may leak in.
phoenix_env=()
while IFS= read -r name; do phoenix_env+=(-u "$name"); done < <(compgen -e | grep -E '^(PHOENIX_|OTEL_)' || true)
env "${phoenix_env[@]}" \
  PHOENIX_HOST=127.0.0.1 \
  PHOENIX_PORT="$PHOENIX_PORT" \
  PHOENIX_GRPC_PORT="$PHOENIX_GRPC_PORT" \
  PHOENIX_WORKING_DIR="$WORK/phoenix" \
  PHOENIX_TELEMETRY_ENABLED=false \
  PHOENIX_ALLOW_EXTERNAL_RESOURCES=false \
  PHOENIX_ENABLE_AUTH=false \
  PHOENIX_DISABLE_AGENT_ASSISTANT=true \
  PHOENIX_AGENTS_DISABLE_BASH=true \
  PHOENIX_AGENTS_DISABLE_WEB_ACCESS=true \
  PHOENIX_AGENTS_DISABLE_GITHUB=true \
  PHOENIX_ENABLE_MCP_SERVER=false \
  PHOENIX_TLS_ENABLED_FOR_HTTP=false \
  PHOENIX_TLS_ENABLED_FOR_GRPC=true \
  PHOENIX_TLS_CERT_FILE="$TLS_DIR/server.pem" \
  PHOENIX_TLS_KEY_FILE="$TLS_DIR/server-key.pem" \
  PHOENIX_TLS_CA_FILE="$TLS_DIR/ca.pem" \
  PHOENIX_TLS_VERIFY_CLIENT=true \
  DO_NOT_TRACK=1 \
  setsid "$VENV_PY" "$ROOT/scripts/e2e_phoenix_serve.py" >"$WORK/phoenix.log" 2>&1 </dev/null &
PHOENIX_PID=$!
PIDS+=("$PHOENIX_PID")
echo "starting Phoenix in the background (pid $PHOENIX_PID): HTTP $PHOENIX_URL, gRPC over TLS 127.0.0.1:$PHOENIX_GRPC_PORT, data in $WORK/phoenix"

# ------------------------------------------------------------------ 2. the examples, read back from Phoenix
if [ "$FAKE" = 1 ]; then
  say "E2E_FAKE_EXAMPLES=1: the examples are stood in for by scripts/e2e_fake_examples.py"
  example_cmd() { EXAMPLE_CMD=("$VENV_PY" "$ROOT/scripts/e2e_fake_examples.py" "$1"); }
else
  say "cargo build -p traced-examples --bins"
  command -v cargo >/dev/null 2>&1 || die "cargo not found"
  cargo build -p traced-examples --bins || die "cargo build -p traced-examples --bins failed"
  TARGET_DIR="$(cargo metadata --format-version 1 --no-deps |
    "$PY" -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')" \
    || die "cargo metadata failed"
  BIN_DIR="$TARGET_DIR/debug"
  for bin in two_services streaming; do
    [ -x "$BIN_DIR/$bin" ] || die "$BIN_DIR/$bin was not built"
  done
  echo "binaries in $BIN_DIR"
  example_cmd() { EXAMPLE_CMD=("$BIN_DIR/$1"); }
fi

# Phoenix starts (migrations, ~10-20 s) while the examples build.
say "waiting for Phoenix"
deadline=$((SECONDS + HEALTH_TIMEOUT))
until http_ok "$PHOENIX_URL/healthz"; do
  kill -0 "$PHOENIX_PID" 2>/dev/null || die "Phoenix exited during start-up (its log follows)"
  [ "$SECONDS" -lt "$deadline" ] || die "Phoenix did not answer $PHOENIX_URL/healthz within ${HEALTH_TIMEOUT}s"
  sleep 1
done
echo "Phoenix is up (GET /healthz: 200) at ${SECONDS}s"

# run_example LABEL NAME [VAR=VALUE...]: runs one example in $WORK with only the given
# OTEL_*/LANGFUSE_* settings, bounded in time; sets TRACE_ID from its `trace <hex>` line.
run_example() {
  local label=$1 name=$2
  shift 2
  local log="$WORK/$label-$name.log" rc=0 pid unset_args=() var
  TRACE_ID=""
  while IFS= read -r var; do unset_args+=(-u "$var"); done < <(compgen -e | grep -E '^(OTEL_|LANGFUSE_|TRACED_)' || true)
  example_cmd "$name"
  mkdir -p "$WORK/run-$label-$name"
  echo "\$ $* ${EXAMPLE_CMD[*]}"
  (
    cd "$WORK/run-$label-$name"
    # timeout runs the example in a process group of its own, so a server process the
    # example left behind is stopped along with it below.
    exec env "${unset_args[@]}" TRACED_DIR="$WORK/run-$label-$name/traces" "$@" \
      timeout -k 5 "$EXAMPLE_TIMEOUT" "${EXAMPLE_CMD[@]}"
  ) >"$log" 2>&1 </dev/null &
  pid=$!
  PIDS+=("$pid")
  wait "$pid" || rc=$?
  kill -TERM -- "-$pid" 2>/dev/null || true # leftovers in its group, if any
  forget_pid "$pid"
  sed 's/^/    | /' "$log"
  TRACE_ID="$(grep -oE '^trace [0-9a-f]{32}\b' "$log" | head -n 1 | cut -d' ' -f2 || true)"
  if [ "$rc" -eq 124 ]; then
    echo "    $name did not finish within ${EXAMPLE_TIMEOUT}s"
    return 1
  elif [ "$rc" -ne 0 ]; then
    echo "    $name exited with status $rc"
    return 1
  elif [ -z "$TRACE_ID" ]; then
    echo "    $name printed no 'trace <32 hex>' line"
    return 1
  fi
  echo "    -> trace $TRACE_ID (${SECONDS}s)"
}

check_phoenix() { # label example
  "$VENV_PY" "$ROOT/scripts/e2e_check.py" phoenix --url "$PHOENIX_URL" --project default \
    --trace-id "$TRACE_ID" --example "$2" --timeout "$INGEST_TIMEOUT" --label "$1"
}

for proto in http grpc; do
  tls_settings=()
  if [ "$proto" = http ]; then
    endpoint="http://127.0.0.1:$PHOENIX_PORT"
    protocol=http/protobuf
  else
    endpoint="https://127.0.0.1:$PHOENIX_GRPC_PORT"
    protocol=grpc
    tls_settings=(
      OTEL_EXPORTER_OTLP_CERTIFICATE="$TLS_DIR/ca.pem"
      OTEL_EXPORTER_OTLP_CLIENT_CERTIFICATE="$TLS_DIR/client.pem"
      OTEL_EXPORTER_OTLP_CLIENT_KEY="$TLS_DIR/client-key.pem"
    )
  fi
  for example in two_services streaming; do
    say "$example -> Phoenix over OTLP/$proto ($endpoint)"
    rc=0
    run_example "$proto" "$example" \
      OTEL_EXPORTER_OTLP_ENDPOINT="$endpoint" OTEL_EXPORTER_OTLP_PROTOCOL="$protocol" "${tls_settings[@]}" || rc=$?
    if [ "$rc" -eq 0 ]; then
      check_phoenix "$proto" "$example" || rc=$?
    fi
    record "phoenix/$proto/$example" "$rc"
  done
done

# The wrong CA: an example must not claim delivery; it says what failed, and fails.
for example in two_services streaming; do
  say "$example -> Phoenix over OTLP/gRPC with the wrong CA (must be reported)"
  rc=0
  if run_example wrong-ca "$example" \
    OTEL_EXPORTER_OTLP_ENDPOINT="https://127.0.0.1:$PHOENIX_GRPC_PORT" OTEL_EXPORTER_OTLP_PROTOCOL=grpc \
    OTEL_EXPORTER_OTLP_CERTIFICATE="$TLS_DIR/other-ca.pem" TRACED_NOTICES=off; then
    echo "    the example claimed success with an untrusted certificate"
    rc=1
  fi
  log="$WORK/wrong-ca-$example.log"
  grep -qE "spooled for the next start|spooled, sent again by the next start" "$log" \
    || { echo "    no word of the spooled spans"; rc=1; }
  grep -q "last error: TLS" "$log" || { echo "    the TLS failure was not told"; rc=1; }
  grep -q "UnknownIssuer" "$log" || { echo "    the reason (unknown issuer) was not told"; rc=1; }
  record "phoenix/grpc-tls/wrong-ca-reported/$example" "$rc"
done

# Mutual TLS: Phoenix refuses a client without a certificate; the example says so.
say "streaming -> Phoenix over OTLP/gRPC without the client certificate (must be reported)"
rc=0
if run_example no-client-cert streaming \
  OTEL_EXPORTER_OTLP_ENDPOINT="https://127.0.0.1:$PHOENIX_GRPC_PORT" OTEL_EXPORTER_OTLP_PROTOCOL=grpc \
  OTEL_EXPORTER_OTLP_CERTIFICATE="$TLS_DIR/ca.pem" TRACED_NOTICES=off; then
  echo "    the example claimed success without the client certificate Phoenix requires"
  rc=1
fi
log="$WORK/no-client-cert-streaming.log"
grep -q "spooled for the next start" "$log" || { echo "    no word of the spooled spans"; rc=1; }
grep -q "last error: TLS" "$log" || { echo "    the TLS failure was not told"; rc=1; }
record "phoenix/grpc-mtls/no-client-cert-reported" "$rc"

# ------------------------------------------------------------------ a real proxy
say "streaming -> tinyproxy -> Phoenix over OTLP/HTTP (HTTP_PROXY)"
rc=0
if ! command -v tinyproxy >/dev/null 2>&1; then
  SUDO=""
  [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  { $SUDO apt-get update -qq >/dev/null && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq tinyproxy >/dev/null; } \
    || die "could not install tinyproxy"
fi
PROXY_PORT="$(free_port)"
cat >"$WORK/tinyproxy.conf" <<EOF_PROXY
Port $PROXY_PORT
Listen 127.0.0.1
Allow 127.0.0.1
Timeout 60
LogLevel Info
LogFile "$WORK/tinyproxy.log"
PidFile "$WORK/tinyproxy.pid"
EOF_PROXY
setsid tinyproxy -d -c "$WORK/tinyproxy.conf" >"$WORK/tinyproxy.out" 2>&1 </dev/null &
PROXY_PID=$!
PIDS+=("$PROXY_PID")
for _ in $(seq 1 50); do
  "$PY" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1)' "$PROXY_PORT" 2>/dev/null && break
  sleep 0.1
done
# Phoenix is named `localhost` so that only the exporter goes through the proxy: nothing
# else the example does is addressed to that name.
run_example proxy streaming \
  OTEL_EXPORTER_OTLP_ENDPOINT="http://localhost:$PHOENIX_PORT" OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf \
  HTTP_PROXY="http://127.0.0.1:$PROXY_PORT" NO_PROXY=127.0.0.1 || rc=$?
if [ "$rc" -eq 0 ]; then
  check_phoenix proxy streaming || rc=$?
fi
grep -q "CONNECT" "$WORK/tinyproxy.log" "$WORK/tinyproxy.out" 2>/dev/null \
  || { echo "    tinyproxy tunnelled nothing"; cat "$WORK/tinyproxy.log" 2>/dev/null | tail -5; rc=1; }
stop_group "$PROXY_PID"
forget_pid "$PROXY_PID"
record "proxy/tinyproxy/streaming" "$rc"

# ------------------------------------------------------------------ 3. Langfuse stand-in
# One fresh receiver per example, so that each check sees only that example's requests.
# streaming is the Langfuse check proper; two_services also goes there because, unlike
# Phoenix, the receiver keeps each span's resource: it shows which process (service.name
# server-a / server-b) made which span.
langfuse_run() { # example
  local example=$1 rc=0 dir="$WORK/langfuse-$1" receiver_pid lf_url
  mkdir -p "$dir"
  setsid "$PY" "$ROOT/scripts/e2e_langfuse_receiver.py" --public-key "$LF_PUBLIC" --secret-key "$LF_SECRET" \
    --report "$dir/report.json" --port-file "$dir/port" >"$dir/receiver.log" 2>&1 </dev/null &
  receiver_pid=$!
  PIDS+=("$receiver_pid")
  for _ in $(seq 1 100); do
    [ -s "$dir/port" ] && break
    kill -0 "$receiver_pid" 2>/dev/null || break
    sleep 0.1
  done
  if [ ! -s "$dir/port" ]; then
    cat "$dir/receiver.log"
    echo "    the Langfuse stand-in did not start"
    stop_group "$receiver_pid"
    forget_pid "$receiver_pid"
    return 1
  fi
  lf_url="http://127.0.0.1:$(cat "$dir/port")"
  echo "receiver at $lf_url/api/public/otel/v1/traces"
  run_example langfuse "$example" \
    LANGFUSE_HOST="$lf_url" LANGFUSE_PUBLIC_KEY="$LF_PUBLIC" LANGFUSE_SECRET_KEY="$LF_SECRET" || rc=$?
  if [ -n "$TRACE_ID" ]; then
    "$PY" "$ROOT/scripts/e2e_check.py" langfuse --url "$lf_url" --report "$dir/report.json" --example "$example" \
      --trace-id "$TRACE_ID" --public-key "$LF_PUBLIC" --secret-key "$LF_SECRET" || rc=1
  fi
  stop_group "$receiver_pid"
  forget_pid "$receiver_pid"
  return "$rc"
}

for example in streaming two_services; do
  say "$example -> Langfuse's OTLP endpoint (stand-in receiver)"
  rc=0
  langfuse_run "$example" || rc=$?
  record "langfuse/$example" "$rc"
done

# ------------------------------------------------------------------ summary
say "summary (Phoenix $PHOENIX_VERSION)"
for name in "${PASSED[@]}"; do echo "  passed  $name"; done
for name in "${FAILED[@]}"; do echo "  FAILED  $name"; done
if [ "${#FAILED[@]}" -gt 0 ]; then
  echo "e2e: ${#PASSED[@]} passed, ${#FAILED[@]} failed"
  die "${#FAILED[@]} of $((${#PASSED[@]} + ${#FAILED[@]})) end-to-end checks failed: ${FAILED[*]}"
fi
echo "e2e: all end-to-end checks passed"
echo "e2e: ${#PASSED[@]} passed, 0 failed"
