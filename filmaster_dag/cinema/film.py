"""The final film: the locked cut rendered frame-exact with its mix, and read back to check it.

The picture is the first video track of the OpenTimelineIO cut (see :mod:`.timeline`), played as an
editor's timeline plays it:

- a **shot** of ``record`` frames that consumes ``source`` frames (``metadata["filmaster"]["source_frames"]``,
  different from ``record`` when a LinearTimeWarp changes its speed) shows, at its record frame ``i``, the
  source frame ``source_in + floor(i * source / record)``: exact integers, so a frame never drifts;
- a **freeze** (FreezeFrame effect, ``hold_of``) repeats the last frame its shot showed;
- a **gap** is black; transitions are played as cuts (the edit model does not make them).

Each clip file is decoded once, front to back (clips are short generated shots), and the film is
streamed frame by frame into the encoder: it is never held in memory. The film is H.264 + AAC in MP4
by default (ProRes 422 + PCM in MOV for finishing), at the cut's exact rate (24000/1001 stays exact:
the video time base is ``1/rate`` and frame ``n`` has ``pts = n``), with the sound padded or trimmed
to the picture's length so both streams end together. The same cut renders to the same bytes.
"""

from __future__ import annotations

import hashlib
import io
import math
import os
import textwrap
import time
import urllib.parse
import urllib.request
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import av
import numpy as np
import opentimelineio as otio
from av.video.frame import PictureType

from .sound import MIX_RATE, resample
from .timeline import cut_list, duration_frames

#: Encoder settings per delivery codec: (video codec, pixel format, container, audio codec, audio sample format).
CODECS: dict[str, tuple[str, str, str, str, str]] = {
    "h264": ("libx264", "yuv420p", "mp4", "aac", "fltp"),
    "prores": ("prores_ks", "yuv422p10le", "mov", "pcm_s16le", "s16"),
}
#: AAC bit rate of the stereo mix.
AAC_BITRATE = 192_000
#: Caption band: its opacity over the picture and the text height as a share of the frame height.
CAPTION_BAND_OPACITY = 0.65
CAPTION_TEXT_HEIGHT = 1 / 16


# -- reading the cut -------------------------------------------------------------------------------------


def _exact_rate(tl: otio.schema.Timeline) -> Fraction:
    """The cut's rate as an exact fraction ('24000/1001'), from the production's stored string when present."""
    stored = dict(tl.metadata.get("filmaster", {})).get("frame_rate")
    if stored:
        return Fraction(str(stored))
    clips = tl.video_tracks()[0].find_clips() if tl.video_tracks() else []
    rate = clips[0].source_range.duration.rate if clips else 24.0
    return Fraction(rate).limit_denominator(1001)


def _size(tl: otio.schema.Timeline) -> tuple[int, int]:
    meta = dict(tl.metadata.get("filmaster", {}))
    if not meta.get("width") or not meta.get("height"):
        raise ValueError(f"timeline '{tl.name}' does not say its picture size (metadata['filmaster'] width/height)")
    return int(meta["width"]), int(meta["height"])


def _media_path(clip: otio.schema.Clip) -> str:
    url = getattr(clip.media_reference, "target_url", None)
    if not url:
        raise ValueError(f"shot '{clip.name}': its clip has no media file")
    parsed = urllib.parse.urlparse(url)
    if parsed.scheme == "file":
        return urllib.request.url2pathname(parsed.path)
    if parsed.scheme in ("", None) or len(parsed.scheme) == 1:  # a plain path (or a Windows drive letter)
        return url
    raise ValueError(f"shot '{clip.name}': media {url} is not a local file")


def _media_start(clip: otio.schema.Clip, rate: float) -> int:
    avail = getattr(clip.media_reference, "available_range", None)
    return round(avail.start_time.value_rescaled_to(rate)) if avail is not None else 0


@dataclass(frozen=True)
class _Span:
    """One stretch of the record: ``frames`` record frames from ``record_in`` showing ``sources[i]``
    (file frame indices) of ``path``; ``path`` None is black, ``freeze_of`` set repeats that shot's last frame."""

    record_in: int
    frames: int
    shot: str
    path: str | None
    sources: tuple[int, ...] = ()
    freeze_of: str | None = None


