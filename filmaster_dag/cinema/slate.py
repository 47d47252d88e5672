"""Slates: a card of text held for a number of frames, encoded like any other clip.

An animatic shows a slate where a shot cannot be drawn yet (shot number, what happens, why it is
missing), so the cut keeps its timing; a silent film shows its narration and dialogue the same
way, as title cards. Text is wrapped to the frame and drawn with Pillow's bundled font.
"""

from __future__ import annotations

import os
import textwrap
from fractions import Fraction

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from .render import encode_video


def slate_picture(lines: list[str], width: int, height: int, background: tuple[int, int, int] = (20, 20, 24)) -> np.ndarray:
    """One RGB picture with ``lines`` centred on it, wrapped to the frame width."""
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    size = max(8, height // 16)
    font = ImageFont.load_default(size=size)
    chars = max(8, int(width / (size * 0.55)))
    wrapped = [w for line in lines for w in (textwrap.wrap(line, chars) or [""])]
    step = int(size * 1.3)
    wrapped = wrapped[: max(1, (height - 2 * step) // step)]
    y = (height - step * len(wrapped)) // 2
    for line in wrapped:
        w = draw.textlength(line, font=font)
        draw.text(((width - w) / 2, y), line, fill=(235, 235, 235), font=font)
        y += step
    return np.asarray(image)


def render_slate(lines: list[str], width: int, height: int, fps: Fraction, frames: int, path: str | os.PathLike) -> str:
    """Encode a slate of exactly ``frames`` frames at ``fps`` and ``width`` x ``height`` to ``path``."""
    picture = slate_picture(lines, width, height)
    return encode_video(path, (picture for _ in range(frames)), rate=fps)
