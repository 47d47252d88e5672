"""Probe and decode films with PyAV: one decode pass feeds every frame analyser.

Everything here works on a local path or a file-like object; nothing shells out to ffmpeg.
Errors are :class:`FilmError`, whose message names the film, the problem and the fix.
"""

from __future__ import annotations

import hashlib
import os
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from fractions import Fraction
from functools import cached_property
from pathlib import Path
from typing import Generic, Protocol, TypeVar

import av
import numpy as np

from .timecode import FrameTime

T = TypeVar("T")


def _one_opencv_thread() -> None:
    """OpenCV works on the calling thread only, for the whole process (set once, on import).

    The analysis makes its own parallelism: FFmpeg's decoding threads, the analysers' worker
    threads, the soundtrack's thread, camera language's shot threads. On top of them OpenCV's
    pool split each small call (Lucas-Kanade's 40 grid points, three times a frame) across the
    cores and spun waiting for it: 15-20 % of a film's analysis CPU, for nothing (measured on
    BBB 60 s, 2 cores; the results are the same bit for bit). Set once, at import, before any
    analysis thread exists: changing OpenCV's pool while another thread uses it can crash.
    ``FILMASTER_OPENCV_THREADS=<n>`` sets another count; ``default`` leaves OpenCV's own.
    """
    setting = os.environ.get("FILMASTER_OPENCV_THREADS", "1").strip()
    if setting != "default":
        import cv2

        cv2.setNumThreads(int(setting))


_one_opencv_thread()

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

    @classmethod
    def from_record(cls, record: dict) -> FilmProbe:
        """The probe back from :meth:`to_record` (also after a JSON round trip): the exact inverse.

        The frame rate comes back as the exact fraction (``frame_rate_fraction``, e.g. ``24000/1001``),
        not the rounded float; keys that are not probe fields (a film slug, a path added by the
        caller) are ignored.
        """
        names = {f.name for f in fields(cls)}
        values = {k: v for k, v in record.items() if k in names}
        fraction = record.get("frame_rate_fraction")
        values["frame_rate"] = Fraction(fraction) if fraction else Fraction(record["frame_rate"]).limit_denominator(100000)
        values["audio_streams"] = tuple(AudioStreamInfo(**a) for a in record.get("audio_streams", ()))
        return cls(**values)


def file_sha256(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(chunk), b""):
            h.update(block)
    return h.hexdigest()


TRUNCATED_FIX = "copy the whole film again (this copy is incomplete) or remove it from the inbox"


class _PacketTally:
    """What the demuxer delivered for one stream: how many packets, where the last one ends
    (seconds from the start of the film) and whether one was cut short by the end of the file."""

    def __init__(self, stream: av.stream.Stream, file_size: int, origin_s: float):
        self.stream = stream
        self.declared_packets = int(stream.frames or 0)  # the container's index (MP4/MOV), 0 if it keeps none
        self._tb = float(stream.time_base or 0)
        self._file_size = file_size
        self._origin = origin_s
        self.count = 0
        self.end_s = 0.0
        self.cut_short = False

    def add(self, packet: av.Packet) -> None:
        if not packet.size:  # the demuxer's end-of-stream flush packet
            return
        self.count += 1
        if packet.pts is not None:
            end = (packet.pts + (packet.duration or 0)) * self._tb - self._origin
            self.end_s = max(self.end_s, end)
        # MP4's demuxer hands over the last, partial packet of a cut-off file flagged corrupt.
        if packet.is_corrupt and packet.pos is not None and packet.pos + packet.size >= self._file_size:
            self.cut_short = True


def _origin_s(container: av.container.InputContainer) -> float:
    return float(container.start_time / av.time_base) if container.start_time else 0.0


