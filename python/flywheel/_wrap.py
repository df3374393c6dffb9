"""wrap_openai and wrap_anthropic: one-line capture of model calls made
through an OpenAI- or Anthropic-shaped client.

Per instance and duck-typed: neither SDK is imported; the wrapper replaces
``create`` (and Anthropic's ``stream``) on the client's own resource objects,
so other clients and the classes are untouched. Rules:

- The request is passed on exactly as given (no ``stream_options``
  injected). Calls made through ``with_raw_response`` /
  ``with_streaming_response`` (the SDKs mark them with the
  ``X-Stainless-Raw-Response`` header) are passed through unrecorded,
  because recording them would consume the caller's response.
- The result is what the SDK returned. A stream is wrapped in a proxy that
  forwards every attribute and reports the stream's class (``isinstance``
  holds), observes each chunk on its way to the caller, and records once on
  whichever exit comes first: exhaustion (status ok), an exception (status
  error, the exception re-raised unchanged), ``close()``/``with`` exit/
  ``break`` followed by garbage collection (status unset, attribute
  ``flywheel.stream.incomplete``).
- An exception from the SDK is recorded and re-raised: the same object.
- Telemetry never raises: any failure inside the wrapper is logged, counted
  (``stats()["binding_errors"]``) and the call behaves as without Flywheel.
"""
from __future__ import annotations

import inspect
import json
import threading
from typing import Any

from . import _core
from ._core import Generation, _fail, _get

__all__ = ["wrap_openai", "wrap_anthropic"]

_RAW_HEADER = "x-stainless-raw-response"
_OPENAI_PARAMS = ("temperature", "top_p", "max_tokens", "max_completion_tokens", "seed", "n",
                  "frequency_penalty", "presence_penalty", "stop", "response_format",
                  "tool_choice", "parallel_tool_calls", "logit_bias", "logprobs",
                  "top_logprobs", "stream_options", "reasoning_effort", "service_tier", "user")
_ANTHROPIC_PARAMS = ("temperature", "top_p", "top_k", "max_tokens", "stop_sequences",
                     "tool_choice", "thinking", "metadata", "service_tier")


def _is_raw(kwargs: dict) -> bool:
    h = kwargs.get("extra_headers")
    if not h:
        return False
    try:
        return any(str(k).lower() == _RAW_HEADER for k in h)
    except Exception:
        return False


def _given(v: Any) -> bool:
    """False for None and the SDKs' NOT_GIVEN / Omit sentinels."""
    if v is None:
        return False
    n = type(v).__name__
    return n not in ("NotGiven", "Omit")


def _safe(fn, *args: Any) -> Any:
    try:
        return fn(*args)
    except Exception as e:
        _fail(f"{getattr(fn, '__name__', 'telemetry')} failed", e)
        return None


# ---------------------------------------------------------------------------
# The stream proxies
# ---------------------------------------------------------------------------

