"""The package's state and API: one agent per process, generations,
feedback, context, flush, shutdown, stats, fork and exit handling.

Rules every function here follows:

- Telemetry never raises into the application. Whatever fails while
  recording (a missing library, a bad value, a bug here) is logged on the
  ``flywheel`` logger, counted in ``stats()["binding_errors"]`` and
  swallowed. Exceptions of the application pass through unchanged (the same
  object, re-raised with a bare ``raise``). Only ``init(strict=True)`` raises.
- Recording never blocks: a generation is handed to libflywheel's bounded
  queue with a few ctypes calls; nothing waits for Kafka.
- Fork: ``os.register_at_fork`` forgets the parent's agent in the child
  (without destroying it: its librdkafka handle belongs to the parent) and
  the child makes its own agent, from the same settings, on first use. If a
  fork bypasses the hook, libflywheel answers FW_ERR_FORKED and the same
  happens then.
- Exit: an ``atexit`` handler flushes for at most ``shutdown_timeout``
  seconds, then destroys the agent; what is undelivered goes to the spool
  (when one is configured) or is counted as dropped.
"""
from __future__ import annotations

import atexit
import contextvars
import ctypes
import json
import logging
import os
import threading
import time
from typing import Any, Iterable, Mapping

from . import _native as N

log = logging.getLogger("flywheel")

__all__ = ["init", "shutdown", "flush", "stats", "generation", "Generation",
           "feedback", "context", "current_context", "copy_context_run",
           "FlywheelError", "enabled"]


class FlywheelError(Exception):
    """Raised by init(strict=True) when the agent cannot be started."""


# ---------------------------------------------------------------------------
# State
# ---------------------------------------------------------------------------

class _State:
    def __init__(self) -> None:
        self.lib: ctypes.CDLL | None = None
        self.agent: int | None = None      # fw_agent_t *
        self.settings: dict | None = None  # what init() was given, for a forked child
        self.pid = os.getpid()
        self.lock = threading.RLock()
        # One token per call sequence in progress (a list: append and remove
        # are atomic under the GIL, and a sequence may nest in another on the
        # same thread when garbage collection finalises a stream proxy).
        self.active: list = []
        self.errors = 0                    # telemetry failures swallowed
        self.forks = 0
        self.atexit_registered = False
        self.shutdown_timeout = 2.0
        self.stat_names: list[str] = []


_st = _State()


def _fail(what: str, exc: BaseException | None = None) -> None:
    """Counts and logs a telemetry failure; never raises."""
    try:
        _st.errors += 1
        if exc is not None:
            log.warning("flywheel: %s: %s: %s", what, type(exc).__name__, exc,
                        exc_info=log.isEnabledFor(logging.DEBUG))
        else:
            log.warning("flywheel: %s", what)
    except Exception:  # logging itself failed (e.g. at interpreter exit)
        pass


def _truthy(v: str | None) -> bool | None:
    if v is None or v == "":
        return None
    return v.strip().lower() not in ("0", "false", "no", "off")


def _conf_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    return str(v)


def _make_agent(settings: dict) -> int:
    """Creates an agent from init()'s settings. Raises FlywheelError."""
    lib = _st.lib
    if lib is None:
        lib = _st.lib = N.load(settings.get("lib_path"))
        _st.stat_names = []
        i = 0
        while True:
            name = lib.fw_stat_name(i)
            if name is None:
                break
            _st.stat_names.append(name.decode())
            i += 1
    conf = lib.fw_conf_new()
    if not conf:
        raise FlywheelError("out of memory")
    err = ctypes.create_string_buffer(512)
    try:
        keys: dict[str, str] = {}
        for k, v in (settings.get("config") or {}).items():
            if v is not None:
                keys[str(k)] = _conf_value(v)
        for arg, key in (("bootstrap_servers", "kafka.bootstrap.servers"),
                         ("topic", "topic"), ("project", "project"),
                         ("environment", "environment"), ("release", "release"),
                         ("spool_dir", "spool.dir")):
            if settings.get(arg) is not None:
                keys[key] = _conf_value(settings[arg])
        if lib.fw_conf_from_env(conf, err, len(err)) != N.OK:
            raise FlywheelError(err.value.decode("utf-8", "replace"))
        # The flush before destroy is shutdown()'s (bounded by its timeout);
        # destroy itself only hands on what is left, unless configured.
        if ("shutdown.timeout_ms" not in keys
                and not os.environ.get("FLYWHEEL_SHUTDOWN_TIMEOUT_MS")):
            keys["shutdown.timeout_ms"] = "100"
        if _st.forks and keys.get("spool.dir", "") == "" and \
                os.environ.get("FLYWHEEL_SPOOL_DIR"):
            keys["spool.dir"] = os.environ["FLYWHEEL_SPOOL_DIR"]
        if _st.forks and keys.get("spool.dir"):
            # A spool directory is locked by one agent: the parent's.
            keys["spool.dir"] = os.path.join(keys["spool.dir"], f"pid-{os.getpid()}")
        for k, v in keys.items():
            if lib.fw_conf_set(conf, k.encode(), v.encode(), err, len(err)) != N.OK:
                raise FlywheelError(err.value.decode("utf-8", "replace"))
        agent = lib.fw_agent_new(conf, err, len(err))
        if not agent:
            raise FlywheelError(err.value.decode("utf-8", "replace"))
        conf = None  # owned by the agent now
        return agent
    finally:
        if conf:
            lib.fw_conf_destroy(conf)


