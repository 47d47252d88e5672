"""Objective measures of a finished film, as a critic with a stopwatch and a meter would take them.

- **Camera language** (:func:`camera_language`): how varied the shot scales and camera moves are
  (normalised Shannon entropy, 0 = one kind throughout, 1 = as varied as the number of shots allows)
  and how coherent each scene's chain of shots is: neighbouring shots should not jump more than two
  steps on the scale ladder (a wide straight into an extreme close-up is a jolt) nor repeat the same
  scale with the same move (a jump cut).
- **Rhythm distance** (:func:`rhythm_distance`): each scene's shot lengths against those of the
  library sequence it was modelled on: the ratio of mean shot lengths (as ``|log|``, 0 = same pace)
  and the 1-D Wasserstein distance between the two shot-length distributions (seconds).
- **Cuts on beats** (:func:`cuts_on_beats`): of the cuts that fall where music plays, the share that
  land within a tolerance of a beat.
- **Dialogue margin** (:func:`dialogue_margin`): how far the lines stand above the bed (music and
  effects) while they are spoken, in dB; 10 dB is the usual floor for clear dialogue.
- **Loudness**: integrated loudness and true peak of the mix (:func:`.sound.measure`).
- **Text-to-frame alignment** (:func:`text_frame_alignment`): CLIP cosine between each shot's keyframe
  and its description, only with real CLIP weights (random vectors are not semantic).

:func:`evaluate_film` gathers them, with the audience review's before/after signals, into one
JSON-ready report and a table of ``{"metric", "value", "target", "meets", "note"}`` rows for the UI.

Pure film-craft code: no Dagster.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import opentimelineio as otio

from .planning.models import SceneReferences, SequenceMatch
from .review import PACING_TOLERANCE
from .rhythm import cuts_on_beat
from .sound import CEILING_DBTP, TARGET_LUFS, measure, region_rms_db
from .timeline import cut_list, shot_metadata, timeline_rate
from .vocabulary import CameraMovement, ShotScale

__all__ = [
    "CLIP_REASON",
    "MAX_SCALE_STEP",
    "MIN_ALIGNMENT",
    "MIN_BEAT_SHARE",
    "MIN_COHERENCE",
    "MIN_DIALOGUE_MARGIN_DB",
    "MIN_DIVERSITY",
    "camera_language",
    "cut_times_s",
    "cuts_on_beats",
    "dialogue_margin",
    "evaluate_film",
    "rhythm_distance",
    "shot_units",
    "text_frame_alignment",
]

#: The scale ladder, tightest first, and the known camera moves (what the entropies are over).
SCALE_LADDER: tuple[str, ...] = tuple(s.value for s in ShotScale if s is not ShotScale.UNKNOWN)
MOVEMENTS: tuple[str, ...] = tuple(m.value for m in CameraMovement if m is not CameraMovement.UNKNOWN)
#: A cut within a scene may move at most this many steps along the ladder before it jolts.
MAX_SCALE_STEP = 2
#: Targets of the report table. Diversity: at least half the entropy the shot count allows.
MIN_DIVERSITY = 0.5
#: Share of neighbouring shot pairs that cut smoothly.
MIN_COHERENCE = 0.8
#: Share of cuts under music that land on a beat (cuts are nudged onto beats where the picture has slack).
MIN_BEAT_SHARE = 0.5
#: Speech above the bed while it is spoken (dB): the usual floor for clear dialogue.
MIN_DIALOGUE_MARGIN_DB = 10.0
#: A keyframe and its description agree at about this CLIP cosine or above (ViT-B-32 matched pairs
#: typically score 0.25-0.35, unrelated ones 0.1-0.2).
MIN_ALIGNMENT = 0.2
#: Loudness tolerance around the target (LU).
LOUDNESS_TOLERANCE_LU = 1.0
#: A silent bed has no level: it is counted at this floor (below 16-bit noise) so the margin stays a number.
SILENCE_FLOOR_DB = -120.0
CLIP_REASON = "needs real CLIP weights (FILMASTER_CLIP_WEIGHTS)"

_UNKNOWN = ("", "unknown", None)


def _num(x: float | None, digits: int = 4) -> float | None:
    """A float rounded for the report, None for NaN and infinities (JSON has neither)."""
    if x is None:
        return None
    x = float(x)
    return round(x, digits) if math.isfinite(x) else None


def _json(value: Any) -> Any:
    """``value`` as plain JSON: numpy scalars and arrays unwrapped, floats rounded, NaN/inf as None."""
    if isinstance(value, Mapping):
        return {str(k): _json(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, np.ndarray)):
        return [_json(v) for v in value]
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, (int, np.integer)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        return _num(float(value))
    return value


# -- the shots as the audience sees them ----------------------------------------------------------------


def shot_units(tl: otio.schema.Timeline) -> list[dict[str, Any]]:
    """One row per shot in record order (a hold's freeze counted in its shot's length): ``shot_id``,
    ``scene_id``, ``scale``, ``movement``, ``description``, ``start_s`` and ``seconds`` on screen."""
    fps = timeline_rate(tl)
    clips = tl.video_tracks()[0].find_clips(shallow_search=True)
    units: list[dict[str, Any]] = []
    # cut_list walks the same clips in the same order, so rows and clips pair up one to one
    for row, clip in zip(cut_list(tl), clips, strict=True):
        meta = shot_metadata(clip)
        if row["kind"] == "freeze" and units and units[-1]["shot_id"] == row["shot_id"]:
            units[-1]["seconds"] += row["duration"] / fps
            continue
        units.append(
            {
                "shot_id": row["shot_id"],
                "scene_id": str(meta.get("scene_id") or ""),
                "scale": str(meta.get("scale") or "unknown"),
                "movement": str(meta.get("movement") or "unknown"),
                "description": str(meta.get("description") or ""),
                "start_s": row["record_in"] / fps,
                "seconds": row["duration"] / fps,
            }
        )
    return units


def _scenes(units: Sequence[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Shots grouped by scene, scenes in order of first appearance."""
    out: dict[str, list[dict[str, Any]]] = {}
    for u in units:
        out.setdefault(u["scene_id"], []).append(u)
    return out