class _Stream:
    """Proxy of a sync stream. Attributes starting with _fw_ are its own;
    everything else goes to the wrapped stream."""

    def __init__(self, wrapped: Any, g: Generation, acc: Any) -> None:
        d = self.__dict__
        d["_fw_wrapped"] = wrapped
        d["_fw_g"] = g
        d["_fw_acc"] = acc
        d["_fw_it"] = None
        d["_fw_done"] = False
        d["_fw_lock"] = threading.Lock()

    # Transparency: isinstance(proxy, type(wrapped)) holds.
    @property
    def __class__(self) -> type:  # type: ignore[override]
        return type(self.__dict__["_fw_wrapped"])

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["_fw_wrapped"], name)

    def __setattr__(self, name: str, value: Any) -> None:
        setattr(self.__dict__["_fw_wrapped"], name, value)

    def __repr__(self) -> str:
        return repr(self.__dict__["_fw_wrapped"])

    def _fw_observe(self, item: Any) -> None:
        try:
            self.__dict__["_fw_acc"].add(item, self.__dict__["_fw_g"])
        except Exception as e:
            _fail("observing a stream chunk failed", e)

    def _fw_finish(self, how: str, exc: BaseException | None = None) -> None:
        """Records once: how is done, error or closed."""
        try:
            d = self.__dict__
            with d["_fw_lock"]:
                if d["_fw_done"]:
                    return
                d["_fw_done"] = True
            g = d["_fw_g"]
            d["_fw_acc"].finish(g, d["_fw_wrapped"])
            if how == "error" and exc is not None:
                g.set_error(exc)
            elif how == "closed":
                g.status = 0  # unset: the caller stopped reading
                g.attributes["flywheel.stream.incomplete"] = "true"
            g.end()
        except Exception as e:
            _fail("recording a stream failed", e)

    def __iter__(self) -> "_Stream":
        return self

    def __next__(self) -> Any:
        d = self.__dict__
        it = d["_fw_it"]
        if it is None:
            it = d["_fw_it"] = iter(d["_fw_wrapped"])
        try:
            item = next(it)
        except StopIteration:
            self._fw_finish("done")
            raise
        except BaseException as e:
            self._fw_finish("error", e)
            raise
        self._fw_observe(item)
        return item

    def __enter__(self) -> "_Stream":
        w = self.__dict__["_fw_wrapped"]
        if hasattr(w, "__enter__"):
            w.__enter__()
        return self

    def __exit__(self, et: Any, ev: Any, tb: Any) -> Any:
        w = self.__dict__["_fw_wrapped"]
        try:
            return w.__exit__(et, ev, tb) if hasattr(w, "__exit__") else None
        finally:
            if ev is not None and not isinstance(ev, GeneratorExit):
                self._fw_finish("error", ev)
            else:
                self._fw_finish("closed")

    def close(self) -> Any:
        try:
            return self.__dict__["_fw_wrapped"].close()
        finally:
            self._fw_finish("closed")

    def __del__(self) -> None:
        try:
            if not self.__dict__.get("_fw_done", True):
                self._fw_finish("closed")
        except Exception:
            pass


class _AsyncStream(_Stream):
    """Proxy of an async stream (``async for``, ``async with``, ``close()`` /
    ``aclose()`` coroutines)."""

    def __aiter__(self) -> "_AsyncStream":
        return self

    async def __anext__(self) -> Any:
        d = self.__dict__
        it = d["_fw_it"]
        if it is None:
            it = d["_fw_it"] = d["_fw_wrapped"].__aiter__()
        try:
            item = await it.__anext__()
        except StopAsyncIteration:
            self._fw_finish("done")
            raise
        except BaseException as e:
            self._fw_finish("error", e)
            raise
        self._fw_observe(item)
        return item

    async def __aenter__(self) -> "_AsyncStream":
        w = self.__dict__["_fw_wrapped"]
        if hasattr(w, "__aenter__"):
            await w.__aenter__()
        return self

    async def __aexit__(self, et: Any, ev: Any, tb: Any) -> Any:
        w = self.__dict__["_fw_wrapped"]
        try:
            return await w.__aexit__(et, ev, tb) if hasattr(w, "__aexit__") else None
        finally:
            if ev is not None and not isinstance(ev, GeneratorExit):
                self._fw_finish("error", ev)
            else:
                self._fw_finish("closed")

    async def close(self) -> Any:  # type: ignore[override]
        try:
            r = self.__dict__["_fw_wrapped"].close()
            if inspect.isawaitable(r):
                r = await r
            return r
        finally:
            self._fw_finish("closed")

    async def aclose(self) -> Any:
        w = self.__dict__["_fw_wrapped"]
        try:
            f = getattr(w, "aclose", None) or getattr(w, "close")
            r = f()
            if inspect.isawaitable(r):
                r = await r
            return r
        finally:
            self._fw_finish("closed")


