"""Sound design as a mixer would do it: fit each line to its shot, lay the lines on a dialogue track,
choose a score, duck the bed under speech, mix, and deliver at a loudness target.

Pure audio code (numpy, scipy, pyloudnorm, pedalboard's Rubber Band stretcher, librosa for music
analysis); no Dagster. Signals are mono float32 arrays; times are seconds on the film's timeline.

- :func:`fit_line` fits a spoken line into its shot: silence trimmed, short fades, padded with a
  breath; a line slightly too long is time-stretched (at most ``max_stretch``, pitch kept); a line
  that still does not fit is *reported*, never cut: a word lost is worse than a held shot.
- :func:`place_lines` lays fitted lines at shot level on a timeline: the dialogue stem.
- :func:`compress_dialogue` evens out the dialogue stem (so the final limiter barely works);
  :func:`duck` lowers a bed (music, ambience) under speech with a side-chain gain (attack, release,
  look-ahead); :func:`mix` sums stems; :func:`normalize` brings the mix to an integrated loudness
  (ITU-R BS.1770 via pyloudnorm) and a true-peak ceiling with a 4x-oversampled look-ahead limiter.
- :func:`measure` gives the figures a delivery spec asks for; :func:`choose_score` ranks music files
  for a scene's mood, tempo and energy, with reasons; :func:`nudge_cuts` moves cuts onto its beats
  where the picture has slack.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

#: The mix's sample rate: film and broadcast deliver at 48 kHz.
MIX_RATE = 48000
#: Delivery target for web and streaming film (EBU R128 S1 / Apple / Spotify-style): -16 LUFS integrated.
TARGET_LUFS = -16.0
#: True-peak ceiling: -1 dBTP leaves room for lossy encoders (AAC) which overshoot a little.
CEILING_DBTP = -1.0
#: How far below itself the bed sits under speech (dB); 10 dB is the usual minimum for clear dialogue.
DUCK_DEPTH_DB = -15.0
#: A line may be sped up this much (Rubber Band, pitch kept) before it sounds hurried.
MAX_STRETCH = 1.15
AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".oga", ".mp3", ".aiff", ".aif")

Regions = Sequence[tuple[float, float]]


# -- basics ----------------------------------------------------------------------------------------


def db(x: float) -> float:
    """Amplitude -> dB (-inf for silence)."""
    return 20.0 * math.log10(x) if x > 0 else -math.inf


def rms_db(signal: np.ndarray) -> float:
    """RMS level in dBFS."""
    return db(float(np.sqrt(np.mean(np.square(signal, dtype=np.float64))))) if len(signal) else -math.inf


def region_rms_db(signal: np.ndarray, rate: int, regions: Regions) -> float:
    """RMS level (dBFS) of ``signal`` over the time ``regions`` together (how loud the bed is under the lines)."""
    parts = [signal[max(0, round(a * rate)) : max(0, round(b * rate))] for a, b in regions]
    parts = [p for p in parts if len(p)]
    return rms_db(np.concatenate(parts)) if parts else -math.inf


def resample(audio: np.ndarray, from_rate: int, to_rate: int) -> np.ndarray:
    """High-quality resampling (soxr), e.g. a 22.05 kHz voice onto the 48 kHz mix."""
    if from_rate == to_rate:
        return np.asarray(audio, np.float32)
    import soxr

    return soxr.resample(np.asarray(audio, np.float32), from_rate, to_rate, quality="HQ").astype(np.float32)


def load_audio(path: str | os.PathLike, rate: int = MIX_RATE, *, offset_s: float = 0.0, duration_s: float | None = None) -> np.ndarray:
    """A sound file (wav, flac, ogg, ...) as mono float32 at ``rate`` (channels averaged)."""
    import soundfile as sf

    with sf.SoundFile(str(path)) as f:
        f.seek(min(f.frames, round(offset_s * f.samplerate)))
        frames = -1 if duration_s is None else round(duration_s * f.samplerate)
        audio = f.read(frames, dtype="float32", always_2d=True)
        source_rate = f.samplerate
    return resample(audio.mean(axis=1), source_rate, rate)


def write_wav(path: str | os.PathLike, audio: np.ndarray, rate: int, subtype: str = "PCM_16") -> dict[str, Any]:
    """A mono WAV (16-bit for takes, ``PCM_24`` for stems) that every editor reads: ``{"path", "samples", "rate", "duration_s"}``."""
    import soundfile as sf

    audio = np.clip(np.asarray(audio, np.float32), -1.0, 1.0)
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    sf.write(str(path), audio, rate, subtype=subtype, format="WAV")
    return {"path": str(path), "samples": len(audio), "rate": int(rate), "duration_s": round(len(audio) / rate, 4)}


def fade(audio: np.ndarray, rate: int, fade_in_s: float = 0.0, fade_out_s: float = 0.0) -> np.ndarray:
    """Raised-cosine fades at the head and tail (no click at an edit)."""
    out = np.array(audio, np.float32, copy=True)
    for seconds, head in ((fade_in_s, True), (fade_out_s, False)):
        n = min(len(out), round(seconds * rate))
        if n <= 0:
            continue
        ramp = (0.5 - 0.5 * np.cos(np.linspace(0.0, math.pi, n))).astype(np.float32)
        if head:
            out[:n] *= ramp
        else:
            out[-n:] *= ramp[::-1]
    return out


def speech_bounds(audio: np.ndarray, rate: int, *, floor_db: float = -45.0, margin_s: float = 0.05) -> tuple[int, int]:
    """(first, last) sample of the spoken part: frames within ``floor_db`` of the loudest, widened by ``margin_s``.

    Silence outside these bounds may be trimmed; nothing inside them ever is.
    """
    hop = max(1, round(0.01 * rate))
    n = len(audio) // hop
    if n == 0:
        return 0, len(audio)
    frames = np.sqrt(np.mean(np.square(audio[: n * hop].reshape(n, hop), dtype=np.float64), axis=1))
    loud = frames > frames.max() * 10 ** (floor_db / 20) if frames.max() > 0 else np.zeros(n, bool)
    if not loud.any():
        return 0, 0
    first, last = int(np.argmax(loud)), int(n - 1 - np.argmax(loud[::-1]))
    margin = round(margin_s * rate)
    return max(0, first * hop - margin), min(len(audio), (last + 1) * hop + margin)


# -- dialogue --------------------------------------------------------------------------------------


@dataclass
class FittedLine:
    """A line fitted to its shot. ``audio`` spans the shot (or more, when ``status == 'too_long'``).

    ``speech_start_s``/``speech_end_s``: where the words are inside ``audio``; ``stretch``: the speed-up
    applied (1.0 = none); ``overflow_s``: how far the words run past the shot's end (0 when it fits).
    """

    audio: np.ndarray
    rate: int
    status: Literal["fits", "stretched", "too_long", "silent"]
    slot_s: float
    speech_s: float
    speech_start_s: float
    speech_end_s: float
    stretch: float = 1.0
    overflow_s: float = 0.0
    note: str = ""


def fit_line(
    audio: np.ndarray,
    rate: int,
    slot_s: float,
    *,
    lead_s: float = 0.2,
    tail_s: float = 0.15,
    max_stretch: float = MAX_STRETCH,
    fade_s: float = 0.01,
) -> FittedLine:
    """Fit a spoken line into a shot of ``slot_s`` seconds.

    The silence around the words is trimmed (a ``margin`` of room tone kept), the edges faded, and the
    words placed ``lead_s`` into the shot when there is room (less when not). A line longer than the
    shot is sped up by Rubber Band (pitch and formants kept) up to ``max_stretch``; beyond that it is
    returned whole at ``max_stretch`` with ``status='too_long'`` and the overflow measured: the
    review holds the shot or trims the script, the mixer never cuts a word.
    """
    import pedalboard

    slot_n = max(0, round(slot_s * rate))
    a, b = speech_bounds(audio, rate)
    words = fade(np.asarray(audio[a:b], np.float32), rate, fade_s, fade_s)
    speech_s = len(words) / rate
    if len(words) == 0:
        return FittedLine(np.zeros(slot_n, np.float32), rate, "silent", slot_s, 0.0, 0.0, 0.0, note="the take is silent")
    stretch, status, note = 1.0, "fits", ""
    if len(words) > slot_n:
        need = len(words) / max(slot_n, 1)
        stretch = min(need * 1.005, max_stretch)  # a hair faster than exact: Rubber Band's length is not sample-exact
        spoken = words
        words = pedalboard.time_stretch(spoken, rate, stretch_factor=stretch).reshape(-1).astype(np.float32)
        if len(words) > slot_n and stretch < max_stretch:  # Rubber Band came out a little long: once more, a little faster
            stretch = min(max_stretch, stretch * len(words) / max(slot_n, 1) * 1.005)
            words = pedalboard.time_stretch(spoken, rate, stretch_factor=stretch).reshape(-1).astype(np.float32)
        words = fade(words, rate, fade_s, fade_s)
        status = "stretched" if len(words) <= slot_n else "too_long"
        if status == "too_long":
            note = (
                f"the line needs {speech_s:.2f} s and the shot holds {slot_s:.2f} s: even at {max_stretch:.2f}x it runs "
                f"{(len(words) - slot_n) / rate:.2f} s over; hold the shot or shorten the line (nothing was cut)"
            )
        else:
            note = f"sped up {stretch:.3f}x (pitch kept) to fit {slot_s:.2f} s"
    spare = max(0, slot_n - len(words))
    lead = min(round(lead_s * rate), round(spare * lead_s / (lead_s + tail_s))) if lead_s + tail_s > 0 else 0
    out = np.zeros(max(slot_n, lead + len(words)), np.float32)
    out[lead : lead + len(words)] = words
    return FittedLine(
        audio=out,
        rate=rate,
        status=status,  # type: ignore[arg-type]
        slot_s=slot_s,
        speech_s=round(speech_s, 4),
        speech_start_s=lead / rate,
        speech_end_s=(lead + len(words)) / rate,
        stretch=round(stretch, 4),
        overflow_s=round(max(0, lead + len(words) - slot_n) / rate, 4),
        note=note,
    )


@dataclass
class LineCue:
    """One line to place: said over the shot that starts at ``shot_start_s`` and lasts ``shot_duration_s``."""

    name: str
    text: str
    audio: np.ndarray
    rate: int
    shot_start_s: float
    shot_duration_s: float


@dataclass
class PlacedLine:
    """Where a line's words landed on the timeline (for subtitles, ducking and the review)."""

    name: str
    text: str
    start_s: float
    end_s: float
    status: str
    stretch: float
    overflow_s: float
    note: str = ""


