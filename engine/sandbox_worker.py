"""The script worker: a process of its own that runs restricted scripts sent by ``engine.sandbox``.

Started as ``python -m engine.sandbox_worker MEMORY_BYTES``. It limits its own
address space, file descriptors and child processes, then answers requests on
stdin/stdout, one at a time, as length-prefixed JSON frames:

    request  {"mode": "exec"|"eval", "source": ..., "variables": {...}, "timeout": s, "max_value": bytes,
              "max_total": bytes}
    answer   {"values": {...}, "sizes": {...}, "deleted": [...]}  (exec: the variables it set, and their sizes)
             {"value": ..., "size": n}                              (eval)
             {"error": "NameError", "message": ..., "line": n}     (the script failed)
             {"limit": "memory" | "value" | "total", "message": ...}  (a limit was reached)

Only plain data crosses: what is not JSON (tuples, sets, dates...) arrives as a
list or as text, the same as ``engine.runtime.to_json`` stores it. It imports
nothing of Django or the database, and gets no secrets in its environment.
"""

from __future__ import annotations

import json
import os
import resource
import signal
import struct
import sys

from engine.restricted import RESTRICTED_GLOBALS, SCRIPT_FILE, ScriptRejected, compile_script

HEADER = struct.Struct(">I")
# A script's error message is for an incident, not a way to smuggle out a value.
MAX_MESSAGE = 2000


class LimitReached(Exception):
    """A value is larger than the request allows."""

    def __init__(self, kind: str, message: str):
        super().__init__(message)
        self.kind = kind


def read_frame(fd: int) -> bytes | None:
    """The next frame on `fd`, or None when the other end closed it."""
    header = _read_exactly(fd, HEADER.size)
    return None if header is None else _read_exactly(fd, HEADER.unpack(header)[0])


def write_frame(fd: int, payload: bytes) -> None:
    """Write one frame to `fd`."""
    data = HEADER.pack(len(payload)) + payload
    while data:
        data = data[os.write(fd, data):]


def _read_exactly(fd: int, size: int) -> bytes | None:
    chunks, left = [], size
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return None
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _plain(value):
    # json.dumps calls this for what JSON has no type for.
    if isinstance(value, (set, frozenset)):
        return list(value)
    return str(value)


def dump(name: str, value, limit: int) -> str:
    """`value` as JSON text, or LimitReached if it is larger than `limit` bytes (as stored: ASCII JSON)."""
    if isinstance(value, str) and len(value) > limit:
        # Said without making a second copy of a value that may be most of the memory limit.
        raise LimitReached("value", f"{name} is {len(value)} characters, more than the limit of {limit} bytes "
                                    "per value (LANEBRIDGE_MAX_VALUE_BYTES)")
    try:
        text = json.dumps(value, default=_plain)
    except ValueError as exc:
        if "integer string conversion" in str(exc):
            raise LimitReached("value", f"{name} is an integer with more than {sys.get_int_max_str_digits()} "
                                        "digits, too large to store") from None
        raise LimitReached("value", f"{name} cannot be stored: {exc}") from None
    if len(text) > limit:
        raise LimitReached("value", f"{name} is {len(text)} bytes, more than the limit of {limit} bytes per value "
                                    "(LANEBRIDGE_MAX_VALUE_BYTES)")
    if "\\ud" in text:
        # Half of a surrogate pair ("\ud800") is text no reader can encode: refused like the API refuses it.
        try:
            json.dumps(value, default=_plain, ensure_ascii=False).encode()
        except UnicodeEncodeError:
            raise LimitReached("value", f"{name} contains half of a UTF-16 surrogate pair, which is not "
                                        "valid text") from None
    return text


def run(request: dict) -> str:
    """Run one request and return the answer as JSON text."""
    mode, limit = request["mode"], request["max_value"]
    code, names = compile_script(request["source"], mode)
    variables = request["variables"]
    namespace = dict(RESTRICTED_GLOBALS)
    namespace.update(variables)
    if mode == "eval":
        text = dump("the expression's value", eval(code, namespace), limit)
        return f'{{"value":{text},"size":{len(text)}}}'
    exec(code, namespace)
    values, sizes, total = [], {}, 0
    for name in names:
        if name not in namespace or name in RESTRICTED_GLOBALS or callable(namespace[name]):
            continue
        text = dump(name, namespace[name], limit)
        total += len(text)
        if total > request["max_total"]:
            raise LimitReached("total", f"the variables the script sets come to more than the limit of "
                                        f"{request['max_total']} bytes per instance (LANEBRIDGE_MAX_INSTANCE_BYTES)")
        values.append(f"{json.dumps(name)}:{text}")
        sizes[name] = len(text)
    deleted = [name for name in variables if name not in namespace]
    return f'{{"values":{{{",".join(values)}}},"sizes":{json.dumps(sizes)},"deleted":{json.dumps(deleted)}}}'


def answer(request: dict) -> tuple[str, bool]:
    """The answer to `request` as JSON text, and whether this worker should stop after it."""
    try:
        return run(request), False
    except MemoryError:
        # The heap may be left fragmented near the limit: a fresh worker takes the next script.
        return json.dumps({"limit": "memory", "message": "the script used more memory than allowed"}), True
    except LimitReached as exc:
        return json.dumps({"limit": exc.kind, "message": str(exc)}), False
    except (ScriptRejected, SyntaxError) as exc:
        return json.dumps({"error": type(exc).__name__, "message": str(exc)[:MAX_MESSAGE]}), False
    except BaseException as exc:  # noqa: BLE001 - whatever the script raised is its error, reported
        return json.dumps({"error": type(exc).__name__, "message": _message(exc), "line": _line(exc)}), False


def _message(exc: BaseException) -> str:
    try:
        return str(exc)[:MAX_MESSAGE]
    except Exception:  # noqa: BLE001 - a message that cannot be shown is not worth failing over
        return ""


def _line(exc: BaseException) -> int | None:
    line, tb = None, exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_code.co_filename == SCRIPT_FILE:
            line = tb.tb_lineno
        tb = tb.tb_next
    return line


def limit_cpu(seconds: float) -> None:
    """Let the kernel stop this process if the next script uses more than `seconds` of CPU.

    The parent's wall-clock deadline is what normally stops a script; this also
    stops one whose parent died while it was running (nobody left to kill it).
    """
    usage = resource.getrusage(resource.RUSAGE_SELF)
    soft = int(usage.ru_utime + usage.ru_stime + seconds) + 2
    hard = resource.getrlimit(resource.RLIMIT_CPU)[1]
    if hard != resource.RLIM_INFINITY:
        soft = min(soft, hard)
    resource.setrlimit(resource.RLIMIT_CPU, (soft, hard))


def limit_self(memory_bytes: int) -> None:
    """Limit this process's memory, open files and children, and its core dumps."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (16, 16))
    resource.setrlimit(resource.RLIMIT_NPROC, (0, 0))


def main() -> None:
    """Serve requests on stdin/stdout until the parent closes stdin."""
    # Ctrl+C in a terminal reaches the whole process group: the parent decides when workers stop.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The protocol owns the original stdin/stdout; anything printed by accident goes to stderr.
    requests, answers = os.dup(0), os.dup(1)
    os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
    os.dup2(2, 1)
    limit_self(int(sys.argv[1]))
    write_frame(answers, b'{"ready":true}')
    while True:
        frame = read_frame(requests)
        if frame is None:
            return
        request = json.loads(frame)
        limit_cpu(request["timeout"])
        text, stop = answer(request)
        write_frame(answers, text.encode())
        if stop:
            return


if __name__ == "__main__":
    main()
