"""Encoding pictures to video files with PyAV (libx264 by default; FFmpeg comes inside PyAV)."""

from __future__ import annotations

import os
from collections.abc import Iterable
from fractions import Fraction

import av
import numpy as np


def encode_video(
    path: str | os.PathLike,
    frames: Iterable[np.ndarray],
    rate: int | Fraction = 24,
    pixel_format: str = "rgb24",
    codec: str = "libx264",
    crf: int = 18,
    preset: str = "veryfast",
    rotation: int | None = None,
    frame_times_s: list[float] | None = None,
    sample_aspect_ratio: Fraction | None = None,
) -> str:
    """Encode uint8 pictures (``pixel_format`` ``rgb24`` or ``bgr24``) to ``path``.

    ``rotation`` writes a display-matrix rotation (as phones do); ``frame_times_s`` gives every
    frame its own presentation time (variable frame rate, millisecond timebase).
    """
    frames = iter(frames)
    first = next(frames)
    h, w = first.shape[:2]
    with av.open(str(path), "w") as out:
        stream = out.add_stream(codec, rate=rate)
        assert isinstance(stream, av.VideoStream)
        stream.width, stream.height, stream.pix_fmt = w, h, "yuv420p"
        if codec == "libx264":
            # MB-tree rate control makes x264's output differ from run to run (measured: the same frames
            # encoded twice in one process gave different bytes and pixels up to 56 levels apart);
            # without it every encode is reproducible, for ~15 % more bytes at the same CRF
            stream.options = {"crf": str(crf), "preset": preset, "x264-params": "mbtree=0"}
        if frame_times_s is not None:
            stream.codec_context.time_base = Fraction(1, 1000)
            stream.time_base = Fraction(1, 1000)
        if rotation is not None:
            stream.set_display_rotation(rotation)
        if sample_aspect_ratio is not None:
            stream.codec_context.sample_aspect_ratio = sample_aspect_ratio
        index = 0
        for img in _chain(first, frames):
            frame = av.VideoFrame.from_ndarray(np.clip(img, 0, 255).astype(np.uint8), format=pixel_format)
            if frame_times_s is not None:
                frame.pts = round(frame_times_s[index] * 1000)
                frame.time_base = Fraction(1, 1000)
            for packet in stream.encode(frame):
                out.mux(packet)
            index += 1
        for packet in stream.encode():
            out.mux(packet)
    return str(path)


def _chain(first: np.ndarray, rest: Iterable[np.ndarray]):
    yield first
    yield from rest


def first_frame_jpeg(video: str | os.PathLike, jpeg: str | os.PathLike, quality: int = 92) -> str:
    """Save the first picture of ``video`` as a JPEG (a clip's keyframe, e.g. to condition the next shot)."""
    from PIL import Image

    with av.open(str(video)) as container:
        frame = next(container.decode(container.streams.video[0]))
        Image.fromarray(frame.to_ndarray(format="rgb24")).save(str(jpeg), quality=quality)
    return str(jpeg)
