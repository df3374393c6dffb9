"""Fake OpenAI and Anthropic clients shaped like the real SDKs (openai 1.x,
anthropic 0.x), which are not in Debian: resource objects with create(),
response and chunk objects with attributes (not dicts), Stream classes with
a .response carrying headers, close() and context-manager support, async
twins whose create() is a plain function returning a coroutine (as the
SDKs' @required_args wrapper does), with_raw_response built from
create at access time with the X-Stainless-Raw-Response header, and
Anthropic's messages.stream() manager with text_stream and
current_message_snapshot. Scripted: each client is given what to return or
raise, and keeps the kwargs of every call.
"""
from __future__ import annotations

import asyncio
from typing import Any


class Obj:
    """An SDK model: attributes, plus model_dump()."""

    def __init__(self, **kw: Any) -> None:
        self.__dict__.update(kw)

    def model_dump(self) -> dict:
        def dump(v):
            if isinstance(v, Obj):
                return v.model_dump()
            if isinstance(v, list):
                return [dump(x) for x in v]
            return v
        return {k: dump(v) for k, v in self.__dict__.items()}


class HTTPResponse:
    def __init__(self) -> None:
        self.headers = {"x-request-id": "req_123", "content-type": "text/event-stream"}
        self.status_code = 200


class RawResponse:
    """LegacyAPIResponse: .headers, .parse()."""

    def __init__(self, parsed: Any) -> None:
        self.headers = {"x-request-id": "req_raw"}
        self.http_response = HTTPResponse()
        self._parsed = parsed

    def parse(self) -> Any:
        return self._parsed


class Stream:
    """openai.Stream / anthropic.Stream."""

    def __init__(self, items: list, fail_at: int | None = None,
                 exc: BaseException | None = None) -> None:
        self.response = HTTPResponse()
        self._items = items
        self._fail_at = fail_at
        self._exc = exc
        self.closed = False
        self._iterator = self.__stream__()

    def __stream__(self):
        for i, it in enumerate(self._items):
            if self._fail_at is not None and i == self._fail_at:
                raise self._exc
            yield it

    def __iter__(self):
        yield from self._iterator

    def __next__(self):
        return next(self._iterator)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self) -> None:
        self.closed = True


class AsyncStream:
    def __init__(self, items: list, fail_at: int | None = None,
                 exc: BaseException | None = None) -> None:
        self.response = HTTPResponse()
        self._items = items
        self._fail_at = fail_at
        self._exc = exc
        self.closed = False
        self._iterator = self.__stream__()

    async def __stream__(self):
        for i, it in enumerate(self._items):
            await asyncio.sleep(0)
            if self._fail_at is not None and i == self._fail_at:
                raise self._exc
            yield it

    def __aiter__(self):
        return self._iterator

    async def __anext__(self):
        return await self._iterator.__anext__()

    async def __aenter__(self):
        return self

    async def __aexit__(self, *exc):
        await self.close()

    async def close(self) -> None:
        self.closed = True


# ---- OpenAI ---------------------------------------------------------------

def chat_completion(content="Hello!", tool_calls=None, n=1, usage=True, finish="stop"):
    choices = []
    for i in range(n):
        msg = Obj(role="assistant", content=content if n == 1 else f"{content} #{i}",
                  tool_calls=tool_calls, refusal=None)
        choices.append(Obj(index=i, message=msg, finish_reason=finish, logprobs=None))
    u = Obj(prompt_tokens=20, completion_tokens=5, total_tokens=25,
            prompt_tokens_details=Obj(cached_tokens=8),
            completion_tokens_details=Obj(reasoning_tokens=2)) if usage else None
    return Obj(id="chatcmpl-fake-1", object="chat.completion", created=1,
               model="gpt-4o-mini-2024-07-18", choices=choices, usage=u)


def chunk(choices=(), usage=None, cid="chatcmpl-fake-s"):
    return Obj(id=cid, object="chat.completion.chunk", created=1,
               model="gpt-4o-mini-2024-07-18", choices=list(choices), usage=usage)


def cchoice(index=0, content=None, role=None, tool_calls=None, finish=None):
    return Obj(index=index, delta=Obj(role=role, content=content, tool_calls=tool_calls),
               finish_reason=finish, logprobs=None)


def tcdelta(index, id=None, name=None, args=None):
    return Obj(index=index, id=id, type="function" if id else None,
               function=Obj(name=name, arguments=args))


class _RawWrapper:
    """client.chat.completions.with_raw_response: built from create at
    access time (like the SDK's to_raw_response_wrapper)."""

    def __init__(self, create) -> None:
        self._create = create

    def create(self, **kw):
        headers = dict(kw.pop("extra_headers", None) or {})
        headers["X-Stainless-Raw-Response"] = "raw"
        return self._create(extra_headers=headers, **kw)