@dataclass
class DialogueStem:
    """The dialogue track: ``signal`` at ``rate``, the placed ``lines`` and any ``problems`` found placing them."""

    signal: np.ndarray
    rate: int
    lines: list[PlacedLine]
    problems: list[str] = field(default_factory=list)

    @property
    def regions(self) -> list[tuple[float, float]]:
        """Timeline seconds where words are spoken."""
        return [(p.start_s, p.end_s) for p in self.lines if p.end_s > p.start_s]

    @property
    def duration_s(self) -> float:
        return len(self.signal) / self.rate


def place_lines(cues: Iterable[LineCue], duration_s: float, rate: int = MIX_RATE, **fit: float) -> DialogueStem:
    """Fit each line to its shot and lay it on one dialogue track of (at least) ``duration_s``.

    A line that runs past its shot keeps every word: it spills over the next shot, and the stem grows
    past the film's end if it must; both are reported in ``problems``, as are lines that overlap.
    ``fit`` passes ``lead_s``/``tail_s``/``max_stretch`` on to :func:`fit_line`.
    """
    placed: list[tuple[int, np.ndarray, PlacedLine]] = []
    problems: list[str] = []
    for cue in cues:
        fitted = fit_line(resample(cue.audio, cue.rate, rate), rate, cue.shot_duration_s, **fit)  # type: ignore[arg-type]
        at = round(cue.shot_start_s * rate)
        line = PlacedLine(
            name=cue.name,
            text=cue.text,
            start_s=round(cue.shot_start_s + fitted.speech_start_s, 4),
            end_s=round(cue.shot_start_s + fitted.speech_end_s, 4),
            status=fitted.status,
            stretch=fitted.stretch,
            overflow_s=fitted.overflow_s,
            note=fitted.note,
        )
        if fitted.status == "too_long":
            problems.append(f"{cue.name}: {fitted.note}")
        placed.append((at, fitted.audio, line))
    end = max([round(duration_s * rate)] + [at + len(a) for at, a, _ in placed])
    if end > round(duration_s * rate):
        problems.append(f"dialogue runs {end / rate - duration_s:.2f} s past the film's end ({duration_s:.2f} s)")
    signal = np.zeros(end, np.float32)
    for at, audio, _ in placed:
        signal[at : at + len(audio)] += audio
    lines = sorted((p for _, _, p in placed), key=lambda p: p.start_s)
    for earlier, later in itertools.pairwise(lines):
        if later.start_s < earlier.end_s:
            problems.append(f"{earlier.name} and {later.name} overlap by {earlier.end_s - later.start_s:.2f} s")
    return DialogueStem(signal, rate, lines, problems)