def init(*, bootstrap_servers: str | None = None, topic: str | None = None,
         project: str | None = None, environment: str | None = None,
         release: str | None = None, spool_dir: str | None = None,
         config: Mapping[str, Any] | None = None, lib_path: str | None = None,
         enabled: bool | None = None, shutdown_timeout: float | None = None,
         strict: bool = False) -> bool:
    """Starts the process's agent. Returns True when an agent is running.

    Configuration: the defaults of libflywheel, then ``FLYWHEEL_*``
    environment variables (as ``fw_conf_from_env``: ``FLYWHEEL_KAFKA_BOOTSTRAP``,
    ``FLYWHEEL_TOPIC``, ``FLYWHEEL_SPOOL_DIR``, ...), then ``config`` (any
    libflywheel key, e.g. ``{"redact.email": False}``), then the keyword
    arguments. ``FLYWHEEL_ENABLED=0`` (or ``enabled=False``) makes every call a
    no-op. Idempotent: a second call while an agent runs changes nothing and
    returns True (call shutdown() first to reconfigure).

    When the agent cannot start (no library, invalid configuration) this logs
    a warning and returns False, and recording stays a no-op; with
    ``strict=True`` it raises FlywheelError instead.
    """
    try:
        with _st.lock:
            if _st.agent is not None:
                return True
            if enabled is None:
                enabled = _truthy(os.environ.get("FLYWHEEL_ENABLED"))
            if enabled is False:
                _st.settings = None
                return False
            if shutdown_timeout is None:
                env = os.environ.get("FLYWHEEL_SHUTDOWN_TIMEOUT")
                shutdown_timeout = float(env) if env else 2.0
            settings = dict(bootstrap_servers=bootstrap_servers, topic=topic,
                            project=project, environment=environment,
                            release=release, spool_dir=spool_dir,
                            config=dict(config or {}), lib_path=lib_path)
            _st.agent = _make_agent(settings)
            _st.settings = settings
            _st.pid = os.getpid()
            _st.shutdown_timeout = float(shutdown_timeout)
            if not _st.atexit_registered:
                atexit.register(_at_exit)
                _st.atexit_registered = True
            return True
    except Exception as e:
        if strict:
            if isinstance(e, FlywheelError):
                raise
            raise FlywheelError(str(e)) from e
        _fail("could not start the agent; recording is disabled", e)
        return False


def enabled() -> bool:
    """True when an agent is running in this process (or will be made on
    first use in a forked child)."""
    return _st.agent is not None or _st.settings is not None


def _agent() -> int | None:
    """The agent for this process, making a forked child's on first use."""
    a = _st.agent
    if a is not None:
        return a
    if _st.settings is None:
        return None
    with _st.lock:
        if _st.agent is None and _st.settings is not None:
            try:
                _st.agent = _make_agent(_st.settings)
                _st.pid = os.getpid()
            except Exception as e:
                _st.settings = None  # do not retry on every record
                _fail("could not start the agent in this process", e)
        return _st.agent


def _after_fork_child() -> None:
    """os.register_at_fork(after_in_child=...): forget the parent's agent
    without touching it; locks the parent's threads may have held are
    replaced. The child's agent is made on first use."""
    _st.agent = None
    _st.lock = threading.RLock()
    _st.active = []
    _st.pid = os.getpid()
    _st.forks += 1


os.register_at_fork(after_in_child=_after_fork_child)


def _wait_inactive(deadline: float) -> bool:
    while True:
        if not _st.active:
            return True
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.001)


