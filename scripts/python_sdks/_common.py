"""What the four interop scripts in this folder share.

They are run as ``python scripts/python_sdks/<name>.py``, so this folder is on ``sys.path``
and they ``import _common``. Importing it imports no SDK: a script calls ``hermetic(...)``
first and imports langsmith / langfuse / opentelemetry only afterwards (inside ``main``).
Each script sets ``sys.dont_write_bytecode`` before the import, so no ``__pycache__`` is
left in this folder.
"""

import logging
import os
import sys

# Nothing listens here: the SDK clients get an address that can never be reached.
UNREACHABLE_URL = "http://127.0.0.1:9"


def hermetic(*prefixes: str) -> None:
    """Readies a script before it imports an SDK: logging to stderr, the environment scrubbed.

    Log records (warnings and up) go to stderr, so stdout carries only the script's JSON.
    Every environment variable whose name starts with one of ``prefixes`` is deleted, so
    that no setting from the caller's environment (project, endpoint, base URL, sample rate,
    propagators, tracing switch, ...) changes what an SDK does. Call it before the SDK is
    imported: some read their settings at import time.
    """
    logging.basicConfig(stream=sys.stderr, level=logging.WARNING)
    for name in [n for n in os.environ if n.startswith(prefixes)]:
        del os.environ[name]


def quiet_langsmith_client():
    """A real ``langsmith.Client`` that never talks to a server (nothing is posted under "local").

    API URL http://127.0.0.1:9, a dummy key, auto-batching off (no background tracing
    thread) and its server info given (no GET /info).
    """
    from langsmith import Client

    return Client(
        api_url=UNREACHABLE_URL,
        api_key="unused",
        auto_batch_tracing=False,  # no background tracing thread
        info={},  # no GET /info
    )


def quiet_langfuse():
    """A real ``langfuse.Langfuse`` client with dummy keys and base URL http://127.0.0.1:9.

    Timeout 1 s, sample rate 1.0. Building it sets the SDK's TracerProvider (with the real
    LangfuseSpanProcessor) as the global one. Its exporter must never get to run: end the
    process with ``run(..., hard_exit=True)``.
    """
    from langfuse import Langfuse

    return Langfuse(
        public_key="pk-lf-interop",
        secret_key="sk-lf-interop",
        base_url=UNREACHABLE_URL,
        timeout=1,
        sample_rate=1.0,
    )


def drain_stdin() -> None:
    """For a script that takes no input: reads and drops what a caller may write (no EPIPE)."""
    if not sys.stdin.isatty():
        sys.stdin.read()


def run(main, script_name: str, hard_exit: bool) -> None:
    """Runs ``main()`` and ends the process with the code it returns.

    If it raises, prints ``<script_name>: <ExceptionType>: <message>`` on stderr and exits 1.
    With ``hard_exit``, flushes stdout and stderr and ends with ``os._exit``, skipping the
    atexit handlers (Langfuse's flush of its exporter to 127.0.0.1:9); otherwise ``sys.exit``.
    """
    try:
        code = main()
    except Exception as e:  # the SDK call itself failed
        print(f"{script_name}: {type(e).__name__}: {e}", file=sys.stderr)
        code = 1
    if hard_exit:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)
