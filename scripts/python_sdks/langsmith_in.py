"""Stands for a Python service, traced with the real LangSmith SDK, that a Rust service calls.

Reads one JSON object ``{"headers": {name: value}}`` (the request headers the Rust side
sent) from stdin and hands them to the real SDK (langsmith 0.15.1):

* ``langsmith.RunTree.from_headers(headers)`` -- the placeholder for the remote parent run;
* ``langsmith.tracing_context(parent=headers)`` around a ``@langsmith.traceable(name="python_child")``
  function that reads ``langsmith.run_helpers.get_current_run_tree()`` -- what a LangSmith-traced
  Python handler records as its own run.

Tracing is on but local (``tracing_context(enabled="local", client=<Client for
http://127.0.0.1:9 with auto-batching off and its server info given>)``
(``_common.quiet_langsmith_client()``), the same client set with
``langsmith.configure(client=...)``): runs are built exactly as when tracing to a server,
never posted; no network, nothing to wait for at exit.
With no usable ``langsmith-trace`` header, ``python_child`` is therefore a new root run.

Prints one JSON object on stdout:
  {"from_headers": null | {"trace_id", "id", "parent_run_id", "dotted_order", "project",
                           "metadata", "tags"},
   "child": null | {same keys, for python_child},
   "error": null | "<text of the exception RunTree.from_headers raised>"}
(UUIDs as strings; metadata = run.extra.get("metadata"), tags = run.tags,
project = run.session_name.) When from_headers raises, ``tracing_context(parent=headers)``
raises the same, and ``child`` is null. Anything else goes to stderr; exits 1 with a
message on stderr if the SDK fails in any other way.
"""

import json
import sys

sys.dont_write_bytecode = True  # importing _common leaves no __pycache__ in the source tree
from _common import hermetic, quiet_langsmith_client, run  # noqa: E402

# Hermetic: no LANGSMITH_* / LANGCHAIN_* setting from the caller's environment (project,
# endpoint, tracing mode, ...) may change what the SDK does. Before langsmith is imported.
hermetic("LANGSMITH_", "LANGCHAIN_")


def run_fields(run):
    if run is None:
        return None

    def s(v):
        return None if v is None else str(v)

    return {
        "trace_id": s(run.trace_id),
        "id": s(run.id),
        "parent_run_id": s(run.parent_run_id),
        "dotted_order": run.dotted_order,
        "project": run.session_name,
        "metadata": (run.extra or {}).get("metadata"),
        "tags": run.tags,
    }


def main() -> int:
    import langsmith
    from langsmith import RunTree, traceable, tracing_context
    from langsmith.run_helpers import get_current_run_tree

    doc = json.load(sys.stdin)
    headers = doc.get("headers") or {}
    if not isinstance(headers, dict):
        raise TypeError(f'"headers" must be a JSON object, got {type(headers).__name__}')

    @traceable(name="python_child")
    def python_child():
        return run_fields(get_current_run_tree())

    out = {"from_headers": None, "child": None, "error": None}
    client = quiet_langsmith_client()
    # Also the global client: a run made from headers has none of its own, and
    # its children would otherwise make the SDK's default one (api.smith.langchain.com).
    langsmith.configure(client=client)
    with tracing_context(enabled="local", client=client):
        from_headers_failed = False
        try:
            out["from_headers"] = run_fields(RunTree.from_headers(headers))
        except Exception as e:
            from_headers_failed = True
            out["error"] = f"{type(e).__name__}: {e}"
        try:
            with tracing_context(parent=headers):
                out["child"] = python_child()
        except Exception as e:
            if not from_headers_failed:
                raise
            print(f"langsmith_in.py: tracing_context(parent=headers) raised too: {e}", file=sys.stderr)
    sys.stdout.write(json.dumps(out, default=str) + "\n")
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    run(main, "langsmith_in.py", hard_exit=False)  # sys.exit