def shutdown(timeout: float | None = None) -> None:
    """Flushes for at most ``timeout`` seconds (default: init's
    ``shutdown_timeout``, 2 s), then stops the agent: what is still
    undelivered goes to the spool when one is configured, else it is counted
    as dropped. Recording afterwards is a no-op until init() is called again.
    Registered with atexit. Never raises; blocks at most about ``timeout``
    plus 0.1 s, plus up to 2 s while librdkafka gives back what it holds
    when Kafka is unreachable, plus the time to write the spool (the GIL is
    released)."""
    try:
        with _st.lock:
            a = _st.agent
            _st.agent = None
            _st.settings = None
        if a is None or _st.lib is None:
            return
        if timeout is None:
            timeout = _st.shutdown_timeout
        lib = _st.lib
        lib.fw_agent_flush(a, max(0, int(timeout * 1000)))
        # A thread still inside a record sequence holds the handle: give it
        # a moment; if it does not finish, leak the agent rather than free it
        # under that thread.
        if not _wait_inactive(time.monotonic() + 1.0):
            _fail("a thread was still recording at shutdown; agent not freed")
            return
        lib.fw_agent_destroy(a)
    except Exception as e:
        _fail("shutdown failed", e)


def _at_exit() -> None:
    shutdown(None)


def flush(timeout: float = 5.0) -> bool:
    """Waits until everything recorded so far is delivered or spooled, for
    at most ``timeout`` seconds. Returns True when it was, False on timeout or
    when no agent runs. Releases the GIL while it waits. Do not call it per
    request: delivery happens in the background anyway."""
    try:
        a = _agent()
        if a is None:
            return False
        return _st.lib.fw_agent_flush(a, max(0, int(timeout * 1000))) == N.OK
    except Exception as e:
        _fail("flush failed", e)
        return False


def stats() -> dict[str, int]:
    """All of libflywheel's counters, read in one snapshot
    (fw_agent_stats), by name: recorded, delivered, in_queue, in_flight,
    spooled, sampled_out, dropped and each dropped_* reason, ... plus
    ``binding_errors`` (telemetry failures this package swallowed). In any
    snapshot recorded <= delivered + in_flight + in_queue + spooled +
    sampled_out + dropped; equal once flushed. Empty when no agent runs."""
    try:
        a = _st.agent
        if a is None or _st.lib is None:
            return {}
        n = len(_st.stat_names)
        buf = (ctypes.c_uint64 * n)()
        got = _st.lib.fw_agent_stats(a, buf, n)
        out = {_st.stat_names[i]: int(buf[i]) for i in range(got)}
        out["binding_errors"] = _st.errors
        return out
    except Exception as e:
        _fail("stats failed", e)
        return {}


# ---------------------------------------------------------------------------
# Context (contextvars: follows asyncio tasks; threads via copy_context_run)
# ---------------------------------------------------------------------------

_EMPTY_CTX: dict = {}
_ctx: contextvars.ContextVar[dict] = contextvars.ContextVar("flywheel_context",
                                                             default=_EMPTY_CTX)


class context:
    """Sets conversation, session, user, tags and attributes for every
    generation recorded inside the block (and inside asyncio tasks started
    there). Nested blocks add to the outer one: scalars override, tags and
    attributes merge. Usable as ``with`` or ``async with``.

    Threads do not inherit contextvars: start thread-pool work with
    ``copy_context_run`` (or ``contextvars.copy_context().run``).
    """

    def __init__(self, *, conversation_id: str | None = None,
                 session_id: str | None = None, user_id: str | None = None,
                 tags: Iterable[str] | None = None,
                 attributes: Mapping[str, str] | None = None) -> None:
        self._new = dict(conversation_id=conversation_id, session_id=session_id,
                         user_id=user_id, tags=tuple(tags or ()),
                         attributes=dict(attributes or {}))
        self._tokens: list = []

    def __enter__(self) -> "context":
        cur = _ctx.get()
        merged = dict(cur)
        for k in ("conversation_id", "session_id", "user_id"):
            if self._new[k] is not None:
                merged[k] = self._new[k]
        if self._new["tags"]:
            merged["tags"] = tuple(cur.get("tags", ())) + self._new["tags"]
        if self._new["attributes"]:
            merged["attributes"] = {**cur.get("attributes", {}), **self._new["attributes"]}
        self._tokens.append(_ctx.set(merged))
        return self

    def __exit__(self, *exc: Any) -> bool:
        _ctx.reset(self._tokens.pop())
        return False

    async def __aenter__(self) -> "context":
        return self.__enter__()

    async def __aexit__(self, *exc: Any) -> bool:
        return self.__exit__(*exc)


def current_context() -> dict:
    """The context in effect here, as a dict (a copy)."""
    return dict(_ctx.get())


def copy_context_run(fn, *args, **kwargs):
    """Returns a callable that runs ``fn(*args, **kwargs)`` in a copy of the
    current context: ``executor.submit(copy_context_run(work, x))``."""
    ctx = contextvars.copy_context()
    return lambda: ctx.run(fn, *args, **kwargs)


