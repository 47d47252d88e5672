"""Grouping consecutive shots into sequences by their continuity across each cut.

A shot continues the current sequence when its continuity score (a weighted mean of the signals
in :mod:`.signals` that have evidence) against any of the sequence's last ``lookback`` shots
reaches the threshold: comparing back, not only across the cut, keeps shot / reverse shot
(A-B-A) in one sequence. A fade always opens a new sequence: in film grammar a fade is a change
of scene or of time.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from .signals import ShotLook, clip_score, colour_score, scale_score, structure_score, visual_similarity

# The signals, in the order the weights list them. "structure", "colour" and "clip" compare the new
# shot with each of the last shots of the sequence; "scale" and "audio" belong to the cut itself.
SIGNALS = ("structure", "colour", "scale", "audio", "clip")
PICTURE_SIGNALS = ("structure", "colour", "clip")
SCENE_BREAKS = frozenset({"fade", "fade_in"})


@dataclass(frozen=True)
class ContinuityWeights:
    """How much each continuity signal counts, and the score a cut needs to stay in the sequence.

    The defaults were chosen on ``bench/sequences.py`` (see BENCHMARKS.md): the same set seen
    again (structure) is the strongest evidence, a shared look (colour) the next; shot scale and
    the soundtrack only tip close calls, because a score often plays on across a change of scene.
    CLIP, when vectors exist, weighs most of all: it is the only signal that sees two different
    set-ups of one scene (inside the burrow, then outside it) as the same place and characters.
    A signal without evidence for a cut (unknown scale, silence, no CLIP vector) is left out of
    that cut's mean rather than counted as zero.
    """

    structure: float = 0.5
    colour: float = 0.3
    scale: float = 0.1
    audio: float = 0.2
    clip: float = 0.8  # not benchmarked (no CLIP weights here): enough to link two set-ups the pictures cannot
    threshold: float = 0.5
    lookback: int = 3

    def without(self, *names: str) -> ContinuityWeights:
        """The same weights with the named signals switched off (an ablation)."""
        return replace(self, **dict.fromkeys(names, 0.0))  # type: ignore[arg-type]

    def only(self, *names: str) -> ContinuityWeights:
        """Only the named signals count."""
        return replace(self, **{n: 0.0 for n in SIGNALS if n not in names})  # type: ignore[arg-type]


def continuity(scores: dict[str, float | None], weights: ContinuityWeights) -> float | None:
    """Weighted mean of the signals that have evidence (None when none has)."""
    num = den = 0.0
    for name, value in scores.items():
        w = float(getattr(weights, name))
        if value is None or w <= 0:
            continue
        num += w * value
        den += w
    return num / den if den else None


@dataclass
class Sequence:
    index: int
    shot_indices: list[int]
    break_reason: str  # why this sequence starts: "start", "fade", "new scene" ("new look" from group_sequences)
    continuity: float  # mean continuity of the cuts inside the sequence (1.0 for one shot)
    scores: list[float] = field(default_factory=list)  # continuity of each cut that joined a shot


@dataclass
class ShotEvidence:
    """What the grouping knows of one shot: keyframe looks, scale, CLIP vector, how it begins, the audio across its cut."""

    looks: list[ShotLook]
    transition_in: str
    shot_scale: str | None = None
    vector: np.ndarray | None = None
    audio_in: float | None = None  # audio continuity across the cut into this shot


def cut_scores(before: ShotEvidence, after: ShotEvidence, previous: ShotEvidence, weights: ContinuityWeights) -> dict[str, float | None]:
    """Each signal's score for joining ``after`` to a sequence holding ``before`` (``previous`` is the shot just before the cut)."""
    on = lambda name: float(getattr(weights, name)) > 0  # noqa: E731  (skip the cost of switched-off signals)
    return {
        "structure": structure_score(before.looks, after.looks) if on("structure") else None,
        "colour": colour_score(before.looks, after.looks) if on("colour") else None,
        "scale": scale_score(previous.shot_scale, after.shot_scale) if on("scale") else None,
        "audio": after.audio_in if on("audio") else None,
        "clip": clip_score(before.vector, after.vector) if on("clip") else None,
    }