def _proxy(result: Any, g: Generation, acc: Any, is_async: bool) -> Any:
    try:
        return (_AsyncStream if is_async else _Stream)(result, g, acc)
    except Exception as e:
        _fail("wrapping a stream failed", e)
        return result


# ---------------------------------------------------------------------------
# Shared call path
# ---------------------------------------------------------------------------

def _wrap_method(orig: Any, start, record, make_acc) -> Any:
    """A replacement for a create() method: start(kwargs) -> Generation,
    record(g, response) for a whole response, make_acc() for a stream."""

    def finish_error(g: Generation, e: BaseException) -> None:
        g.set_error(e)
        g.end()

    def after(result: Any, g: Generation, streaming: bool, is_async: bool) -> Any:
        if streaming:
            return _proxy(result, g, make_acc(), is_async)
        _safe(record, g, result)
        _safe(g.end)
        return result

    async def await_result(aw: Any, g: Generation, streaming: bool) -> Any:
        try:
            result = await aw
        except BaseException as e:
            _safe(finish_error, g, e)
            raise
        return after(result, g, streaming, True)

    def create(*args: Any, **kwargs: Any) -> Any:
        if not _core.enabled() or _is_raw(kwargs):
            return orig(*args, **kwargs)
        g = None
        try:
            g = start(kwargs)
        except Exception as e:
            _fail("reading the request failed", e)
        if g is None:
            return orig(*args, **kwargs)
        try:
            result = orig(*args, **kwargs)
        except BaseException as e:
            _safe(finish_error, g, e)
            raise
        streaming = kwargs.get("stream") is True
        if inspect.isawaitable(result) and not hasattr(result, "__aiter__"):
            return await_result(result, g, streaming)
        try:
            return after(result, g, streaming, hasattr(result, "__aiter__") and
                         not hasattr(result, "__iter__"))
        except Exception as e:
            _fail("recording the response failed", e)
            return result

    create.__wrapped__ = orig  # type: ignore[attr-defined]
    create._flywheel_wrapped = True  # type: ignore[attr-defined]
    try:
        create.__doc__ = getattr(orig, "__doc__", None)
        create.__name__ = getattr(orig, "__name__", "create")
    except Exception:
        pass
    return create


def _replace(obj: Any, name: str, factory) -> bool:
    orig = getattr(obj, name, None)
    if orig is None or not callable(orig) or getattr(orig, "_flywheel_wrapped", False):
        return False
    setattr(obj, name, factory(orig))
    return True


# ---------------------------------------------------------------------------
# OpenAI
# ---------------------------------------------------------------------------

def _openai_start(kw: dict) -> Generation:
    params = {k: kw[k] for k in _OPENAI_PARAMS if k in kw and _given(kw[k])}
    tools = kw.get("tools")
    return Generation(model=kw.get("model"), provider="openai", operation="chat",
                      input=kw.get("messages"), params=params,
                      tools=tools if _given(tools) else None,
                      stream=kw.get("stream") is True)


def _openai_usage(g: Generation, u: Any) -> None:
    if u is None:
        return
    ptd = _get(u, "prompt_tokens_details")
    ctd = _get(u, "completion_tokens_details")
    g.set_usage(input_tokens=_get(u, "prompt_tokens"),
                output_tokens=_get(u, "completion_tokens"),
                cache_read_input_tokens=_get(ptd, "cached_tokens"),
                reasoning_tokens=_get(ctd, "reasoning_tokens"))


def _openai_record(g: Generation, resp: Any) -> None:
    g.response_id = _get(resp, "id")
    g.response_model = _get(resp, "model")
    choices = sorted(_get(resp, "choices") or (), key=lambda c: _get(c, "index", 0) or 0)
    outs = []
    for c in choices:
        m = _get(c, "message")
        role, name, parts, _fr = _core._message(m, "assistant") if m is not None else \
            ("assistant", None, [], None)
        outs.append({"role": role, "content": _get(m, "content"),
                     "tool_calls": _get(m, "tool_calls"), "name": name,
                     "reasoning_content": _get(m, "reasoning_content"),
                     "finish_reason": _get(c, "finish_reason")})
    g.outputs = outs
    _openai_usage(g, _get(resp, "usage"))