# -- camera language -----------------------------------------------------------------------------------


def _entropy(values: Sequence[str], vocabulary: Sequence[str]) -> float | None:
    """Shannon entropy of the known ``values``, divided by the most the shot count allows (the log of
    the smaller of the shot count and the vocabulary size): 0 = one kind, 1 = every shot differs as
    much as it can. None with fewer than two known values (one shot has no variety to measure)."""
    known = [v for v in values if v in vocabulary]
    most = min(len(known), len(vocabulary))
    if most < 2:
        return None
    _, counts = np.unique(known, return_counts=True)
    p = counts / counts.sum()
    return max(0.0, float(-(p * np.log(p)).sum() / math.log(most)))  # max: one kind gives -0.0, shown as '-0'


def _chain(units: Sequence[dict[str, Any]]) -> tuple[int, list[dict[str, Any]], int]:
    """Neighbouring pairs within one scene: (pairs judged, the breaks, pairs skipped for an unknown scale)."""
    judged, skipped, breaks = 0, 0, []
    for a, b in itertools.pairwise(units):
        if a["scale"] not in SCALE_LADDER or b["scale"] not in SCALE_LADDER:
            skipped += 1
            continue
        judged += 1
        step = abs(SCALE_LADDER.index(a["scale"]) - SCALE_LADDER.index(b["scale"]))
        pair = {"from": a["shot_id"], "to": b["shot_id"]}
        if step > MAX_SCALE_STEP:
            breaks.append({**pair, "reason": f"scale jumps {step} steps ({ShotScale(a['scale']).words} to {ShotScale(b['scale']).words})"})
        elif a["scale"] == b["scale"] and a["movement"] == b["movement"] and a["movement"] not in _UNKNOWN:
            breaks.append({**pair, "reason": f"same scale and move twice ({ShotScale(a['scale']).words}, {a['movement']}): a jump cut"})
    return judged, breaks, skipped