def group_by_continuity(shots: list[ShotEvidence], weights: ContinuityWeights | None = None) -> list[Sequence]:
    """Group consecutive shots into sequences by their continuity score (see the module doc).

    Each shot is scored against each of the last ``lookback`` shots. It joins the sequence of the
    best one when that reaches the threshold; when that shot lies in an earlier sequence (a return
    to a set-up after one or two other shots, as in shot / reverse shot A-B-A), the shots between
    join too. Nothing joins across a fade.
    """
    weights = weights or ContinuityWeights()
    sequences: list[Sequence] = []
    owner: list[int] = []  # sequence position of each shot
    scene_start = 0  # first shot after the latest fade
    for i, shot in enumerate(shots):
        if i == 0 or shot.transition_in in SCENE_BREAKS:
            sequences.append(Sequence(len(sequences), [i], "start" if i == 0 else "fade", 1.0))
            owner.append(len(sequences) - 1)
            scene_start = i
            continue
        candidates = range(max(scene_start, i - max(1, weights.lookback)), i)
        scored = [(continuity(cut_scores(shots[j], shot, shots[i - 1], weights), weights) or 0.0, j) for j in candidates]
        best, j = max(scored, key=lambda t: (t[0], t[1]))
        if best < weights.threshold:
            sequences.append(Sequence(len(sequences), [i], "new scene", 1.0))
            owner.append(len(sequences) - 1)
            continue
        keep = owner[j]
        for later in sequences[keep + 1 :]:  # a bridged reverse shot or cutaway
            sequences[keep].shot_indices += later.shot_indices
            sequences[keep].scores += later.scores
        del sequences[keep + 1 :]
        sequences[keep].shot_indices.append(i)
        sequences[keep].scores.append(best)
        owner = [min(o, keep) for o in owner] + [keep]
    for s in sequences:
        s.continuity = float(np.mean(s.scores)) if s.scores else 1.0
    return sequences


def group_sequences(
    signatures: list[np.ndarray],
    transitions_in: list[str],
    continuity_threshold: float = 0.45,
    lookback: int = 3,
) -> list[Sequence]:
    """Group consecutive shots by one colour signature each (the first method; kept as the benchmark's baseline).

    A shot continues the current sequence when its look matches any of the sequence's last
    ``lookback`` shots (so shot / reverse-shot A-B-A stays together) at or above
    ``continuity_threshold``; a fade always opens a new sequence.
    """
    sequences: list[Sequence] = []
    for i, sig in enumerate(signatures):
        if i == 0:
            sequences.append(Sequence(0, [0], "start", 1.0))
            continue
        current = sequences[-1]
        best = max(visual_similarity(sig, signatures[j]) for j in current.shot_indices[-lookback:])
        if transitions_in[i] == "fade":
            reason = "fade"
        elif best < continuity_threshold:
            reason = "new look"
        else:
            current.shot_indices.append(i)
            current.scores.append(best)
            continue
        sequences.append(Sequence(len(sequences), [i], reason, 1.0))
    for seq in sequences:
        seq.continuity = float(np.mean(seq.scores)) if seq.scores else 1.0
    return sequences


def camera_chain(shots: list[dict]) -> str:
    """``"wide static -> medium pan_right -> close_up static"`` from shot records."""
    steps = []
    for s in shots:
        scale = s.get("shot_scale") or "unknown"
        move = s.get("movement") or "unknown"
        steps.append(move if scale == "unknown" else f"{scale} {move}")
    return " -> ".join(steps)


__all__ = [
    "SIGNALS",
    "ContinuityWeights",
    "Sequence",
    "ShotEvidence",
    "camera_chain",
    "continuity",
    "cut_scores",
    "group_by_continuity",
    "group_sequences",
]