class _OpenAIAcc:
    """Merges chat.completion.chunk deltas per choice index and per
    tool-call index; usage from whichever chunk carries it."""

    def __init__(self) -> None:
        self.choices: dict[int, dict] = {}
        self.usage = None
        self.rid = None
        self.model = None

    def add(self, chunk: Any, g: Generation) -> None:
        if self.rid is None:
            self.rid = _get(chunk, "id")
        if self.model is None:
            self.model = _get(chunk, "model")
        u = _get(chunk, "usage")
        if u is not None:
            self.usage = u
        for c in _get(chunk, "choices") or ():
            idx = _get(c, "index", 0) or 0
            st = self.choices.get(idx)
            if st is None:
                st = self.choices[idx] = {"text": [], "reasoning": [], "tools": {},
                                          "finish": None, "role": "assistant"}
            if _get(c, "usage") is not None:  # some providers put it here
                self.usage = _get(c, "usage")
            d = _get(c, "delta")
            if d is not None:
                if _get(d, "role"):
                    st["role"] = _get(d, "role")
                t = _get(d, "content")
                if t:
                    g.first_token()
                    st["text"].append(t)
                r = _get(d, "reasoning_content")
                if r:
                    g.first_token()
                    st["reasoning"].append(r)
                for tc in _get(d, "tool_calls") or ():
                    g.first_token()
                    ti = _get(tc, "index", 0) or 0
                    slot = st["tools"].get(ti)
                    if slot is None:
                        slot = st["tools"][ti] = {"id": None, "name": None, "args": []}
                    if _get(tc, "id"):
                        slot["id"] = _get(tc, "id")
                    fn = _get(tc, "function")
                    if _get(fn, "name"):
                        slot["name"] = _get(fn, "name")
                    if _get(fn, "arguments"):
                        slot["args"].append(_get(fn, "arguments"))
            if _get(c, "finish_reason"):
                st["finish"] = _get(c, "finish_reason")

    def finish(self, g: Generation, _stream: Any) -> None:
        g.response_id = self.rid
        g.response_model = self.model
        outs = []
        for idx in sorted(self.choices):
            st = self.choices[idx]
            tcs = [{"id": s["id"] or "", "function": {"name": s["name"] or "",
                                                     "arguments": "".join(s["args"])}}
                   for _, s in sorted(st["tools"].items())]
            outs.append({"role": st["role"], "content": "".join(st["text"]) or None,
                         "tool_calls": tcs, "reasoning_content": "".join(st["reasoning"]),
                         "finish_reason": st["finish"]})
        g.outputs = outs
        _openai_usage(g, self.usage)


def wrap_openai(client: Any) -> Any:
    """Records every ``client.chat.completions.create`` call (sync or async
    client, streaming or not) of this client instance. Returns the same
    client. Never raises: a client of another shape is returned unchanged
    (logged)."""
    try:
        comp = _get(_get(client, "chat"), "completions")
        if comp is None or not _replace(
                comp, "create",
                lambda o: _wrap_method(o, _openai_start, _openai_record, _OpenAIAcc)):
            _fail("wrap_openai: client.chat.completions.create not found or already wrapped")
    except Exception as e:
        _fail("wrap_openai failed", e)
    return client


# ---------------------------------------------------------------------------
# Anthropic
# ---------------------------------------------------------------------------

def _anthropic_start(kw: dict) -> Generation:
    params = {k: kw[k] for k in _ANTHROPIC_PARAMS if k in kw and _given(kw[k])}
    tools = kw.get("tools")
    system = kw.get("system")
    return Generation(model=kw.get("model"), provider="anthropic", operation="chat",
                      input=kw.get("messages"), system=system if _given(system) else None,
                      params=params, tools=tools if _given(tools) else None,
                      stream=kw.get("stream") is True)