def _language(units: Sequence[dict[str, Any]]) -> dict[str, Any]:
    scales = [u["scale"] for u in units]
    moves = [u["movement"] for u in units]
    return {
        "shots": len(units),
        "scale_entropy": _num(_entropy(scales, SCALE_LADDER)),
        "movement_entropy": _num(_entropy(moves, MOVEMENTS)),
        "distinct_scales": len({s for s in scales if s in SCALE_LADDER}),
        "distinct_movements": len({m for m in moves if m in MOVEMENTS}),
        "unknown_scales": sum(s not in SCALE_LADDER for s in scales),
    }


def camera_language(tl: otio.schema.Timeline) -> dict[str, Any]:
    """Diversity and chain coherence of the cut's camera language.

    Returns ``shots``, ``scale_entropy`` and ``movement_entropy`` (0..1, see :func:`_entropy`; None
    with fewer than two known values), ``distinct_scales``, ``distinct_movements``, ``unknown_scales``;
    ``coherence``: the share of neighbouring shot pairs *within a scene* that move at most
    :data:`MAX_SCALE_STEP` steps on the scale ladder and do not repeat the same scale with the same
    move (pairs with an unknown scale are not judged; None when no pair is), ``pairs`` judged,
    ``breaks`` (``{"from", "to", "reason"}`` per failing pair) and ``scenes``: the same per scene.
    """
    units = shot_units(tl)
    scenes, judged, breaks = [], 0, []
    for scene_id, shots in _scenes(units).items():
        n, broken, skipped = _chain(shots)
        judged += n
        breaks += broken
        coherence = (n - len(broken)) / n if n else None
        scenes.append({"scene_id": scene_id, **_language(shots), "coherence": _num(coherence), "pairs": n, "unjudged_pairs": skipped})
    coherence = (judged - len(breaks)) / judged if judged else None
    return _json({**_language(units), "coherence": coherence, "pairs": judged, "breaks": breaks, "scenes": scenes})


# -- rhythm against the references -------------------------------------------------------------------------


def rhythm_distance(tl: otio.schema.Timeline, references: SceneReferences) -> dict[str, Any]:
    """Each scene's shot lengths against its best-matched reference sequence's (the rhythm the library
    cut similar material to).

    Per scene: ``mean_shot_s`` and ``reference_mean_shot_s``, ``log_mean_ratio`` = ``|log(mean / reference
    mean)|`` (0 = same pace; log(2) = twice as fast or slow) and ``wasserstein_s``, the 1-D earth mover's
    distance between the two shot-length distributions (seconds; 0 = the same lengths). Overall: both
    averaged over the matched scenes weighted by their screen time; ``unmatched`` lists scenes without a
    reference sequence (not averaged in).
    """
    from scipy.stats import wasserstein_distance

    matched: dict[str, SequenceMatch] = {}
    for scene in references.scenes:
        if scene.matches:
            matched[scene.scene_id] = min(scene.matches, key=lambda m: m.rank)
    scenes, unmatched = [], []
    for scene_id, shots in _scenes(shot_units(tl)).items():
        best = matched.get(scene_id)
        ref = [float(s.duration_s) for s in best.shots if s.duration_s > 0] if best else []
        if best is None or not ref:
            unmatched.append(scene_id)
            continue
        cut = [u["seconds"] for u in shots]
        mean, ref_mean = float(np.mean(cut)), float(np.mean(ref))
        scenes.append(
            {
                "scene_id": scene_id,
                "sequence_id": best.sequence_id,
                "film": best.film,
                "shots": len(cut),
                "reference_shots": len(ref),
                "seconds": sum(cut),
                "mean_shot_s": mean,
                "reference_mean_shot_s": ref_mean,
                "log_mean_ratio": abs(math.log(mean / ref_mean)),
                "wasserstein_s": float(wasserstein_distance(cut, ref)),
            }
        )
    weights = [s["seconds"] for s in scenes]

    def overall(key: str) -> float | None:
        return float(np.average([s[key] for s in scenes], weights=weights)) if scenes and sum(weights) > 0 else None

    return _json(
        {"log_mean_ratio": overall("log_mean_ratio"), "wasserstein_s": overall("wasserstein_s"), "scenes": scenes, "unmatched": unmatched}
    )


# -- cuts and the score ------------------------------------------------------------------------------------


