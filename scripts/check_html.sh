#!/usr/bin/env bash
# Checks a page written by `traced view --html` in headless Chromium: the page is
# loaded, its script runs, and every NAME must appear in the resulting DOM.
#
# Usage: scripts/check_html.sh PAGE.html NAME...
set -euo pipefail

if [[ $# -lt 2 ]]; then
    echo "usage: $0 PAGE.html NAME..." >&2
    exit 2
fi
page=$1
shift
if [[ ! -f $page ]]; then
    echo "$0: no such file: $page" >&2
    exit 2
fi

if ! command -v chromium >/dev/null 2>&1; then
    sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        sudo=(sudo)
    fi
    echo "installing chromium..." >&2
    "${sudo[@]}" apt-get update >&2
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y chromium >&2
fi

profile=$(mktemp -d)
dom=$(mktemp)
trap 'rm -rf "$profile" "$dom"' EXIT

url="file://$(realpath "$page")"
if ! timeout 60 chromium --headless --no-sandbox --disable-gpu \
    --disable-background-networking --disable-component-update --disable-sync \
    --no-first-run --user-data-dir="$profile" --dump-dom "$url" >"$dom" 2>/dev/null; then
    echo "$0: chromium failed or timed out on $url" >&2
    exit 1
fi
if [[ ! -s $dom ]]; then
    echo "$0: chromium dumped an empty DOM for $url" >&2
    exit 1
fi

# Names are matched as the DOM serialises them: &, < and > escaped.
missing=0
for name in "$@"; do
    # (Quoted replacements: bash 5.2 would otherwise read `&` as the matched text.)
    escaped=${name//&/"&amp;"}
    escaped=${escaped//</"&lt;"}
    escaped=${escaped//>/"&gt;"}
    if grep -qF -- "$escaped" "$dom"; then
        echo "found: $name"
    else
        echo "MISSING: $name" >&2
        missing=1
    fi
done
exit "$missing"