def _matroska_expected_size(path: Path) -> int | None:
    """Bytes a Matroska/WebM file must have, from its Segment's declared size (None if unknown).

    A cut-off WebM file carries no other sign of it: FFmpeg's demuxer just stops early.
    """
    with open(path, "rb") as fh:
        head = fh.read(4096)

    def vint(pos: int) -> tuple[int, int, bool] | None:
        if pos >= len(head) or head[pos] == 0:
            return None
        length = 9 - head[pos].bit_length()
        if pos + length > len(head):
            return None
        value = head[pos] & ((1 << (8 - length)) - 1)
        for byte in head[pos + 1 : pos + length]:
            value = (value << 8) | byte
        return value, length, value == (1 << (7 * length)) - 1

    if head[:4] != b"\x1a\x45\xdf\xa3":
        return None
    header = vint(4)
    if header is None:
        return None
    segment = 4 + header[1] + header[0]
    if head[segment : segment + 4] != b"\x18\x53\x80\x67":
        return None
    size = vint(segment + 4)
    if size is None or size[2]:  # unknown size: a live recording, nothing to compare with
        return None
    return segment + 4 + size[1] + size[0]


def _truncation(path: Path, container: av.container.InputContainer, reached: _PacketTally, tallies: Iterable[_PacketTally]) -> str | None:
    """The problem "file truncated at N s of M s" when the file ends before the film does, else None.

    Physical signs only (a packet cut short, fewer packets than the MP4 index lists, a WebM
    shorter than its declared segment), so a good film whose streams end unevenly is never
    mistaken for a cut-off one; a picture ending far before the declared duration also counts.
    """
    declared = float(container.duration / av.time_base) if container.duration else None
    tallies = list(tallies)
    ended_early = (
        any(t.cut_short for t in tallies)
        or any(t.declared_packets and t.count < t.declared_packets for t in tallies)
        or (container.format.name.startswith("matroska") and (_matroska_expected_size(path) or 0) > path.stat().st_size)
        or bool(declared and declared > 2.0 and reached.end_s < 0.9 * declared - 1.0)
    )
    if not ended_early:
        return None
    of = f" of {declared:.1f} s" if declared else ""
    return f"file truncated at {reached.end_s:.1f} s{of}"


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
    rot = round(getattr(frame, "rotation", 0) or 0) % 360
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

        # Demux every packet (no decoding): frame count and timestamps, and whether the file ends
        # before the film does (a cut-off copy must be named as such, not as a decode error later).
        container.seek(0)
        pts: list[int] = []
        tallies = {s.index: _PacketTally(s, p.stat().st_size, _origin_s(container)) for s in (vs, *container.streams.audio)}
        try:
            for packet in container.demux():
                tally = tallies.get(packet.stream_index)
                if tally is None:
                    continue
                tally.add(packet)
                if packet.stream_index == vs.index and packet.pts is not None and packet.size:
                    pts.append(packet.pts)
        except av.error.FFmpegError as err:
            last = float(max(pts) * vs.time_base) if pts else 0.0
            raise FilmError(p, f"container is damaged at {last:.1f} s ({err})", REEXPORT, film) from err
        truncated = _truncation(p, container, tallies[vs.index], tallies.values())
        if truncated:
            raise FilmError(p, truncated, TRUNCATED_FIX, film)
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
    disp_w = round(width * float(sar)) if sar else width
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


class Reformatters:
    """FFmpeg scalers kept for a whole decode pass, one per output (size, pixel format).

    ``av.VideoFrame.reformat`` builds a new scaler (and, in PyAV 18, a pool of scaling threads)
    for every frame: ~4 ms for a 480-px keyframe picture, 7x the scaling itself. A scaler kept
    per output gives the same pixels (swscale is deterministic and slice threads do not change
    its arithmetic) for a fraction of that. Each thread gets its own scalers (a scaler is not
    thread-safe), so analysers may scale frames in worker threads.
    """

    def __init__(self) -> None:
        from av.video.reformatter import VideoReformatter

        self._make = VideoReformatter
        self._scalers: dict[tuple[int, int, int, str], VideoReformatter] = {}

    def reformat(self, frame: av.VideoFrame, width: int, height: int, fmt: str) -> np.ndarray:
        """``frame`` scaled (area average) and converted to ``fmt``, as ``frame.reformat`` would."""
        key = (threading.get_ident(), width, height, fmt)  # a scaler is never shared between threads
        scaler = self._scalers.get(key)
        if scaler is None:
            scaler = self._scalers[key] = self._make()
        # One slice thread: the decoder's threads already keep the other cores busy.
        return scaler.reformat(frame, width=width, height=height, format=fmt, interpolation="AREA", threads=1).to_ndarray()