def cuts_on_beats(
    cut_times_s: Sequence[float], beats_s: Sequence[float], music_regions: Sequence[tuple[float, float]], tolerance_s: float = 0.07
) -> dict[str, Any]:
    """Of the cuts that fall where music plays (``start <= t < end`` of a region), how many lie within
    ``tolerance_s`` of a beat (70 ms: about two frames, under what an audience perceives as off the beat).

    Returns ``{"cuts", "cuts_with_music", "on_beat", "share", "tolerance_s"}``; ``share`` is None when no
    cut falls under music, or when the music under them has no beats (the question has no answer then).
    """
    under = [float(t) for t in cut_times_s if any(a <= t < b for a, b in music_regions)]
    share, offsets = cuts_on_beat(under, np.asarray(beats_s, dtype=float), tolerance_s=tolerance_s)
    on = sum(abs(o) <= tolerance_s for o in offsets)
    return _json({"cuts": len(cut_times_s), "cuts_with_music": len(under), "on_beat": on, "share": share, "tolerance_s": tolerance_s})


def cut_times_s(tl: otio.schema.Timeline) -> list[float]:
    """Record times (seconds) of the cut's picture cuts: every shot's first frame but the film's first
    (a hold's freeze continues its shot, so it is no cut)."""
    return [u["start_s"] for u in shot_units(tl)[1:]]


# -- sound --------------------------------------------------------------------------------------------------


def _mono(signal: np.ndarray) -> np.ndarray:
    x = np.asarray(signal, np.float64)
    return x.mean(axis=1) if x.ndim == 2 else x


def dialogue_margin(dialogue: np.ndarray, bed: np.ndarray, rate: int, regions: Sequence[tuple[float, float]]) -> float | None:
    """How far speech stands above the bed while it is spoken (dB): the dialogue stem's RMS over the
    speech ``regions`` (seconds) minus the bed's (music, ambience, effects) over the same time. None
    without speech (no region, or silence in them); a silent bed counts at :data:`SILENCE_FLOOR_DB`."""
    if not regions:
        return None
    speech = region_rms_db(_mono(dialogue), rate, regions)
    if not math.isfinite(speech):
        return None
    under = region_rms_db(_mono(bed), rate, regions)
    return round(speech - max(under, SILENCE_FLOOR_DB), 2)


def _bed(stems: Mapping[str, np.ndarray]) -> np.ndarray:
    """Every stem but the dialogue, summed (shorter stems padded)."""
    others = [_mono(s) for name, s in stems.items() if name != "dialogue"]
    out = np.zeros(max((len(s) for s in others), default=0))
    for s in others:
        out[: len(s)] += s
    return out


def _loudness(mix: np.ndarray, rate: int) -> dict[str, Any]:
    """:func:`.sound.measure` of the mix (a multichannel mix measured on its mono fold-down, good enough
    for a check: the delivered mix is mono)."""
    return _json(measure(_mono(mix).astype(np.float32), rate))


# -- text and picture ----------------------------------------------------------------------------------


def text_frame_alignment(
    tl: otio.schema.Timeline,
    frame_of: Callable[[str], np.ndarray | None],
    embed_image: Callable[[list[np.ndarray]], np.ndarray] | None,
    embed_text: Callable[[list[str]], np.ndarray] | None,
) -> dict[str, Any] | None:
    """Does each shot show what its description says? The cosine between the CLIP vector of the shot's
    keyframe (``frame_of(shot_id)``, an RGB picture) and that of its description.

    ``embed_image`` and ``embed_text`` embed a *batch* (a list) into rows of one space (a real CLIP
    model's ``embed_images`` / ``embed_texts``); None when either is missing, because without real
    weights the number would mean nothing. Returns ``{"mean_cosine", "shots", "per_shot": [{"shot_id",
    "cosine"}], "missing": [shot ids without a keyframe or a description]}``.
    """
    if embed_image is None or embed_text is None:
        return None
    pairs, missing = [], []
    for u in shot_units(tl):
        picture = frame_of(u["shot_id"]) if u["description"].strip() else None
        if picture is None:
            missing.append(u["shot_id"])
        else:
            pairs.append((u["shot_id"], picture, u["description"]))
    if not pairs:
        return {"mean_cosine": None, "shots": 0, "per_shot": [], "missing": missing}
    images = np.asarray(embed_image([p for _, p, _ in pairs]), np.float64)
    texts = np.asarray(embed_text([d for _, _, d in pairs]), np.float64)
    # normalise here too: a caller's embedder need not return unit rows
    images /= np.maximum(np.linalg.norm(images, axis=1, keepdims=True), 1e-12)
    texts /= np.maximum(np.linalg.norm(texts, axis=1, keepdims=True), 1e-12)
    cosines = (images * texts).sum(axis=1)
    per_shot = [{"shot_id": sid, "cosine": c} for (sid, _, _), c in zip(pairs, cosines, strict=True)]
    return _json({"mean_cosine": float(cosines.mean()), "shots": len(pairs), "per_shot": per_shot, "missing": missing})


