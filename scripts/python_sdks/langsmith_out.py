"""Stands for a Python service, traced with the real LangSmith SDK, that calls a Rust service.

Real SDK calls (langsmith 0.15.1): ``langsmith.traceable`` (name="python_caller",
metadata={"tenant": "acme"}, tags=["py-tag"], project_name="interop-project"),
``langsmith.run_helpers.get_current_run_tree()`` and ``RunTree.to_headers()`` -- the
headers a LangSmith-traced Python client sends on an outgoing request.

Runs under ``tracing_context(enabled="local", client=<Client for http://127.0.0.1:9 with
auto-batching off and its server info given>)`` (``_common.quiet_langsmith_client()``): the
SDK builds the run tree exactly as when tracing is on, but never posts it, and the client
neither starts its background thread nor asks a server for /info (no network, nothing to
wait for at exit).

Prints one JSON object on stdout:
  {"headers": {...}, "trace_id": "<uuid>", "run_id": "<uuid>", "dotted_order": "..."}
Anything else goes to stderr. Exits 1 with a message on stderr if the SDK call fails.
"""

import json
import sys

sys.dont_write_bytecode = True  # importing _common leaves no __pycache__ in the source tree
from _common import drain_stdin, hermetic, quiet_langsmith_client, run  # noqa: E402

# Hermetic: no LANGSMITH_* / LANGCHAIN_* setting from the caller's environment (project,
# endpoint, tracing mode, ...) may change what the SDK does. Before langsmith is imported.
hermetic("LANGSMITH_", "LANGCHAIN_")


def main() -> int:
    drain_stdin()  # takes no input
    import langsmith
    from langsmith import traceable, tracing_context
    from langsmith.run_helpers import get_current_run_tree

    @traceable(
        name="python_caller",
        metadata={"tenant": "acme"},
        tags=["py-tag"],
        project_name="interop-project",
    )
    def python_caller() -> dict:
        run = get_current_run_tree()
        if run is None:
            raise RuntimeError("get_current_run_tree() returned None inside @traceable")
        return {
            "headers": run.to_headers(),
            "trace_id": str(run.trace_id),
            "run_id": str(run.id),
            "dotted_order": run.dotted_order,
        }

    client = quiet_langsmith_client()
    langsmith.configure(client=client)  # so no run ever falls back to the default client
    with tracing_context(enabled="local", client=client):
        out = python_caller()
    sys.stdout.write(json.dumps(out) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    run(main, "langsmith_out.py", hard_exit=False)  # sys.exit
