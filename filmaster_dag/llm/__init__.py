"""Language-model clients, free of Dagster.

:class:`ChatClient` speaks the OpenAI-compatible chat-completions API that local servers share
(vLLM, llama.cpp's server, Ollama's ``/v1``) and turns an answer into a validated pydantic value
with :meth:`ChatClient.complete_json`. A model's answer is untrusted input: the client never
raises for model misbehaviour or an unreachable server; it returns a :class:`JsonResult` whose
``value`` is ``None`` and whose ``error`` says why, so the script writer and shot planner fall
back to their deterministic rules and record the reason. The Dagster resource
:class:`filmaster_dag.resources.llm.LanguageModel` only builds a client from its config.
"""

from .client import ChatClient, JsonResult, ResponseMode, extract_json

__all__ = ["ChatClient", "JsonResult", "ResponseMode", "extract_json"]
