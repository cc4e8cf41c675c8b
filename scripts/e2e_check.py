#!/usr/bin/env python3
"""Checks for scripts/e2e.sh (stdlib only): read a trace back from a backend and verify it.

  e2e_check.py phoenix  --url http://127.0.0.1:PORT --trace-id HEX --example two_services|streaming
                        [--project default] [--timeout 60] [--label http]
  e2e_check.py langfuse --url http://127.0.0.1:PORT --report FILE --trace-id HEX
                        --public-key PK --secret-key SK [--example streaming|two_services]

`phoenix` polls Phoenix's REST API, `GET /v1/projects/{project}/spans?trace_id=...`
(Phoenix >= 13.9; response `{"data": [Span], "next_cursor": ...}` where a Span has
`name`, `context.trace_id`, `context.span_id`, `parent_id`, `span_kind`, `status_code`,
`status_message`, flat dotted `attributes` and `events`), until every span the example
should make is there (bounded by --timeout), then checks the tree, kinds, inputs and
outputs, usage and status against the examples' contract.

`langfuse` reads the report of scripts/e2e_langfuse_receiver.py and checks that at least
one request reached `/api/public/otel/v1/traces` with the right Basic auth and
`Content-Type: application/x-protobuf`, and that it carried the example's trace with its
attributes exactly as exported (for two_services: which service, server-a or server-b,
made each span, which Phoenix does not keep); it also probes the receiver with a wrong
password and a wrong path (expects 401 and 404).

Exit status: 0 when every check passed, 1 when one failed (each failure is printed),
2 on a usage or transport problem.
"""

from __future__ import annotations

import argparse
import base64
import json
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

STREAMED_TEXT = "Streams end when they end, not when the function returns."

TWO_SERVICES_SPANS = [
    "POST /run",
    "flow",
    "start",
    "node A",
    "node A-1",
    "node A-1 sub-task",
    "node B",
    "guardrail",
    "end",
]
STREAMING_SPANS = ["answer question", "tiny-llm.chat"]
USAGE_ATTRIBUTES = [
    "llm.token_count.prompt",
    "llm.token_count.completion",
    "llm.token_count.total",
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.output_tokens",
    "traced.stream.chunks",
]


class Checks:
    """Collects named checks; prints each and remembers failures."""

    def __init__(self, label: str):
        self.label = label
        self.passed: list[str] = []
        self.failed: list[str] = []

    def check(self, ok: bool, what: str, detail: str = "") -> bool:
        if ok:
            self.passed.append(what)
            print(f"  ok    {what}")
        else:
            self.failed.append(f"{what}{': ' + detail if detail else ''}")
            print(f"  FAIL  {what}{': ' + detail if detail else ''}")
        return ok

    def finish(self) -> int:
        total = len(self.passed) + len(self.failed)
        if self.failed:
            print(f"[{self.label}] {len(self.failed)} of {total} checks FAILED:")
            for f in self.failed:
                print(f"    - {f}")
            return 1
        print(f"[{self.label}] all {total} checks passed")
        return 0


# ---------------------------------------------------------------- Phoenix