# ---------------------------------------------------------------------------
# Generations
# ---------------------------------------------------------------------------

def _get(o: Any, name: str, default: Any = None) -> Any:
    """Field of a dict or attribute of an object (SDK models, fakes)."""
    if o is None:
        return default
    if isinstance(o, Mapping):
        return o.get(name, default)
    return getattr(o, name, default)


def _text(v: Any) -> str:
    if isinstance(v, str):
        return v
    if v is None:
        return ""
    try:
        return json.dumps(v, ensure_ascii=False, default=str)
    except Exception:
        return str(v)


def _json_args(v: Any) -> str:
    """Tool-call arguments as JSON text (OpenAI gives a string, Anthropic a
    dict)."""
    if isinstance(v, str):
        return v
    return json.dumps(v if v is not None else {}, ensure_ascii=False, default=str)


def _parts_of(content: Any) -> list[tuple]:
    """Message content -> [(kind, a, b, c)], kinds: text, reasoning,
    tool_call (id, name, args), tool_response (id, content)."""
    if content is None:
        return []
    if isinstance(content, str):
        return [("text", content)]
    parts = []
    if isinstance(content, (list, tuple)):
        for p in content:
            if isinstance(p, str):
                parts.append(("text", p))
                continue
            t = _get(p, "type")
            if t in ("text", "input_text", "output_text"):
                parts.append(("text", _get(p, "text", "") or ""))
            elif t == "thinking":
                parts.append(("reasoning", _get(p, "thinking", "") or ""))
            elif t == "tool_use":
                parts.append(("tool_call", _get(p, "id", "") or "", _get(p, "name", "") or "",
                              _json_args(_get(p, "input"))))
            elif t == "tool_result":
                c = _get(p, "content")
                if isinstance(c, (list, tuple)):
                    c = "".join(_get(x, "text", "") or "" for x in c)
                parts.append(("tool_response", _get(p, "tool_use_id", "") or "", _text(c)))
            # images, audio, files: not captured (no part type in flywheel.v1)
        return parts
    return [("text", _text(content))]


def _message(m: Any, default_role: str) -> tuple:
    """(role, name, parts, finish_reason) from an OpenAI- or Anthropic-shaped
    message (dict or object), or from a plain string."""
    if isinstance(m, str):
        return (default_role, None, [("text", m)], None)
    role = _get(m, "role") or default_role
    parts = _parts_of(_get(m, "content"))
    rc = _get(m, "reasoning_content")
    if rc:
        parts.insert(0, ("reasoning", rc))
    for tc in _get(m, "tool_calls") or ():
        fn = _get(tc, "function")
        parts.append(("tool_call", _get(tc, "id", "") or "", _get(fn, "name", "") or "",
                      _json_args(_get(fn, "arguments"))))
    if role == "tool":
        tid = _get(m, "tool_call_id")
        if tid is not None:
            c = _get(m, "content")
            parts = [("tool_response", tid, _text(c))]
    return (role, _get(m, "name"), parts, _get(m, "finish_reason"))


_INT_PARAMS = {"top_k": N.GEN_REQUEST_TOP_K, "max_tokens": N.GEN_REQUEST_MAX_TOKENS,
               "max_completion_tokens": N.GEN_REQUEST_MAX_TOKENS,
               "max_output_tokens": N.GEN_REQUEST_MAX_TOKENS,
               "seed": N.GEN_REQUEST_SEED, "n": N.GEN_REQUEST_CHOICE_COUNT}
_DBL_PARAMS = {"temperature": N.GEN_REQUEST_TEMPERATURE, "top_p": N.GEN_REQUEST_TOP_P,
               "frequency_penalty": N.GEN_REQUEST_FREQUENCY_PENALTY,
               "presence_penalty": N.GEN_REQUEST_PRESENCE_PENALTY}


def _b(s: Any) -> bytes:
    """UTF-8 bytes; lone surrogates pass through and libflywheel repairs
    them (U+FFFD), as it repairs any invalid UTF-8."""
    if not isinstance(s, str):
        s = str(s)
    return s.encode("utf-8", "surrogatepass")


def _z(s: Any) -> bytes:
    """UTF-8 bytes for a NUL-terminated argument. libflywheel removes NUL
    from text anyway (the store cannot hold it); removing it here keeps the
    rest of the string, which a C string would otherwise cut there."""
    b = _b(s)
    return b.replace(b"\0", b"") if b"\0" in b else b


