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