def http_get_json(url: str, timeout: float = 10.0):
    request = urllib.request.Request(url, headers={"Accept": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.load(response)


def fetch_trace_spans(base_url: str, project: str, trace_id: str) -> list[dict]:
    spans: list[dict] = []
    cursor = None
    for _ in range(50):  # pages of up to 1000 spans; a trace here has a handful
        query = [("trace_id", trace_id), ("limit", "1000")]
        if cursor:
            query.append(("cursor", cursor))
        url = (
            f"{base_url.rstrip('/')}/v1/projects/{urllib.parse.quote(project, safe='')}/spans?"
            + urllib.parse.urlencode(query)
        )
        body = http_get_json(url)
        spans.extend(body.get("data") or [])
        cursor = body.get("next_cursor")
        if not cursor:
            break
    return spans


def poll_spans(base_url: str, project: str, trace_id: str, expected: list[str], timeout: float) -> list[dict]:
    """Spans of the trace once every expected name is there, or what there is at the deadline."""
    deadline = time.monotonic() + timeout
    spans: list[dict] = []
    last_error = None
    while True:
        try:
            spans = fetch_trace_spans(base_url, project, trace_id)
            last_error = None
        except urllib.error.HTTPError as error:
            # 404: the project does not exist yet (no span ingested so far)
            last_error = f"HTTP {error.code} {error.reason}"
        except (urllib.error.URLError, OSError, ValueError) as error:
            last_error = f"{type(error).__name__}: {error}"
        names = {s.get("name") for s in spans}
        if all(n in names for n in expected):
            # ingestion is in batches: give stragglers a moment, then read once more
            time.sleep(0.5)
            try:
                spans = fetch_trace_spans(base_url, project, trace_id)
            except (urllib.error.URLError, OSError, ValueError):
                pass
            return spans
        if time.monotonic() >= deadline:
            if last_error:
                print(f"  (last error from Phoenix: {last_error})")
            return spans
        time.sleep(0.5)


def kind_of(span: dict) -> str | None:
    return span.get("span_kind") or (span.get("attributes") or {}).get("openinference.span.kind")


def attrs(span: dict | None) -> dict:
    return (span or {}).get("attributes") or {}


def is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def print_tree(spans: list[dict]) -> None:
    by_parent: dict = {}
    ids = {s["context"]["span_id"] for s in spans}
    for s in sorted(spans, key=lambda s: s.get("start_time") or ""):
        parent = s.get("parent_id")
        by_parent.setdefault(parent if parent in ids else None, []).append(s)

    def walk(parent, depth):
        for s in by_parent.get(parent, []):
            status = s.get("status_code")
            extra = f"  status={status}" if status and status != "UNSET" else ""
            orphan = "" if depth or not s.get("parent_id") else f"  (parent {s['parent_id']} not in trace)"
            print(f"    {'  ' * depth}{s.get('name')}  [{kind_of(s)}]{extra}{orphan}")
            walk(s["context"]["span_id"], depth + 1)

    walk(None, 0)


def check_phoenix(args) -> int:
    trace_id = args.trace_id.lower()
    label = f"phoenix/{args.label}/{args.example}" if args.label else f"phoenix/{args.example}"
    checks = Checks(label)
    if not re.fullmatch(r"[0-9a-f]{32}", trace_id) or trace_id == "0" * 32:
        print(f"[{label}] the example printed no valid trace id: {args.trace_id!r}")
        return 1
    expected = TWO_SERVICES_SPANS if args.example == "two_services" else STREAMING_SPANS
    started = time.monotonic()
    spans = poll_spans(args.url, args.project, trace_id, expected, args.timeout)
    waited = time.monotonic() - started
    print(f"[{label}] trace {trace_id}: {len(spans)} spans read back from Phoenix in {waited:.1f} s")
    print_tree(spans)

    by_name: dict[str, list[dict]] = {}
    for s in spans:
        by_name.setdefault(s.get("name"), []).append(s)
    missing = [n for n in expected if n not in by_name]
    checks.check(not missing, f"all {len(expected)} expected spans arrived", f"missing {missing}")
    dupes = [n for n in expected if len(by_name.get(n, [])) > 1]
    checks.check(not dupes, "each expected span is there once", f"more than one {dupes}")
    checks.check(
        all((s.get("context") or {}).get("trace_id") == trace_id for s in spans),
        "every span is in the printed trace",
    )
    one = {n: by_name[n][0] for n in expected if n in by_name}

    def sid(name):
        return (one.get(name) or {}).get("context", {}).get("span_id")

    def parent_is(child: str, parent: str, what: str = "") -> None:
        c = one.get(child)
        got = c.get("parent_id") if c else None
        checks.check(
            c is not None and sid(parent) is not None and got == sid(parent),
            what or f"'{child}' is a child of '{parent}'",
            f"parent_id={got}, '{parent}' span_id={sid(parent)}",
        )

    def has_io(name: str, want_input=True, want_output=True) -> None:
        a = attrs(one.get(name))
        if want_input:
            checks.check(bool(a.get("input.value")), f"'{name}' has input.value", f"attributes={sorted(a)}")
        if want_output:
            checks.check(bool(a.get("output.value")), f"'{name}' has output.value", f"attributes={sorted(a)}")

    if args.example == "two_services":
        root = one.get("POST /run")
        checks.check(root is not None and not root.get("parent_id"), "'POST /run' is the root", str((root or {}).get("parent_id")))
        roots = [s.get("name") for s in spans if not s.get("parent_id")]
        checks.check(len(roots) == 1, "the trace has exactly one root", f"roots {roots}")
        parent_is("flow", "POST /run")
        for name in ("start", "node A", "node B", "end"):
            parent_is(name, "flow")
        parent_is("node A-1", "node A", "'node A-1' (server-b) is a child of 'node A' (server-a) across the services")
        parent_is("node A-1 sub-task", "node A-1")
        # guardrail: anywhere under flow
        ids = {s["context"]["span_id"]: s for s in spans}
        g, seen, ancestor_names = one.get("guardrail"), set(), []
        p = (g or {}).get("parent_id")
        while p and p in ids and p not in seen:
            seen.add(p)
            ancestor_names.append(ids[p].get("name"))
            p = ids[p].get("parent_id")
        checks.check("flow" in ancestor_names, "'guardrail' is under 'flow'", f"ancestors {ancestor_names}")
        checks.check(kind_of(one.get("node A") or {}) == "TOOL", "'node A' is a TOOL span", str(kind_of(one.get("node A") or {})))
        checks.check(kind_of(one.get("node B") or {}) == "LLM", "'node B' (generation) is an LLM span", str(kind_of(one.get("node B") or {})))
        for name in ("node A", "node A-1", "node B"):
            has_io(name)
        g = one.get("guardrail") or {}
        checks.check(g.get("status_code") == "ERROR", "'guardrail' has status ERROR", str(g.get("status_code")))
        checks.check(bool(g.get("status_message")), "'guardrail' has a status message", repr(g.get("status_message")))
        exc = [e for e in g.get("events") or [] if e.get("name") == "exception"]
        checks.check(bool(exc), "'guardrail' has an exception event", f"events {[e.get('name') for e in g.get('events') or []]}")
        if exc:
            ea = exc[0].get("attributes") or {}
            checks.check(bool(ea.get("exception.message")), "the exception event has exception.message", str(sorted(ea)))
        others = [s.get("name") for s in spans if s.get("status_code") == "ERROR" and s.get("name") != "guardrail"]
        if others:  # the contract says nothing about them: report, do not fail
            print(f"  note  other spans with status ERROR: {others}")
    else:
        answer, chat = one.get("answer question"), one.get("tiny-llm.chat")
        checks.check(answer is not None and not answer.get("parent_id"), "'answer question' is the root")
        parent_is("tiny-llm.chat", "answer question")
        checks.check(kind_of(chat or {}) == "LLM", "'tiny-llm.chat' is an LLM span", str(kind_of(chat or {})))
        a = attrs(chat)
        checks.check(bool(a.get("input.value")), "'tiny-llm.chat' has input.value (the prompt)", f"attributes={sorted(a)}")
        checks.check(
            a.get("output.value") == STREAMED_TEXT,
            "'tiny-llm.chat' output.value is the whole streamed text",
            repr(a.get("output.value")),
        )
        prompt, completion, total = (a.get(f"llm.token_count.{k}") for k in ("prompt", "completion", "total"))
        checks.check(
            is_int(prompt) and is_int(completion) and is_int(total) and prompt > 0 and completion > 0,
            "llm.token_count.prompt/completion/total are positive integers",
            f"prompt={prompt!r} completion={completion!r} total={total!r}",
        )
        if is_int(prompt) and is_int(completion) and is_int(total):
            checks.check(total == prompt + completion, "llm.token_count.total = prompt + completion", f"{total} != {prompt} + {completion}")
        checks.check(
            a.get("gen_ai.usage.input_tokens") == prompt and a.get("gen_ai.usage.output_tokens") == completion,
            "gen_ai.usage.input_tokens/output_tokens agree with llm.token_count",
            f"input={a.get('gen_ai.usage.input_tokens')!r} output={a.get('gen_ai.usage.output_tokens')!r}",
        )
        chunks = a.get("traced.stream.chunks")
        checks.check(is_int(chunks) and chunks > 0, "traced.stream.chunks is a positive integer", repr(chunks))
        # The async-openai generation as Phoenix stores it: the chat's messages, the model
        # asked for and the one that answered, the finish reason.
        def message_text(prefix: str) -> str:
            return " ".join(
                str(v) for k, v in sorted(a.items()) if k.startswith(prefix) and k.endswith("content")
            )
        checks.check(
            "Answer briefly" in message_text("llm.input_messages."),
            "'tiny-llm.chat' has its input message as Phoenix's llm.input_messages",
            f"llm.input_messages.*={message_text('llm.input_messages.')!r}",
        )
        checks.check(
            STREAMED_TEXT in message_text("llm.output_messages."),
            "'tiny-llm.chat' has the streamed reply as Phoenix's llm.output_messages",
            f"llm.output_messages.*={message_text('llm.output_messages.')!r}",
        )
        checks.check(a.get("llm.model_name") == "tiny-llm-1", "llm.model_name is the model asked for", repr(a.get("llm.model_name")))
        checks.check(
            a.get("gen_ai.response.model") == "tiny-llm-1-2026-12",
            "gen_ai.response.model is the model that answered",
            repr(a.get("gen_ai.response.model")),
        )
        checks.check(
            (chat or {}).get("status_code") != "ERROR" and (answer or {}).get("status_code") != "ERROR",
            "no span has status ERROR",
        )
        if chat:
            print("  note  Phoenix fills llm.token_count.* from gen_ai.usage.* when missing: the langfuse check reads them as exported")
            print(
                f"  usage: prompt={prompt} completion={completion} total={total}, chunks={chunks}, "
                f"text={a.get('output.value')!r}"
            )
    return checks.finish()


# ---------------------------------------------------------------- Langfuse receiver


def probe(url: str, path: str, auth: str | None) -> int:
    headers = {"Content-Type": "application/x-protobuf", "X-E2E-Probe": "1"}
    if auth:
        headers["Authorization"] = auth
    request = urllib.request.Request(url.rstrip("/") + path, data=b"", headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def check_langfuse(args) -> int:
    label = f"langfuse-receiver/{args.example}"
    checks = Checks(label)
    trace_id = args.trace_id.lower()
    good = "Basic " + base64.b64encode(f"{args.public_key}:{args.secret_key}".encode()).decode()
    bad = "Basic " + base64.b64encode(f"{args.public_key}:wrong".encode()).decode()
    path = "/api/public/otel/v1/traces"
    # the example's requests first (the probes below are recorded after them)
    with open(args.report, encoding="utf-8") as f:
        report = json.load(f)
    requests = [r for r in report.get("requests") or [] if not r.get("probe")]
    print(f"[{label}] the receiver saw {len(requests)} request(s)")
    for r in requests:
        print(
            f"    {r.get('method')} {r.get('path')} -> {r.get('status')}"
            f" auth_ok={r.get('auth_ok')} content_type={r.get('content_type')!r}"
            f" bytes={r.get('body_bytes')} spans={[s.get('name') for s in r.get('spans') or []]}"
        )
    ok = [
        r
        for r in requests
        if r.get("status") == 200 and r.get("path", "").split("?")[0] == path and r.get("auth_ok") and r.get("content_type_ok")
    ]
    checks.check(bool(requests), "the example sent at least one request to LANGFUSE_HOST")
    checks.check(bool(ok), f"at least one POST {path} with the right Basic auth and application/x-protobuf was accepted")
    wrong = [r for r in requests if r.get("status") != 200]
    checks.check(not wrong, "every request the example sent was accepted", str([(r.get("path"), r.get("status")) for r in wrong]))
    spans = [s for r in ok for s in r.get("spans") or []]
    decode_errors = [r["decode_error"] for r in ok if r.get("decode_error")]
    checks.check(not decode_errors, "every body decoded as an OTLP ExportTraceServiceRequest", str(decode_errors))
    expected = STREAMING_SPANS if args.example == "streaming" else TWO_SERVICES_SPANS
    in_trace = [s for s in spans if s.get("trace_id") == trace_id]
    names = {s.get("name") for s in in_trace}
    checks.check(
        all(n in names for n in expected),
        f"the export carried trace {trace_id} with its {len(expected)} spans",
        f"spans of that trace: {sorted(n for n in names if n)}; trace ids seen: {sorted({s.get('trace_id') for s in spans})}",
    )
    services = {s.get("name"): s.get("service.name") for s in in_trace}
    print(f"  service.name by span: {services}")
    if args.example == "two_services":
        # which process made which span: only the raw export says (Phoenix keeps no resource)
        want = {n: ("server-b" if n.startswith("node A-1") else "server-a") for n in TWO_SERVICES_SPANS}
        wrong_service = {n: services.get(n) for n in TWO_SERVICES_SPANS if n in services and services.get(n) != want[n]}
        checks.check(
            not wrong_service and all(n in services for n in TWO_SERVICES_SPANS),
            "'node A-1' and its sub-task come from service server-b, every other span from server-a",
            f"unexpected: {wrong_service}",
        )
        by_name = {s.get("name"): s for s in in_trace}
        a1, node_a = by_name.get("node A-1") or {}, by_name.get("node A") or {}
        checks.check(
            bool(node_a.get("span_id")) and a1.get("parent_span_id") == node_a.get("span_id"),
            "server-b exported 'node A-1' with server-a's 'node A' as its parent",
            f"parent_span_id={a1.get('parent_span_id')!r}, node A span_id={node_a.get('span_id')!r}",
        )
    else:
        checks.check(
            all(services.get(n) for n in STREAMING_SPANS),
            "every span carries a service.name resource attribute",
            str(services),
        )
    chat = next((s for s in in_trace if s.get("name") == "tiny-llm.chat"), None)
    if args.example == "streaming":
        checks.check(chat is not None, "'tiny-llm.chat' is in the export")
    if chat:
        a = chat.get("attributes") or {}
        checks.check(a.get("output.value") == STREAMED_TEXT, "'tiny-llm.chat' output.value is the streamed text", repr(a.get("output.value")))
        # the attributes exactly as exported (Phoenix derives some of them from others)
        usage = {k: a.get(k) for k in USAGE_ATTRIBUTES}
        checks.check(
            all(is_int(v) and v > 0 for v in usage.values()),
            "'tiny-llm.chat' exports every usage attribute as a positive integer",
            str(usage),
        )
        checks.check(
            a.get("gen_ai.usage.input_tokens") == a.get("llm.token_count.prompt")
            and a.get("gen_ai.usage.output_tokens") == a.get("llm.token_count.completion"),
            "gen_ai.usage.* agree with llm.token_count.* as exported",
            str(usage),
        )
        checks.check(
            a.get("langfuse.observation.type") == "generation",
            "'tiny-llm.chat' has langfuse.observation.type = generation",
            repr(a.get("langfuse.observation.type")),
        )
    # the receiver itself: it must tell a wrong password and a wrong path apart
    checks.check(probe(args.url, path, bad) == 401, "the receiver answers 401 to a wrong secret key")
    checks.check(probe(args.url, path, None) == 401, "the receiver answers 401 without Authorization")
    checks.check(probe(args.url, "/v1/traces", good) == 404, "the receiver answers 404 to another path")
    return checks.finish()


def main() -> int:
    parser = argparse.ArgumentParser(description="e2e checks for traced")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("phoenix")
    p.add_argument("--url", required=True)
    p.add_argument("--project", default="default")
    p.add_argument("--trace-id", required=True)
    p.add_argument("--example", required=True, choices=["two_services", "streaming"])
    p.add_argument("--timeout", type=float, default=60.0)
    p.add_argument("--label", default="")
    l = sub.add_parser("langfuse")
    l.add_argument("--url", required=True)
    l.add_argument("--report", required=True)
    l.add_argument("--trace-id", required=True)
    l.add_argument("--example", default="streaming", choices=["two_services", "streaming"])
    l.add_argument("--public-key", required=True)
    l.add_argument("--secret-key", required=True)
    args = parser.parse_args()
    try:
        return check_phoenix(args) if args.command == "phoenix" else check_langfuse(args)
    except (OSError, ValueError) as error:
        print(f"e2e_check: {type(error).__name__}: {error}")
        return 2


if __name__ == "__main__":
    sys.exit(main())
