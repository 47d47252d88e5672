"""Camera movement of a shot, classified from its per-frame signals (:mod:`.signals`)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from ..vocabulary import CameraMovement

#: The moves :func:`classify_movement` can find ("unknown" aside: too little of the shot tracked).
MOVEMENTS: tuple[str, ...] = tuple(m.value for m in CameraMovement if m is not CameraMovement.UNKNOWN)

#: A pan/tilt is "sustained" from this speed, in frame widths (heights) per second: at 0.02 the
#: view crosses one frame in 50 s, about the slowest drift a viewer notices.
PAN_MIN_SPEED = 0.02
#: A push-in/pull-out is sustained from this rate of scale change, percent per second.
ZOOM_MIN_RATE = 1.0
#: A roll counts (towards "complex") from this many degrees per second.
ROLL_MIN_RATE = 1.5
#: Handheld: robust per-frame jitter of the content position (frame fraction per frame, RMS of
#: dx/dy around their 9-frame running median) at least this. Tracking noise on a locked-off
#: real shot is ~0.0003-0.0005.
JITTER_MIN = 0.0015
#: A component is sustained only if at least this fraction of frames move its median's way (and
#: its median is 2.5 standard errors from zero): handheld shake has no direction.
MIN_CONSISTENCY = 0.65
#: Two sustained components make a "complex" move when the weaker one's picture motion (see
#: ``strength`` in :func:`classify_movement`) is at least this fraction of the stronger one's.
COMPLEX_RATIO = 0.3
#: Frames whose motion fit had fewer inliers than this are ignored (transitions, black, blur).
MIN_INLIER_RATIO = 0.4


@dataclass
class MovementEstimate:
    """One shot's camera movement, as measured.

    ``speed`` depends on ``movement``: pans in frame widths per second, tilts in frame heights per
    second, push/pull in percent scale change per second, handheld the jitter in frame fraction per
    second, complex the combined pan/tilt speed in frames per second (0 when static/unknown).
    ``pan``/``tilt``/``zoom``/``roll`` are the signed robust (median) rates of the camera itself:
    pan > 0 = right, tilt > 0 = up, zoom > 0 = push in (%/s), roll in degrees/s.
    ``consistency`` is the fraction of frames moving the same way as the dominant component.
    ``movement`` (a :class:`~filmaster_dag.cinema.vocabulary.CameraMovement` value) is "unknown"
    only when too few frames of the shot could be tracked.
    """

    movement: str
    speed: float
    confidence: float
    pan: float = 0.0
    tilt: float = 0.0
    zoom: float = 0.0
    roll: float = 0.0
    jitter: float = 0.0
    consistency: float = 0.0
    tracked_fraction: float = 0.0

    def to_record(self) -> dict:
        return asdict(self)


def _trim(signals: pd.DataFrame, trim: int | None) -> pd.DataFrame:
    n = len(signals)
    k = min(3, n // 6) if trim is None else trim
    # The first row holds the motion *into* the shot's first frame (across the cut): always drop it.
    first = max(1, k)
    return signals.iloc[first : n - k] if n - k > first else signals.iloc[0:0]


def _rolling_median(v: np.ndarray, k: int = 9) -> np.ndarray:
    if len(v) < 3:
        return np.full_like(v, np.median(v) if len(v) else 0.0)
    return pd.Series(v).rolling(k, center=True, min_periods=1).median().to_numpy()


def classify_movement(signals: pd.DataFrame, rate: float, trim: int | None = None) -> MovementEstimate:
    """Classify one shot's camera movement from its slice of :meth:`CameraSignals.table` rows.

    Robust: ``trim`` frames (default min(3, n/6)) at each end are ignored (they may sit inside a
    transition), frames with a poor RANSAC consensus (``inlier_ratio < MIN_INLIER_RATIO``) are
    dropped, and the rates are medians over the remaining frames, so a moving object or a few
    bad fits do not make a camera move. Rules, with each component's rate compared to its
    threshold (``PAN_MIN_SPEED``, ``ZOOM_MIN_RATE`` (push/pull, with pan/tilt), ``ROLL_MIN_RATE``):

    A component is *sustained* when its rate is at or above its threshold, at least
    ``MIN_CONSISTENCY`` of the frames move that way, and its median is 2.5 standard errors from 0.

    * nothing sustained: ``handheld`` if the jitter >= ``JITTER_MIN``, otherwise ``static``;
    * one sustained component, or one whose picture motion (pan/tilt speed; zoom rate / 200,
      the speed of the frame edges; roll in radians / 2) is more than 1/``COMPLEX_RATIO`` times
      the next sustained one's: that pan/tilt/push/pull;
    * two or more sustained components of comparable strength, or a sustained roll: ``complex``.
    """
    rate = float(rate) if rate and rate > 0 else 24.0
    sig = _trim(signals, trim)
    need = ["dx", "dy", "zoom", "rotation", "inlier_ratio"]
    if len(sig):
        arr = sig[need].to_numpy(dtype=np.float64)
        good = np.all(np.isfinite(arr), axis=1) & (arr[:, 4] >= MIN_INLIER_RATIO)
        arr = arr[good]
    else:
        arr = np.zeros((0, 5))
    tracked = len(arr) / max(1, len(sig))
    if len(arr) < 3 or tracked < 0.3:
        return MovementEstimate(CameraMovement.UNKNOWN.value, 0.0, 0.0, tracked_fraction=round(float(tracked), 4))

    dx, dy, zm, rot, inl = arr.T
    # Camera rates (per second); signs per the module conventions.
    pan = -float(np.median(dx)) * rate  # frame widths / s, + = pan right
    tilt = float(np.median(dy)) * rate  # frame heights / s, + = tilt up
    zoom = (math.exp(float(np.median(zm)) * rate) - 1.0) * 100.0  # % / s, + = push in
    roll = float(np.median(rot)) * rate  # degrees / s
    jx = dx - _rolling_median(dx)
    jy = dy - _rolling_median(dy)
    jitter = float(1.4826 * math.hypot(np.median(np.abs(jx)), np.median(np.abs(jy))))

    ratios = {
        "pan": abs(pan) / PAN_MIN_SPEED,
        "tilt": abs(tilt) / PAN_MIN_SPEED,
        "zoom": abs(zoom) / ZOOM_MIN_RATE,
        "roll": abs(roll) / ROLL_MIN_RATE,
    }
    per_frame = {"pan": dx, "tilt": dy, "zoom": zm, "roll": rot}
    n = len(arr)
    consistency: dict[str, float] = {}
    sustained: dict[str, bool] = {}
    for c, v in per_frame.items():
        med = float(np.median(v))
        consistency[c] = float(np.mean(np.sign(v) == np.sign(med))) if med != 0 else 0.0
        # Standard error of the median from the robust spread: a jittery shot's median wanders.
        se = 1.2533 * 1.4826 * float(np.median(np.abs(v - med))) / math.sqrt(n)
        sustained[c] = bool(ratios[c] >= 1.0 and consistency[c] >= MIN_CONSISTENCY and abs(med) >= 2.5 * se)
    fit = float(np.clip(np.mean(inl), 0.0, 1.0))
    base = {
        "pan": round(pan, 5),
        "tilt": round(tilt, 5),
        "zoom": round(zoom, 4),
        "roll": round(roll, 4),
        "jitter": round(jitter, 6),
        "tracked_fraction": round(float(tracked), 4),
    }
    # Strength of each component as picture motion at the frame edge, frames per second, so a
    # pan and a push can be compared: a zoom of z %/s moves the edges by z/200 frame/s.
    strength = {"pan": abs(pan), "tilt": abs(tilt), "zoom": abs(zoom) / 200.0, "roll": math.radians(abs(roll)) / 2.0}
    moving = sorted((c for c in ratios if sustained[c]), key=lambda c: strength[c], reverse=True)

    if not moving:
        near = min(1.0, max(ratios.values()))
        if jitter >= JITTER_MIN:
            conf = fit * float(np.clip(jitter / (2 * JITTER_MIN), 0.5, 1.0))
            return MovementEstimate(CameraMovement.HANDHELD.value, round(jitter * rate, 5), round(conf, 3), **base)
        conf = fit * (1.0 - 0.6 * near) * (1.0 - 0.5 * min(1.0, jitter / JITTER_MIN))
        return MovementEstimate(CameraMovement.STATIC.value, 0.0, round(float(np.clip(conf, 0.05, 1.0)), 3), **base)

    top = moving[0]
    second = moving[1] if len(moving) > 1 else None
    cons = consistency[top]
    if top == "roll" or (second is not None and strength[second] >= COMPLEX_RATIO * strength[top]):
        speed = math.hypot(pan, tilt)
        balance = strength[second] / strength[top] if (second is not None and top != "roll") else 1.0
        conf = fit * cons * min(1.0, 0.5 + balance)
        return MovementEstimate(
            CameraMovement.COMPLEX.value, round(speed, 5), round(float(np.clip(conf, 0.05, 1.0)), 3), consistency=round(cons, 3), **base
        )
    rest = max((strength[c] for c in strength if c != top), default=0.0)

    if top == "pan":
        movement, speed = (CameraMovement.PAN_RIGHT if pan > 0 else CameraMovement.PAN_LEFT), abs(pan)
    elif top == "tilt":
        movement, speed = (CameraMovement.TILT_UP if tilt > 0 else CameraMovement.TILT_DOWN), abs(tilt)
    else:
        movement, speed = (CameraMovement.PUSH_IN if zoom > 0 else CameraMovement.PULL_OUT), abs(zoom)
    margin = min(1.0, (ratios[top] - 1.0) / 2.0 + 0.5)
    separation = 1.0 - 0.5 * min(1.0, rest / strength[top])
    conf = fit * cons * margin * separation
    return MovementEstimate(movement.value, round(speed, 5), round(float(np.clip(conf, 0.05, 1.0)), 3), consistency=round(cons, 3), **base)
