#!/usr/bin/env bash
# The compile cost of 500 annotated functions: the same small functions with no
# attribute, with `#[tracing::instrument]` and with `#[traced::traced]`.
#
#   benches/compile_cost.sh            # FUNCTIONS=500 by default
#
# It writes three throwaway crates under target/compile-cost/ (each with its own
# `[workspace]` table, so none joins this workspace), builds each one's dependencies
# first, then times only the crate itself: `touch src/lib.rs && cargo build` (dev
# profile, CARGO_INCREMENTAL=0 so the crate is compiled in full each time), wall time,
# twice, the smaller kept. It prints a Markdown table: the build of each crate and
# what the attribute adds over the plain crate, in total and per function.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/.." && pwd)"
functions="${FUNCTIONS:-500}"
work="$root/target/compile-cost"
# The throwaway crates share one target directory of their own, so their dependencies
# are built once and nothing here waits on the workspace's own builds.
export CARGO_TARGET_DIR="$work/target"
export CARGO_INCREMENTAL=0
export LC_ALL=C # bc and printf with a decimal point

# name, dependency line, attribute
variants=(
    "plain||"
    "instrument|tracing = \"0.1.44\"|#[tracing::instrument]"
    "traced|traced = { path = \"$root/runtime\" }|#[traced::traced]"
)

generate() {
    local name="$1" dependency="$2" attribute="$3" dir="$work/cc_$1"
    rm -rf "$dir"
    mkdir -p "$dir/src"
    cat >"$dir/Cargo.toml" <<EOF
[package]
name = "cc_$name"
version = "0.0.0"
edition = "2021"
publish = false

# Its own workspace: not a member of $root.
[workspace]

[dependencies]
$dependency
EOF
    # The workspace's lock file, so the dependencies resolve to the versions we use.
    cp "$root/Cargo.lock" "$dir/Cargo.lock"
    {
        echo "//! $functions small functions, ${attribute:-no attribute}."
        for ((i = 0; i < functions; i++)); do
            if [[ -n "$attribute" ]]; then
                echo "$attribute"
            fi
            echo "pub fn f$i(x: u64, s: &str) -> u64 {"
            echo "    x.wrapping_mul($i).wrapping_add(s.len() as u64)"
            echo "}"
        done
    } >"$dir/src/lib.rs"
}

build() {
    (cd "$work/cc_$1" && cargo build --quiet)
}

# Seconds (with decimals) that `touch src/lib.rs && cargo build` takes, best of two.
time_crate() {
    local name="$1" best="" start end took
    for _ in 1 2; do
        # Untimed: everything the crate depends on is up to date (the runtime may have
        # been edited since), so the timed build compiles the crate alone.
        build "$name"
        touch "$work/cc_$name/src/lib.rs"
        start="$EPOCHREALTIME"
        build "$name"
        end="$EPOCHREALTIME"
        took="$(echo "$end - $start" | bc -l)"
        if [[ -z "$best" ]] || (($(echo "$took < $best" | bc -l))); then
            best="$took"
        fi
    done
    echo "$best"
}

mkdir -p "$work"
declare -A seconds
for entry in "${variants[@]}"; do
    IFS='|' read -r name dependency attribute <<<"$entry"
    generate "$name" "$dependency" "$attribute"
    echo "building cc_$name and its dependencies..." >&2
    build "$name"
done
for entry in "${variants[@]}"; do
    IFS='|' read -r name _ _ <<<"$entry"
    seconds[$name]="$(time_crate "$name")"
    echo "cc_$name: ${seconds[$name]} s" >&2
done

plain="${seconds[plain]}"
row() {
    local label="$1" name="$2" total over per
    total="$(printf '%.2f s' "${seconds[$name]}")"
    if [[ "$name" == plain ]]; then
        echo "| $label | $total | — | — |"
    else
        over="$(echo "${seconds[$name]} - $plain" | bc -l)"
        per="$(echo "$over * 1000 / $functions" | bc -l)"
        printf '| %s | %s | %.2f s | %.2f ms |\n' "$label" "$total" "$over" "$per"
    fi
}

echo
echo "\`benches/compile_cost.sh\` — $functions functions per crate; \`touch src/lib.rs && cargo build\`"
echo "(dev profile, CARGO_INCREMENTAL=0), wall time, best of two; $(nproc) cores; $(rustc --version)."
echo
echo "| crate ($functions functions) | build of the crate | over plain | per function |"
echo "|---|---:|---:|---:|"
row "no attribute" plain
row "\`#[tracing::instrument]\`" instrument
row "\`#[traced::traced]\`" traced