def _spans(tl: otio.schema.Timeline) -> list[_Span]:
    """The cut as spans in record order, black filling any gap, covering exactly ``duration_frames(tl)``."""
    tracks = tl.video_tracks()
    if not tracks:
        raise ValueError(f"timeline '{tl.name}' has no video track")
    rate = float(_exact_rate(tl))
    clips = tracks[0].find_clips(shallow_search=True)
    rows = cut_list(tl)
    last_shown: dict[str, tuple[str, int]] = {}
    spans: list[_Span] = []
    at = 0
    for clip, row in zip(clips, rows, strict=True):
        if row["record_in"] > at:
            spans.append(_Span(at, row["record_in"] - at, "gap", None))
        record, source = row["duration"], row["source_out"] - row["source_in"]
        if record < 1:  # an empty clip occupies no record time
            continue
        offset = row["source_in"] - _media_start(clip, rate)
        path = _media_path(clip)
        if row["kind"] == "freeze":
            held = last_shown.get(row["shot_id"], (path, offset))
            spans.append(_Span(row["record_in"], record, row["shot_id"], held[0], (held[1],), freeze_of=row["shot_id"]))
        else:
            # exact integer mapping: record frame i shows source frame floor(i * source / record)
            sources = tuple(offset + (i * source) // record for i in range(record))
            spans.append(_Span(row["record_in"], record, row["shot_id"], path, sources))
            last_shown[row["shot_id"]] = (path, sources[-1])
        at = row["record_out"]
    total = duration_frames(tl)
    if total > at:
        spans.append(_Span(at, total - at, "gap", None))
    return spans


def _open_video(path: str, shot: str) -> av.container.InputContainer:
    if not os.path.isfile(path):
        raise ValueError(f"shot '{shot}': its media file {path} is missing")
    try:
        container = av.open(path)
    except av.FFmpegError as err:
        raise ValueError(f"shot '{shot}': its media file {path} cannot be read ({err})") from err
    if not container.streams.video:
        container.close()
        raise ValueError(f"shot '{shot}': its media file {path} has no picture")
    return container


def _decode(path: str, shot: str, wanted: Sequence[int], width: int, height: int) -> Generator[av.VideoFrame, None, None]:
    """The file's frames at the (non-decreasing) indices ``wanted``, decoded front to back once, at the cut's size;
    a frame wanted twice is yielded twice (the same object)."""
    need = iter(wanted)
    target = next(need, None)
    if target is None:
        return
    container = _open_video(path, shot)
    index = -1
    try:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        for frame in container.decode(stream):
            index += 1
            if index < target:
                continue
            if frame.width != width or frame.height != height:
                frame = frame.reformat(width=width, height=height)
            # the source's frame types must not steer the encoder's (libx264 obeys a frame's pict_type)
            frame.pict_type = PictureType.NONE
            while target == index:
                yield frame
                target = next(need, None)
            if target is None:
                break
    except av.FFmpegError as err:
        raise ValueError(f"shot '{shot}': its media file {path} is corrupt at frame {index + 1} ({err})") from err
    finally:
        container.close()
    if target is not None:
        raise ValueError(f"shot '{shot}': its media file {path} has {index + 1} frames, the cut needs frame {target}")


def _black(width: int, height: int) -> av.VideoFrame:
    return av.VideoFrame.from_ndarray(np.zeros((height, width, 3), np.uint8), format="rgb24").reformat(format="yuv420p")


def _pictures(tl: otio.schema.Timeline) -> Iterator[av.VideoFrame]:
    """Every record frame as a decoded picture (the clip's own pixel format, the cut's size); repeated
    frames (slow motion, freezes) are the same object yielded again, so nothing is decoded twice."""
    width, height = _size(tl)
    black: av.VideoFrame | None = None
    previous: tuple[str, av.VideoFrame] | None = None  # the last shot shown and its last picture
    for span in _spans(tl):
        if span.path is None:
            black = black or _black(width, height)
            for _ in range(span.frames):
                yield black
            continue
        if span.freeze_of is not None and previous is not None and previous[0] == span.freeze_of:
            for _ in range(span.frames):
                yield previous[1]
            continue
        sources = span.sources * span.frames if span.freeze_of else span.sources
        frame = None
        for frame in _decode(span.path, span.shot, sources, width, height):
            yield frame
        previous = (span.shot, frame) if frame is not None else previous


def _rgb(frame: av.VideoFrame) -> np.ndarray:
    return frame.to_ndarray(format="rgb24")


def timeline_frames(tl: otio.schema.Timeline) -> Iterator[np.ndarray]:
    """Every record frame of the cut's first video track, in order, as RGB uint8 at the cut's size
    (``duration_frames(tl)`` of them). Each clip's media is decoded once, front to back; a freeze repeats
    its shot's last shown frame; a gap is black. A clip whose file is missing or unreadable raises
    ValueError naming the shot and the file."""
    for frame in _pictures(tl):
        yield _rgb(frame)


def expected_frame(tl: otio.schema.Timeline, record_frame: int) -> np.ndarray:
    """The picture the cut shows at one record frame (RGB uint8), decoded straight from its clip's file:
    the reference a rendered film is checked against."""
    total = duration_frames(tl)
    if not 0 <= record_frame < total:
        raise ValueError(f"record frame {record_frame} is outside the cut (0..{total - 1})")
    width, height = _size(tl)
    spans = _spans(tl)
    span = next(s for s in spans if s.record_in <= record_frame < s.record_in + s.frames)
    if span.path is None:
        return _rgb(_black(width, height))
    index = span.sources[0] if span.freeze_of else span.sources[record_frame - span.record_in]
    frames = _decode(span.path, span.shot, [index], width, height)
    try:
        return _rgb(next(frames))
    finally:
        frames.close()


# -- captions --------------------------------------------------------------------------------------------


@lru_cache(maxsize=32)
def _caption_layer(width: int, height: int, text: str) -> tuple[int, np.ndarray, np.ndarray]:
    """(top row, alpha, colour * alpha) of a caption: wrapped, centred white text on a dark band that
    stays inside the lower third of the frame."""
    from PIL import Image, ImageDraw, ImageFont

    size = max(10, round(height * CAPTION_TEXT_HEIGHT))
    font = ImageFont.load_default(size=size)
    margin = max(4, width // 20)
    # wrap to the widest line that fits, measured in the font (not characters)
    chars = max(8, len(text))
    while chars > 8 and max((font.getlength(line) for line in textwrap.wrap(text, chars) or [""]), default=0) > width - 2 * margin:
        chars -= 1
    lines = textwrap.wrap(text, chars) or [""]
    line_h = round(size * 1.25)
    pad = max(2, size // 2)
    third = math.ceil(height * 2 / 3)
    band_h = min(height - third, len(lines) * line_h + 2 * pad)
    lines = lines[: max(1, (band_h - 2 * pad) // line_h)]
    top = height - band_h - max(0, min(pad, height - third - band_h))
    band = Image.new("RGBA", (width, band_h), (0, 0, 0, round(255 * CAPTION_BAND_OPACITY)))
    draw = ImageDraw.Draw(band)
    y = (band_h - len(lines) * line_h) // 2
    for line in lines:
        draw.text(((width - font.getlength(line)) / 2, y + (line_h - size) / 2), line, font=font, fill=(255, 255, 255, 255))
        y += line_h
    if top % 2:  # start on an even row, so a 4:2:0 picture's chroma rows above the band stay untouched
        top += 1
    rgba = np.asarray(band, dtype=np.float32)[: height - top] / 255.0
    alpha = rgba[..., 3:4]
    return top, alpha, rgba[..., :3] * 255.0 * alpha


@lru_cache(maxsize=32)
def _caption_planes(width: int, height: int, text: str) -> tuple[int, list[tuple[np.ndarray, np.ndarray]]]:
    """The caption as (1 - alpha, premultiplied value) per Y, U, V plane of a limited-range 4:2:0 picture
    (BT.601 weights; the caption is white on black, so the matrix hardly matters). Blending is linear, so
    mixing in Y'CbCr gives what mixing in RGB and converting would, without converting the frame twice."""
    top, alpha, colour = _caption_layer(width, height, text)
    a = alpha[..., 0]
    r, g, b = colour[..., 0], colour[..., 1], colour[..., 2]
    y = 16.0 * a + (219.0 / 255.0) * (0.299 * r + 0.587 * g + 0.114 * b)
    u = 128.0 * a + (224.0 / 255.0) * (-0.168736 * r - 0.331264 * g + 0.5 * b)
    v = 128.0 * a + (224.0 / 255.0) * (0.5 * r - 0.418688 * g - 0.081312 * b)

    def half(x: np.ndarray) -> np.ndarray:  # 2x2 block means (odd edges padded by repetition)
        x = np.pad(x, ((0, x.shape[0] % 2), (0, x.shape[1] % 2)), mode="edge")
        return (x[0::2, 0::2] + x[1::2, 0::2] + x[0::2, 1::2] + x[1::2, 1::2]) / 4.0

    ac = half(a)
    return top, [(1.0 - a, y), (1.0 - ac, half(u)), (1.0 - ac, half(v))]


def _burn_caption_frame(frame: av.VideoFrame, text: str) -> av.VideoFrame:
    """A new picture with the caption burned in; a 4:2:0 picture is blended in its own planes (no RGB round trip)."""
    if frame.format.name != "yuv420p":
        return av.VideoFrame.from_ndarray(burn_caption(_rgb(frame), text), format="rgb24")
    top, layers = _caption_planes(frame.width, frame.height, text)
    out = av.VideoFrame(frame.width, frame.height, "yuv420p")
    for k, (src, dst) in enumerate(zip(frame.planes, out.planes, strict=True)):
        keep, add = layers[k]
        rows, cols = dst.height, dst.width
        a = np.frombuffer(memoryview(src), np.uint8).reshape(-1, src.line_size)[:rows, :cols]
        b = np.frombuffer(memoryview(dst), np.uint8).reshape(-1, dst.line_size)[:rows, :cols]
        first = top >> (1 if k else 0)
        end = first + keep.shape[0]
        b[:] = a
        b[first:end] = np.clip(a[first:end] * keep + add + 0.5, 0, 255).astype(np.uint8)
    for name in ("colorspace", "color_range"):
        setattr(out, name, getattr(frame, name))
    return out


def burn_caption(picture: np.ndarray, text: str) -> np.ndarray:
    """``picture`` (RGB uint8) with ``text`` burned in as a title card caption: centred, wrapped white text
    on a dark band in the lower third. The upper two thirds are left untouched."""
    height, width = picture.shape[:2]
    top, alpha, colour = _caption_layer(width, height, text)
    out = picture.copy()
    region = out[top : top + alpha.shape[0]].astype(np.float32)
    out[top : top + alpha.shape[0]] = np.clip(region * (1.0 - alpha) + colour + 0.5, 0, 255).astype(np.uint8)
    return out


# -- rendering -------------------------------------------------------------------------------------------


def _stereo(audio: np.ndarray | None, audio_rate: int, samples: int) -> np.ndarray | None:
    """The mix as (2, samples) float32 at MIX_RATE, padded with silence or trimmed to the picture's length."""
    if audio is None:
        return None
    sound = np.asarray(audio, dtype=np.float32)
    if sound.ndim == 2 and sound.shape[0] in (1, 2) and sound.shape[1] > 2:
        sound = sound.T  # (channels, samples) given: make it (samples, channels)
    if sound.ndim == 1:
        sound = sound[:, None]
    if audio_rate != MIX_RATE:
        sound = np.stack([resample(sound[:, c], audio_rate, MIX_RATE) for c in range(sound.shape[1])], axis=1)
    if sound.shape[1] == 1:
        sound = np.repeat(sound, 2, axis=1)
    out = np.zeros((2, samples), np.float32)
    n = min(samples, sound.shape[0])
    out[:, :n] = sound[:n, :2].T
    return np.clip(out, -1.0, 1.0)


class _AudioWriter:
    """Feeds the mix to the audio encoder in step with the picture, so the file interleaves as it is written."""

    def __init__(self, out: av.container.OutputContainer, codec: str, sample_format: str, stereo: np.ndarray | None, samples: int):
        self.out, self.stereo, self.samples, self.format = out, stereo, samples, sample_format
        stream = out.add_stream(codec, rate=MIX_RATE, layout="stereo")
        assert isinstance(stream, av.AudioStream)
        self.stream = stream
        self.stream.time_base = Fraction(1, MIX_RATE)
        if codec == "aac":
            self.stream.bit_rate = AAC_BITRATE
        self.chunk = 1024
        self.at = 0

    def _frame(self, start: int, end: int) -> av.AudioFrame:
        block = self.stereo[:, start:end] if self.stereo is not None else np.zeros((2, end - start), np.float32)
        if self.format == "s16":
            data = np.round(block.T * 32767.0).astype(np.int16).reshape(1, -1)
        else:
            data = np.ascontiguousarray(block, dtype=np.float32)
        frame = av.AudioFrame.from_ndarray(data, format=self.format, layout="stereo")
        frame.sample_rate, frame.pts, frame.time_base = MIX_RATE, start, Fraction(1, MIX_RATE)
        return frame

    def until(self, sample: int) -> None:
        """Encode the mix up to ``sample`` (in whole encoder frames, the last one short)."""
        sample = min(sample, self.samples)
        while self.at + self.chunk <= sample or (sample == self.samples and self.at < sample):
            end = min(self.at + self.chunk, self.samples)
            for packet in self.stream.encode(self._frame(self.at, end)):
                self.out.mux(packet)
            self.at = end

    def close(self) -> None:
        self.until(self.samples)
        for packet in self.stream.encode(None):
            self.out.mux(packet)


def _media_check(tl: otio.schema.Timeline) -> None:
    """Every clip file exists and opens, before anything is written (a missing shot fails in a second,
    not after most of the film has been encoded)."""
    seen: set[str] = set()
    for span in _spans(tl):
        if span.path is not None and span.path not in seen:
            seen.add(span.path)
            _open_video(span.path, span.shot).close()


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _encode(
    tl: otio.schema.Timeline,
    partial: Path,
    codec: str,
    crf: int,
    preset: str,
    stereo: np.ndarray | None,
    samples: int,
    cards: Sequence[tuple[int, int, str]],
) -> int:
    """Stream the cut's pictures (and the mix, in step) into ``partial``; returns the frames written."""
    video_codec, pix_fmt, container_format, audio_codec, sample_format = CODECS[codec]
    rate = _exact_rate(tl)
    width, height = _size(tl)
    options = {"movflags": "+faststart"}  # the index first: the film plays in a browser before it has fully loaded
    count = 0
    with av.open(str(partial), "w", format=container_format, options=options) as out:
        video = out.add_stream(video_codec, rate=rate)
        assert isinstance(video, av.VideoStream)
        video.width, video.height, video.pix_fmt = width, height, pix_fmt
        # the muxer may change the stream's time base (MP4: 1/12288); frames are counted in 1/rate
        frame_time = 1 / rate
        video.time_base = video.codec_context.time_base = frame_time
        if video_codec == "libx264":
            # MB-tree rate control makes x264's output differ from run to run; without it every render is reproducible
            video.options = {"crf": str(crf), "preset": preset, "x264-params": "mbtree=0"}
        else:
            video.options = {"profile": "2", "vendor": "apl0"}  # ProRes 422 (standard)
        sound = _AudioWriter(out, audio_codec, sample_format, stereo, samples)
        for picture in _pictures(tl):
            text = next((t for a, b, t in cards if a <= count < b), None)
            if text is not None:
                picture = _burn_caption_frame(picture, text)
            picture.pts, picture.time_base = count, frame_time  # pts = frame index
            for packet in video.encode(picture):
                out.mux(packet)
            count += 1
            sound.until(math.floor(Fraction(count) / rate * MIX_RATE))
        for packet in video.encode(None):
            out.mux(packet)
        sound.close()
    return count


def render_film(
    tl: otio.schema.Timeline,
    path: str | os.PathLike[str],
    *,
    audio: np.ndarray | None = None,
    audio_rate: int = MIX_RATE,
    codec: Literal["h264", "prores"] = "h264",
    crf: int = 18,
    preset: str = "veryfast",
    captions: Sequence[tuple[int, int, str]] = (),
) -> dict[str, Any]:
    """Render the cut with its mix to ``path``: exactly ``duration_frames(tl)`` frames at the cut's exact
    rate and size, H.264 (yuv420p, CRF ``crf``) + AAC stereo 48 kHz in MP4, or ProRes 422 (10-bit 4:2:2)
    + 16-bit PCM in MOV when ``codec="prores"``. ``audio`` is the mono (or stereo) mix at ``audio_rate``,
    padded with silence or trimmed to the picture's length; None writes a silent track. ``captions`` are
    ``(first frame, end frame exclusive, text)`` title cards burned into the lower third.

    Frames stream from the clip files to the encoder (never the whole film in memory), into a temporary
    file renamed into place when complete. The same cut renders to the same bytes (x264 without MB-tree).
    Returns ``{"path", "frames", "duration_s", "frame_rate", "width", "height", "video_codec",
    "audio_codec", "sha256", "bytes", "seconds", "realtime"}`` (realtime: film seconds per wall second).
    """
    if codec not in CODECS:
        raise ValueError(f"codec '{codec}' is not one of {', '.join(CODECS)}")
    started = time.perf_counter()
    video_codec, _, _, audio_codec, _ = CODECS[codec]
    rate = _exact_rate(tl)
    width, height = _size(tl)
    frames = duration_frames(tl)
    if frames < 1:
        raise ValueError(f"timeline '{tl.name}' is empty: nothing to render")
    _media_check(tl)
    samples = math.floor(Fraction(frames) / rate * MIX_RATE)
    stereo = _stereo(audio, audio_rate, samples)
    cards = sorted((int(a), int(b), str(t)) for a, b, t in captions if int(b) > int(a) and str(t).strip())
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.partial")
    try:
        count = _encode(tl, partial, codec, crf, preset, stereo, samples, cards)
        if count != frames:
            raise ValueError(f"timeline '{tl.name}': rendered {count} frames, the cut has {frames}")
    except BaseException:
        partial.unlink(missing_ok=True)  # never leave half a film behind
        raise
    os.replace(partial, path)
    seconds = time.perf_counter() - started
    duration = float(Fraction(frames) / rate)
    return {
        "path": str(path),
        "frames": frames,
        "duration_s": duration,
        "frame_rate": str(rate),
        "width": width,
        "height": height,
        "video_codec": video_codec,
        "audio_codec": audio_codec,
        "sha256": _sha256(str(path)),
        "bytes": path.stat().st_size,
        "seconds": round(seconds, 3),
        "realtime": round(duration / seconds, 2) if seconds > 0 else float("inf"),
    }


# -- reading the film back -------------------------------------------------------------------------------


def probe_film(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A rendered film measured by decoding it (frames and samples counted, not read from headers):
    ``{"video_frames", "frame_rate", "width", "height", "video_codec", "audio_codec", "audio_rate",
    "audio_channels", "audio_s", "video_s", "duration_s"}`` (frame_rate as a fraction string)."""
    with av.open(str(path)) as container:
        video = container.streams.video[0] if container.streams.video else None
        audio = container.streams.audio[0] if container.streams.audio else None
        if video is None:
            raise ValueError(f"{path} has no picture")
        video.thread_type = "AUTO"
        rate = Fraction(video.average_rate or video.guessed_rate or 0)
        frames = samples = 0
        streams = [s for s in (video, audio) if s is not None]
        for packet in container.demux(*streams):
            for decoded in packet.decode():
                if isinstance(decoded, av.VideoFrame):
                    frames += 1
                elif isinstance(decoded, av.AudioFrame):
                    samples += decoded.samples
        info: dict[str, Any] = {
            "video_frames": frames,
            "frame_rate": str(rate),
            "width": video.width,
            "height": video.height,
            "video_codec": video.codec_context.name,
            "audio_codec": audio.codec_context.name if audio is not None else None,
            "audio_rate": audio.rate if audio is not None else None,
            "audio_channels": audio.channels if audio is not None else 0,
        }
    info["video_s"] = float(frames / rate) if rate else 0.0
    info["audio_s"] = samples / info["audio_rate"] if audio is not None else 0.0
    info["duration_s"] = max(info["video_s"], info["audio_s"])
    return info


#: Frames between poster frames above which seeking to each (and decoding from its keyframe) beats decoding
#: the whole film: about one x264 GOP.
POSTER_SEEK_GAP = 250


def _poster_frames(container: av.container.InputContainer, stream: av.VideoStream, wanted: Sequence[int]) -> Iterator[av.VideoFrame]:
    """The film's frames at the sorted indices ``wanted``: by seeking when they lie far apart, else in one pass."""
    rate = Fraction(stream.average_rate or stream.guessed_rate or 24)
    gap = (wanted[-1] - wanted[0]) / max(1, len(wanted) - 1) if wanted else 0
    if gap > POSTER_SEEK_GAP and stream.time_base:
        first_pts = stream.start_time or 0
        for index in wanted:
            pts = first_pts + round(Fraction(index) / rate / stream.time_base)
            container.seek(pts, stream=stream, backward=True)
            found = None
            for frame in container.decode(stream):
                found = frame
                if frame.pts is not None and frame.pts >= pts:
                    break
            if found is not None:
                yield found
        return
    targets = iter(wanted)
    target = next(targets, None)
    for index, frame in enumerate(container.decode(stream)):
        while index == target:
            yield frame
            target = next(targets, None)
        if target is None:
            break


def poster_strip(path: str | os.PathLike[str], n: int = 8, thumb_width: int = 160) -> bytes:
    """A JPEG strip of ``n`` frames evenly spaced through the film (the middle of each n-th), side by side:
    the film's poster in the UI. A long film is sampled by seeking, not decoded whole."""
    from PIL import Image

    if n < 1:
        raise ValueError(f"a poster strip needs at least one frame, got {n}")
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        stream.thread_type = "AUTO"
        total = stream.frames
        if not total:  # no count in the header: count once, then start again
            total = sum(1 for _ in container.decode(stream))
            container.seek(0, stream=stream)
        wanted = sorted({min(total - 1, math.floor((k + 0.5) * total / n)) for k in range(n)})
        thumb_h = max(2, round(stream.height * thumb_width / stream.width / 2) * 2)
        thumbs = [f.to_ndarray(format="rgb24", width=thumb_width, height=thumb_h) for f in _poster_frames(container, stream, wanted)]
    if not thumbs:
        raise ValueError(f"{path} has no pictures for a poster strip")
    buffer = io.BytesIO()
    Image.fromarray(np.hstack(thumbs)).save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


#: Width (px) pictures are scaled to before subject motion is measured: coarse enough that grain and
#: compression noise average out, fine enough to see a figure cross the frame.
MOTION_WIDTH = 96


def shot_motion(tl: otio.schema.Timeline) -> dict[str, float]:
    """Per shot, the motion in what the cut shows of it (see :func:`shot_pictures`)."""
    return {shot: motion for shot, (_, motion) in shot_pictures(tl).items()}


def shot_pictures(tl: otio.schema.Timeline) -> dict[str, tuple[np.ndarray, float]]:
    """Per shot, ``(keyframe, motion)`` from one low-resolution decode of its clip: the RGB picture
    (:data:`MOTION_WIDTH` px wide) at the shot's middle record frame, and the motion in what the cut
    shows of it.

    Motion: over consecutive frames of the shown source range, the grey-level change (0..255) that
    the most changed 2 % of the picture reaches (98th percentile), median over the shot. A
    percentile, not a mean, because a small figure running across a wide frame changes few pixels a
    lot, while film grain and compression change every pixel a little: on the sample clips moving
    figures read 20-45, grain, mist and still landscapes 3-12 (see ``review.STILL_MOTION``).
    Freezes and gaps are not measured."""
    out: dict[str, tuple[np.ndarray, float]] = {}
    for span in _spans(tl):
        if span.path is None or span.freeze_of is not None or span.shot in out:
            continue
        first, last = min(span.sources), max(span.sources)
        middle = span.sources[span.frames // 2]
        diffs: list[float] = []
        previous: np.ndarray | None = None
        keyframe: np.ndarray | None = None
        with _open_video(span.path, span.shot) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            height = max(2, round(MOTION_WIDTH * stream.height / max(stream.width, 1) / 2) * 2)
            for index, frame in enumerate(container.decode(stream)):
                if index > last:
                    break
                if index < first:
                    continue
                if index == middle:
                    keyframe = frame.to_ndarray(format="rgb24", width=MOTION_WIDTH, height=height)
                grey = frame.reformat(width=MOTION_WIDTH, height=height, format="gray").to_ndarray().astype(np.float32)
                if previous is not None:
                    diffs.append(float(np.percentile(np.abs(grey - previous), 98)))
                previous = grey
        if keyframe is None:
            raise ValueError(f"shot '{span.shot}': its media file {span.path} ends before frame {middle}")
        out[span.shot] = (keyframe, round(float(np.median(diffs)), 2) if diffs else 0.0)
    return out