class Generation:
    """One model call being recorded. Made by :func:`generation`; used as a
    context manager (sync or async). On leaving the block the generation is
    recorded once: status ok, or error when an exception leaves the block
    (the exception is recorded and re-raised unchanged). ``id`` is the event
    id (a UUID string) once recorded, for :func:`feedback`.

    Setters never raise and cost nothing visible when telemetry fails."""

    __slots__ = ("model", "provider", "operation", "input", "system", "params",
                 "tools", "prompt_name", "prompt_version", "prompt_variables",
                 "conversation_id", "session_id", "user_id", "tags", "attributes",
                 "trace_id", "span_id", "parent_span_id", "response_id",
                 "response_model", "outputs", "finish_reasons", "usage", "cost_usd",
                 "stream", "status", "error_type", "error_message", "id", "rc",
                 "_t0", "_start_ns", "_end_ns", "_ttft_ns", "_done")

    def __init__(self, *, model: str | None = None, provider: str | None = None,
                 operation: str = "chat", input: Any = None, system: Any = None,
                 params: Mapping[str, Any] | None = None, tools: Any = None,
                 prompt_name: str | None = None, prompt_version: str | None = None,
                 prompt_variables: Mapping[str, str] | None = None,
                 conversation_id: str | None = None, session_id: str | None = None,
                 user_id: str | None = None, tags: Iterable[str] | None = None,
                 attributes: Mapping[str, str] | None = None,
                 trace_id: str | bytes | None = None, span_id: str | bytes | None = None,
                 parent_span_id: str | bytes | None = None,
                 stream: bool | None = None) -> None:
        c = _ctx.get()
        self.model = model
        self.provider = provider
        self.operation = operation
        self.input = input
        self.system = system
        self.params = params
        self.tools = tools
        self.prompt_name = prompt_name
        self.prompt_version = prompt_version
        self.prompt_variables = prompt_variables
        self.conversation_id = conversation_id if conversation_id is not None \
            else c.get("conversation_id")
        self.session_id = session_id if session_id is not None else c.get("session_id")
        self.user_id = user_id if user_id is not None else c.get("user_id")
        self.tags = tuple(c.get("tags", ())) + tuple(tags or ())
        self.attributes = {**c.get("attributes", {}), **(attributes or {})}
        self.trace_id = trace_id
        self.span_id = span_id
        self.parent_span_id = parent_span_id
        self.response_id = None
        self.response_model = None
        self.outputs: list = []
        self.finish_reasons: list = []
        self.usage: dict = {}
        self.cost_usd = None
        self.stream = stream
        self.status = None
        self.error_type = None
        self.error_message = None
        self.id: str | None = None
        self.rc: int | None = None
        self._done = False
        self._ttft_ns = None
        self._end_ns = None
        self.start()

    # ---- timing ----------------------------------------------------------
    def start(self) -> None:
        """(Re)starts the clock; called on creation."""
        self._t0 = time.monotonic_ns()
        self._start_ns = time.time_ns()

    def first_token(self) -> None:
        """Marks the first token (streaming): time to first token is the time
        since start. Only the first call counts."""
        if self._ttft_ns is None:
            self._ttft_ns = time.monotonic_ns() - self._t0

    # ---- results ---------------------------------------------------------
    def set_output(self, output: Any) -> None:
        """The model's answer: a string (one assistant message), a message
        (dict or SDK object with role/content/tool_calls), or a list of
        them (one per choice). Replaces earlier outputs."""
        self.outputs = list(output) if isinstance(output, (list, tuple)) else [output]

    def add_output(self, content: Any = None, *, role: str = "assistant",
                   tool_calls: Iterable[Mapping] | None = None,
                   reasoning: str | None = None, finish_reason: str | None = None,
                   name: str | None = None) -> None:
        """Appends one output message. tool_calls: OpenAI-shaped
        ``{"id", "function": {"name", "arguments"}}``."""
        m = {"role": role, "content": content, "name": name,
             "finish_reason": finish_reason}
        if tool_calls:
            m["tool_calls"] = list(tool_calls)
        if reasoning:
            m["reasoning_content"] = reasoning
        self.outputs.append(m)

    def set_usage(self, input_tokens: int | None = None, output_tokens: int | None = None,
                  cache_read_input_tokens: int | None = None,
                  cache_creation_input_tokens: int | None = None,
                  reasoning_tokens: int | None = None) -> None:
        """Token counts. A count left None is recorded as absent (NULL in the
        store), never as 0."""
        for k, v in (("input", input_tokens), ("output", output_tokens),
                     ("cache_read", cache_read_input_tokens),
                     ("cache_creation", cache_creation_input_tokens),
                     ("reasoning", reasoning_tokens)):
            if v is not None:
                self.usage[k] = v

    def set_cost(self, usd: float | None) -> None:
        """Cost of the call in US dollars (stored in millionths)."""
        self.cost_usd = usd

    def set_error(self, error: BaseException | str, message: str | None = None) -> None:
        """Marks the generation failed: an exception, or a type name and a
        message."""
        self.status = N.STATUS_ERROR
        if isinstance(error, BaseException):
            self.error_type = type(error).__name__
            self.error_message = str(error)
        else:
            self.error_type = str(error)
            self.error_message = message

    # ---- recording -------------------------------------------------------
    def end(self) -> str | None:
        """Records the generation (once; later calls return the same id).
        Returns the event id, or None when nothing was recorded."""
        if self._done:
            return self.id
        self._done = True
        self._end_ns = time.time_ns()
        if self.status is None:
            self.status = N.STATUS_OK
        _record(self)
        return self.id

    def __enter__(self) -> "Generation":
        return self

    def __exit__(self, et: Any, ev: Any, tb: Any) -> bool:
        try:
            if ev is not None:
                self.set_error(ev)
            self.end()
        except Exception as e:  # never replace the application's exception
            _fail("recording a generation failed", e)
        return False

    async def __aenter__(self) -> "Generation":
        return self

    async def __aexit__(self, et: Any, ev: Any, tb: Any) -> bool:
        return self.__exit__(et, ev, tb)


