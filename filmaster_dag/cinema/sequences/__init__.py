"""Reference sequences: runs of consecutive shots that belong together (a scene, a beat of action).

A sequence is the unit the planner retrieves, so that planned shots inherit a coherent
camera-language chain (e.g. wide static -> medium pan_right -> close_up static). Shots are grouped
by their continuity across each cut (:mod:`.signals`, :mod:`.grouping`); :func:`build_sequences`
is the one entry point for a film.
"""

from .build import CutReport, build_sequences, cut_audio_scores, cut_evidence, shot_evidence
from .grouping import (
    SIGNALS,
    ContinuityWeights,
    Sequence,
    ShotEvidence,
    camera_chain,
    continuity,
    group_by_continuity,
    group_sequences,
)
from .signals import (
    ShotLook,
    audio_score,
    clip_score,
    colour_score,
    colour_signature,
    features_score,
    layout_score,
    scale_score,
    structure_score,
    visual_similarity,
)

__all__ = [
    "SIGNALS",
    "ContinuityWeights",
    "CutReport",
    "Sequence",
    "ShotEvidence",
    "ShotLook",
    "audio_score",
    "build_sequences",
    "camera_chain",
    "clip_score",
    "colour_score",
    "colour_signature",
    "continuity",
    "cut_audio_scores",
    "cut_evidence",
    "features_score",
    "group_by_continuity",
    "group_sequences",
    "layout_score",
    "scale_score",
    "shot_evidence",
    "structure_score",
    "visual_similarity",
]
