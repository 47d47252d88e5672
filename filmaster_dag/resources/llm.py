"""The language model behind the script writer and the shot planner, as a Dagster resource.

Two implementations of one interface, chosen by configuration (:func:`make_language_model`):

- :class:`OpenAICompatibleModel`: a local or remote OpenAI-compatible server (vLLM, llama.cpp's
  server, Ollama's ``/v1``); the Dagster-free :class:`~filmaster_dag.llm.ChatClient` does the work;
- :class:`RulesOnly`: the offline default. No model is asked; every call answers "nothing" with
  the reason, and the callers use their deterministic rules writer and planner.

Either way ``complete_json`` never raises for the model's or the server's misbehaviour: it returns
a :class:`~filmaster_dag.llm.JsonResult` whose ``value`` is ``None`` and whose ``error`` says
why, which the asset records in its metadata. Keep the key out of code and config files::

    OpenAICompatibleModel(
        base_url="http://localhost:8000/v1",
        model="Qwen/Qwen2.5-7B-Instruct",
        api_key=dg.EnvVar("FILMASTER_LLM_API_KEY"),  # read when the run starts, never stored
    )
"""

from __future__ import annotations

import time
from abc import abstractmethod

from pydantic import BaseModel, Field, PrivateAttr

from ..llm import ChatClient, JsonResult
from ..llm.client import Message
from .model import ModelResource

__all__ = ["JsonResult", "LanguageModel", "OpenAICompatibleModel", "RulesOnly", "make_language_model"]

NO_MODEL = "no language model configured; the rules writer is used"


class LanguageModel(ModelResource):
    """The interface: a validated JSON answer from a language model, or ``None`` and why.

    - ``available``: whether a model is configured at all (it says nothing about the server being up);
      ``why_unavailable``: the reason recorded when it is not;
    - ``identity``: what produced an answer, for metadata and cache keys (``rules`` or
      ``openai-compatible:MODEL@URL``);
    - ``complete_json(messages, schema, *, temperature, seed)`` -> :class:`JsonResult`.

    An implementation provides ``_ask``; ``complete_json`` guards it, so that neither an unconfigured
    model nor a bug in a client can raise into an asset that has a rules writer to fall back on.
    """

    def complete_json(
        self,
        messages: list[Message],
        schema: type[BaseModel],
        *,
        temperature: float = 0.2,
        seed: int | None = None,
    ) -> JsonResult:
        """One JSON object matching ``schema``, validated; ``value=None`` and a one-line ``error`` on failure."""
        model = str(getattr(self, "model", ""))
        if not self.available:
            return self._unavailable()
        start = time.monotonic()
        try:
            return self._ask(messages, schema, temperature, seed)
        except Exception as err:  # a bug or odd server must cost the model's answer, never the production
            error = " ".join(f"language-model client failed: {type(err).__name__}: {err}".split())
            return JsonResult(None, 0, model, "none", error, None, time.monotonic() - start)

    @abstractmethod
    def _ask(self, messages: list[Message], schema: type[BaseModel], temperature: float, seed: int | None) -> JsonResult:
        """Ask the model (only called when ``available``)."""

    def _unavailable(self) -> JsonResult:
        """The answer of a model that is not there: nothing, and why."""
        model = str(getattr(self, "model", ""))
        return JsonResult(value=None, attempts=0, model=model, mode="none", error=self.why_unavailable, raw=None, seconds=0.0)


class RulesOnly(LanguageModel):
    """No language model: every answer is "nothing", so the deterministic rules write the script and plan."""

    # a field-less resource makes Dagster read pydantic's deprecated ``__fields__``; the reason is worth configuring anyway
    reason: str = Field(default=NO_MODEL, description="why no model is asked; recorded as the error of every answer")

    @property
    def available(self) -> bool:
        return False

    @property
    def why_unavailable(self) -> str:
        return self.reason

    @property
    def identity(self) -> str:
        return "rules"

    def _ask(self, messages: list[Message], schema: type[BaseModel], temperature: float, seed: int | None) -> JsonResult:
        return self._unavailable()


class OpenAICompatibleModel(LanguageModel):
    """A model served over the OpenAI chat-completions API.

    ``base_url`` includes the API version (``http://localhost:8000/v1`` for vLLM,
    ``http://localhost:8080/v1`` for llama.cpp, ``http://localhost:11434/v1`` for Ollama); ``model``
    is the served model's name; ``api_key`` is best given as ``dg.EnvVar("FILMASTER_LLM_API_KEY")``
    (local servers usually need none). The :class:`~filmaster_dag.llm.ChatClient` is built on first
    use, so a response format the server refused is remembered for the life of this instance."""

    base_url: str = Field(description="API root including the version, e.g. http://localhost:8000/v1")
    model: str = Field(description="the served model's name, e.g. Qwen/Qwen2.5-7B-Instruct or llama3.1:8b")
    api_key: str = Field(default="", description='bearer token; use dg.EnvVar("FILMASTER_LLM_API_KEY"); empty = none')
    timeout_s: float = Field(default=30.0, gt=0, description="longest wait for the server at any point of a request")
    retries: int = Field(default=2, ge=0, description="further tries after a timeout, a 5xx or an invalid answer")
    backoff_s: float = Field(default=0.5, ge=0, description="pause before the first retry, doubled before each later one")
    _client: ChatClient | None = PrivateAttr(default=None)

    @property
    def available(self) -> bool:
        return bool(self.base_url and self.model)

    @property
    def why_unavailable(self) -> str:
        return "language model needs both base_url and model; the rules writer is used"

    @property
    def identity(self) -> str:
        return f"openai-compatible:{self.model}@{self.base_url.rstrip('/')}"

    def client(self) -> ChatClient:
        """The Dagster-free client for this configuration (one per resource instance)."""
        if self._client is None:
            self._client = ChatClient(self.base_url, self.model, self.api_key or None, self.timeout_s, self.retries, self.backoff_s)
        return self._client

    def _ask(self, messages: list[Message], schema: type[BaseModel], temperature: float, seed: int | None) -> JsonResult:
        return self.client().complete_json(messages, schema, temperature=temperature, seed=seed)


def make_language_model(base_url: str = "", model: str = "", api_key: str = "") -> LanguageModel:
    """The OpenAI-compatible model when both a server and a model are named, else :class:`RulesOnly`."""
    if base_url and model:
        return OpenAICompatibleModel(base_url=base_url, model=model, api_key=api_key)
    return RulesOnly()