def generation(**kwargs: Any) -> Generation:
    """Starts recording one model call; see :class:`Generation` for the
    arguments (model, provider, operation, input, system, params, tools,
    prompt_name, prompt_version, prompt_variables, conversation_id,
    session_id, user_id, tags, attributes, trace_id, span_id, stream)::

        with flywheel.generation(model="gpt-4o", input=messages) as g:
            reply = call_model(messages)
            g.set_output(reply)
            g.set_usage(input_tokens=812, output_tokens=40)
        flywheel.feedback(g.id, thumbs=True)
    """
    return Generation(**kwargs)


def _hexbytes(v: Any, n: int) -> bytes | None:
    if v is None:
        return None
    if isinstance(v, (bytes, bytearray)):
        b = bytes(v)
    else:
        b = bytes.fromhex(str(v).replace("-", ""))
    if len(b) != n:
        raise ValueError(f"expected {n} bytes, got {len(b)}")
    return b


def _leave(token: object) -> None:
    try:
        _st.active.remove(token)
    except ValueError:  # the list was replaced by a fork in between
        pass


def _record(g: Generation) -> None:
    me = object()
    _st.active.append(me)
    try:
        for _attempt in (0, 1):
            a = _agent()
            if a is None:
                return
            rc = _build_and_record(_st.lib, a, g)
            if rc != N.ERR_FORKED:
                break
            # A fork the hook did not see: this is a child holding the
            # parent's agent. Forget it and make our own, once.
            _after_fork_child()
            _st.active.append(me)
        g.rc = rc
    except Exception as e:
        _fail("recording a generation failed", e)
    finally:
        _leave(me)


def _add_messages(lib, h, direction: int, msgs: Iterable, default_role: str,
                  is_output: bool, finish: list) -> None:
    add_message = lib.fw_gen_add_message
    add_text = lib.fw_gen_msg_add_text_n
    for m in msgs:
        role, name, parts, fr = _message(m, default_role)
        add_message(h, direction, N.ROLES.get(role, 0), _z(name) if name else None)
        for p in parts:
            k = p[0]
            if k == "text":
                b = _b(p[1])
                add_text(h, b, len(b))
            elif k == "tool_call":
                lib.fw_gen_msg_add_tool_call(h, _z(p[1]), _z(p[2]), _z(p[3]))
            elif k == "tool_response":
                lib.fw_gen_msg_add_tool_response(h, _z(p[1]), _z(p[2]))
            elif k == "reasoning":
                lib.fw_gen_msg_add_reasoning(h, _z(p[1]))
        if fr:
            lib.fw_gen_msg_set_finish_reason(h, _z(fr))
            if is_output:
                finish.append(fr)


def _build_and_record(lib, a: int, g: Generation) -> int:
    h = lib.fw_gen_new(a)
    if not h:
        return N.ERR_QUEUE_FULL  # out of memory: counted by libflywheel
    try:
        return _fill_and_record(lib, h, g)
    except BaseException:
        lib.fw_gen_discard(h)  # never leak the builder
        raise


