"""Reference sequences: runs of consecutive shots that belong together (a scene, a beat of action).

A sequence is the unit the planner retrieves, so that planned shots inherit a coherent
camera-language chain (e.g. wide static -> medium pan_right -> close_up static).
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from .keyframes import decode_jpeg_rgb


def colour_signature(jpeg: bytes) -> np.ndarray:
    """A normalised hue-saturation-value histogram of a keyframe (the shot's look)."""
    rgb = decode_jpeg_rgb(jpeg)
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV)
    hist = cv2.calcHist([hsv], [0, 1, 2], None, [12, 4, 4], [0, 180, 0, 256, 0, 256]).astype(np.float32)
    return (hist / max(float(hist.sum()), 1.0)).reshape(-1)


def visual_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """Histogram intersection of two colour signatures, 0 (nothing shared) .. 1 (same look)."""
    return float(np.minimum(a, b).sum())


@dataclass
class Sequence:
    index: int
    shot_indices: list[int]
    break_reason: str  # why this sequence starts: "start", "fade", "new look"
    continuity: float  # mean similarity of consecutive shots inside the sequence (1.0 for one shot)


def group_sequences(
    signatures: list[np.ndarray],
    transitions_in: list[str],
    continuity_threshold: float = 0.45,
    lookback: int = 3,
) -> list[Sequence]:
    """Group consecutive shots into sequences by visual continuity.

    A shot continues the current sequence when its look matches any of the sequence's last
    ``lookback`` shots (so shot / reverse-shot A-B-A stays together) at or above
    ``continuity_threshold``; a fade always opens a new sequence (a fade marks a change of scene
    in film grammar).
    """
    sequences: list[Sequence] = []
    sims: list[list[float]] = []
    for i, sig in enumerate(signatures):
        if i == 0:
            sequences.append(Sequence(0, [0], "start", 1.0))
            sims.append([])
            continue
        current = sequences[-1]
        best = max(visual_similarity(sig, signatures[j]) for j in current.shot_indices[-lookback:])
        if transitions_in[i] == "fade":
            reason = "fade"
        elif best < continuity_threshold:
            reason = "new look"
        else:
            current.shot_indices.append(i)
            sims[-1].append(best)
            continue
        sequences.append(Sequence(len(sequences), [i], reason, 1.0))
        sims.append([])
    for seq, s in zip(sequences, sims):
        seq.continuity = float(np.mean(s)) if s else 1.0
    return sequences


def camera_chain(shots: list[dict]) -> str:
    """``"wide static -> medium pan_right -> close_up static"`` from shot records."""
    steps = []
    for s in shots:
        scale = s.get("shot_scale") or "unknown"
        move = s.get("movement") or "unknown"
        steps.append(move if scale == "unknown" else f"{scale} {move}")
    return " -> ".join(steps)