# -- the report ------------------------------------------------------------------------------------------


def _row(metric: str, value: Any, target: str, meets: bool | None, note: str = "") -> dict[str, Any]:
    return {"metric": metric, "value": value, "target": target, "meets": meets if value is not None else None, "note": note}


def _at_least(value: float | None, floor: float) -> bool | None:
    return None if value is None else value >= floor


def _no_worse(metric: str, before: float | None, after: float | None, note: str = "") -> dict[str, Any]:
    """A review signal after the fine cut, judged against its value before (lower is better)."""
    target = f"<= {before:g} (before)" if before is not None else ""
    return _row(metric, after, target, None if before is None or after is None else after <= before, note)


def _table(report: Mapping[str, Any], skipped: Mapping[str, str]) -> list[dict[str, Any]]:
    cam, rhythm, beats = report["camera_language"], report["rhythm"], report["cuts_on_beats"]
    loud, margin, align = report["loudness"] or {}, report["dialogue_margin_db"], report["text_frame_alignment"]
    rows = [
        _row("scale diversity (entropy)", cam["scale_entropy"], f">= {MIN_DIVERSITY}", _at_least(cam["scale_entropy"], MIN_DIVERSITY)),
        _row(
            "movement diversity (entropy)",
            cam["movement_entropy"],
            f">= {MIN_DIVERSITY}",
            _at_least(cam["movement_entropy"], MIN_DIVERSITY),
        ),
        _row(
            "chain coherence",
            cam["coherence"],
            f">= {MIN_COHERENCE}",
            _at_least(cam["coherence"], MIN_COHERENCE),
            "; ".join(f"{b['from']}->{b['to']}: {b['reason']}" for b in cam["breaks"][:3]),
        ),
    ]
    ratio = (rhythm or {}).get("log_mean_ratio")
    limit = round(math.log(PACING_TOLERANCE), 3)
    unmatched = ", ".join((rhythm or {}).get("unmatched", []))
    rows.append(
        _row(
            "rhythm: |log mean shot-length ratio| to references",
            ratio,
            f"<= {limit} (within x{PACING_TOLERANCE})",
            None if ratio is None else ratio <= limit,
            skipped.get("rhythm", f"no reference for {unmatched}" if unmatched else ""),
        )
    )
    rows.append(_row("rhythm: shot-length Wasserstein to references (s)", (rhythm or {}).get("wasserstein_s"), "lower is closer", None))
    rows.append(
        _row(
            "cuts on beats (share of cuts under music)",
            beats["share"],
            f">= {MIN_BEAT_SHARE}",
            _at_least(beats["share"], MIN_BEAT_SHARE),
            f"{beats['on_beat']} of {beats['cuts_with_music']} cuts under music"
            if beats["cuts_with_music"]
            else skipped.get("cuts_on_beats", "no cut under music"),
        )
    )
    rows.append(
        _row(
            "dialogue margin over bed (dB)",
            margin,
            f">= {MIN_DIALOGUE_MARGIN_DB:g}",
            _at_least(margin, MIN_DIALOGUE_MARGIN_DB),
            skipped.get("dialogue_margin_db", ""),
        )
    )
    lufs, peak = loud.get("integrated_lufs"), loud.get("true_peak_dbtp")
    note = skipped.get("loudness", "")
    rows.append(
        _row(
            "integrated loudness (LUFS)",
            lufs,
            f"{TARGET_LUFS:g} ± {LOUDNESS_TOLERANCE_LU:g}",
            None if lufs is None else abs(lufs - TARGET_LUFS) <= LOUDNESS_TOLERANCE_LU,
            note,
        )
    )
    rows.append(_row("true peak (dBTP)", peak, f"<= {CEILING_DBTP:g}", None if peak is None else peak <= CEILING_DBTP, note))
    clipped = loud.get("clipped_samples")
    rows.append(_row("clipped samples", clipped, "0", None if clipped is None else clipped == 0, note))
    mean = (align or {}).get("mean_cosine")
    rows.append(
        _row(
            "text-to-frame alignment (CLIP cosine)",
            mean,
            f">= {MIN_ALIGNMENT}",
            _at_least(mean, MIN_ALIGNMENT),
            skipped.get("text_frame_alignment", ""),
        )
    )
    review = report["review"] or {}
    before, after = review.get("before") or {}, review.get("after") or {}
    if before or after:
        count = [sum((s.get("problems") or {}).values()) if s else None for s in (before, after)]
        listed = ", ".join(f"{k} {v}" for k, v in (after.get("problems") or {}).items())
        rows.append(_no_worse("review: problems after the fine cut", count[0], count[1], listed))
        rows.append(_no_worse("review: first hook (s)", _num(before.get("hook_s")), _num(after.get("hook_s"))))
    return _json(rows)