def _fill_and_record(lib, h: int, g: Generation) -> int:
    """Sets every field on builder h and records it (which frees h)."""
    set_str = lib.fw_gen_set_str_n
    set_int = lib.fw_gen_set_int

    def s(field: int, v: Any) -> None:
        if v is not None:
            b = _b(v)
            set_str(h, field, b, len(b))

    s(N.GEN_CONVERSATION_ID, g.conversation_id)
    s(N.GEN_SESSION_ID, g.session_id)
    s(N.GEN_USER_ID, g.user_id)
    s(N.GEN_OPERATION_NAME, g.operation)
    s(N.GEN_PROVIDER_NAME, g.provider)
    s(N.GEN_REQUEST_MODEL, g.model)
    s(N.GEN_RESPONSE_MODEL, g.response_model)
    s(N.GEN_RESPONSE_ID, g.response_id)
    s(N.GEN_PROMPT_NAME, g.prompt_name)
    s(N.GEN_PROMPT_VERSION, g.prompt_version)
    if g.trace_id is not None:
        try:
            trace = (_hexbytes(g.trace_id, 16), _hexbytes(g.span_id, 8),
                     _hexbytes(g.parent_span_id, 8))
        except ValueError as e:
            _fail("invalid trace or span id: not recorded", e)
        else:
            lib.fw_gen_set_trace(h, *trace)
    if g.tools:
        s(N.GEN_TOOL_DEFINITIONS_JSON, json.dumps(g.tools, ensure_ascii=False, default=str))
    if g.system is not None:
        sysparts = _parts_of(g.system)
        s(N.GEN_SYSTEM_INSTRUCTIONS, "".join(p[1] for p in sysparts if p[0] == "text"))
    params = g.params
    if params:
        extra = {}
        for k, v in params.items():
            if v is None:
                continue
            f = _INT_PARAMS.get(k)
            if f is not None and isinstance(v, int) and not isinstance(v, bool):
                set_int(h, f, v)
                continue
            f = _DBL_PARAMS.get(k)
            if f is not None and isinstance(v, (int, float)) and not isinstance(v, bool):
                lib.fw_gen_set_double(h, f, float(v))
                continue
            if k in ("stop", "stop_sequences"):
                for seq in ([v] if isinstance(v, str) else v):
                    lib.fw_gen_add_stop_sequence(h, _z(seq))
                continue
            if k == "stream":
                continue
            extra[k] = v
        if extra:
            s(N.GEN_REQUEST_EXTRA_JSON, json.dumps(extra, ensure_ascii=False, default=str))
    if g.stream is not None:
        set_int(h, N.GEN_REQUEST_STREAM, 1 if g.stream else 0)
    if g.prompt_variables:
        for k, v in g.prompt_variables.items():
            lib.fw_gen_set_prompt_variable(h, _z(k), _z(v))
    for t in g.tags:
        lib.fw_gen_add_tag(h, _z(t))
    for k, v in g.attributes.items():
        lib.fw_gen_set_attribute(h, _z(k), _z(v))
    finish: list = []
    if g.input is not None:
        msgs = [g.input] if isinstance(g.input, str) else g.input
        _add_messages(lib, h, N.INPUT, msgs, "user", False, finish)
    _add_messages(lib, h, N.OUTPUT, g.outputs, "assistant", True, finish)
    for fr in (g.finish_reasons or finish):
        lib.fw_gen_add_finish_reason(h, _z(fr))
    u = g.usage
    if u:
        for k, f in (("input", N.GEN_USAGE_INPUT_TOKENS), ("output", N.GEN_USAGE_OUTPUT_TOKENS),
                     ("cache_read", N.GEN_USAGE_CACHE_READ_INPUT_TOKENS),
                     ("cache_creation", N.GEN_USAGE_CACHE_CREATION_INPUT_TOKENS),
                     ("reasoning", N.GEN_USAGE_REASONING_OUTPUT_TOKENS)):
            v = u.get(k)
            if v is not None:
                set_int(h, f, int(v))
    if g.cost_usd is not None:
        set_int(h, N.GEN_COST_MICRO_USD, int(round(g.cost_usd * 1e6)))
    set_int(h, N.GEN_START_TIME_UNIX_NANO, g._start_ns)
    set_int(h, N.GEN_END_TIME_UNIX_NANO, g._end_ns or time.time_ns())
    if g._ttft_ns is not None:
        set_int(h, N.GEN_TIME_TO_FIRST_TOKEN_NANOS, g._ttft_ns)
    set_int(h, N.GEN_STATUS, g.status or N.STATUS_UNSET)
    s(N.GEN_ERROR_TYPE, g.error_type)
    s(N.GEN_ERROR_MESSAGE, g.error_message)
    eid = N.EventId()
    rc = lib.fw_gen_record(h, ctypes.byref(eid))
    if rc == N.OK:
        g.id = eid.str.decode()
    return rc