def _anthropic_usage(g: Generation, u: Any, out_u: Any = None) -> None:
    """Anthropic's input_tokens exclude cached ones; the conventions'
    input_tokens include them, so the cache counts are added."""
    if u is None and out_u is None:
        return
    inp = _get(u, "input_tokens")
    cr = _get(u, "cache_read_input_tokens")
    cc = _get(u, "cache_creation_input_tokens")
    out = _get(out_u, "output_tokens") if out_u is not None else _get(u, "output_tokens")
    total = None
    if inp is not None:
        total = inp + (cr or 0) + (cc or 0)
    g.set_usage(input_tokens=total, output_tokens=out, cache_read_input_tokens=cr,
                cache_creation_input_tokens=cc)


def _anthropic_message(g: Generation, msg: Any) -> None:
    g.response_id = _get(msg, "id")
    g.response_model = _get(msg, "model")
    g.outputs = [{"role": _get(msg, "role") or "assistant", "content": _get(msg, "content"),
                  "finish_reason": _get(msg, "stop_reason")}]
    _anthropic_usage(g, _get(msg, "usage"))


class _AnthropicAcc:
    """Merges message stream events: message_start (id, model, input
    usage), content_block_start/delta per index (text, thinking, tool_use
    with partial JSON), message_delta (stop reason, output usage)."""

    def __init__(self) -> None:
        self.msg = None
        self.blocks: dict[int, dict] = {}
        self.stop = None
        self.usage_in = None
        self.usage_out = None

    def add(self, ev: Any, g: Generation) -> None:
        t = _get(ev, "type")
        if t == "message_start":
            self.msg = _get(ev, "message")
            self.usage_in = _get(self.msg, "usage")
        elif t == "content_block_start":
            b = _get(ev, "content_block")
            i = _get(ev, "index", 0) or 0
            bt = _get(b, "type")
            blk = {"type": bt, "text": [_get(b, "text") or ""], "id": _get(b, "id"),
                   "name": _get(b, "name"), "json": [], "thinking": [_get(b, "thinking") or ""]}
            self.blocks[i] = blk
        elif t == "content_block_delta":
            i = _get(ev, "index", 0) or 0
            d = _get(ev, "delta")
            blk = self.blocks.setdefault(i, {"type": "text", "text": [], "id": None,
                                             "name": None, "json": [], "thinking": []})
            dt = _get(d, "type")
            g.first_token()
            if dt == "text_delta":
                blk["text"].append(_get(d, "text") or "")
            elif dt == "input_json_delta":
                blk["json"].append(_get(d, "partial_json") or "")
            elif dt == "thinking_delta":
                blk["thinking"].append(_get(d, "thinking") or "")
        elif t == "message_delta":
            d = _get(ev, "delta")
            if _get(d, "stop_reason"):
                self.stop = _get(d, "stop_reason")
            if _get(ev, "usage") is not None:
                self.usage_out = _get(ev, "usage")

    def finish(self, g: Generation, stream: Any) -> None:
        if self.msg is None and not self.blocks:
            # The helper's text_stream bypasses the proxy: use its snapshot.
            snap = getattr(stream, "current_message_snapshot", None)
            if snap is not None:
                _anthropic_message(g, snap)
            return
        g.response_id = _get(self.msg, "id")
        g.response_model = _get(self.msg, "model")
        content = []
        for i in sorted(self.blocks):
            b = self.blocks[i]
            if b["type"] == "tool_use":
                raw = "".join(b["json"])
                try:
                    args = json.loads(raw) if raw else {}
                except ValueError:
                    args = raw
                content.append({"type": "tool_use", "id": b["id"] or "",
                                "name": b["name"] or "", "input": args})
            elif b["type"] == "thinking":
                content.append({"type": "thinking", "thinking": "".join(b["thinking"])})
            else:
                content.append({"type": "text", "text": "".join(b["text"])})
        g.outputs = [{"role": "assistant", "content": content, "finish_reason": self.stop}]
        _anthropic_usage(g, self.usage_in, self.usage_out)


