"""Stands for a Python service, traced with the real Langfuse SDK, that calls a Rust service.

Real SDK calls (langfuse 3.15.0, opentelemetry 1.45): ``langfuse.Langfuse(...)``,
``Langfuse.start_as_current_span(name="python_caller")``,
``langfuse.propagate_attributes(user_id="u-1", session_id="s 1", tags=["t1", "t2"],
metadata={"tenant": "acme"}, version="v9", trace_name="checkout", as_baggage=True)`` and
``opentelemetry.propagate.inject(carrier)`` -- the headers an OTel-instrumented HTTP client
sends from inside that span (traceparent + baggage with the langfuse_* entries).

The client (``_common.quiet_langfuse()``) has dummy keys and base URL http://127.0.0.1:9
(nothing listens there); its span exporter never gets to run: the output is printed, then the
process ends with os._exit(0) (``_common.run(..., hard_exit=True)``), skipping Langfuse's
atexit flush (which would only try to reach 127.0.0.1:9).

Prints one JSON object on stdout:
  {"headers": {...}, "trace_id": "<32 hex>", "span_id": "<16 hex of python_caller>"}
Anything else goes to stderr. Exits 1 with a message on stderr if the SDK call fails.
"""

import json
import sys

sys.dont_write_bytecode = True  # importing _common leaves no __pycache__ in the source tree
from _common import drain_stdin, hermetic, quiet_langfuse, run  # noqa: E402

# Hermetic: no LANGFUSE_* / OTEL_* setting from the caller's environment (base URL, sample
# rate, propagators, tracing switch, environment name, ...) may change what the SDK does.
# Before langfuse / opentelemetry are imported.
hermetic("LANGFUSE_", "OTEL_")


def main() -> int:
    drain_stdin()  # takes no input
    from langfuse import propagate_attributes
    from opentelemetry import propagate, trace

    langfuse = quiet_langfuse()
    carrier: dict = {}
    with langfuse.start_as_current_span(name="python_caller"):
        span_context = trace.get_current_span().get_span_context()
        with propagate_attributes(
            user_id="u-1",
            session_id="s 1",
            tags=["t1", "t2"],
            metadata={"tenant": "acme"},
            version="v9",
            trace_name="checkout",
            as_baggage=True,
        ):
            propagate.inject(carrier)
    if not span_context.is_valid:
        raise RuntimeError("no valid current span inside start_as_current_span")
    out = {
        "headers": carrier,
        "trace_id": trace.format_trace_id(span_context.trace_id),
        "span_id": trace.format_span_id(span_context.span_id),
    }
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    run(main, "langfuse_out.py", hard_exit=True)  # os._exit: skips the atexit export to 127.0.0.1:9