# ---------------------------------------------------------------------------
# Feedback
# ---------------------------------------------------------------------------

def feedback(generation_id: str | bytes | None = None, *, response_id: str | None = None,
             trace_id: str | bytes | None = None, name: str | None = None,
             thumbs: bool | None = None, score: float | None = None,
             category: str | None = None, comment: str | None = None,
             correction: Any = None, source: str = "end_user",
             author_id: str | None = None) -> str | None:
    """Records feedback about a generation, addressed by its event id
    (``Generation.id``), by the provider's response id, or by trace id.
    Kinds, at most one value per call: ``thumbs`` (bool), ``score`` (number),
    ``category`` (a label); and, with any of them or alone, ``comment`` (text)
    and ``correction`` (the output that should have been: a string or
    messages). ``name`` defaults to the kind ("thumbs", "score", "category",
    "correction" or "comment"). ``source``: end_user, automated, model_judge,
    reviewer or unspecified. Returns the feedback's event id, or None when
    nothing was recorded (no agent, invalid arguments: logged, never
    raised)."""
    me = object()
    _st.active.append(me)
    try:
        values = [v for v in (thumbs, score, category) if v is not None]
        if len(values) > 1:
            _fail("feedback takes at most one of thumbs, score and category")
            return None
        if generation_id is None and response_id is None and trace_id is None:
            _fail("feedback needs generation_id, response_id or trace_id")
            return None
        if name is None:
            name = ("thumbs" if thumbs is not None else "score" if score is not None
                    else "category" if category is not None
                    else "correction" if correction is not None else "comment")
        for _attempt in (0, 1):
            a = _agent()
            if a is None:
                return None
            lib = _st.lib
            f = lib.fw_feedback_new(a)
            if not f:
                return None
            try:
                rc, eid = _fill_feedback(lib, f, generation_id, response_id, trace_id, name,
                                         thumbs, score, category, comment, correction, source,
                                         author_id)
            except BaseException:
                lib.fw_feedback_discard(f)
                raise
            if rc == N.ERR_FORKED:
                _after_fork_child()
                _st.active.append(me)
                continue
            return eid if rc == N.OK else None
        return None
    except Exception as e:
        _fail("recording feedback failed", e)
        return None
    finally:
        _leave(me)


def _fill_feedback(lib, f, generation_id, response_id, trace_id, name, thumbs, score,
                   category, comment, correction, source, author_id):
    """Sets every field on feedback builder f and records it (freeing f).
    Returns (rc, event id text)."""
    if generation_id is not None:
        lib.fw_feedback_set_target_event(f, _event_id_bytes(lib, generation_id))
    if response_id is not None:
        lib.fw_feedback_set_str(f, N.FEEDBACK_TARGET_RESPONSE_ID, _z(response_id))
    if trace_id is not None:
        lib.fw_feedback_set_target_trace(f, _hexbytes(trace_id, 16))
    lib.fw_feedback_set_str(f, N.FEEDBACK_NAME, _z(name))
    if thumbs is not None:
        lib.fw_feedback_set_bool(f, 1 if thumbs else 0)
    elif score is not None:
        lib.fw_feedback_set_number(f, float(score))
    elif category is not None:
        lib.fw_feedback_set_category(f, _z(category))
    if comment is not None:
        lib.fw_feedback_set_str(f, N.FEEDBACK_COMMENT, _z(comment))
    if author_id is not None:
        lib.fw_feedback_set_str(f, N.FEEDBACK_AUTHOR_ID, _z(author_id))
    lib.fw_feedback_set_source(f, N.SOURCES.get(source, 0))
    if correction is not None:
        msgs = [correction] if isinstance(correction, (str, Mapping)) else correction
        for m in msgs:
            role, mname, parts, _fr = _message(m, "assistant")
            lib.fw_feedback_add_correction(f, N.ROLES.get(role, 0),
                                           _z(mname) if mname else None)
            for p in parts:
                if p[0] == "text":
                    lib.fw_feedback_msg_add_text(f, _z(p[1]))
                elif p[0] == "tool_call":
                    lib.fw_feedback_msg_add_tool_call(f, _z(p[1]), _z(p[2]), _z(p[3]))
    eid = N.EventId()
    rc = lib.fw_feedback_record(f, ctypes.byref(eid))
    return rc, eid.str.decode()


def _event_id_bytes(lib, v: str | bytes) -> bytes:
    if isinstance(v, (bytes, bytearray)) and len(v) == 16:
        return bytes(v)
    out = (ctypes.c_ubyte * 16)()
    if lib.fw_event_id_parse(_z(v), out) != N.OK:
        raise ValueError(f"invalid event id {v!r}")
    return bytes(out)
