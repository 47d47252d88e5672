"""Keyframes: representative, sharp frames of each shot, picked from candidates kept during the decode pass."""

from __future__ import annotations

import bisect
import io
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw

from .media import DecodedFrame, InOrderWorker


@dataclass
class Candidate:
    frame: int
    seconds: float
    jpeg: bytes
    sharpness: float  # variance of the Laplacian on the candidate picture
    brightness: float  # mean luma 0..1


class KeyframeCandidates:
    """Frame analyser that keeps a JPEG of every ``stride``-th frame (2 per second by default).

    Shots are not known during the pass, so candidates are kept at a fixed stride and the
    keyframes are chosen afterwards; JPEG-in-memory keeps a two-hour film in a few hundred MB.

    The pictures are scaled and encoded in a worker thread (``background=True``): FFmpeg's
    scaler and OpenCV's encoder release the GIL, so that work runs beside the analysers on the
    pass's own thread. ``candidates`` waits for the last of them; they come out in frame order,
    the same bytes as encoding them in line.
    """

    #: Frames waiting for the worker at most; beyond this ``update`` waits (bounded memory).
    MAX_PENDING = 8

    def __init__(self, rate: float, per_second: float = 2.0, max_width: int = 480, quality: int = 88, background: bool = True):
        self.stride = max(1, round(rate / per_second))
        self.max_width = max_width
        self.quality = quality
        self.background = background
        self._done: list[Candidate] = []
        self._worker: InOrderWorker[Candidate] | None = None

    def update(self, frame: DecodedFrame) -> None:
        if frame.index % self.stride:
            return
        if not self.background:
            self._done.append(encode_candidate(frame, self.max_width, self.quality))
            return
        if self._worker is None:
            self._worker = InOrderWorker("keyframe-candidates", self.MAX_PENDING)
        self._done += self._worker.submit(encode_candidate, frame, self.max_width, self.quality)

    @property
    def candidates(self) -> list[Candidate]:
        """The candidates so far, in frame order (waits for the worker to finish them)."""
        if self._worker is not None:
            self._done += self._worker.drain()
        return self._done


def encode_candidate(frame: DecodedFrame, max_width: int = 480, quality: int = 88) -> Candidate:
    rgb = frame.rgb(max_width)
    bgr = cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR)
    gray = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
    ok, buf = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:  # pragma: no cover - OpenCV always encodes a uint8 image
        raise RuntimeError("JPEG encode failed")
    return Candidate(
        frame=frame.index,
        seconds=frame.time.seconds,
        jpeg=buf.tobytes(),
        sharpness=float(cv2.Laplacian(gray, cv2.CV_32F).var()),
        brightness=float(gray.mean() / 255.0),
    )


def decode_jpeg_rgb(data: bytes) -> np.ndarray:
    img = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if img is None:
        raise ValueError(f"not a decodable JPEG ({len(data)} bytes)")
    return cv2.cvtColor(img, cv2.COLOR_BGR2RGB)


def candidates_between(candidates: list[Candidate], first: int, last: int) -> list[Candidate]:
    """The candidates of frames ``first..last`` (inclusive); ``candidates`` are in frame order.

    A binary search, so choosing keyframes stays linear in shots for a feature film's ~15k candidates."""
    lo = bisect.bisect_left(candidates, first, key=lambda c: c.frame)
    hi = bisect.bisect_right(candidates, last, key=lambda c: c.frame)
    return candidates[lo:hi]


def pick_keyframes(candidates: list[Candidate], first: int, last: int, per_shot: int = 3, min_brightness: float = 0.03) -> list[Candidate]:
    """Choose up to ``per_shot`` keyframes for frames ``first..last`` (inclusive, transitions excluded)
    from ``candidates`` in frame order.

    The usable span is split into equal parts and the sharpest candidate of each part is taken,
    so keyframes show the beginning, middle and end of the shot and none is a motion-blurred or
    black frame when a better one exists. Returns them in time order (the middle one is primary).
    """
    inside = candidates_between(candidates, first, last)
    if not inside:
        return []
    lit = [c for c in inside if c.brightness >= min_brightness] or inside
    parts = np.array_split(np.arange(len(lit)), min(per_shot, len(lit)))
    chosen = [max((lit[i] for i in part), key=lambda c: c.sharpness) for part in parts if len(part)]
    return sorted(chosen, key=lambda c: c.frame)


def contact_sheet(thumbs: list[tuple[str, bytes]], columns: int = 6, thumb_width: int = 192, background=(16, 16, 16)) -> bytes:
    """A JPEG grid of labelled thumbnails (label, jpeg bytes): one tile per shot."""
    if not thumbs:
        raise ValueError("no keyframes for a contact sheet")
    tiles = []
    for label, data in thumbs:
        img = Image.open(io.BytesIO(data)).convert("RGB")
        h = max(1, round(img.height * thumb_width / img.width))
        tiles.append((label, img.resize((thumb_width, h), Image.Resampling.BILINEAR)))
    tile_h = max(t.height for _, t in tiles) + 16
    rows = (len(tiles) + columns - 1) // columns
    sheet = Image.new("RGB", (columns * (thumb_width + 4) + 4, rows * (tile_h + 4) + 4), background)
    draw = ImageDraw.Draw(sheet)
    for i, (label, tile) in enumerate(tiles):
        x = 4 + (i % columns) * (thumb_width + 4)
        y = 4 + (i // columns) * (tile_h + 4)
        sheet.paste(tile, (x, y))
        draw.text((x + 2, y + tile.height + 2), label, fill=(230, 230, 230))
    buf = io.BytesIO()
    sheet.save(buf, format="JPEG", quality=85)
    return buf.getvalue()