class _StreamManager:
    """Proxy of Anthropic's ``messages.stream(...)`` manager: entering it
    gives a proxied MessageStream."""

    def __init__(self, mgr: Any, g: Generation, is_async: bool) -> None:
        self.__dict__["_fw_mgr"] = mgr
        self.__dict__["_fw_g"] = g
        self.__dict__["_fw_async"] = is_async
        self.__dict__["_fw_stream"] = None

    @property
    def __class__(self) -> type:  # type: ignore[override]
        return type(self.__dict__["_fw_mgr"])

    def __getattr__(self, name: str) -> Any:
        return getattr(self.__dict__["_fw_mgr"], name)

    def __enter__(self) -> Any:
        s = self.__dict__["_fw_mgr"].__enter__()
        p = _proxy(s, self.__dict__["_fw_g"], _AnthropicAcc(), False)
        self.__dict__["_fw_stream"] = p
        return p

    def __exit__(self, et: Any, ev: Any, tb: Any) -> Any:
        try:
            return self.__dict__["_fw_mgr"].__exit__(et, ev, tb)
        finally:
            p = self.__dict__["_fw_stream"]
            if type(p) in (_Stream, _AsyncStream):
                p._fw_finish("error" if ev is not None else "done", ev)

    async def __aenter__(self) -> Any:
        s = await self.__dict__["_fw_mgr"].__aenter__()
        p = _proxy(s, self.__dict__["_fw_g"], _AnthropicAcc(), True)
        self.__dict__["_fw_stream"] = p
        return p

    async def __aexit__(self, et: Any, ev: Any, tb: Any) -> Any:
        try:
            return await self.__dict__["_fw_mgr"].__aexit__(et, ev, tb)
        finally:
            p = self.__dict__["_fw_stream"]
            if type(p) in (_Stream, _AsyncStream):
                p._fw_finish("error" if ev is not None else "done", ev)


def _wrap_stream_helper(orig: Any) -> Any:
    def stream(*args: Any, **kwargs: Any) -> Any:
        if not _core.enabled() or _is_raw(kwargs):
            return orig(*args, **kwargs)
        try:
            g = _anthropic_start({**kwargs, "stream": True})
        except Exception as e:
            _fail("reading the request failed", e)
            return orig(*args, **kwargs)
        try:
            mgr = orig(*args, **kwargs)
        except BaseException as e:
            _safe(lambda: (g.set_error(e), g.end()))
            raise
        try:
            is_async = hasattr(mgr, "__aenter__") and not hasattr(mgr, "__enter__")
            return _StreamManager(mgr, g, is_async)
        except Exception as e:
            _fail("wrapping messages.stream failed", e)
            return mgr

    stream.__wrapped__ = orig  # type: ignore[attr-defined]
    stream._flywheel_wrapped = True  # type: ignore[attr-defined]
    return stream


def wrap_anthropic(client: Any) -> Any:
    """Records every ``client.messages.create`` call (sync or async,
    ``stream=True`` included) and ``client.messages.stream(...)`` of this
    client instance. Returns the same client. Never raises."""
    try:
        msgs = _get(client, "messages")
        if msgs is None or not _replace(
                msgs, "create",
                lambda o: _wrap_method(o, _anthropic_start, _anthropic_message,
                                       _AnthropicAcc)):
            _fail("wrap_anthropic: client.messages.create not found or already wrapped")
        if msgs is not None:
            _replace(msgs, "stream", _wrap_stream_helper)
    except Exception as e:
        _fail("wrap_anthropic failed", e)
    return client