# -- beds, ducking, mixing -------------------------------------------------------------------------


def fit_bed(
    audio: np.ndarray, rate: int, duration_s: float, *, offset_s: float = 0.0, fade_in_s: float = 1.0, fade_out_s: float = 2.0
) -> np.ndarray:
    """A music or ambience bed cut to ``duration_s`` from ``offset_s``, faded in and out; a short one loops
    (with a short crossfade-free fade at each repeat) rather than stopping dead."""
    n = round(duration_s * rate)
    body = np.asarray(audio[round(offset_s * rate) :], np.float32)
    if len(body) == 0:
        return np.zeros(n, np.float32)
    if len(body) < n:
        loop = fade(body, rate, 0.02, 0.02)
        body = np.tile(loop, math.ceil(n / len(loop)))
    return fade(body[:n], rate, fade_in_s, fade_out_s)


def ducking_gain(
    dialogue: np.ndarray,
    rate: int,
    *,
    depth_db: float = DUCK_DEPTH_DB,
    threshold_db: float = -45.0,
    attack_s: float = 0.08,
    release_s: float = 0.6,
    hold_s: float = 0.5,
    lookahead_s: float | None = None,
    regions: Regions = (),
) -> np.ndarray:
    """The side-chain gain (linear, per sample) that dips a bed by ``depth_db`` while someone speaks.

    Speech is where the dialogue's 10 ms RMS rises above ``threshold_db`` (dBFS, and within 40 dB of its
    loudest frame); ``hold_s`` bridges the gaps between words so the music does not pump; the gain
    slews down over ``attack_s`` starting ``lookahead_s`` (default: ``attack_s``) before the first word,
    so the bed is fully down when the line starts, and back up over ``release_s``. ``regions`` (timeline
    seconds, e.g. :attr:`DialogueStem.regions`) count as speech throughout, so the bed stays down for a
    whole line, pauses included, as a mixer would ride it.
    """
    hop = max(1, round(0.01 * rate))
    n_frames = math.ceil(len(dialogue) / hop)
    if n_frames == 0:
        return np.ones(0, np.float32)
    padded = np.zeros(n_frames * hop, np.float32)
    padded[: len(dialogue)] = dialogue
    frame_db = 10 * np.log10(np.mean(np.square(padded.reshape(n_frames, hop), dtype=np.float64), axis=1) + 1e-12)
    active = frame_db > max(threshold_db, float(frame_db.max()) - 40.0)
    for a, b in regions:
        active[max(0, math.floor(a * rate / hop)) : max(0, math.ceil(b * rate / hop))] = True
    lookahead = round((attack_s if lookahead_s is None else lookahead_s) / 0.01)
    hold = round(hold_s / 0.01)
    wide = _widen(active, lookahead, hold)  # the duck starts before the first word and outlasts the gaps between words
    target = np.where(wide, depth_db, 0.0)
    down, up = abs(depth_db) * 0.01 / max(attack_s, 1e-3), abs(depth_db) * 0.01 / max(release_s, 1e-3)
    gain_db = np.zeros(n_frames)
    level = 0.0
    for i, t in enumerate(target):  # a slew limiter at 100 Hz: cheap in Python, smooth once interpolated
        level = max(t, level - down) if t < level else min(t, level + up)
        gain_db[i] = level
    centres = (np.arange(n_frames) + 0.5) * hop
    return (10 ** (np.interp(np.arange(len(dialogue)), centres, gain_db) / 20)).astype(np.float32)


