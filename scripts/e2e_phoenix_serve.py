#!/usr/bin/env python3
"""Start Arize Phoenix (`phoenix serve`) for scripts/e2e.sh, with its gRPC collector on loopback.

Phoenix binds its HTTP server to PHOENIX_HOST, but (as of 20.x) its OTLP gRPC collector
always listens on `[::]:PHOENIX_GRPC_PORT`, i.e. on every interface. The e2e run must
serve on 127.0.0.1 only, so this launcher rewrites that address to PHOENIX_HOST
(default 127.0.0.1) before handing over to Phoenix's own entry point, which is the same
as `python -m phoenix.server.main serve`. If the patch cannot be applied (a Phoenix or
grpcio that no longer looks like this), it says so and refuses to start, rather than
listening on every interface.

Run it with the Python of the venv where arize-phoenix is installed.
"""

from __future__ import annotations

import os
import sys


def _patch_grpc_bind_address(host: str) -> None:
    import grpc.aio

    original_server = grpc.aio.server

    def rewrite(address: str) -> str:
        for wildcard in ("[::]:", "0.0.0.0:"):
            if address.startswith(wildcard):
                return f"{host}:{address[len(wildcard):]}"
        return address

    def loopback_server(*args, **kwargs):
        server = original_server(*args, **kwargs)
        add_insecure, add_secure = server.add_insecure_port, server.add_secure_port
        server.add_insecure_port = lambda address: add_insecure(rewrite(address))
        server.add_secure_port = lambda address, *rest: add_secure(rewrite(address), *rest)
        return server

    grpc.aio.server = loopback_server


def main() -> int:
    host = os.environ.get("PHOENIX_HOST") or "127.0.0.1"
    try:
        _patch_grpc_bind_address(host)
    except Exception as error:  # noqa: BLE001
        sys.stderr.write(f"e2e_phoenix_serve: cannot bind Phoenix's gRPC to {host}: {error}\n")
        return 2
    from phoenix.server.main import main as phoenix_main

    sys.argv = ["phoenix", "serve", *sys.argv[1:]]
    phoenix_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
