"""Small real-footage test films written with PyAV: resized, rotated, variable-rate, corrupt."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np

from filmaster_dag.cinema.render import encode_video


def real_frames(path: Path, start: int, count: int, size: tuple[int, int] | None = None) -> list[np.ndarray]:
    """``count`` RGB frames of a real film from frame ``start``, optionally resized to (w, h)."""
    out = []
    with av.open(str(path)) as c:
        for i, frame in enumerate(c.decode(video=0)):
            if i < start:
                continue
            if size:
                frame = frame.reformat(width=size[0], height=size[1])
            out.append(frame.to_ndarray(format="rgb24"))
            if len(out) == count:
                break
    return out


def write_video(
    path: Path,
    frames: list[np.ndarray],
    rate: int = 24,
    rotation: int | None = None,
    frame_times_s: list[float] | None = None,
) -> Path:
    """Encode RGB frames to ``path``; ``frame_times_s`` gives each frame its own time (VFR)."""
    encode_video(path, frames, rate=rate, crf=20, preset="ultrafast", rotation=rotation, frame_times_s=frame_times_s)
    return path


def write_audio_only(path: Path, seconds: float = 1.0, rate: int = 44100) -> Path:
    """An AAC-only MP4: a sine tone, no picture."""
    with av.open(str(path), "w") as c:
        s = c.add_stream("aac", rate=rate)
        s.layout = "mono"
        t = np.arange(int(seconds * rate)) / rate
        samples = (0.2 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
        for i in range(0, len(samples), 1024):
            chunk = samples[i : i + 1024].reshape(1, -1)
            f = av.AudioFrame.from_ndarray(chunk, format="fltp", layout="mono")
            f.sample_rate = rate
            for p in s.encode(f):
                c.mux(p)
        for p in s.encode():
            c.mux(p)
    return path


def truncate(src: Path, dst: Path, fraction: float) -> Path:
    data = src.read_bytes()
    dst.write_bytes(data[: int(len(data) * fraction)])
    return dst


def corrupt_packets(src: Path, dst: Path, kind: str = "video", at_s: float = 31.0, nbytes: int = 16384, seed: int = 0) -> Path:
    """A copy of ``src`` with ``nbytes`` of random garbage written over the packet data of the
    first ``kind`` ("video" or "audio") packet at or after ``at_s`` (for video, one that is not a
    keyframe): damage inside one GOP of an otherwise good film, as a bad sector or a broken
    transfer leaves it."""
    with av.open(str(src)) as c:
        stream = c.streams.video[0] if kind == "video" else c.streams.audio[0]
        offset = next(
            p.pos
            for p in c.demux(stream)
            if p.pts is not None and p.size and float(p.pts * stream.time_base) >= at_s and (kind == "audio" or not p.is_keyframe)
        )
    data = bytearray(src.read_bytes())
    data[offset : offset + nbytes] = np.random.default_rng(seed).integers(0, 256, nbytes, dtype=np.uint8).tobytes()
    dst.write_bytes(bytes(data))
    return dst
