"""An OpenAI-compatible chat-completions client that returns validated JSON or says why not.

``ChatClient(base_url, model).complete_json(messages, SceneList)`` posts to
``{base_url}/chat/completions`` (vLLM, llama.cpp's server, Ollama's ``/v1``, any server that
speaks the OpenAI chat API) and asks for one JSON object matching the pydantic schema:

1. ``response_format={"type": "json_schema", ...}`` (constrained decoding where the server has it);
2. when the server rejects that (HTTP 400/422 naming the response format), ``{"type": "json_object"}``
   with the schema in the system prompt;
3. when that is rejected too, no response format: the schema in the system prompt only.

A server's refusal of a mode is remembered by the client, so the next scene does not ask again.
The answer is untrusted input: JSON is dug out of code fences and chatter, validated with
pydantic, and a malformed or schema-violating answer is retried with the validation error fed
back to the model (the latest one only, so the conversation does not grow). Timeouts, HTTP
408/409/429/5xx and broken connections are retried with exponential backoff. Nothing here raises
for model or server misbehaviour: a failure is a :class:`JsonResult` with ``value=None`` and a
one-line ``error``, so the caller falls back to its deterministic rules and records why.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, ValidationError

Message = dict[str, Any]


class ResponseMode(StrEnum):
    """How the client asks for JSON, from the strongest guarantee to the weakest."""

    JSON_SCHEMA = "json_schema"  # response_format json_schema: the server constrains decoding to the schema
    JSON_OBJECT = "json_object"  # response_format json_object: any JSON object; the schema is in the prompt
    PROMPT = "prompt"  # no response_format: the schema is in the prompt and the answer is dug out of the text


_FALLBACK = {ResponseMode.JSON_SCHEMA: ResponseMode.JSON_OBJECT, ResponseMode.JSON_OBJECT: ResponseMode.PROMPT}

#: statuses worth asking again: the server was busy, overloaded or broken for a moment
_RETRY_STATUSES = frozenset({408, 409, 425, 429})

#: words a server uses when it does not support the response format we asked for
_FORMAT_WORDS = ("response_format", "response format", "json_schema", "json_object", "guided_json", "grammar")

_LOOPBACK = frozenset({"localhost", "127.0.0.1", "::1"})


@dataclass(frozen=True)
class JsonResult:
    """One ``complete_json`` call: the validated value, or ``None`` and why.

    - ``value``: an instance of the requested schema, or ``None`` when every attempt failed;
    - ``attempts``: HTTP requests sent (including ones that a server rejected for the response format);
    - ``model``: the model asked; ``mode``: the :class:`ResponseMode` of the last request;
    - ``error``: one line saying what went wrong (``None`` on success);
    - ``raw``: the model's last answer text, as it came (``None`` when no answer arrived);
    - ``seconds``: wall time of the whole call, retries and backoff included;
    - ``problems``: one line per failed request, in order (for metadata: why the rules writer was used).
    """

    value: BaseModel | None
    attempts: int
    model: str
    mode: str
    error: str | None
    raw: str | None
    seconds: float
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return self.value is not None


class _Retry(Exception):
    """A failed request worth repeating (timeout, busy server, bad answer)."""

    def __init__(self, problem: str, raw: str | None = None, correction: bool = False):
        super().__init__(problem)
        self.problem, self.raw, self.correction = problem, raw, correction


class _Fatal(Exception):
    """A failed request that repeating will not fix (unreachable server, bad key, unknown model)."""


class _ModeRejected(Exception):
    """The server refused the response format we asked for."""


def _one_line(text: str, limit: int = 240) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


_THINK = re.compile(r"<think>.*?</think>", re.DOTALL | re.IGNORECASE)
_FENCE = re.compile(r"```[ \t]*(?:json|JSON|javascript|js)?[ \t]*\n?(.*?)```", re.DOTALL)
_MAX_BRACES = 64  # scanning every "{" of a long ramble is quadratic; a real answer starts early


def extract_json(text: str) -> dict[str, Any]:
    """The first JSON object in a model's answer: bare, inside a code fence, or after some chatter.

    Reasoning blocks (``<think>…</think>``) are skipped. Raises ``ValueError`` with a short reason
    (no JSON at all, malformed JSON, an array where an object is expected)."""
    body = _THINK.sub("", text or "").strip()
    if not body:
        raise ValueError("the answer is empty")
    first_error = ""
    found_array = False
    for candidate in [m.group(1).strip() for m in _FENCE.finditer(body)] + [body]:
        try:
            value = json.loads(candidate)
        except ValueError as err:
            first_error = first_error or f"malformed JSON ({err})"
            continue
        if isinstance(value, dict):
            return value
        found_array = found_array or isinstance(value, list)
    decoder = json.JSONDecoder()
    for count, match in enumerate(re.finditer(r"\{", body)):
        if count >= _MAX_BRACES:
            break
        try:
            value, _ = decoder.raw_decode(body, match.start())
        except ValueError as err:
            first_error = first_error or f"malformed JSON ({err})"
            continue
        if isinstance(value, dict):
            return value
    if found_array:
        raise ValueError("the answer is a JSON array; a JSON object was expected")
    raise ValueError(first_error if "{" in body else "no JSON object in the answer")


def describe_validation_error(err: ValidationError, schema: type[BaseModel], limit: int = 3) -> str:
    """``answer does not match SceneList: scenes.0.heading: Field required; ...`` (one line)."""
    issues = err.errors()
    parts = [f"{'.'.join(str(p) for p in issue['loc']) or '(top level)'}: {issue['msg']}" for issue in issues[:limit]]
    more = f"; and {len(issues) - limit} more" if len(issues) > limit else ""
    return _one_line(f"answer does not match {schema.__name__}: {'; '.join(parts)}{more}", 400)


def _schema_name(schema: type[BaseModel]) -> str:
    # OpenAI's rule for json_schema names: letters, digits, '_' and '-', at most 64
    return re.sub(r"[^A-Za-z0-9_-]", "_", schema.__name__)[:64] or "answer"


class ChatClient:
    """A client for one model behind an OpenAI-compatible server.

    - ``base_url``: the API root including its version, e.g. ``http://localhost:8000/v1`` (vLLM),
      ``http://localhost:8080/v1`` (llama.cpp), ``http://localhost:11434/v1`` (Ollama);
    - ``model``: the served model name; ``api_key``: sent as a bearer token when given;
    - ``timeout_s``: the longest wait for the server at any point (connecting, the first byte of the
      answer, each further read); a whole request is abandoned after twice that;
    - ``retries``: further attempts after a failed one (so ``retries=2`` means at most 3 tries);
      a server refusing a response format costs a request but not a retry;
    - ``backoff_s``: the pause before the first retry, doubled before each later one.
    """

    def __init__(
        self,
        base_url: str,
        model: str,
        api_key: str | None = None,
        timeout_s: float = 30,
        retries: int = 2,
        backoff_s: float = 0.5,
    ):
        if not base_url:
            raise ValueError("ChatClient needs a base_url such as http://localhost:8000/v1")
        if timeout_s <= 0 or retries < 0 or backoff_s < 0:
            raise ValueError(f"ChatClient: timeout_s must be > 0, retries and backoff_s >= 0 (got {timeout_s}, {retries}, {backoff_s})")
        self.base_url = base_url.rstrip("/")
        self.model = model
        self.timeout_s = float(timeout_s)
        self.retries = int(retries)
        self.backoff_s = float(backoff_s)
        self._api_key = api_key or None
        self._mode = ResponseMode.JSON_SCHEMA  # lowered for good when the server refuses a format
        host = urllib.parse.urlsplit(self.base_url).hostname or ""
        # a proxy from the environment must not carry requests to a server on this machine
        handlers = [urllib.request.ProxyHandler({})] if host in _LOOPBACK else []
        self._opener = urllib.request.build_opener(*handlers)

    def __repr__(self) -> str:  # never shows the key
        return f"ChatClient(base_url={self.base_url!r}, model={self.model!r}, timeout_s={self.timeout_s}, retries={self.retries})"

    @property
    def url(self) -> str:
        return f"{self.base_url}/chat/completions"

    @property
    def mode(self) -> ResponseMode:
        """The response format the next request will ask for."""
        return self._mode

    def complete_json(
        self,
        messages: list[Message],
        schema: type[BaseModel],
        *,
        temperature: float = 0.2,
        seed: int | None = None,
        max_tokens: int | None = None,
    ) -> JsonResult:
        """Ask for one JSON object matching ``schema`` and return it validated, or ``None`` and why.

        ``messages`` are chat messages (``{"role": "system"|"user"|"assistant", "content": str}``);
        they are not modified. ``seed`` is passed on for servers that sample reproducibly with it."""
        start = time.monotonic()
        tries_left = 1 + self.retries
        sent = 0
        problems: list[str] = []
        raw: str | None = None
        correction: tuple[str, str] | None = None  # (last bad answer, what was wrong with it)
        while True:
            mode = self._mode
            body = self._request_body(messages, schema, mode, temperature, seed, max_tokens, correction)
            sent += 1
            try:
                answer, truncated = self._post(body)
                raw = answer
                value = self._validate(answer, truncated, schema)
            except _ModeRejected as err:
                problems.append(f"{mode}: {err}")
                if mode in _FALLBACK:
                    self._mode = _FALLBACK[mode]
                    continue
                return self._failure(problems, sent, raw, start, mode, f"the server rejected the request: {err}")
            except _Fatal as err:
                problems.append(str(err))
                return self._failure(problems, sent, raw, start, mode, str(err))
            except _Retry as err:
                problems.append(err.problem)
                raw = err.raw if err.raw is not None else raw
                if err.correction and err.raw is not None:
                    correction = (err.raw, err.problem)
                tries_left -= 1
                if tries_left <= 0:
                    return self._failure(problems, sent, raw, start, mode, err.problem)
                time.sleep(self.backoff_s * 2 ** (self.retries - tries_left))
                continue
            return JsonResult(value, sent, self.model, str(mode), None, raw, time.monotonic() - start, tuple(problems))

    # -- the request -----------------------------------------------------------------------

    def _request_body(
        self,
        messages: list[Message],
        schema: type[BaseModel],
        mode: ResponseMode,
        temperature: float,
        seed: int | None,
        max_tokens: int | None,
        correction: tuple[str, str] | None,
    ) -> dict[str, Any]:
        json_schema = schema.model_json_schema()
        instruction = f"Answer with one JSON object matching the {schema.__name__} schema, and nothing else."
        if mode is not ResponseMode.JSON_SCHEMA:
            # without constrained decoding the model only knows the schema from the prompt
            instruction += f"\nJSON schema:\n{json.dumps(json_schema, separators=(',', ':'))}"
        chat = [dict(m) for m in messages]
        if chat and chat[0].get("role") == "system":
            chat[0]["content"] = f"{chat[0].get('content') or ''}\n\n{instruction}".strip()
        else:
            chat.insert(0, {"role": "system", "content": instruction})
        if correction is not None:
            bad_answer, problem = correction
            chat.append({"role": "assistant", "content": bad_answer[:4000]})
            chat.append(
                {"role": "user", "content": f"That answer was not valid: {problem}. Answer again with only the corrected JSON object."}
            )
        body: dict[str, Any] = {"model": self.model, "messages": chat, "temperature": temperature, "stream": False}
        if seed is not None:
            body["seed"] = int(seed)
        if max_tokens is not None:
            body["max_tokens"] = int(max_tokens)
        if mode is ResponseMode.JSON_SCHEMA:
            body["response_format"] = {
                "type": "json_schema",
                "json_schema": {"name": _schema_name(schema), "schema": json_schema, "strict": True},
            }
        elif mode is ResponseMode.JSON_OBJECT:
            body["response_format"] = {"type": "json_object"}
        return body

    def _post(self, body: dict[str, Any]) -> tuple[str, bool]:
        """Send one request: the answer's text and whether it was cut off at the token limit, or one of
        the private exceptions saying what happened."""
        headers = {"Content-Type": "application/json", "Accept": "application/json", "User-Agent": "filmaster-dag"}
        if self._api_key:
            headers["Authorization"] = f"Bearer {self._api_key}"
        request = urllib.request.Request(self.url, data=json.dumps(body).encode(), headers=headers, method="POST")
        deadline = time.monotonic() + 2 * self.timeout_s
        try:
            with self._opener.open(request, timeout=self.timeout_s) as response:
                chunks = []
                while chunk := response.read(65536):
                    chunks.append(chunk)
                    if time.monotonic() > deadline:  # a server trickling bytes must not hold the run forever
                        raise TimeoutError
                payload = b"".join(chunks)
        except urllib.error.HTTPError as err:
            raise self._http_error(err) from None
        except TimeoutError:
            raise _Retry(f"timed out after {self.timeout_s:g} s waiting for {self.url}") from None
        except urllib.error.URLError as err:
            reason = err.reason
            if isinstance(reason, TimeoutError):
                raise _Retry(f"timed out after {self.timeout_s:g} s connecting to {self.url}") from None
            if isinstance(reason, ConnectionRefusedError):
                raise _Fatal(f"cannot reach the language model at {self.url}: connection refused (is the server running?)") from None
            if isinstance(reason, socket.gaierror):
                raise _Fatal(f"cannot reach the language model at {self.url}: unknown host ({reason})") from None
            raise _Retry(_one_line(f"network error talking to {self.url}: {reason}")) from None
        except (http.client.HTTPException, ConnectionError, OSError) as err:
            # the server dropped the connection mid-answer (restarting, out of memory): worth another try
            raise _Retry(_one_line(f"connection to {self.url} broke: {type(err).__name__} {err}")) from None
        return self._answer_text(payload)

    def _http_error(self, err: urllib.error.HTTPError) -> Exception:
        """What an HTTP error status means for us: a refused response format, a retry, or the end."""
        try:
            detail = err.read().decode("utf-8", "replace")
        except Exception:  # the status alone still says enough
            detail = ""
        finally:
            err.close()
        what = _one_line(f"HTTP {err.code} from {self.url}: {detail or err.reason}")
        if err.code in (400, 422) and any(word in detail.lower() for word in _FORMAT_WORDS):
            return _ModeRejected(what)
        if err.code in _RETRY_STATUSES or err.code >= 500:
            return _Retry(what)
        return _Fatal(what)

    def _answer_text(self, payload: bytes) -> tuple[str, bool]:
        try:
            reply = json.loads(payload)
            choice = reply["choices"][0]
            message = choice.get("message") or {}
        except (ValueError, KeyError, IndexError, TypeError, AttributeError):
            raise _Retry(_one_line(f"the server's reply is not a chat completion: {payload[:200].decode('utf-8', 'replace')}")) from None
        content = message.get("content")
        if isinstance(content, list):  # some servers return content parts
            content = "".join(part.get("text", "") for part in content if isinstance(part, dict))
        if not content:
            refusal = message.get("refusal")
            raise _Retry(_one_line(f"the model refused: {refusal}") if refusal else "the model's answer is empty")
        return str(content), choice.get("finish_reason") == "length"

    def _validate(self, answer: str, truncated: bool, schema: type[BaseModel]) -> BaseModel:
        cut = " (the answer was cut off at the token limit)" if truncated else ""
        try:
            data = extract_json(answer)
        except ValueError as err:
            raise _Retry(_one_line(f"{err}{cut}"), raw=answer, correction=True) from None
        try:
            return schema.model_validate(data)
        except ValidationError as err:
            raise _Retry(describe_validation_error(err, schema) + cut, raw=answer, correction=True) from None

    def _failure(self, problems: list[str], sent: int, raw: str | None, start: float, mode: ResponseMode, last: str) -> JsonResult:
        error = _one_line(f"{last} ({sent} request{'s' if sent != 1 else ''} to {self.model})", 400)
        return JsonResult(None, sent, self.model, str(mode), error, raw, time.monotonic() - start, tuple(problems))
