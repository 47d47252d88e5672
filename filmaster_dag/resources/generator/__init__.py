"""Shot generators: one interface, two kinds of camera.

- ``ripomatic`` (:class:`~filmaster_dag.resources.generator.ripomatic.RipomaticGenerator`), the
  offline default and a real previsualisation practice: the matched reference shot's footage,
  retimed, reframed to the planned scale and given the planned camera move as a virtual camera;
- ``diffusers`` (:class:`~filmaster_dag.resources.generator.diffusion.DiffusersGenerator`): open
  text-to-video and image-to-video pipelines loaded by model id or local folder.

Every generator turns one :class:`ShotRequest` into one clip file at the production's exact size,
frame rate and frame count, and says (``cache_parts``) everything that determines that clip, so
the ``generated_shots`` asset can cache clips by content and regenerate only what changed.
"""

from __future__ import annotations

import hashlib
import json
from abc import abstractmethod
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

from ...cinema.planning.models import PlannedShot
from ..model import ModelResource


@dataclass(frozen=True)
class PictureSpec:
    """The production's picture: size in pixels and an exact frame rate."""

    width: int
    height: int
    fps: Fraction


@dataclass(frozen=True)
class ShotRequest:
    """Everything a generator is given for one shot.

    ``seed``: fixed per main character (character consistency across shots) and recorded;
    ``conditioning_image``: a path to the character's reference image or the first generated
    keyframe, for pipelines that take an image; ``style``: the brief's look, for prompts.
    """

    shot: PlannedShot
    spec: PictureSpec
    seed: int
    style: str = ""
    conditioning_image: str | None = None


@dataclass
class GeneratedClip:
    """One generated clip, as the manifest records it."""

    path: str
    frames: int
    width: int
    height: int
    fps: str
    generator: str
    seed: int
    seconds: float
    detail: dict[str, Any] = field(default_factory=dict)


class GenerationError(RuntimeError):
    """A shot the generator could not make (one line: the shot, what failed, what to do)."""


class ShotGenerator(ModelResource):
    """The interface every generator implements.

    - ``identity``: names the generator and everything in its configuration that changes its
      pictures (model, steps, guidance, ...), e.g. ``ripomatic/1`` or ``diffusers:ltx:MODEL``;
    - ``cache_parts(request)``: a JSON-ready dict of everything that determines the clip for this
      request (the identity is added by :func:`cache_key`);
    - ``generate(request, path)``: write the clip to the local file ``path`` (MP4, H.264) and
      return what was made; raise :class:`GenerationError` (or anything) when it cannot.
    """

    @abstractmethod
    def cache_parts(self, request: ShotRequest) -> dict[str, Any]: ...

    @abstractmethod
    def generate(self, request: ShotRequest, path: str) -> GeneratedClip: ...

    def made(self, request: ShotRequest, path: str, seconds: float, detail: dict[str, Any]) -> GeneratedClip:
        """The record of a clip this generator wrote for ``request`` (the planned frames, size and rate)."""
        spec = request.spec
        return GeneratedClip(
            path=str(path),
            frames=request.shot.frames,
            width=spec.width,
            height=spec.height,
            fps=str(spec.fps),
            generator=self.identity,
            seed=request.seed,
            seconds=round(seconds, 4),
            detail=detail,
        )


def cache_key(generator: ShotGenerator, request: ShotRequest) -> str:
    """sha256 (hex) of the generator's identity and everything that determines the clip."""
    parts = {"generator": generator.identity, **generator.cache_parts(request)}
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def shot_seed(production: str, shot: PlannedShot) -> int:
    """The seed of a shot: fixed per main character (the first on screen), so a character keeps
    one look across the film; a shot with nobody in it is seeded by its scene."""
    who = shot.characters[0].casefold() if shot.characters else f"scene:{shot.scene_id}"
    return int(hashlib.sha256(f"{production}/{who}".encode()).hexdigest()[:8], 16)


def make_generator(kind: str = "ripomatic", model: str = "", pipeline: str = "auto", device: str = "auto") -> ShotGenerator:
    """The configured generator: ``ripomatic`` (offline default) or ``diffusers`` with ``model``
    (a hub id or a local folder; nothing is downloaded unless the user allows it)."""
    if kind == "diffusers":
        from .diffusion import DiffusersGenerator

        settings: dict[str, Any] = {"model": model, "pipeline": pipeline, "device": device}  # values checked by the resource
        return DiffusersGenerator(**settings)
    if kind != "ripomatic":
        raise ValueError(f"unknown generator {kind!r}; expected ripomatic or diffusers")
    from .ripomatic import RipomaticGenerator

    return RipomaticGenerator()