class DecodedFrame:
    """One decoded frame, upright, with lazily computed views for the analysers.

    ``bgr`` is the analysis picture (see :func:`analysis_size_for`), ``gray`` derives from it,
    ``tiny_rgb`` is 48x27 RGB (TransNetV2's input), ``rgb(max_width)`` a larger
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
        reformatters: Reformatters | None = None,
    ):
        self._frame = av_frame
        self.index = index
        self.time = time
        self.rotation = rotation
        self._size = analysis_size  # (width, height) of the upright analysis picture
        # (width, height) of the upright picture as shown: non-square pixels and rotation applied
        self._display = display_size or ((av_frame.height, av_frame.width) if rotation in (90, 270) else (av_frame.width, av_frame.height))
        self._reformatters = reformatters
        # PyAV's scaler retags the source frame's colour metadata while it works: two threads
        # scaling the same frame at once (an analyser's worker thread) must take turns.
        self._scaling = threading.Lock()

    def _reformat(self, width: int, height: int, fmt: str) -> np.ndarray:
        if self.rotation in (90, 270):
            width, height = height, width
        with self._scaling:
            if self._reformatters is None:
                img = self._frame.reformat(width=width, height=height, format=fmt, interpolation="AREA").to_ndarray()
            else:
                img = self._reformatters.reformat(self._frame, width, height, fmt)
        return _rotate(img, self.rotation)

    def _bgr_from_planes(self, width: int, height: int) -> np.ndarray:
        import cv2

        f = self._frame
        w, h = f.width, f.height
        # The scaled planes land straight in one I420 buffer (Y, then U, then V): no copying.
        i420 = np.empty((height * 3 // 2, width), np.uint8)
        quarter = (width // 2) * (height // 2)
        flat = i420.reshape(-1)
        targets = (
            i420[:height],
            flat[width * height : width * height + quarter].reshape(height // 2, width // 2),
            flat[width * height + quarter :].reshape(height // 2, width // 2),
        )
        for i, (pw, ph) in enumerate(((w, h), ((w + 1) // 2, (h + 1) // 2), ((w + 1) // 2, (h + 1) // 2))):
            plane = f.planes[i]
            arr = np.frombuffer(memoryview(plane), np.uint8).reshape(-1, plane.line_size)[:ph, :pw]
            target = targets[i]
            cv2.resize(arr, (target.shape[1], target.shape[0]), dst=target, interpolation=cv2.INTER_AREA)
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
            h = round(h * max_width / w / 2) * 2
            w = max_width
        return self._reformat(w, h, "rgb24")


class InOrderWorker(Generic[T]):
    """One worker thread for a frame analyser's heavy work, done in the order it was handed over.

    For work that runs mostly inside FFmpeg or OpenCV (they release the GIL), so it proceeds on
    the other core while the pass's thread feeds the next frame to the other analysers. At most
    ``max_pending`` jobs wait (memory stays bounded: the pass waits for the worker instead); a
    job's error is raised on the pass's thread by the next :meth:`submit` or :meth:`drain`.
    ``cpu_seconds``: the worker's CPU time in the jobs so far (``bench/analysers.py`` reports it).
    """

    def __init__(self, name: str, max_pending: int = 8):
        self.name = name
        self.max_pending = max(1, int(max_pending))
        self.cpu_seconds = 0.0
        self._pending: deque[Future[T]] = deque()
        self._pool: ThreadPoolExecutor | None = None

    def _timed(self, fn: Callable[..., T], *args: object) -> T:
        start = time.thread_time()
        try:
            return fn(*args)
        finally:
            self.cpu_seconds += time.thread_time() - start  # one job at a time: no race

    def submit(self, fn: Callable[..., T], *args: object) -> list[T]:
        """Hand ``fn(*args)`` to the worker; returns the results finished so far, in order."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix=self.name)
        self._pending.append(self._pool.submit(self._timed, fn, *args))
        done = []
        while self._pending and (self._pending[0].done() or len(self._pending) > self.max_pending):
            done.append(self._pending.popleft().result())
        return done

    def drain(self) -> list[T]:
        """Wait for every job handed over; their results not yet returned, in order. The thread ends."""
        done = [self._pending.popleft().result() for _ in range(len(self._pending))]
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None
        return done