def evaluate_film(
    tl: otio.schema.Timeline,
    *,
    references: SceneReferences | None = None,
    beats_s: Sequence[float] = (),
    music_regions: Sequence[tuple[float, float]] = (),
    stems: Mapping[str, np.ndarray] | None = None,
    speech_regions: Sequence[tuple[float, float]] = (),
    rate: int = 48000,
    mix: np.ndarray | None = None,
    review: Mapping[str, Any] | None = None,
    alignment: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The film's objective report, JSON-ready (plain numbers, None for what was not measured).

    ``tl`` is the final cut; ``references`` the scene references it was planned from; ``beats_s`` the
    score's beat times and ``music_regions`` the ``(start_s, end_s)`` where music plays, both on the film's
    clock; ``stems`` the sound stems by name (``"dialogue"`` against every other stem as the bed) at ``rate``
    with ``speech_regions`` where lines are spoken; ``mix`` the delivered mix; ``review`` the audience
    review's ``{"before", "after"}`` :func:`.review.signal_summary` values; ``alignment`` what
    :func:`text_frame_alignment` returned (None without real CLIP weights).

    Returns ``{"camera_language", "rhythm", "cuts_on_beats", "dialogue_margin_db", "loudness",
    "text_frame_alignment", "review", "skipped" ({metric: why it was not measured}), "table"}``;
    ``table`` has one ``{"metric", "value", "target", "meets", "note"}`` row per headline number
    (``meets`` None where there is no pass/fail or nothing was measured).
    """
    skipped: dict[str, str] = {}
    rhythm = rhythm_distance(tl, references) if references is not None else None
    if rhythm is None:
        skipped["rhythm"] = "no scene references given"
    beats = cuts_on_beats(cut_times_s(tl), beats_s, music_regions)
    if not music_regions:
        skipped["cuts_on_beats"] = "no music in the film"
    margin = None
    if stems and "dialogue" in stems:
        margin = dialogue_margin(stems["dialogue"], _bed(stems), rate, speech_regions)
        if margin is None:
            skipped["dialogue_margin_db"] = "no speech in the film"
    else:
        skipped["dialogue_margin_db"] = "no dialogue stem given"
    loudness = _loudness(mix, rate) if mix is not None and len(mix) else None
    if loudness is None:
        skipped["loudness"] = "no mix given"
    if alignment is None:
        skipped["text_frame_alignment"] = CLIP_REASON
    report = {
        "camera_language": camera_language(tl),
        "rhythm": rhythm,
        "cuts_on_beats": beats,
        "dialogue_margin_db": _num(margin, 2),
        "loudness": loudness,
        "text_frame_alignment": _json(alignment) if alignment is not None else None,
        "review": _json(dict(review)) if review is not None else None,
        "skipped": skipped,
    }
    report["table"] = _table(report, skipped)
    return report
