"""Stands for a Python service, traced with the real Langfuse SDK, that a Rust service calls.

Reads one JSON object ``{"headers": {...}}`` (the request headers the Rust side sent) from
stdin and handles them as an OTel-instrumented Python server does, with the real SDKs
(langfuse 3.15.0, opentelemetry 1.45):

* ``opentelemetry.propagate.extract(headers)`` (the default global propagator: W3C
  tracecontext + baggage) and ``opentelemetry.context.attach(ctx)``;
* ``langfuse.Langfuse(...)`` -- which builds the SDK's TracerProvider, sets it as the global
  one and adds the real ``LangfuseSpanProcessor`` to it -- then
  ``Langfuse.start_as_current_span(name="python_child")``. The processor's ``on_start``
  copies the langfuse_* baggage entries onto the span as attributes (user.id, session.id,
  langfuse.trace.tags, langfuse.trace.metadata.*, ...);
* the finished span is captured with an OTel ``InMemorySpanExporter`` added
  (``SimpleSpanProcessor``) to that same provider, ``opentelemetry.trace.get_tracer_provider()``.

The Langfuse client (``_common.quiet_langfuse()``) has dummy keys and base URL
http://127.0.0.1:9; its own exporter never runs: the process ends with os._exit after
printing (``_common.run(..., hard_exit=True)``), skipping the atexit flush.

Prints one JSON object on stdout:
  {"trace_id": "<32 hex>", "parent_span_id": "<16 hex>" | null,
   "attributes": {every attribute of python_child; tuples as JSON lists},
   "sampled": true}
When the span is not sampled (traceparent flags 00: OTel's parent-based sampler drops it, so
LangfuseSpanProcessor never sees it), "attributes" is null and "sampled" false.
Anything else goes to stderr. Exits 1 with a message on stderr if the SDK fails.
"""

import json
import sys

sys.dont_write_bytecode = True  # importing _common leaves no __pycache__ in the source tree
from _common import hermetic, quiet_langfuse, run  # noqa: E402

# Hermetic: no LANGFUSE_* / OTEL_* setting from the caller's environment (base URL, sample
# rate, propagators, tracing switch, environment name, ...) may change what the SDK does.
# Before langfuse / opentelemetry are imported.
hermetic("LANGFUSE_", "OTEL_")


def main() -> int:
    from opentelemetry import context, propagate, trace
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    doc = json.load(sys.stdin)
    headers = doc.get("headers") or {}
    if not isinstance(headers, dict):
        raise TypeError(f'"headers" must be a JSON object, got {type(headers).__name__}')

    langfuse = quiet_langfuse()
    provider = trace.get_tracer_provider()
    if not hasattr(provider, "add_span_processor"):
        raise RuntimeError(f"Langfuse did not install an SDK TracerProvider (global is {provider!r})")
    memory = InMemorySpanExporter()
    provider.add_span_processor(SimpleSpanProcessor(memory))

    ctx = propagate.extract(headers)
    token = context.attach(ctx)
    try:
        with langfuse.start_as_current_span(name="python_child"):
            live = trace.get_current_span()
            recording = live.is_recording()
            live_context = live.get_span_context()
    finally:
        context.detach(token)

    if not recording:
        # The sampler (parent-based) dropped it, e.g. traceparent flags 00: nothing to export.
        remote = trace.get_current_span(ctx).get_span_context()
        out = {
            "trace_id": trace.format_trace_id(live_context.trace_id),
            "parent_span_id": trace.format_span_id(remote.span_id) if remote.is_valid else None,
            "attributes": None,
            "sampled": False,
        }
        sys.stdout.write(json.dumps(out) + "\n")
        return 0

    spans = [s for s in memory.get_finished_spans() if s.name == "python_child"]
    if len(spans) != 1:
        raise RuntimeError(f"expected one finished python_child span, got {len(spans)}")
    span = spans[0]
    attributes = {k: list(v) if isinstance(v, (tuple, list)) else v for k, v in span.attributes.items()}
    out = {
        "trace_id": trace.format_trace_id(span.context.trace_id),
        "parent_span_id": trace.format_span_id(span.parent.span_id) if span.parent else None,
        "attributes": attributes,
        "sampled": True,
    }
    sys.stdout.write(json.dumps(out) + "\n")
    return 0


if __name__ == "__main__":
    run(main, "langfuse_in.py", hard_exit=True)  # os._exit: skips the atexit export to 127.0.0.1:9
