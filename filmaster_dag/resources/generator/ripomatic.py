"""The ``ripomatic`` shot generator: the offline default, cut from the library's own footage.

Each planned shot is its reference shot's footage window, retimed to the planned length,
reframed to the planned scale around the measured subject and given the planned camera move as a
virtual camera (:func:`~filmaster_dag.cinema.ripomatic.render_ripomatic` does the picture work).
Nothing to download, nothing random but the seeded hand-held shake: the same request makes the
same clip, so :meth:`RipomaticGenerator.cache_parts` can name everything that determines it.
"""

from __future__ import annotations

import os
import time
from typing import Any

from pydantic import Field

from ...cinema.ripomatic import RipomaticError, render_ripomatic
from . import GeneratedClip, GenerationError, ShotGenerator, ShotRequest

#: Bump when the picture changes for the same request (retiming, framing, moves, encoding).
ALGORITHM_VERSION = 1


def _word(value: object) -> str | None:
    """A vocabulary enum's stored word (or a plain string), None for None."""
    if value is None:
        return None
    return str(getattr(value, "value", value))


class RipomaticGenerator(ShotGenerator):
    """Previs from reference footage: always available, deterministic, a few seconds a shot on a laptop."""

    move_strength: float = Field(
        default=0.2,
        gt=0,
        le=0.4,
        description="virtual pan/tilt travel as a fraction of the frame's side over the shot (push/pull: scale change 1 + this)",
    )
    handheld_amplitude: float = Field(default=0.006, gt=0, le=0.03, description="hand-held sway, fraction of the frame width")
    crf: int = Field(default=20, ge=0, le=51, description="x264 constant rate factor (lower = better picture, bigger files)")
    preset: str = Field(default="veryfast", description="x264 preset")

    @property
    def available(self) -> bool:
        return True

    @property
    def why_unavailable(self) -> str:
        return ""

    @property
    def identity(self) -> str:
        return f"ripomatic/{ALGORITHM_VERSION}"

    def _config(self) -> dict[str, Any]:
        return {"move_strength": self.move_strength, "handheld_amplitude": self.handheld_amplitude, "crf": self.crf, "preset": self.preset}

    def cache_parts(self, request: ShotRequest) -> dict[str, Any]:
        """Everything the clip depends on: the source file (path, size, modification time), the
        window, the picture (size, rate, frames), the planned scale and move, the reference's
        scale and move, the seed (the hand-held shake) and this generator's settings.

        Not the prompt, description, dialogue or camera angle: the ripomatic does not use them, so
        editing them regenerates nothing.
        """
        shot, spec = request.shot, request.spec
        footage = shot.footage
        source: dict[str, Any] = {"path": None}
        window: list[float] | None = None
        reference: dict[str, str | None] = {"scale": None, "movement": None}
        if footage is not None:
            window = [footage.in_s, footage.out_s]
            reference = {"scale": _word(footage.reference_scale), "movement": _word(footage.reference_movement)}
            source = {"path": footage.source_path}
            if footage.source_path and os.path.isfile(footage.source_path):
                st = os.stat(footage.source_path)
                source.update(size=st.st_size, mtime_ns=st.st_mtime_ns)
        return {
            "source": source,
            "window": window,
            "frames": shot.frames,
            "fps": str(spec.fps),
            "width": spec.width,
            "height": spec.height,
            "scale": _word(shot.shot_scale),
            "movement": _word(shot.movement),
            "reference": reference,
            "seed": request.seed,
            "config": self._config(),
        }

    def generate(self, request: ShotRequest, path: str) -> GeneratedClip:
        """Cut the shot to ``path``; a shot without footage or an unreadable source raises :class:`GenerationError`."""
        shot, spec = request.shot, request.spec
        footage = shot.footage
        start = time.perf_counter()
        try:
            detail = render_ripomatic(
                shot,
                spec.width,
                spec.height,
                spec.fps,
                path,
                reference_scale=_word(footage.reference_scale) if footage else None,
                reference_movement=_word(footage.reference_movement) if footage else None,
                seed=request.seed,
                move_strength=self.move_strength,
                handheld_amplitude=self.handheld_amplitude,
                crf=self.crf,
                preset=self.preset,
            )
        except RipomaticError as err:
            raise GenerationError(str(err)) from err
        return self.made(request, path, time.perf_counter() - start, detail)