class Completions:
    def __init__(self, script) -> None:
        self.script = script  # callable(kwargs) -> result or raises
        self.calls: list[dict] = []

    @property
    def with_raw_response(self):
        return _RawWrapper(self.create)

    def create(self, **kw):
        self.calls.append(kw)
        r = self.script(kw)
        if "X-Stainless-Raw-Response" in (kw.get("extra_headers") or {}):
            return RawResponse(r)
        return r


class AsyncCompletions(Completions):
    def create(self, **kw):  # sync wrapper returning a coroutine, like the SDK
        return self._create(**kw)

    async def _create(self, **kw):
        await asyncio.sleep(0)
        return Completions.create(self, **kw)


class OpenAI:
    def __init__(self, script) -> None:
        self.api_key = "sk-fake"
        self.chat = Obj(completions=Completions(script))


class AsyncOpenAI:
    def __init__(self, script) -> None:
        self.api_key = "sk-fake"
        self.chat = Obj(completions=AsyncCompletions(script))


# ---- Anthropic ------------------------------------------------------------

def message(content=None, stop="end_turn"):
    return Obj(id="msg_fake_1", type="message", role="assistant",
               model="claude-3-5-sonnet-20241022",
               content=content or [Obj(type="text", text="Bonjour ✓")],
               stop_reason=stop, stop_sequence=None,
               usage=Obj(input_tokens=30, output_tokens=12, cache_read_input_tokens=100,
                         cache_creation_input_tokens=5))


def anthropic_events():
    return [
        Obj(type="message_start", message=Obj(id="msg_fake_s", type="message",
                                              role="assistant",
                                              model="claude-3-5-sonnet-20241022", content=[],
                                              usage=Obj(input_tokens=25, output_tokens=1,
                                                        cache_read_input_tokens=None,
                                                        cache_creation_input_tokens=None))),
        Obj(type="content_block_start", index=0, content_block=Obj(type="text", text="")),
        Obj(type="content_block_delta", index=0, delta=Obj(type="text_delta", text="Let me ")),
        Obj(type="content_block_delta", index=0, delta=Obj(type="text_delta", text="check.")),
        Obj(type="content_block_stop", index=0),
        Obj(type="content_block_start", index=1,
            content_block=Obj(type="tool_use", id="toolu_1", name="get_weather", input={})),
        Obj(type="content_block_delta", index=1,
            delta=Obj(type="input_json_delta", partial_json="{\"city\": ")),
        Obj(type="content_block_delta", index=1,
            delta=Obj(type="input_json_delta", partial_json="\"Paris\"}")),
        Obj(type="content_block_stop", index=1),
        Obj(type="message_delta", delta=Obj(stop_reason="tool_use", stop_sequence=None),
            usage=Obj(output_tokens=33)),
        Obj(type="message_stop"),
    ]


class MessageStream(Stream):
    """anthropic.lib.streaming.MessageStream: events, text_stream and a
    snapshot of the message so far."""

    def __init__(self, events) -> None:
        super().__init__(events)
        self.current_message_snapshot = None

    def __stream__(self):
        text = []
        for ev in self._items:
            if ev.type == "message_start":
                self.current_message_snapshot = Obj(**ev.message.__dict__)
                self.current_message_snapshot.content = [Obj(type="text", text="")]
            elif ev.type == "content_block_delta" and ev.delta.type == "text_delta":
                text.append(ev.delta.text)
                self.current_message_snapshot.content[0].text = "".join(text)
            elif ev.type == "message_delta":
                self.current_message_snapshot.stop_reason = ev.delta.stop_reason
                self.current_message_snapshot.usage.output_tokens = ev.usage.output_tokens
            yield ev

    @property
    def text_stream(self):
        for ev in self._iterator:
            if ev.type == "content_block_delta" and ev.delta.type == "text_delta":
                yield ev.delta.text

    def get_final_message(self):
        for _ in self._iterator:
            pass
        return self.current_message_snapshot


class MessageStreamManager:
    def __init__(self, events) -> None:
        self._events = events
        self.stream = None

    def __enter__(self):
        self.stream = MessageStream(self._events)
        return self.stream

    def __exit__(self, *exc):
        self.stream.close()


class Messages:
    def __init__(self, script) -> None:
        self.script = script
        self.calls: list[dict] = []

    def create(self, **kw):
        self.calls.append(kw)
        return self.script(kw)

    def stream(self, **kw):
        self.calls.append(kw)
        return MessageStreamManager(self.script(kw))


class AsyncMessages(Messages):
    def create(self, **kw):
        return self._create(**kw)

    async def _create(self, **kw):
        await asyncio.sleep(0)
        return Messages.create(self, **kw)


class Anthropic:
    def __init__(self, script) -> None:
        self.messages = Messages(script)


class AsyncAnthropic:
    def __init__(self, script) -> None:
        self.messages = AsyncMessages(script)