class FrameAnalyser(Protocol):
    """Anything fed by the decode pass, one upright frame at a time, in presentation order."""

    def update(self, frame: DecodedFrame) -> None: ...


MAX_DAMAGED_FRACTION = 0.10
"""The share of a film's running time that damaged packets may cost before the film is rejected."""


def _merge_ranges(ranges: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    merged: list[tuple[float, float]] = []
    for start, end in sorted(ranges):
        if merged and start <= merged[-1][1] + 1e-6:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return merged


def _reason(err: Exception) -> str:
    return " ".join((getattr(err, "strerror", None) or str(err)).split())


@dataclass
class StreamDamage:
    """Stretches of one stream that the decoder could not read, concealed rather than fatal.

    ``ranges`` are merged (start, end) seconds from the start of the film. ``lost`` counts the
    frames (video) or packets (audio) that could not be decoded and were left out, ``concealed``
    the frames the decoder delivered but flagged as damaged, ``gaps`` the stretches missing from
    the file altogether; ``refreshed_at`` is the first keyframe after the damage, where the
    picture is whole again.
    """

    kind: str  # "video" or "audio"
    ranges: list[tuple[float, float]] = field(default_factory=list)
    lost: int = 0
    concealed: int = 0
    first_error: str = ""
    refreshed_at: float | None = None
    gaps: int = 0  # jumps in the timestamps: stretches the demuxer skipped without a decoder error

    @property
    def seconds(self) -> float:
        return sum(end - start for start, end in self.ranges)

    def note(self) -> str:
        """One line for the run log: where the damage is and what was done about it."""
        where = ", ".join(f"{a:.2f}-{b:.2f} s" for a, b in self.ranges[:5])
        if len(self.ranges) > 5:
            where += f" and {len(self.ranges) - 5} more"
        unit = "frame(s)" if self.kind == "video" else "packet(s)"
        what = []
        if self.lost:
            what.append(f"{self.lost} {unit} could not be decoded and are left out")
        if self.concealed:
            what.append(f"{self.concealed} frame(s) were concealed by the decoder")
        if self.gaps:
            what.append(f"{self.gaps} stretch(es) are missing from the file (its timestamps jump)")
        text = f"{self.kind} damaged over {self.seconds:.2f} s ({where}): {', '.join(what) or 'damaged'}"
        if self.kind == "audio":
            text += "; the lost sound is silence, so what follows stays in sync"
        elif self.refreshed_at is not None:
            text += f"; pictures may show artefacts until the keyframe at {self.refreshed_at:.1f} s"
        return f"{text} ({self.first_error})" if self.first_error else text


def _too_damaged(kind: str, damaged_s: float, total_s: float, fraction: float, first_s: float, reason: str) -> str:
    share = 100 * damaged_s / total_s if total_s > 0 else 100.0
    return (
        f"{kind} damaged over {damaged_s:.1f} s of {total_s:.1f} s ({share:.2g} %, more than the {100 * fraction:g} % a film may lose), "
        f"first at {first_s:.1f} s ({reason})"
    )


@dataclass
class DecodePass:
    """What one decode pass saw: frame times (presentation order), rate, timings, and any damaged
    stretches whose frames were left out (``damaged_ranges``, seconds, also named in ``notes``)."""

    frame_times: list[FrameTime]
    rate: Fraction
    analysis_size: tuple[int, int]
    decode_seconds: float
    analyse_seconds: float
    wall_seconds: float
    notes: list[str] = field(default_factory=list)
    damaged_ranges: list[tuple[float, float]] = field(default_factory=list)

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
    h = max(4, round(height * w / width / 4) * 4)
    return w, h


def _damaged_frames(
    listed: list[int], decoded: list[int], concealed: list[int], keyframes: list[int], time_base: float, t0: float, step: float
) -> tuple[list[tuple[float, float]], int, float | None]:
    """Damaged stretches from the frames the container lists but the decoder never delivered (or
    flagged): exact whatever the decoder's threading delays. Returns (ranges, lost, refreshed_at)."""
    stamps = np.unique(np.asarray(listed, dtype=np.int64))
    if not len(stamps):
        return [], 0, None
    missing = ~np.isin(stamps, np.asarray(decoded, dtype=np.int64))
    bad = missing | np.isin(stamps, np.asarray(concealed, dtype=np.int64))
    ends = np.append(stamps[1:], stamps[-1] + max(1, round(step / time_base)))
    ranges = _merge_ranges(
        (max(0.0, float(s) * time_base - t0), max(0.0, float(e) * time_base - t0)) for s, e in zip(stamps[bad], ends[bad])
    )
    later = [k for k in keyframes if ranges and k * time_base - t0 >= ranges[-1][1] - 1e-6]
    refreshed = round(min(later) * time_base - t0, 3) if later else None
    return ranges, int(missing.sum()), refreshed


def _timestamp_jumps(listed: list[int], time_base: float, t0: float, step: float) -> list[tuple[float, float]]:
    """Stretches a constant-rate film has no frames for at all (its timestamps jump by more than a
    second): footage the demuxer skipped, as in a damaged WebM cluster, with no decoder error."""
    stamps = np.unique(np.asarray(listed, dtype=np.int64)) * time_base - t0
    if len(stamps) < 2:
        return []
    jumps = np.flatnonzero(np.diff(stamps) > max(1.0, 10 * step))
    return [(float(stamps[i] + step), float(stamps[i + 1])) for i in jumps]


def iter_frames(
    path: str | os.PathLike,
    analysis_width: int = 256,
    film: str | None = None,
    probe_info: FilmProbe | None = None,
    *,
    damage: StreamDamage | None = None,
    max_damaged_fraction: float = MAX_DAMAGED_FRACTION,
) -> Iterator[DecodedFrame]:
    """Decode the first video stream once, yielding :class:`DecodedFrame` in presentation order.

    Frame times come from each frame's own timestamp (variable frame rate stays exact), measured
    from the first frame. A packet the decoder rejects is skipped, not fatal: its frames are left
    out (never invented, so ``index`` counts decoded frames) and the stretch is recorded in
    ``damage``. A film with more than ``max_damaged_fraction`` of its running time damaged, or a
    cut-off file, raises :class:`FilmError` naming the damage.
    """
    info = probe_info or probe(path, film)
    rate = info.frame_rate
    step = 1 / float(rate)
    size = analysis_size_for(info.display_width, info.display_height, analysis_width)
    damage = damage if damage is not None else StreamDamage("video")
    allowed_s = max_damaged_fraction * info.duration_s
    p = Path(path)
    container = _open(path, film)
    scalers = Reformatters()
    with container:
        vs = container.streams.video[0]
        vs.thread_type = "AUTO"
        tb = float(vs.time_base or 0)
        tally = _PacketTally(vs, p.stat().st_size, _origin_s(container))
        # Presentation stamps the container lists, the decoder delivered and flagged: compared only
        # when the decoder complained, to find exactly which frames a damaged stretch cost.
        listed: list[int] = []
        decoded: list[int] = []
        concealed: list[int] = []
        keyframes: list[int] = []
        errors = 0
        first_error_at: float | None = None  # absolute stream time of the first rejected packet
        t0: float | None = None
        index = 0
        last_time = 0.0
        try:
            for packet in container.demux(vs):
                tally.add(packet)
                if packet.pts is not None and packet.size and not packet.is_discard:
                    listed.append(packet.pts)
                    if packet.is_keyframe:
                        keyframes.append(packet.pts)
                try:
                    av_frames = packet.decode()
                except av.error.FFmpegError as err:
                    errors += 1
                    if first_error_at is None:
                        first_error_at = (packet.pts or 0) * tb
                        damage.first_error = _reason(err)
                    if errors * step > allowed_s:  # reject early: no point decoding a film that is mostly damaged
                        origin = t0 if t0 is not None else min(listed) * tb if listed else 0.0
                        problem = _too_damaged(
                            "video", errors * step, info.duration_s, max_damaged_fraction, first_error_at - origin, damage.first_error
                        )
                        raise FilmError(path, problem, REEXPORT, film) from err
                    continue
                for av_frame in av_frames:
                    t = av_frame.time
                    if t is None:
                        t = (t0 or 0.0) + index / float(rate)
                    if t0 is None:
                        # A damaged opening must not move the film's time origin.
                        t0 = t if not errors else min(t, min(listed) * tb)
                    if av_frame.pts is not None:
                        decoded.append(av_frame.pts)
                        if av_frame.is_corrupt:
                            concealed.append(av_frame.pts)
                    seconds = max(t - t0, last_time if index else 0.0)
                    ft = FrameTime(frame=index, seconds=round(seconds, 6), rate=rate)
                    last_time = seconds
                    yield DecodedFrame(av_frame, index, ft, info.rotation, size, (info.display_width, info.display_height), scalers)
                    index += 1
        except av.error.FFmpegError as err:  # the container itself, not one packet, cannot be read on
            raise FilmError(path, f"cannot decode video stream (broken at {last_time:.1f} s: {_reason(err)})", REEXPORT, film) from err
        truncated = _truncation(p, container, tally, [tally])
    if truncated:
        raise FilmError(path, truncated, TRUNCATED_FIX, film)
    if index == 0:
        raise FilmError(path, "video stream has no decodable frames", REEXPORT, film)
    decoder_damage: list[tuple[float, float]] = []
    if errors or concealed:
        decoder_damage, damage.lost, damage.refreshed_at = _damaged_frames(listed, decoded, concealed, keyframes, tb, t0 or 0.0, step)
        damage.concealed = len(concealed)
    jumps = [] if info.variable_frame_rate else _timestamp_jumps(listed, tb, t0 or 0.0, step)
    damage.gaps = len(jumps)
    damage.ranges = _merge_ranges(decoder_damage + jumps)
    if damage.seconds > allowed_s:
        first = damage.ranges[0][0]
        reason = damage.first_error or (f"timestamps jump over {jumps[0][1] - jumps[0][0]:.1f} s" if jumps else "frames flagged damaged")
        problem = _too_damaged("video", damage.seconds, info.duration_s, max_damaged_fraction, first, reason)
        raise FilmError(path, problem, REEXPORT, film)


def run_decode_pass(
    path: str | os.PathLike,
    analysers: Iterable[FrameAnalyser],
    analysis_width: int = 256,
    film: str | None = None,
    probe_info: FilmProbe | None = None,
    max_damaged_fraction: float = MAX_DAMAGED_FRACTION,
) -> DecodePass:
    """Decode a film once and feed every analyser every frame. Returns the pass's frame times.

    A damaged stretch inside an otherwise good film is concealed: its frames are left out, the
    stretch lands in ``DecodePass.damaged_ranges`` and a note. More than ``max_damaged_fraction``
    of the film damaged raises :class:`FilmError`.
    """
    analysers = list(analysers)
    info = probe_info or probe(path, film)
    damage = StreamDamage("video")
    frame_times: list[FrameTime] = []
    analyse = 0.0
    start = time.perf_counter()
    for frame in iter_frames(path, analysis_width, film, info, damage=damage, max_damaged_fraction=max_damaged_fraction):
        a0 = time.perf_counter()
        for analyser in analysers:
            analyser.update(frame)
        analyse += time.perf_counter() - a0
        frame_times.append(frame.time)
    wall = time.perf_counter() - start
    notes = []
    if damage.ranges:
        notes.append(damage.note())
    elif info.frame_count and abs(len(frame_times) - info.frame_count) > max(2, 0.01 * info.frame_count):
        notes.append(f"decoded {len(frame_times)} frames, container lists {info.frame_count} packets")
    size = analysis_size_for(info.display_width, info.display_height, analysis_width)
    return DecodePass(frame_times, info.frame_rate, size, wall - analyse, analyse, wall, notes, list(damage.ranges))


def decode_only_seconds(path: str | os.PathLike, analysis_width: int = 256, probe_info: FilmProbe | None = None) -> float:
    """Time to decode every frame and scale it to the analysis size (the ingest baseline)."""
    info = probe_info or probe(path)
    start = time.perf_counter()
    for frame in iter_frames(path, analysis_width, probe_info=info):
        _ = frame.bgr
    return time.perf_counter() - start


@dataclass
class Soundtrack:
    """A film's first audio stream, decoded to mono float32; damaged stretches are silence,
    listed in ``damaged_ranges`` (seconds) and ``notes``."""

    samples: np.ndarray
    sample_rate: int
    damaged_ranges: list[tuple[float, float]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def duration_s(self) -> float:
        return len(self.samples) / self.sample_rate if self.sample_rate else 0.0


def load_soundtrack(
    path: str | os.PathLike,
    sample_rate: int = 22050,
    film: str | None = None,
    max_damaged_fraction: float = MAX_DAMAGED_FRACTION,
) -> Soundtrack | None:
    """Decode the first audio stream to mono ``sample_rate`` float32 with PyAV, or None if silent film.

    Damage is handled as in :func:`iter_frames`: a packet the decoder rejects becomes silence of
    its length (the soundtrack stays in sync with the picture) and is recorded; more than
    ``max_damaged_fraction`` of the soundtrack damaged, or a cut-off file, raises :class:`FilmError`.
    """
    p = Path(path)
    container = _open(path, film)
    with container:
        if not container.streams.audio:
            return None
        stream = container.streams.audio[0]
        tb = float(stream.time_base or 0)
        tally = _PacketTally(stream, p.stat().st_size, _origin_s(container))
        total_s = float(container.duration / av.time_base) if container.duration else float((stream.duration or 0) * tb)
        allowed_s = max_damaged_fraction * total_s if total_s > 0 else float("inf")
        packet_s = 1024 / (stream.codec_context.sample_rate or sample_rate)  # when a packet gives no duration (AAC's frame)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=sample_rate)
        damage = StreamDamage("audio")
        raw: list[tuple[float, float]] = []
        # Sample 0 is the stream's start (the decoder drops AAC's priming samples before it).
        origin: float | None = float(stream.start_time * tb) if stream.start_time is not None else None
        expected: float | None = None  # where the next packet should start if nothing is missing
        chunks: list[np.ndarray] = []

        def lose(start: float, end: float, err: Exception | None) -> None:
            """A stretch of sound that cannot be heard: silence of its length keeps later sound in sync."""
            raw.append((start, end))
            chunks.append(np.zeros(round((end - start) * sample_rate), np.float32))
            damaged_s = sum(b - a for a, b in raw)
            if damaged_s > allowed_s:
                problem = _too_damaged("audio", damaged_s, total_s, max_damaged_fraction, raw[0][0], damage.first_error)
                raise FilmError(path, problem, REEXPORT, film) from err

        try:
            for packet in container.demux(stream):
                tally.add(packet)
                start: float | None = None
                seconds = packet.duration * tb if packet.duration else packet_s
                if packet.pts is not None and packet.size:
                    origin = packet.pts * tb if origin is None else origin
                    start = packet.pts * tb - origin
                    # Sound has no gaps by nature: a jump in its timestamps is a stretch the demuxer
                    # skipped (a damaged WebM cluster), lost without any decoder error.
                    if expected is not None and start > expected + max(2 * seconds, 0.1):
                        damage.gaps += 1
                        damage.first_error = damage.first_error or f"timestamps jump from {expected:.2f} s to {start:.2f} s"
                        lose(expected, start, None)
                    expected = max(expected or 0.0, start + seconds)
                try:
                    frames = packet.decode()
                except av.error.FFmpegError as err:
                    damage.lost += 1
                    damage.first_error = damage.first_error or _reason(err)
                    at = start if start is not None else sum(len(c) for c in chunks) / sample_rate
                    lose(at, at + seconds, err)
                    continue
                for frame in frames:
                    for out in resampler.resample(frame):
                        chunks.append(out.to_ndarray().reshape(-1))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().reshape(-1))
        except av.error.FFmpegError as err:  # the container itself cannot be read on
            raise FilmError(path, f"cannot decode audio stream ({_reason(err)})", REEXPORT, film) from err
        truncated = _truncation(p, container, tally, [tally])
    if truncated:
        raise FilmError(path, truncated, TRUNCATED_FIX, film)
    samples = np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)
    damage.ranges = _merge_ranges(raw)
    return Soundtrack(samples, sample_rate, list(damage.ranges), [damage.note()] if damage.ranges else [])


def is_video_file(path: str | os.PathLike) -> bool:
    p = Path(path)
    return p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES and not p.name.startswith(".")


def list_films(folder: str | os.PathLike) -> list[Path]:
    return sorted(p for p in Path(folder).rglob("*") if is_video_file(p))
