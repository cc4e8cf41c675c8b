#!/usr/bin/env python3
"""Checks that the workspace's declared `rust-version` is not below what its dependencies
declare: the newest `rust-version` among the normal dependencies (transitively) of the
`traced` crate. A lower bound, not proof that this compiler version builds the crate
(only one toolchain can be installed here), but a declared version below it is false.

    python3 scripts/check_rust_version.py

Prints the two versions and `rust-version: 1 passed, 0 failed` (or failed); exits 1 when
the declared version is too low.
"""

import json
import subprocess
import sys


def version(text):
    return tuple(int(part) for part in text.split("."))


def main():
    metadata = json.loads(
        subprocess.run(
            ["cargo", "metadata", "--format-version", "1", "--locked"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
    )
    packages = {p["id"]: p for p in metadata["packages"]}
    nodes = {n["id"]: n for n in metadata["resolve"]["nodes"]}
    root = next(p for p in metadata["packages"] if p["name"] == "traced")
    declared = root.get("rust_version")
    if not declared:
        print("traced declares no rust-version")
        print("rust-version: 0 passed, 1 failed")
        return 1
    seen, stack = set(), [root["id"]]
    while stack:
        current = stack.pop()
        if current in seen:
            continue
        seen.add(current)
        for dep in nodes[current]["deps"]:
            if any(kind["kind"] is None for kind in dep["dep_kinds"]):
                stack.append(dep["pkg"])
    needed = max(
        (
            (version(packages[p]["rust_version"]), packages[p]["name"], packages[p]["version"])
            for p in seen
            # the workspace's own crates share the declared version
            if packages[p].get("source") and packages[p].get("rust_version")
        ),
        default=((0,), "nothing", ""),
    )
    print(f"declared rust-version {declared}; newest among dependencies {'.'.join(map(str, needed[0]))} ({needed[1]} {needed[2]})")
    if version(declared) < needed[0]:
        print("rust-version: 0 passed, 1 failed")
        return 1
    print("rust-version: 1 passed, 0 failed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
