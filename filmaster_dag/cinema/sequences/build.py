"""The reference sequences of one film, from its shots, camera language, keyframes and soundtrack."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .. import describe
from ..media import Soundtrack
from .grouping import ContinuityWeights, ShotEvidence, camera_chain, continuity, cut_scores, group_by_continuity
from .signals import ShotLook, audio_score


def shot_evidence(
    shots: pd.DataFrame,
    camera_language: pd.DataFrame,
    keyframes: pd.DataFrame,
    soundtrack: Soundtrack | None = None,
    vectors: dict[int, np.ndarray] | None = None,
    audio_scores: dict[int, float | None] | None = None,
) -> list[ShotEvidence]:
    """Per shot, in film order: its keyframes' looks, scale, CLIP vector and the audio continuity across its cut
    (from ``audio_scores``, shot_index -> score, when the soundtrack was measured already; else from ``soundtrack``)."""
    ordered = shots.sort_values("shot_index")
    scales = camera_language.set_index("shot_index")["shot_scale"].to_dict() if "shot_scale" in camera_language else {}
    by_shot = {int(i): [ShotLook.from_jpeg(bytes(j)) for j in g.sort_values("rank")["jpeg"]] for i, g in keyframes.groupby("shot_index")}
    audio = audio_scores if audio_scores is not None else cut_audio_scores(ordered, soundtrack)
    out = []
    for s in ordered.itertuples(index=False):
        i = int(s.shot_index)
        out.append(ShotEvidence(by_shot.get(i, []), str(s.transition_in), scales.get(i), (vectors or {}).get(i), audio.get(i)))
    return out


def cut_audio_scores(shots: pd.DataFrame, soundtrack: Soundtrack | None) -> dict[int, float | None]:
    """shot_index -> how the soundtrack carries on across the cut into that shot (None: no evidence)."""
    out: dict[int, float | None] = {}
    for s in shots.itertuples(index=False):
        score = None
        if soundtrack is not None and soundtrack.samples.size and s.transition_in not in ("start", "fade_in"):
            score = audio_score(soundtrack.samples, soundtrack.sample_rate, float(s.start_s))
        out[int(s.shot_index)] = score
    return out


@dataclass
class CutReport:
    """Every signal's score across one cut (against the shot just before it), for benchmarks and debugging."""

    shot_index: int
    transition_in: str
    scores: dict[str, float | None]
    continuity: float | None


def cut_evidence(evidence: list[ShotEvidence], weights: ContinuityWeights | None = None) -> list[CutReport]:
    """The signal scores of each cut of a film (shot i-1 -> shot i; ``shot_index`` is the position in ``evidence``)."""
    weights = weights or ContinuityWeights()
    out = []
    for k in range(1, len(evidence)):
        scores = cut_scores(evidence[k - 1], evidence[k], evidence[k - 1], weights)
        out.append(CutReport(k, evidence[k].transition_in, scores, continuity(scores, weights)))
    return out


def build_sequences(
    film: str,
    shots: pd.DataFrame,
    camera_language: pd.DataFrame,
    keyframes: pd.DataFrame,
    soundtrack: Soundtrack | None = None,
    vectors: dict[int, np.ndarray] | None = None,
    weights: ContinuityWeights | None = None,
    audio_scores: dict[int, float | None] | None = None,
) -> pd.DataFrame:
    """Group a film's shots into reference sequences: one row each, the ``shots``-stage sequence columns plus ``description``.

    ``shots`` has the ``shots`` stage columns, ``keyframes`` shot_index, rank, frame, primary and
    jpeg; ``soundtrack`` (optional) lets the soundtrack carrying on across a cut count, and
    ``vectors`` (optional, shot_index -> CLIP image embedding) adds CLIP similarity.
    """
    ordered = shots.sort_values("shot_index").reset_index(drop=True)
    groups = group_by_continuity(shot_evidence(ordered, camera_language, keyframes, soundtrack, vectors, audio_scores), weights)
    cam = camera_language[[c for c in ("shot_index", "shot_scale", "movement") if c in camera_language]]
    records = ordered.merge(cam, on="shot_index", how="left")
    rows = []
    for g in groups:
        members = records.iloc[g.shot_indices]
        chain = camera_chain(members.to_dict("records"))
        start, end = float(members["start_s"].min()), float(members["end_s"].max())
        index = [int(i) for i in members["shot_index"]]
        rows.append(
            {
                "sequence_id": f"{film}/seq{g.index:03d}",
                "film": film,
                "sequence_index": g.index,
                "start_s": start,
                "end_s": end,
                "duration_s": end - start,
                "shot_ids": [f"{film}/{i:04d}" for i in index],
                "shot_count": len(index),
                "camera_chain": chain,
                "break_reason": g.break_reason,
                "continuity": g.continuity,
                "description": describe.describe_sequence(len(index), end - start, chain, g.break_reason),
            }
        )
    return pd.DataFrame(rows)
