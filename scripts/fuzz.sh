#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser of traced that reads outside input (fuzz/), for a
# bounded time, as CI runs it:
#
#   bash scripts/fuzz.sh                    # every target, 20 s each
#   FUZZ_SECONDS=300 bash scripts/fuzz.sh   # longer
#   bash scripts/fuzz.sh traceparent baggage
#
# 1. Installs cargo-fuzz (`cargo install cargo-fuzz --locked`) if it is missing, and a C++
#    compiler (apt-get) if there is none: libfuzzer-sys builds libFuzzer from source.
# 2. Builds the targets with cargo-fuzz. cargo-fuzz passes nightly-only flags
#    (-Zsanitizer=...); RUSTC_BOOTSTRAP=1 lets the stable toolchain accept them, so no
#    nightly is needed. The sanitizer is AddressSanitizer (FUZZ_SANITIZER=none to go
#    without: faster, and enough for safe Rust).
# 3. Runs each target for FUZZ_SECONDS on a COPY of its committed corpus
#    (fuzz/corpus/<target>/) in a temporary directory, with its dictionary
#    (fuzz/dict/<target>.dict) if there is one, so the committed corpus is never changed.
#    Crash inputs go to that temporary directory too, which is kept (and its path and the
#    inputs printed) when a target fails; otherwise it is removed.
#
# Any crash, panic, timeout (FUZZ_TIMEOUT s for one input, default 10) or out-of-memory
# fails the run. The closing line is `fuzz: N passed, M failed`; the exit code is non-zero
# when M > 0.
#
# Honours CARGO_TARGET_DIR (by default the build goes to fuzz/target, ignored by git).
# To reproduce a crash: RUSTC_BOOTSTRAP=1 cargo fuzz run <target> <crash-file>.
set -euo pipefail
cd "$(dirname "$0")/.."

FUZZ_SECONDS="${FUZZ_SECONDS:-20}"
FUZZ_SANITIZER="${FUZZ_SANITIZER:-address}"
FUZZ_TIMEOUT="${FUZZ_TIMEOUT:-10}"
FUZZ_MAX_LEN="${FUZZ_MAX_LEN:-16384}"
export RUSTC_BOOTSTRAP=1

started=$(date +%s)

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

if ! command -v c++ >/dev/null 2>&1 && ! command -v clang++ >/dev/null 2>&1; then
  echo "fuzz: installing a C++ compiler (g++) for libfuzzer-sys"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq g++ >/dev/null
fi

if ! cargo fuzz --version >/dev/null 2>&1; then
  echo "fuzz: installing cargo-fuzz"
  cargo install cargo-fuzz --locked
fi
echo "fuzz: $(cargo fuzz --version), $(rustc --version), sanitizer $FUZZ_SANITIZER, ${FUZZ_SECONDS}s per target"

if [ "$#" -gt 0 ]; then
  targets=("$@")
else
  mapfile -t targets < <(cargo fuzz list)
fi
if [ "${#targets[@]}" -eq 0 ]; then
  echo "fuzz: no fuzz target found under fuzz/" >&2
  exit 1
fi

build_started=$(date +%s)
cargo fuzz build --sanitizer "$FUZZ_SANITIZER"
echo "fuzz: built the fuzz targets in $(($(date +%s) - build_started)) s"

work="$(mktemp -d "${TMPDIR:-/tmp}/traced-fuzz.XXXXXX")"
keep_work=0
cleanup() {
  if [ "$keep_work" -eq 0 ]; then rm -rf "$work"; fi
}
trap cleanup EXIT

passed=0
failed=0
failed_targets=()
summary=()
for target in "${targets[@]}"; do
  corpus="$work/corpus/$target"
  artifacts="$work/artifacts/$target"
  log="$work/logs/$target.log"
  mkdir -p "$corpus" "$artifacts" "$(dirname "$log")"
  if [ -d "fuzz/corpus/$target" ]; then
    cp -R "fuzz/corpus/$target/." "$corpus/"
  fi
  args=(
    "-max_total_time=$FUZZ_SECONDS"
    "-timeout=$FUZZ_TIMEOUT"
    "-max_len=$FUZZ_MAX_LEN"
    "-artifact_prefix=$artifacts/"
    "-print_final_stats=1"
  )
  if [ -f "fuzz/dict/$target.dict" ]; then
    args+=("-dict=fuzz/dict/$target.dict")
  fi

  echo "fuzz: $target ..."
  status=0
  # cargo-fuzz names fuzz/artifacts/<target>/ first; the -artifact_prefix after `--` wins.
  # TMPDIR: the files a target writes (store_reader's store) go with the rest of $work.
  mkdir -p "$work/tmp/$target"
  TMPDIR="$work/tmp/$target" \
    cargo fuzz run "$target" "$corpus" --sanitizer "$FUZZ_SANITIZER" -- "${args[@]}" \
    >"$log" 2>&1 || status=$?

  runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
  cov=$(grep -Eo 'DONE +cov: [0-9]+' "$log" | grep -Eo '[0-9]+$' | tail -n 1 || true)
  inputs=$(find "$corpus" -type f | wc -l)
  crashes=$(find "$artifacts" -type f | wc -l)
  line=$(printf '%-16s %10s runs  %8s exec/s  cov %5s  corpus %5s' \
    "$target" "${runs:-?}" "${rate:-?}" "${cov:-?}" "$inputs")
  if [ "$status" -eq 0 ] && [ "$crashes" -eq 0 ]; then
    passed=$((passed + 1))
    summary+=("ok    $line")
    echo "fuzz: ok    $line"
  else
    failed=$((failed + 1))
    failed_targets+=("$target")
    keep_work=1
    summary+=("FAIL  $line  (exit $status)")
    echo "fuzz: FAIL  $target (exit $status); the end of its log:"
    tail -n 60 "$log"
    for crash in "$artifacts"/*; do
      [ -f "$crash" ] || continue
      echo "fuzz: crash input $crash ($(wc -c <"$crash") bytes), base64:"
      head -c 4096 "$crash" | base64
    done
  fi
done

# cargo-fuzz creates fuzz/artifacts/<target>/ even though the crash inputs went to $work:
# remove those that stayed empty (never a file).
if [ -d fuzz/artifacts ]; then
  find fuzz/artifacts -mindepth 1 -type d -empty -delete
fi

echo
echo "fuzz: summary (${FUZZ_SECONDS}s per target, sanitizer $FUZZ_SANITIZER, $(($(date +%s) - started)) s in all)"
printf 'fuzz:   %s\n' "${summary[@]}"
if [ "$failed" -gt 0 ]; then
  echo "fuzz: failed: ${failed_targets[*]}; logs, corpora and crash inputs kept in $work"
  echo "fuzz: reproduce with: RUSTC_BOOTSTRAP=1 cargo fuzz run <target> <crash-file>"
fi
echo "fuzz: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
