#!/usr/bin/env python3
"""A stand-in for Langfuse's OTLP endpoint, for scripts/e2e.sh (stdlib only).

Langfuse itself cannot run in CI, so this receiver plays its part of the protocol:
it accepts `POST /api/public/otel/v1/traces` on 127.0.0.1, checks the
`Authorization: Basic base64(public:secret)` header and the
`Content-Type: application/x-protobuf` header, and answers

* 200 for a well-authenticated protobuf request on the right path,
* 401 for a missing or wrong Authorization header,
* 415 for a right path and auth with another content type,
* 404 for any other path (and 405 for other methods).

Every request is recorded in a JSON report (rewritten atomically after each one):
method, path, status, whether auth and content type were right, the body size, and,
decoded from the OTLP protobuf with a small wire-format reader, the spans' trace ids,
span ids, parent ids, names and string attributes. The port it listens on (0 = any free
port) is written to --port-file once it is listening.

Usage:
  e2e_langfuse_receiver.py --public-key pk-lf-test --secret-key sk-lf-test \
      --report /tmp/report.json --port-file /tmp/port [--port 0]
"""

from __future__ import annotations

import argparse
import base64
import gzip
import json
import os
import struct
import sys
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OTEL_PATH = "/api/public/otel/v1/traces"


# --- a minimal protobuf wire-format reader, enough for ExportTraceServiceRequest ---


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= len(buf):
            raise ValueError("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ValueError("varint too long")


def _fields(buf: bytes):
    """Yield (field_number, wire_type, value) for each field of a message."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
        elif wire == 1:
            value, pos = buf[pos : pos + 8], pos + 8
        elif wire == 2:
            length, pos = _varint(buf, pos)
            value, pos = buf[pos : pos + length], pos + length
        elif wire == 5:
            value, pos = buf[pos : pos + 4], pos + 4
        else:
            raise ValueError(f"unsupported wire type {wire}")
        if pos > len(buf):
            raise ValueError("truncated field")
        yield number, wire, value


def _any_value(buf: bytes):
    # AnyValue: 1 string, 2 bool, 3 int, 4 double, 5 array, 6 kvlist, 7 bytes
    for number, wire, value in _fields(buf):
        if number == 1 and wire == 2:
            return value.decode("utf-8", "replace")
        if number == 2 and wire == 0:
            return bool(value)
        if number == 3 and wire == 0:
            return value - (1 << 64) if value >= 1 << 63 else value
        if number == 4 and wire == 1:
            return struct.unpack("<d", value)[0]
    return None


def _attributes(kvs: list[bytes]) -> dict:
    out = {}
    for kv in kvs:
        key, val = None, None
        for number, wire, value in _fields(kv):
            if number == 1 and wire == 2:
                key = value.decode("utf-8", "replace")
            elif number == 2 and wire == 2:
                val = _any_value(value)
        if key is not None:
            out[key] = val
    return out


def decode_export_request(body: bytes) -> list[dict]:
    """Spans of an OTLP ExportTraceServiceRequest, as small dicts."""
    spans = []
    for number, wire, resource_spans in _fields(body):
        if number != 1 or wire != 2:
            continue
        resource_attrs: dict = {}
        scope_spans_list = []
        for n, w, v in _fields(resource_spans):
            if n == 1 and w == 2:  # Resource
                resource_attrs = _attributes([kv for rn, rw, kv in _fields(v) if rn == 1 and rw == 2])
            elif n == 2 and w == 2:  # ScopeSpans
                scope_spans_list.append(v)
        for scope_spans in scope_spans_list:
            for n, w, span in _fields(scope_spans):
                if n != 2 or w != 2:
                    continue
                record = {"service.name": resource_attrs.get("service.name")}
                attrs = []
                for sn, sw, sv in _fields(span):
                    if sn == 1 and sw == 2:
                        record["trace_id"] = sv.hex()
                    elif sn == 2 and sw == 2:
                        record["span_id"] = sv.hex()
                    elif sn == 4 and sw == 2:
                        record["parent_span_id"] = sv.hex()
                    elif sn == 5 and sw == 2:
                        record["name"] = sv.decode("utf-8", "replace")
                    elif sn == 9 and sw == 2:
                        attrs.append(sv)
                record["attributes"] = _attributes(attrs)
                spans.append(record)
    return spans


# --- the server ---


class Receiver:
    def __init__(self, public_key: str, secret_key: str, report_path: str):
        token = base64.b64encode(f"{public_key}:{secret_key}".encode()).decode()
        self.expected_auth = f"Basic {token}"
        self.report_path = report_path
        self.lock = threading.Lock()
        self.requests: list[dict] = []

    def record(self, entry: dict) -> None:
        with self.lock:
            self.requests.append(entry)
            report = {
                "expected_path": OTEL_PATH,
                "requests": self.requests,
                "request_count": len(self.requests),
                "ok_count": sum(1 for r in self.requests if r["status"] == 200),
            }
            tmp = f"{self.report_path}.tmp"
            with open(tmp, "w", encoding="utf-8") as f:
                json.dump(report, f, indent=1)
            os.replace(tmp, self.report_path)


def make_handler(receiver: Receiver):
    class Handler(BaseHTTPRequestHandler):
        server_version = "e2e-langfuse-receiver/1"
        protocol_version = "HTTP/1.1"

        def log_message(self, fmt, *args):  # quiet; the report says it all
            sys.stderr.write("receiver: " + (fmt % args) + "\n")

        def _answer(self, status: int, text: str) -> None:
            body = text.encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def _read_body(self) -> bytes:
            length = int(self.headers.get("Content-Length") or 0)
            return self.rfile.read(length) if length > 0 else b""

        def do_POST(self):  # noqa: N802 (http.server's naming)
            body = self._read_body()
            path = self.path.split("?", 1)[0]
            auth = self.headers.get("Authorization")
            content_type = (self.headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
            encoding = (self.headers.get("Content-Encoding") or "").strip().lower()
            entry = {
                "method": "POST",
                "path": self.path,
                "auth_ok": auth == receiver.expected_auth,
                "auth_present": auth is not None,
                "content_type": self.headers.get("Content-Type"),
                "content_type_ok": content_type == "application/x-protobuf",
                "content_encoding": encoding or None,
                "body_bytes": len(body),
                # the checker's own probes of 401/404 say so, to be told apart from the example's
                "probe": self.headers.get("X-E2E-Probe") is not None,
            }
            if path != OTEL_PATH:
                status, text = 404, "not found"
            elif not entry["auth_ok"]:
                status, text = 401, "bad or missing Basic auth"
            elif not entry["content_type_ok"]:
                status, text = 415, "expected application/x-protobuf"
            else:
                status, text = 200, ""
                try:
                    if encoding == "gzip":
                        body = gzip.decompress(body)
                    elif encoding == "deflate":
                        body = zlib.decompress(body)
                    entry["spans"] = decode_export_request(body)
                except Exception as error:  # record, still answer: the check decides
                    entry["decode_error"] = f"{type(error).__name__}: {error}"
            entry["status"] = status
            receiver.record(entry)
            self._answer(status, text)

        def _other(self, method: str):
            self._read_body()
            path = self.path.split("?", 1)[0]
            status = 405 if path == OTEL_PATH else 404
            receiver.record(
                {"method": method, "path": self.path, "status": status, "probe": self.headers.get("X-E2E-Probe") is not None}
            )
            self._answer(status, "not found" if status == 404 else "method not allowed")

        def do_GET(self):  # noqa: N802
            self._other("GET")

        def do_PUT(self):  # noqa: N802
            self._other("PUT")

    return Handler


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--public-key", required=True)
    parser.add_argument("--secret-key", required=True)
    parser.add_argument("--report", required=True, help="JSON file the receiver keeps up to date")
    parser.add_argument("--port-file", help="written with the listening port once ready")
    args = parser.parse_args()

    receiver = Receiver(args.public_key, args.secret_key, args.report)
    with open(args.report, "w", encoding="utf-8") as f:
        json.dump({"expected_path": OTEL_PATH, "requests": [], "request_count": 0, "ok_count": 0}, f)
    server = ThreadingHTTPServer((args.host, args.port), make_handler(receiver))
    server.daemon_threads = True
    port = server.server_address[1]
    if args.port_file:
        tmp = f"{args.port_file}.tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(f"{port}\n")
        os.replace(tmp, args.port_file)
    sys.stderr.write(f"receiver: listening on http://{args.host}:{port}{OTEL_PATH}\n")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
