#!/usr/bin/env python3
"""Stand-ins for the Rust examples, to test the e2e harness itself (not our exporter).

`scripts/e2e.sh` runs the real `two_services` and `streaming` binaries. With
`E2E_FAKE_EXAMPLES=1` it runs this script instead, which makes the same spans with the
OpenTelemetry Python SDK (installed in the Phoenix venv as a Phoenix dependency) and
exports them the way the examples are meant to: over OTLP/HTTP or gRPC as
OTEL_EXPORTER_OTLP_ENDPOINT / OTEL_EXPORTER_OTLP_PROTOCOL say, or to Langfuse's OTLP
endpoint with Basic auth when LANGFUSE_HOST / LANGFUSE_PUBLIC_KEY / LANGFUSE_SECRET_KEY
are set. Like the examples, it prints `trace <32 hex>` and exits 0 after flushing.
This proves the Phoenix set-up, the REST read-back and the checker's logic when the
examples are not available, and `--break X` makes a deliberately wrong trace to show
that the checker fails on it.

Usage: e2e_fake_examples.py two_services|streaming [--break parent|status|usage|text|hang]
       (or E2E_FAKE_BREAK=two_services:parent in the environment)
"""

from __future__ import annotations

import argparse
import base64
import json
import os
import sys
import time

from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.trace import Status, StatusCode, set_span_in_context

STREAMED = "Streams end when they end, not when the function returns."


def make_exporter():
    host = os.environ.get("LANGFUSE_HOST")
    if host and not os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT"):
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

        token = base64.b64encode(
            f"{os.environ['LANGFUSE_PUBLIC_KEY']}:{os.environ['LANGFUSE_SECRET_KEY']}".encode()
        ).decode()
        return OTLPSpanExporter(
            endpoint=host.rstrip("/") + "/api/public/otel/v1/traces",
            headers={"Authorization": f"Basic {token}"},
        )
    protocol = os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL", "http/protobuf")
    endpoint = os.environ["OTEL_EXPORTER_OTLP_ENDPOINT"].rstrip("/")
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter(endpoint=endpoint, insecure=endpoint.startswith("http://"))
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter(endpoint=endpoint + "/v1/traces")


def provider(service: str) -> TracerProvider:
    p = TracerProvider(resource=Resource.create({"service.name": service}))
    p.add_span_processor(SimpleSpanProcessor(make_exporter()))
    return p


LANGFUSE_TYPES = {"LLM": "generation", "TOOL": "tool", "RETRIEVER": "retriever", "GUARDRAIL": "guardrail"}


def io(span, kind: str, inputs, output) -> None:
    span.set_attribute("openinference.span.kind", kind)
    span.set_attribute("langfuse.observation.type", LANGFUSE_TYPES.get(kind, "span"))
    span.set_attribute("input.value", json.dumps(inputs))
    span.set_attribute("input.mime_type", "application/json")
    if output is not None:
        span.set_attribute("output.value", output if isinstance(output, str) else json.dumps(output))
        span.set_attribute("output.mime_type", "text/plain" if isinstance(output, str) else "application/json")


def two_services(broken: str | None) -> str:
    pa, pb = provider("server-a"), provider("server-b")
    ta, tb = pa.get_tracer("traced"), pb.get_tracer("traced")
    with ta.start_as_current_span("POST /run") as root:
        io(root, "CHAIN", {"question": "what is Rust?"}, {"answer": "ok"})
        with ta.start_as_current_span("flow") as flow:
            io(flow, "CHAIN", {"question": "what is Rust?"}, "ok")
            with ta.start_as_current_span("start") as s:
                io(s, "CHAIN", {}, "started")
            with ta.start_as_current_span("node A") as node_a:
                io(node_a, "TOOL", {"topic": "rust"}, ["ownership", "borrowing"])
                # server B continues the trace from the propagated context
                parent_ctx = set_span_in_context(flow if broken == "parent" else node_a)
                with tb.start_as_current_span("node A-1", context=parent_ctx) as a1:
                    io(a1, "RETRIEVER", {"topic": "rust"}, ["ownership", "borrowing"])
                    with tb.start_as_current_span("node A-1 sub-task") as sub:
                        io(sub, "CHAIN", {"topic": "rust"}, ["ownership"])
            with ta.start_as_current_span("node B") as node_b:
                io(node_b, "LLM", {"facts": ["ownership", "borrowing"]}, "Rust is about ownership.")
            with ta.start_as_current_span("guardrail", record_exception=False, set_status_on_exception=False) as g:
                io(g, "GUARDRAIL", {"text": "Rust is about ownership."}, None)
                if broken != "status":
                    g.record_exception(ValueError("blocked: the answer mentions a secret"))
                    g.set_status(Status(StatusCode.ERROR, "blocked: the answer mentions a secret"))
            with ta.start_as_current_span("end") as e:
                io(e, "CHAIN", {}, "done")
        trace_id = format(root.get_span_context().trace_id, "032x")
    pa.shutdown()
    pb.shutdown()
    return trace_id


def streaming(broken: str | None) -> str:
    p = provider("streaming")
    t = p.get_tracer("traced")
    with t.start_as_current_span("answer question") as answer:
        io(answer, "CHAIN", {"question": "When does a traced stream's span end?"}, None)
        with t.start_as_current_span("tiny-llm.chat") as chat:
            text = STREAMED if broken != "text" else STREAMED[:20]
            io(chat, "LLM", {"prompt": "Answer briefly: When does a traced stream's span end?"}, text)
            chunks = STREAMED.split(" ")
            prompt_tokens, completion_tokens = 8, len(chunks)
            chat.set_attribute("gen_ai.request.model", "tiny-llm-1")
            chat.set_attribute("llm.token_count.prompt", prompt_tokens)
            if broken != "usage":
                chat.set_attribute("llm.token_count.completion", completion_tokens)
            chat.set_attribute("llm.token_count.total", prompt_tokens + completion_tokens)
            chat.set_attribute("gen_ai.usage.input_tokens", prompt_tokens)
            chat.set_attribute("gen_ai.usage.output_tokens", completion_tokens)
            chat.set_attribute("traced.stream.chunks", len(chunks) + 1)
            # The generation as traced's async-openai integration writes it (GenAI's
            # structured messages, which Phoenix converts to llm.*_messages).
            chat.set_attribute("llm.model_name", "tiny-llm-1")
            chat.set_attribute("gen_ai.response.model", "tiny-llm-1-2026-12")
            chat.set_attribute("gen_ai.input.messages", json.dumps([{"role": "user", "parts": [
                {"type": "text", "content": "Answer briefly: When does a traced stream's span end?"}]}]))
            chat.set_attribute("gen_ai.output.messages", json.dumps([{"role": "assistant", "parts": [
                {"type": "text", "content": text}], "finish_reason": "stop"}]))
            time.sleep(0.01)
        answer.set_attribute("output.value", STREAMED)
        trace_id = format(answer.get_span_context().trace_id, "032x")
    p.shutdown()
    return trace_id


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("example", choices=["two_services", "streaming"])
    parser.add_argument("--break", dest="broken", choices=["parent", "status", "usage", "text", "hang"])
    args = parser.parse_args()
    # E2E_FAKE_BREAK=two_services:parent (or streaming:usage, ...) breaks one example from e2e.sh
    example, _, broken = os.environ.get("E2E_FAKE_BREAK", "").partition(":")
    if args.broken is None and example == args.example and broken:
        args.broken = broken
    if args.broken == "hang":
        time.sleep(3600)
    trace_id = (two_services if args.example == "two_services" else streaming)(args.broken)
    print(f"trace {trace_id}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