def _widen(active: np.ndarray, before: int, after: int) -> np.ndarray:
    """True where an active frame lies within ``before`` frames ahead or ``after`` frames behind."""
    out = active.copy()
    idx = np.flatnonzero(active)
    if len(idx) == 0:
        return out
    delta = np.zeros(len(active) + 1, np.int32)
    np.add.at(delta, np.clip(idx - before, 0, len(active)), 1)
    np.add.at(delta, np.clip(idx + after + 1, 0, len(active)), -1)
    return np.cumsum(delta[:-1]) > 0


def duck(bed: np.ndarray, dialogue: np.ndarray, rate: int, **side_chain: float | Regions) -> tuple[np.ndarray, np.ndarray]:
    """The bed dipped under the dialogue (see :func:`ducking_gain`); returns (ducked bed, gain)."""
    n = len(bed)
    side = np.zeros(n, np.float32)
    side[: min(n, len(dialogue))] = dialogue[:n]
    gain = ducking_gain(side, rate, **side_chain)  # type: ignore[arg-type]
    return (np.asarray(bed, np.float32) * gain).astype(np.float32), gain


def compress_dialogue(
    dialogue: np.ndarray, rate: int, *, threshold_db: float = -24.0, ratio: float = 3.0, attack_ms: float = 5.0, release_ms: float = 120.0
) -> np.ndarray:
    """Even out a dialogue stem as a dialogue mixer does (pedalboard's compressor, level-matched afterwards):
    loud syllables come down, so the final limiter has less to do and the words sit steadily over the bed."""
    import pedalboard

    x = np.asarray(dialogue, np.float32)
    if not len(x) or not np.any(x):
        return x.copy()
    # Compress relative to the line's own level: threshold_db is below the stem's loudest 10 ms, not absolute.
    hop = max(1, round(0.01 * rate))
    n = max(1, len(x) // hop)
    loudest = 10 * math.log10(float(np.mean(np.square(x[: n * hop].reshape(n, hop), dtype=np.float64), axis=1).max()) + 1e-12)
    comp = pedalboard.Compressor(threshold_db=loudest + threshold_db, ratio=ratio, attack_ms=attack_ms, release_ms=release_ms)
    out = comp(x, rate).reshape(-1).astype(np.float32)
    return (out * 10 ** ((rms_db(x) - rms_db(out)) / 20)).astype(np.float32)  # same overall level: only the dynamics change


def mix(stems: Mapping[str, np.ndarray], gains_db: Mapping[str, float] | None = None) -> np.ndarray:
    """Sum the stems (dialogue, music, effects), each at its fader level in dB; shorter stems are padded."""
    gains_db = gains_db or {}
    n = max((len(s) for s in stems.values()), default=0)
    out = np.zeros(n, np.float64)
    for name, stem in stems.items():
        out[: len(stem)] += np.asarray(stem, np.float64) * 10 ** (gains_db.get(name, 0.0) / 20)
    return out.astype(np.float32)


# -- loudness --------------------------------------------------------------------------------------


def _oversampled_peaks(signal: np.ndarray, oversample: int = 4) -> np.ndarray:
    """Per input sample, the largest |value| of the 4x-oversampled signal around it (BS.1770 true peak).

    A 12-taps-per-phase Kaiser-windowed sinc, as BS.1770-4 Annex 2's 48-tap interpolator; float32 to stay fast.
    """
    from scipy.signal import firwin, upfirdn

    x = np.asarray(signal, np.float32)
    n = len(x)
    if n == 0:
        return np.zeros(0, np.float32)
    taps = 12 * oversample
    h = (firwin(taps, 1.0 / oversample, window=("kaiser", 7.0)) * oversample).astype(np.float32)
    # upfirdn gives (n - 1) * oversample + taps values: past the filter's delay at least n * oversample remain.
    up = np.abs(upfirdn(h, x, up=oversample)[(taps - 1) // 2 :][: n * oversample])
    return np.maximum(np.abs(x), up.reshape(n, oversample).max(axis=1))


def true_peak_dbtp(signal: np.ndarray, rate: int, oversample: int = 4) -> float:
    """True peak in dBTP, measured on the signal oversampled 4x (ITU-R BS.1770-4 Annex 2)."""
    return db(float(_oversampled_peaks(signal, oversample).max())) if len(signal) else -math.inf


def integrated_lufs(signal: np.ndarray, rate: int) -> float:
    """Integrated loudness (LUFS, BS.1770 gated); NaN when shorter than one 400 ms block, -inf when silent."""
    import pyloudnorm

    if len(signal) < round(0.4 * rate):
        return math.nan
    return float(pyloudnorm.Meter(rate).integrated_loudness(np.asarray(signal, np.float64)))


def _limiter_gain(peaks: np.ndarray, rate: int, ceiling_dbtp: float, window_s: float) -> np.ndarray:
    """Per-sample gain that keeps every true peak under the ceiling, smooth over ``window_s``."""
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    need = np.minimum(1.0, 10 ** (ceiling_dbtp / 20) / np.maximum(peaks, 1e-12))
    if need.min() >= 1.0:
        return np.ones(len(peaks))
    w = max(1, round(window_s * rate))
    # min over +-w then a mean over +-w/2: every sample within w/2 of a peak is averaged from gains <= that peak's need.
    held = minimum_filter1d(need, size=2 * w + 1, mode="nearest")
    return uniform_filter1d(held, size=w | 1, mode="nearest")


def limit_true_peak(signal: np.ndarray, rate: int, ceiling_dbtp: float = CEILING_DBTP, *, window_s: float = 0.05) -> np.ndarray:
    """A look-ahead brick-wall limiter on true peaks: the 4x-oversampled peaks set the gain needed at each
    sample; a ``window_s`` minimum-hold then an average of half that length make the gain smooth (no
    distortion from fast gain changes) while never exceeding what any peak in reach needs."""
    gain = _limiter_gain(_oversampled_peaks(signal), rate, ceiling_dbtp, window_s)
    return (np.asarray(signal, np.float64) * gain).astype(np.float32)


def normalize(
    signal: np.ndarray,
    rate: int,
    target_lufs: float = TARGET_LUFS,
    ceiling_dbtp: float = CEILING_DBTP,
    *,
    tolerance_lu: float = 0.1,
    window_s: float = 0.05,
) -> tuple[np.ndarray, dict[str, float]]:
    """Deliver the mix at ``target_lufs`` integrated with true peaks at most ``ceiling_dbtp``.

    Gain to the target, then the true-peak limiter; limiting costs loudness, so the gain is raised and
    the limiter run again until within ``tolerance_lu`` (a few passes). Returns the mix and a report:
    ``input_lufs``, ``gain_db`` (before limiting), ``limiter_max_reduction_db`` (its deepest dip),
    ``limited_s`` (time the limiter worked), ``passes``, ``integrated_lufs`` and ``true_peak_dbtp`` of the result, and
    ``missed_lu`` (target minus result: a mix too peaky to reach the target without crushing it stops short).
    """
    before = integrated_lufs(signal, rate)
    if not math.isfinite(before):
        raise ValueError(f"cannot normalize: the mix is silent or shorter than 0.4 s (integrated loudness {before})")
    source = np.asarray(signal, np.float64)
    peaks = _oversampled_peaks(source)  # true peaks scale with gain: oversample once, not once per pass
    aim = ceiling_dbtp - 0.1  # the gain is smooth, not exact between samples, and meters differ: a tenth of a dB in hand
    gain_db, tried, passes = target_lufs - before, [], 0
    while passes < 8:
        passes += 1
        scale = 10 ** (gain_db / 20)
        gain = _limiter_gain(peaks * scale, rate, aim, window_s)
        out = (source * (scale * gain)).astype(np.float32)
        loudness = integrated_lufs(out, rate)
        tried.append((gain_db, loudness))
        miss = target_lufs - loudness
        if abs(miss) <= tolerance_lu:
            break
        # Secant step: under heavy limiting 1 dB more gain buys less than 1 dB of loudness.
        (g0, l0), (g1, l1) = tried[-2] if len(tried) > 1 else (gain_db - 1.0, loudness - 1.0), tried[-1]
        slope = (l1 - l0) / (g1 - g0) if g1 != g0 else 1.0
        if slope < 0.2 and len(tried) > 1:
            break  # the limiter eats what gain gives: more would only crush the mix (reported as missed)
        gain_db += float(np.clip(miss / min(1.0, max(slope, 0.2)), -6.0, 6.0))
    peak = true_peak_dbtp(out, rate)
    if peak > ceiling_dbtp - 0.02:  # the limiter's residue between samples, if any: a static trim of hundredths of a dB
        out = (out * 10 ** ((ceiling_dbtp - 0.02 - peak) / 20)).astype(np.float32)
        peak = true_peak_dbtp(out, rate)
    result = {"integrated_lufs": round(integrated_lufs(out, rate), 2), "true_peak_dbtp": round(peak, 2)}
    report = {
        "input_lufs": round(before, 2),
        "gain_db": round(gain_db, 2),
        "limiter_max_reduction_db": round(-db(float(gain.min())), 2),
        "limited_s": round(float(np.count_nonzero(gain < 0.999)) / rate, 3),
        "passes": passes,
        "integrated_lufs": result["integrated_lufs"],
        "true_peak_dbtp": result["true_peak_dbtp"],
        "missed_lu": round(target_lufs - result["integrated_lufs"], 2),  # > 1 means the mix is too peaky to reach the target
    }
    return out, report


def measure(signal: np.ndarray, rate: int) -> dict[str, float]:
    """The delivery figures: ``integrated_lufs``, ``true_peak_dbtp``, ``sample_peak_dbfs``, ``rms_dbfs``,
    ``clipped_samples`` (|x| >= 1) and ``duration_s``."""
    x = np.asarray(signal, np.float32)
    return {
        "integrated_lufs": round(integrated_lufs(x, rate), 2),
        "true_peak_dbtp": round(true_peak_dbtp(x, rate), 2),
        "sample_peak_dbfs": round(db(float(np.abs(x).max())) if len(x) else -math.inf, 2),
        "rms_dbfs": round(rms_db(x), 2),
        "clipped_samples": int(np.count_nonzero(np.abs(x) >= 1.0)),
        "duration_s": round(len(x) / rate, 4),
    }


# -- the score -------------------------------------------------------------------------------------

#: What a scene's mood asks of its score: tempo range (bpm), energy (0 calm .. 1 driving), brightness (spectral centroid, Hz).
MOOD_MUSIC: dict[str, tuple[tuple[float, float], float, float]] = {
    "calm": ((60, 95), 0.3, 1300),
    "cheerful": ((100, 140), 0.7, 2000),
    "playful": ((100, 150), 0.65, 2000),
    "comic": ((100, 160), 0.65, 2000),
    "tender": ((60, 95), 0.3, 1300),
    "melancholy": ((55, 90), 0.3, 1000),
    "tense": ((90, 140), 0.6, 1500),
    "frantic": ((140, 200), 0.9, 2200),
    "mysterious": ((60, 100), 0.4, 1000),
    "eerie": ((50, 90), 0.3, 900),
    "triumphant": ((100, 140), 0.85, 2000),
    "somber": ((50, 80), 0.3, 900),
}
_PACE_BPM = {"slow": (55.0, 90.0), "moderate": (90.0, 120.0), "fast": (120.0, 180.0)}
_ENERGY_WORDS = {"low": 0.25, "medium": 0.55, "high": 0.85}


@dataclass
class MusicAnalysis:
    """What the ear judges a cue by: tempo and beats (librosa), loudness, note density and brightness."""

    path: str
    duration_s: float
    tempo_bpm: float
    beats_s: list[float]
    rms_dbfs: float
    onsets_per_s: float
    brightness_hz: float

    @property
    def energy(self) -> float:
        """0 (still, quiet) .. 1 (loud, busy): half level, half note density."""
        level = min(1.0, max(0.0, (self.rms_dbfs + 30.0) / 15.0))
        density = min(1.0, self.onsets_per_s / 6.0)
        return round(0.5 * level + 0.5 * density, 3)


@dataclass
class ScoreChoice:
    """A ranked candidate: lower ``distance`` fits better; ``reasons`` say why in words."""

    path: str
    distance: float
    analysis: MusicAnalysis
    reasons: list[str]


_ANALYSES: dict[tuple[str, int, int, float], MusicAnalysis] = {}


def analyse_music(path: str | os.PathLike, max_s: float = 30.0) -> MusicAnalysis:
    """Analyse up to ``max_s`` seconds from the middle of a music file (intros are often quiet); cached per file version."""
    import librosa
    import soundfile as sf

    p = Path(path)
    st = p.stat()
    key = (str(p.resolve()), st.st_size, st.st_mtime_ns, max_s)
    if key in _ANALYSES:
        return _ANALYSES[key]
    duration = float(sf.info(str(p)).duration)
    offset = 0.0 if duration <= max_s else min(15.0, (duration - max_s) / 2)
    rate = 22050
    y = load_audio(p, rate, offset_s=offset, duration_s=max_s)
    tempo, beats = librosa.beat.beat_track(y=y, sr=rate, units="time")
    rms = librosa.feature.rms(y=y)[0]
    centroid = librosa.feature.spectral_centroid(y=y, sr=rate)[0]
    onsets = librosa.onset.onset_detect(y=y, sr=rate, units="time")
    seconds = max(len(y) / rate, 1e-3)
    result = MusicAnalysis(
        path=str(p),
        duration_s=round(duration, 3),
        tempo_bpm=round(float(np.atleast_1d(tempo)[0]), 1),
        beats_s=[round(float(b) + offset, 3) for b in beats],
        rms_dbfs=round(db(float(rms.mean())), 1),
        onsets_per_s=round(len(onsets) / seconds, 2),
        brightness_hz=round(float(np.median(centroid)), 0),
    )
    _ANALYSES[key] = result
    return result


def _tempo_distance(bpm: float, low: float, high: float) -> tuple[float, float]:
    """(octaves outside the wanted range, the reading used): beat trackers often find half or double time."""
    best = (math.inf, bpm)
    for reading, penalty in ((bpm, 0.0), (bpm * 2, 0.15), (bpm / 2, 0.15)):
        off = 0.0 if low <= reading <= high else min(abs(math.log2(reading / low)), abs(math.log2(reading / high)))
        best = min(best, (off + penalty if off or penalty else 0.0, reading))
    return best


def choose_score(
    folder: str | os.PathLike,
    mood: str,
    tempo_hint: float | str | None = None,
    energy_hint: float | str | None = None,
    *,
    need_s: float | None = None,
    max_s: float = 30.0,
) -> list[ScoreChoice]:
    """Rank the music files in ``folder`` for a scene, best first, each with its reasons.

    ``mood``: a brief mood (``calm``, ``tense``, ...) giving tempo range, energy and brightness;
    ``tempo_hint``: bpm, or a pace word (``slow``/``moderate``/``fast``), overriding the mood's tempo;
    ``energy_hint``: 0..1 or ``low``/``medium``/``high``; ``need_s``: the scene's length (a shorter cue
    must loop, which counts against it).
    """
    if mood not in MOOD_MUSIC:
        raise ValueError(f"unknown mood {mood!r}: one of {sorted(MOOD_MUSIC)}")
    (low, high), energy, bright = MOOD_MUSIC[mood]
    tempo_why = f"{mood} wants {low:.0f}-{high:.0f} bpm"
    if isinstance(tempo_hint, str):
        if tempo_hint not in _PACE_BPM:
            raise ValueError(f"unknown pace {tempo_hint!r}: one of {sorted(_PACE_BPM)}, or a tempo in bpm")
        low, high = _PACE_BPM[tempo_hint]
        tempo_why = f"a {tempo_hint} pace wants {low:.0f}-{high:.0f} bpm"
    elif tempo_hint is not None:
        low, high = float(tempo_hint) * 0.9, float(tempo_hint) * 1.1
        tempo_why = f"asked for about {float(tempo_hint):.0f} bpm"
    if isinstance(energy_hint, str) and energy_hint not in _ENERGY_WORDS:
        raise ValueError(f"unknown energy {energy_hint!r}: one of {sorted(_ENERGY_WORDS)}, or 0..1")
    if energy_hint is not None:
        energy = _ENERGY_WORDS[energy_hint] if isinstance(energy_hint, str) else float(energy_hint)
    files = sorted(p for p in Path(folder).iterdir() if p.suffix.lower() in AUDIO_SUFFIXES)
    choices = []
    for p in files:
        a = analyse_music(p, max_s)
        t_off, reading = _tempo_distance(a.tempo_bpm, low, high)
        e_off = abs(a.energy - energy)
        b_off = abs(math.log2(max(a.brightness_hz, 1.0) / bright))
        loop = 0.3 if need_s and a.duration_s < need_s else 0.0
        distance = round(2.0 * t_off + 1.5 * e_off + 0.5 * b_off + loop, 3)
        heard = f"{a.tempo_bpm:.0f} bpm" + (f" (read as {reading:.0f})" if reading != a.tempo_bpm else "")
        reasons = [
            f"tempo {heard}: {'in range' if t_off == 0 else f'{t_off:.2f} octave off'}; {tempo_why}",
            f"energy {a.energy:.2f} (level {a.rms_dbfs:.0f} dBFS, {a.onsets_per_s:.1f} onsets/s) vs {energy:.2f} wanted",
            f"brightness {a.brightness_hz:.0f} Hz vs about {bright:.0f} Hz ({'brighter' if a.brightness_hz > bright else 'darker'})",
        ]
        if loop:
            reasons.append(f"only {a.duration_s:.1f} s long for a {need_s:.1f} s scene: it would loop")
        choices.append(ScoreChoice(str(p), distance, a, reasons))
    return sorted(choices, key=lambda c: (c.distance, c.path))


def nudge_cuts(cuts_s: Sequence[float], beats_s: Sequence[float], slack_s: float | Sequence[float] = 0.25) -> list[float]:
    """Move each cut onto the nearest beat of the score when one lies within its slack (seconds either way).

    ``slack_s``: one value for all cuts, or one per cut (0 where the picture is locked to a line or an
    action); a cut with no beat in reach stays where the editor put it.
    """
    slacks = [float(slack_s)] * len(cuts_s) if isinstance(slack_s, (int, float)) else [float(x) for x in slack_s]
    if len(slacks) != len(cuts_s):
        raise ValueError(f"{len(cuts_s)} cuts but {len(slacks)} slack values")
    beats = np.asarray(sorted(beats_s), np.float64)
    out = []
    for cut, slack in zip(cuts_s, slacks, strict=True):
        if len(beats) == 0:
            out.append(float(cut))
            continue
        nearest = float(beats[int(np.argmin(np.abs(beats - cut)))])
        out.append(nearest if abs(nearest - cut) <= slack + 1e-9 else float(cut))  # 2.5 - 2.3 is 0.2000...2 in floats
    return out
