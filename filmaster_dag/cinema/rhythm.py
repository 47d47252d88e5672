"""A film's rhythm: how long its shots last, and how its cuts sit against the soundtrack's beat."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from .media import Soundtrack


@dataclass
class ShotLengthStats:
    """Shot-length statistics in seconds (ASL = average shot length)."""

    shot_count: int
    average_shot_length_s: float
    median_shot_length_s: float
    std_shot_length_s: float
    min_shot_length_s: float
    max_shot_length_s: float
    p10_s: float
    p90_s: float
    cuts_per_minute: float
    # Shot-length distribution: counts per bin, with bin edges in seconds.
    histogram_edges_s: list[float] = field(default_factory=list)
    histogram_counts: list[int] = field(default_factory=list)


# Bin edges used for every film, so distributions are comparable across the library.
SHOT_LENGTH_BINS_S = [0.0, 0.5, 1.0, 2.0, 3.0, 5.0, 8.0, 13.0, 21.0, 34.0, 60.0, float("inf")]


def shot_length_stats(durations_s: list[float] | np.ndarray, film_duration_s: float | None = None) -> ShotLengthStats:
    d = np.asarray(durations_s, dtype=float)
    if d.size == 0:
        raise ValueError("a film has at least one shot")
    total = film_duration_s if film_duration_s else float(d.sum())
    counts, _ = np.histogram(d, bins=SHOT_LENGTH_BINS_S)
    return ShotLengthStats(
        shot_count=int(d.size),
        average_shot_length_s=float(d.mean()),
        median_shot_length_s=float(np.median(d)),
        std_shot_length_s=float(d.std()),
        min_shot_length_s=float(d.min()),
        max_shot_length_s=float(d.max()),
        p10_s=float(np.percentile(d, 10)),
        p90_s=float(np.percentile(d, 90)),
        cuts_per_minute=float((d.size - 1) / (total / 60.0)) if total > 0 else 0.0,
        histogram_edges_s=[float(e) for e in SHOT_LENGTH_BINS_S],
        histogram_counts=[int(c) for c in counts],
    )


@dataclass
class SoundtrackRhythm:
    """Beat and energy of a soundtrack (librosa), on the film's clock (seconds)."""

    tempo_bpm: float
    beat_times_s: np.ndarray
    onset_times_s: np.ndarray  # frame times of the onset-strength envelope
    onset_strength: np.ndarray
    rms_times_s: np.ndarray
    rms: np.ndarray
    sample_rate: int
    duration_s: float


def soundtrack_rhythm(track: Soundtrack, hop_length: int = 512) -> SoundtrackRhythm:
    """Tempo, beats, onset strength and RMS energy of a soundtrack."""
    import librosa

    y, sr = track.samples, track.sample_rate
    if y.size < hop_length * 4 or float(np.max(np.abs(y))) < 1e-6:
        empty = np.zeros(0)
        return SoundtrackRhythm(0.0, empty, empty, empty, empty, empty, sr, track.duration_s)
    onset_env = librosa.onset.onset_strength(y=y, sr=sr, hop_length=hop_length)
    tempo, beats = librosa.beat.beat_track(onset_envelope=onset_env, sr=sr, hop_length=hop_length, units="frames")
    times = librosa.frames_to_time(np.arange(onset_env.size), sr=sr, hop_length=hop_length)
    rms = librosa.feature.rms(y=y, hop_length=hop_length)[0]
    rms_times = librosa.frames_to_time(np.arange(rms.size), sr=sr, hop_length=hop_length)
    return SoundtrackRhythm(
        tempo_bpm=float(np.atleast_1d(tempo)[0]),
        beat_times_s=librosa.frames_to_time(beats, sr=sr, hop_length=hop_length),
        onset_times_s=times,
        onset_strength=onset_env,
        rms_times_s=rms_times,
        rms=rms,
        sample_rate=sr,
        duration_s=track.duration_s,
    )


def _dbfs(x: float) -> float:
    return float(20 * np.log10(max(x, 1e-10)))


def shot_audio_measures(track: Soundtrack, rhythm: SoundtrackRhythm, shots: list[tuple[float, float]]) -> list[dict]:
    """Per shot (start_s, end_s): mean/peak onset strength, RMS loudness (dBFS), LUFS where long enough, beats inside."""
    import pyloudnorm

    meter = pyloudnorm.Meter(track.sample_rate)
    out = []
    for start, end in shots:
        sel = (rhythm.onset_times_s >= start) & (rhythm.onset_times_s < end)
        onset = rhythm.onset_strength[sel]
        a, b = int(start * track.sample_rate), int(end * track.sample_rate)
        seg = track.samples[a:b]
        rms = float(np.sqrt(np.mean(seg.astype(np.float64) ** 2))) if seg.size else 0.0
        lufs = None
        if seg.size >= int(0.4 * track.sample_rate) and rms > 1e-6:
            value = float(meter.integrated_loudness(seg.astype(np.float64)))
            lufs = value if np.isfinite(value) else None
        beats = int(np.sum((rhythm.beat_times_s >= start) & (rhythm.beat_times_s < end)))
        out.append(
            {
                "onset_strength_mean": float(onset.mean()) if onset.size else 0.0,
                "onset_strength_peak": float(onset.max()) if onset.size else 0.0,
                "loudness_dbfs": _dbfs(rms),
                "loudness_lufs": lufs,
                "beats_in_shot": beats,
            }
        )
    return out


def cuts_on_beat(cut_times_s: list[float], beat_times_s: np.ndarray, tolerance_s: float = 0.1) -> tuple[float | None, list[float]]:
    """Fraction of cuts within ``tolerance_s`` of a beat, and each cut's offset to its nearest beat.

    Returns (None, []) when there are no cuts or no beats: the question has no answer then.
    """
    beats = np.asarray(beat_times_s, dtype=float)
    if not len(cut_times_s) or beats.size == 0:
        return None, []
    offsets = []
    for t in cut_times_s:
        i = int(np.argmin(np.abs(beats - t)))
        offsets.append(float(t - beats[i]))
    on = sum(abs(o) <= tolerance_s for o in offsets)
    return on / len(offsets), offsets
