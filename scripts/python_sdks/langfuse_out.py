"""Stands for a Python service, traced with the real Langfuse SDK, that calls a Rust service.

Real SDK calls (langfuse 3.15.0, opentelemetry 1.45): ``langfuse.Langfuse(...)``,
``Langfuse.start_as_current_span(name="python_caller")``,
``langfuse.propagate_attributes(user_id="u-1", session_id="s 1", tags=["t1", "t2"],
metadata={"tenant": "acme"}, version="v9", trace_name="checkout", as_baggage=True)`` and
``opentelemetry.propagate.inject(carrier)`` -- the headers an OTel-instrumented HTTP client
sends from inside that span (traceparent + baggage with the langfuse_* entries).

The client has dummy keys and base URL http://127.0.0.1:9 (nothing listens there); its span
exporter never gets to run: the output is printed, then the process ends with os._exit(0),
skipping Langfuse's atexit flush (which would only try to reach 127.0.0.1:9).

Prints one JSON object on stdout:
  {"headers": {...}, "trace_id": "<32 hex>", "span_id": "<16 hex of python_caller>"}
Anything else goes to stderr. Exits 1 with a message on stderr if the SDK call fails.
"""

import json
import logging
import os
import sys

logging.basicConfig(stream=sys.stderr, level=logging.WARNING)

# Hermetic: no LANGFUSE_* / OTEL_* setting from the caller's environment (base URL, sample
# rate, propagators, tracing switch, environment name, ...) may change what the SDK does.
for _name in [n for n in os.environ if n.startswith(("LANGFUSE_", "OTEL_"))]:
    del os.environ[_name]


def main() -> int:
    if not sys.stdin.isatty():
        sys.stdin.read()  # takes no input; drains what a caller may write (no EPIPE for it)
    from langfuse import Langfuse, propagate_attributes
    from opentelemetry import propagate, trace

    langfuse = Langfuse(
        public_key="pk-lf-interop",
        secret_key="sk-lf-interop",
        base_url="http://127.0.0.1:9",
        timeout=1,
        sample_rate=1.0,
    )
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
    try:
        code = main()
    except Exception as e:  # the SDK call itself failed
        print(f"langfuse_out.py: {type(e).__name__}: {e}", file=sys.stderr)
        code = 1
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # skip the atexit export to 127.0.0.1:9
