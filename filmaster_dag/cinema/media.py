"""Probe and decode films with PyAV: one decode pass feeds every frame analyser.

Everything here works on a local path or a file-like object; nothing shells out to ffmpeg.
Errors are :class:`FilmError`, whose message names the film, the problem and the fix.
"""

from __future__ import annotations

import hashlib
import os
import time
from dataclasses import asdict, dataclass, field
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import Iterable, Iterator, Protocol

import av
import numpy as np

from .timecode import FrameTime

VIDEO_SUFFIXES = {".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".mpg", ".mpeg", ".ts", ".mts", ".ogv", ".wmv", ".flv"}

REEXPORT = "re-export the file (e.g. H.264/AAC MP4) or remove it from the inbox"


class FilmError(Exception):
    """A film that cannot be ingested. ``str(err)`` is one line: film, problem, fix."""

    def __init__(self, path: str | os.PathLike, problem: str, fix: str = REEXPORT, film: str | None = None):
        self.path = str(path)
        self.problem = problem
        self.fix = fix
        self.film = film
        who = f"film '{film}' ({Path(self.path).name})" if film else f"film '{Path(self.path).name}'"
        super().__init__(f"{who}: {problem}; {fix}")


@dataclass(frozen=True)
class AudioStreamInfo:
    index: int
    codec: str
    sample_rate: int
    channels: int
    language: str | None


@dataclass(frozen=True)
class FilmProbe:
    """What the container says about a film, checked by demuxing every packet."""

    path: str
    container: str
    video_codec: str
    width: int
    height: int
    display_width: int
    display_height: int
    display_aspect: float
    rotation: int
    frame_rate: Fraction
    variable_frame_rate: bool
    duration_s: float
    frame_count: int
    audio_streams: tuple[AudioStreamInfo, ...]
    file_size: int
    sha256: str
    pixel_format: str
    bit_rate: int | None = None

    @property
    def has_audio(self) -> bool:
        return bool(self.audio_streams)

    def to_record(self) -> dict:
        rec = asdict(self)
        rec["frame_rate"] = float(self.frame_rate)
        rec["frame_rate_fraction"] = f"{self.frame_rate.numerator}/{self.frame_rate.denominator}"
        rec["audio_streams"] = [asdict(a) for a in self.audio_streams]
        return rec


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


def _open(path: str | os.PathLike, film: str | None) -> av.container.InputContainer:
    p = Path(path)
    if not p.exists():
        raise FilmError(p, "file not found", "check the inbox path or re-add the file", film)
    if not os.access(p, os.R_OK):
        raise FilmError(p, "file is not readable (permission denied)", "fix the file permissions (chmod a+r)", film)
    size = p.stat().st_size
    if size == 0:
        raise FilmError(p, "file is empty (0 bytes)", "copy the film again or remove it from the inbox", film)
    try:
        return av.open(str(p), metadata_errors="ignore")
    except av.error.FFmpegError as err:  # InvalidDataError, EOFError, ...
        reason = getattr(err, "strerror", None) or str(err)
        raise FilmError(p, f"not a readable video container ({reason})", REEXPORT, film) from err
    except PermissionError as err:
        raise FilmError(p, "file is not readable (permission denied)", "fix the file permissions (chmod a+r)", film) from err


def _rotation_of(frame: av.VideoFrame) -> int:
    rot = int(round(getattr(frame, "rotation", 0) or 0)) % 360
    # PyAV reports the display-matrix angle counter-clockwise; normalise to clockwise 0/90/180/270.
    return (-rot) % 360


# Containers/codecs FFmpeg offers for text or still images: it "opens" them, but they are no film.
NOT_FILM_FORMATS = {"tty", "image2", "png_pipe", "jpeg_pipe", "webp_pipe", "gif_pipe", "bmp_pipe", "svg_pipe", "srt", "ass", "webvtt"}
NOT_FILM_CODECS = {"ansi", "text", "subrip", "ass", "webvtt"}


def probe(path: str | os.PathLike, film: str | None = None) -> FilmProbe:
    """Probe a film: demux every video packet (no full decode) and decode the first frame.

    Raises :class:`FilmError` for empty, unreadable, non-video, audio-only or truncated files.
    """
    try:
        return _probe(Path(path), film)
    except FilmError:
        raise
    except Exception as err:  # anything FFmpeg or a broken header throws: still one clear line
        raise FilmError(path, f"cannot be probed ({type(err).__name__}: {err})", REEXPORT, film) from err


def _probe(p: Path, film: str | None) -> FilmProbe:
    container = _open(p, film)
    with container:
        if not container.streams.video:
            kind = "audio-only file" if container.streams.audio else "no video stream"
            raise FilmError(p, f"{kind}: nothing to cut into shots", "add a file with a video track or remove it from the inbox", film)
        vs = container.streams.video[0]
        cc = vs.codec_context
        if container.format.name in NOT_FILM_FORMATS or cc.name in NOT_FILM_CODECS or vs.time_base is None:
            raise FilmError(p, f"not a video (FFmpeg reads it as {container.format.name}/{cc.name})", REEXPORT, film)
        rate = vs.average_rate or vs.guessed_rate or vs.base_rate
        if not rate:
            raise FilmError(p, "video stream has no frame rate", REEXPORT, film)
        rate = Fraction(rate).limit_denominator(100000)
        audio = tuple(
            AudioStreamInfo(
                index=a.index,
                codec=a.codec_context.name,
                sample_rate=int(a.codec_context.sample_rate or 0),
                channels=int(a.codec_context.channels or 0),
                language=a.metadata.get("language"),
            )
            for a in container.streams.audio
        )
        # Decode the first frame: proves the codec works and tells the display rotation.
        try:
            first = next(container.decode(vs))
        except (StopIteration, av.error.FFmpegError) as err:
            raise FilmError(p, "video stream has no decodable frame (corrupt or truncated)", REEXPORT, film) from err
        rotation = _rotation_of(first)
        pix_fmt = first.format.name
        width, height = first.width, first.height

        # Demux all video packets: frame count and timestamps without decoding.
        container.seek(0)
        pts: list[int] = []
        try:
            for packet in container.demux(vs):
                if packet.pts is not None and packet.size:
                    pts.append(packet.pts)
        except av.error.FFmpegError as err:
            last = float(max(pts) * vs.time_base) if pts else 0.0
            raise FilmError(p, f"container is damaged at {last:.1f} s ({err})", REEXPORT, film) from err
        declared = float(container.duration / av.time_base) if container.duration else None
        bit_rate = container.bit_rate
        # Read every stream attribute before the container closes: afterwards PyAV may return None.
        time_base = vs.time_base
        sar = cc.sample_aspect_ratio or Fraction(1, 1)
        container_name, codec_name = container.format.name, cc.name

    if not pts:
        raise FilmError(p, "video stream has no frames", REEXPORT, film)
    pts_arr = np.sort(np.asarray(pts, dtype=np.int64))
    tb = float(time_base)
    deltas = np.diff(pts_arr) * tb
    vfr = False
    if len(deltas) > 2:
        med = float(np.median(deltas))
        vfr = bool(med > 0 and np.mean(np.abs(deltas - med) > 0.1 * med) > 0.02)
    frame_count = len(pts_arr)
    span = float((pts_arr[-1] - pts_arr[0]) * tb)
    last_dur = float(np.median(deltas)) if len(deltas) else float(1 / rate)
    duration = span + last_dur
    if vfr:  # nominal rate from the real frame count, not the container's guess
        rate = Fraction(frame_count / duration).limit_denominator(1001) if duration > 0 else rate
    if declared and declared > 2.0 and duration < 0.9 * declared - 1.0:
        raise FilmError(
            p, f"file truncated at {duration:.1f} s (header says {declared:.1f} s)", REEXPORT, film
        )
    disp_w = int(round(width * float(sar))) if sar else width
    disp_h = height
    if rotation in (90, 270):
        disp_w, disp_h = disp_h, disp_w
    return FilmProbe(
        path=str(p),
        container=container_name,
        video_codec=codec_name,
        width=width,
        height=height,
        display_width=disp_w,
        display_height=disp_h,
        display_aspect=round(disp_w / disp_h, 4),
        rotation=rotation,
        frame_rate=rate,
        variable_frame_rate=vfr,
        duration_s=round(duration, 6),
        frame_count=frame_count,
        audio_streams=audio,
        file_size=p.stat().st_size,
        sha256=file_sha256(p),
        pixel_format=pix_fmt,
        bit_rate=bit_rate,
    )


def _rotate(img: np.ndarray, rotation: int) -> np.ndarray:
    if rotation == 90:
        return np.ascontiguousarray(np.rot90(img, k=-1))
    if rotation == 180:
        return np.ascontiguousarray(img[::-1, ::-1])
    if rotation == 270:
        return np.ascontiguousarray(np.rot90(img, k=1))
    return img


# Planar 4:2:0 formats whose planes we scale ourselves (integer factor, OpenCV's fast area path).
_I420_FORMATS = {"yuv420p", "yuvj420p"}


class DecodedFrame:
    """One decoded frame, upright, with lazily computed views for the analysers.

    ``bgr`` is the analysis picture (see :func:`analysis_size_for`), ``gray`` derives from it, ``tiny_rgb`` is 48x27 RGB (TransNetV2's input), ``rgb(max_width)`` a larger
    picture for keyframes. Each view is computed once per frame, however many analysers ask.
    For 4:2:0 video the analysis picture is made from the decoder's planes by an integer-factor
    area downscale, which costs a fraction of a full colour conversion at source size.
    """

    def __init__(
        self,
        av_frame: av.VideoFrame,
        index: int,
        time: FrameTime,
        rotation: int,
        analysis_size: tuple[int, int],
        display_size: tuple[int, int] | None = None,
    ):
        self._frame = av_frame
        self.index = index
        self.time = time
        self.rotation = rotation
        self._size = analysis_size  # (width, height) of the upright analysis picture
        # (width, height) of the upright picture as shown: non-square pixels and rotation applied
        self._display = display_size or (
            (av_frame.height, av_frame.width) if rotation in (90, 270) else (av_frame.width, av_frame.height)
        )

    def _reformat(self, width: int, height: int, fmt: str) -> np.ndarray:
        if self.rotation in (90, 270):
            width, height = height, width
        img = self._frame.reformat(width=width, height=height, format=fmt, interpolation="AREA").to_ndarray()
        return _rotate(img, self.rotation)

    def _bgr_from_planes(self, width: int, height: int) -> np.ndarray:
        import cv2

        f = self._frame
        w, h = f.width, f.height
        planes = []
        for i, (pw, ph) in enumerate(((w, h), ((w + 1) // 2, (h + 1) // 2), ((w + 1) // 2, (h + 1) // 2))):
            plane = f.planes[i]
            arr = np.frombuffer(plane, np.uint8).reshape(-1, plane.line_size)[:ph, :pw]
            size = (width, height) if i == 0 else (width // 2, height // 2)
            planes.append(cv2.resize(arr, size, interpolation=cv2.INTER_AREA))
        i420 = np.concatenate([planes[0], planes[1].reshape(-1, width), planes[2].reshape(-1, width)])
        return cv2.cvtColor(i420, cv2.COLOR_YUV2BGR_I420)

    @cached_property
    def bgr(self) -> np.ndarray:
        width, height = self._size
        if self.rotation in (90, 270):
            width, height = height, width
        if self._frame.format.name in _I420_FORMATS and width % 4 == 0 and height % 4 == 0:
            return _rotate(self._bgr_from_planes(width, height), self.rotation)
        return self._reformat(self._size[0], self._size[1], "bgr24")

    @cached_property
    def gray(self) -> np.ndarray:
        import cv2

        return cv2.cvtColor(self.bgr, cv2.COLOR_BGR2GRAY)

    @cached_property
    def tiny_rgb(self) -> np.ndarray:
        import cv2

        small = cv2.resize(self.bgr, (48, 27), interpolation=cv2.INTER_AREA)
        return cv2.cvtColor(small, cv2.COLOR_BGR2RGB)

    def rgb(self, max_width: int = 640) -> np.ndarray:
        """Upright RGB picture at display aspect (anamorphic pixels unsqueezed), at most ``max_width`` wide."""
        w, h = self._display
        if w > max_width:
            h = int(round(h * max_width / w / 2)) * 2
            w = max_width
        return self._reformat(w, h, "rgb24")


class FrameAnalyser(Protocol):
    """Anything fed by the decode pass, one upright frame at a time, in presentation order."""

    def update(self, frame: DecodedFrame) -> None: ...


@dataclass
class DecodePass:
    """What one decode pass saw: frame times (presentation order), rate, timings."""

    frame_times: list[FrameTime]
    rate: Fraction
    analysis_size: tuple[int, int]
    decode_seconds: float
    analyse_seconds: float
    wall_seconds: float
    notes: list[str] = field(default_factory=list)

    @property
    def frame_count(self) -> int:
        return len(self.frame_times)

    @property
    def duration_s(self) -> float:
        if not self.frame_times:
            return 0.0
        if len(self.frame_times) > 1:
            step = float(np.median(np.diff([t.seconds for t in self.frame_times])))
        else:
            step = float(1 / self.rate)
        return self.frame_times[-1].seconds + step


def analysis_size_for(width: int, height: int, analysis_width: int) -> tuple[int, int]:
    """Upright analysis size: the display size divided by a whole factor, at least ``analysis_width``
    wide (or the full width when smaller), aspect kept, both sides a multiple of 4.

    A whole factor keeps the downscale an exact pixel-area average (and cheap); a 640-wide film
    is analysed at 320x180, a 1280-wide one at 256x144, a 1920-wide one at 274x154.
    """
    factor = max(1, width // max(1, analysis_width))
    w = max(4, (width // factor) // 4 * 4)
    h = max(4, int(round(height * w / width / 4)) * 4)
    return w, h


def iter_frames(
    path: str | os.PathLike,
    analysis_width: int = 256,
    film: str | None = None,
    probe_info: FilmProbe | None = None,
) -> Iterator[DecodedFrame]:
    """Decode the first video stream once, yielding :class:`DecodedFrame` in presentation order.

    Frame times come from each frame's own timestamp (variable frame rate stays exact), measured
    from the first frame. A decode error mid-stream raises :class:`FilmError` with the time.
    """
    info = probe_info or probe(path, film)
    rate = info.frame_rate
    size = analysis_size_for(info.display_width, info.display_height, analysis_width)
    container = _open(path, film)
    with container:
        vs = container.streams.video[0]
        vs.thread_type = "AUTO"
        t0: float | None = None
        index = 0
        last_time = 0.0
        try:
            for av_frame in container.decode(vs):
                t = av_frame.time
                if t is None:
                    t = (t0 or 0.0) + index / float(rate)
                if t0 is None:
                    t0 = t
                seconds = max(t - t0, last_time if index else 0.0)
                ft = FrameTime(frame=index, seconds=round(seconds, 6), rate=rate)
                last_time = seconds
                yield DecodedFrame(av_frame, index, ft, info.rotation, size, (info.display_width, info.display_height))
                index += 1
        except av.error.FFmpegError as err:
            raise FilmError(path, f"cannot decode video stream (broken at {last_time:.1f} s: {err})", REEXPORT, film) from err
    if index == 0:
        raise FilmError(path, "video stream has no decodable frames", REEXPORT, film)


def run_decode_pass(
    path: str | os.PathLike,
    analysers: Iterable[FrameAnalyser],
    analysis_width: int = 256,
    film: str | None = None,
    probe_info: FilmProbe | None = None,
) -> DecodePass:
    """Decode a film once and feed every analyser every frame. Returns the pass's frame times."""
    analysers = list(analysers)
    info = probe_info or probe(path, film)
    frame_times: list[FrameTime] = []
    analyse = 0.0
    start = time.perf_counter()
    for frame in iter_frames(path, analysis_width, film, info):
        a0 = time.perf_counter()
        for analyser in analysers:
            analyser.update(frame)
        analyse += time.perf_counter() - a0
        frame_times.append(frame.time)
    wall = time.perf_counter() - start
    notes = []
    if info.frame_count and abs(len(frame_times) - info.frame_count) > max(2, 0.01 * info.frame_count):
        notes.append(f"decoded {len(frame_times)} frames, container lists {info.frame_count} packets")
    size = analysis_size_for(info.display_width, info.display_height, analysis_width)
    return DecodePass(frame_times, info.frame_rate, size, wall - analyse, analyse, wall, notes)


def decode_only_seconds(path: str | os.PathLike, analysis_width: int = 256, probe_info: FilmProbe | None = None) -> float:
    """Time to decode every frame and scale it to the analysis size (the ingest baseline)."""
    info = probe_info or probe(path)
    start = time.perf_counter()
    for frame in iter_frames(path, analysis_width, probe_info=info):
        frame.bgr
    return time.perf_counter() - start


@dataclass
class Soundtrack:
    """A film's first audio stream, decoded to mono float32."""

    samples: np.ndarray
    sample_rate: int

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate if self.sample_rate else 0.0


def load_soundtrack(path: str | os.PathLike, sample_rate: int = 22050, film: str | None = None) -> Soundtrack | None:
    """Decode the first audio stream to mono ``sample_rate`` float32 with PyAV, or None if silent film."""
    container = _open(path, film)
    with container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        chunks: list[np.ndarray] = []
        try:
            for frame in container.decode(stream):
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except av.error.FFmpegError as err:
            raise FilmError(path, f"cannot decode audio stream ({err})", REEXPORT, film) from err
    samples = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    return Soundtrack(samples, sample_rate)


def is_video_file(path: str | os.PathLike) -> bool:
    p = Path(path)
    return p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES and not p.name.startswith(".")


def list_films(folder: str | os.PathLike) -> list[Path]:
    return sorted(p for p in Path(folder).rglob("*") if is_video_file(p))
