"""One shot's camera language as one flat record: the ``camera_language`` columns of the shot
record (:mod:`filmaster_dag.cinema.records`)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..look import describe_look
from ..records import CAMERA, stage_columns
from ..vocabulary import CameraMovement, ShotScale
from .lighting import measure_lighting
from .movement import MovementEstimate, classify_movement
from .scale import ScaleEstimate, measure_shot_scale

#: The keys of :func:`measure_shot`'s record, in order: the shot record's camera-language columns.
SHOT_RECORD_KEYS: tuple[str, ...] = tuple(stage_columns(CAMERA))


def measure_shot(
    signals: pd.DataFrame, images: Sequence[np.ndarray], rate: float, scale_images: Sequence[np.ndarray] | None = None
) -> dict:
    """One flat record of a shot's camera language (keys :data:`SHOT_RECORD_KEYS`).

    ``signals``: the shot's rows of :meth:`CameraSignals.table`; ``images``: a few RGB keyframes;
    ``scale_images``: the keyframes searched for faces and people (default: all of ``images``;
    face detection is the costliest measurement, so callers may pass only the primary keyframe).
    Speeds/rates are those of :class:`MovementEstimate`; ``look`` is the offline look descriptor
    (:func:`~filmaster_dag.cinema.look.describe_look`) of the first of ``scale_images``; motion
    energy, frame difference and sharpness are means over the shot's tracked frames (frame 0 of the shot, which straddles the
    cut, is left out).
    """
    images = [im for im in (images or []) if im is not None]
    if signals is not None and len(signals):
        mv = classify_movement(signals, rate)
    else:
        mv = MovementEstimate(CameraMovement.UNKNOWN.value, 0.0, 0.0)
    scale_images = images if scale_images is None else [im for im in scale_images if im is not None]
    sc = measure_shot_scale(scale_images) if scale_images else ScaleEstimate(ShotScale.UNKNOWN.value, 0.0)
    li = measure_lighting(signals, images)
    inner = signals.iloc[1:] if signals is not None and len(signals) > 1 else signals

    def mean_of(col: str) -> float:
        if inner is None or not len(inner) or col not in inner:
            return float("nan")
        v = inner[col].to_numpy(dtype=np.float64)
        v = v[np.isfinite(v)]
        return round(float(v.mean()), 6) if len(v) else float("nan")

    return {
        "movement": mv.movement,
        "movement_speed": mv.speed,
        "movement_confidence": mv.confidence,
        "pan_speed": mv.pan,
        "tilt_speed": mv.tilt,
        "zoom_rate": mv.zoom,
        "roll_rate": mv.roll,
        "camera_jitter": mv.jitter,
        "shot_scale": sc.scale,
        "shot_scale_confidence": sc.confidence,
        "shot_scale_evidence": sc.evidence,
        "faces": int(sc.faces),
        "people": int(sc.people),
        "face_height": sc.face_height,
        "lighting_key": li.key,
        "brightness": li.brightness,
        "contrast": li.contrast,
        "saturation": li.saturation,
        "colour_temperature_k": li.colour_temperature_k,
        "palette": list(li.palette),
        "palette_weights": list(li.weights),
        "motion_energy": mean_of("motion_energy"),
        "frame_diff": mean_of("frame_diff"),
        "sharpness": mean_of("sharpness"),
        # what the shot looks like, for search by example: the primary keyframe's look descriptor
        "look": describe_look(scale_images[0]).tolist() if scale_images else None,
    }
