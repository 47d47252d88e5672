"""Camera movement of a shot, classified from its per-frame signals (:mod:`.signals`)."""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd

from ..vocabulary import CameraMovement

#: The moves :func:`classify_movement` can find ("unknown" aside: too little of the shot tracked).
MOVEMENTS: tuple[str, ...] = tuple(m.value for m in CameraMovement if m is not CameraMovement.UNKNOWN)

#: A pan/tilt is "sustained" from this speed, in frame widths (heights) per second: at 0.01 the
#: view crosses one frame in 100 s (0.27 px a frame at 640 px and 24 fps), a slow, deliberate drift.
#: Below ``SLOW_PAN_SPEED`` the move must also pass the path test (see :func:`classify_movement`).
PAN_MIN_SPEED = 0.01
#: Pans/tilts slower than this (frame widths or heights per second; one frame in 50 s) are "at the
#: margin": tracking noise and a moving foreground can fake them, so their path must show it.
SLOW_PAN_SPEED = 0.02
#: A push-in/pull-out is sustained from this rate of scale change, percent per second (the
#: tracker under-reads scale by ~10-15 %: a true 0.8-1 %/s push reads ~0.7-0.9). Below
#: ``SLOW_ZOOM_RATE`` it must also pass the path test.
ZOOM_MIN_RATE = 0.7
SLOW_ZOOM_RATE = 2.0
#: A roll counts (towards "complex") from this many degrees per second.
ROLL_MIN_RATE = 1.5
#: Handheld: robust per-frame jitter of the content position (frame fraction per frame, RMS of
#: dx/dy around their 9-frame running median) at least this. Tracking noise on a locked-off
#: real shot is ~0.0001-0.0005.
JITTER_MIN = 0.0015
#: Light handheld (1-2 px of shake at 640 px): jitter at least this *and* sway at least
#: ``SWAY_MIN``. Tracking noise is white and tiny (jitter ~0.0001, little sway); a moving
#: foreground drags the fit slowly (some sway, jitter ~0.0002); an operator's body sways *and*
#: trembles (jitter >= 0.001 and sway >= 0.002 on the benchmark's light handheld shots).
LIGHT_JITTER_MIN = 0.0005
#: Sway: robust RMS of the content's position (the integrated dx/dy) around its own 1-second
#: running mean, frame fraction: the 0.5-5 Hz band where a handheld camera's power lies. A slow
#: pan, whose path is a straight line, has none.
SWAY_MIN = 0.0012
#: A component is sustained only if at least this fraction of frames move its median's way (and
#: its median is 2.5 standard errors from zero): handheld shake has no direction.
MIN_CONSISTENCY = 0.65
#: Path test for moves at the margin: the shot is cut into windows of ``PATH_WINDOW_S`` seconds;
#: at least ``MIN_WINDOW_AGREEMENT`` of the windows must travel the move's way, and the straight
#: line through the integrated path must travel ``MIN_TRAVEL_TO_RESIDUAL`` times the path's RMS
#: distance from that line (a pan is a line; a wander from noise or a moving object is not).
PATH_WINDOW_S = 0.5
#: ... and at least this fraction of the shot must have been tracked: when most frames fit badly
#: (a flat sky), the few that fit may be those where a big foreground object fills the grid
#: (BBB's last shot: the bunny rises into a locked-off frame and read as a slow tilt).
MIN_SLOW_TRACKED = 0.8
MIN_WINDOW_AGREEMENT = 0.8
MIN_TRAVEL_TO_RESIDUAL = 4.0
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
    ``sway`` is the low-frequency wander of the picture position (frame fraction, see ``SWAY_MIN``).
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
    sway: float = 0.0

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


def _sway(dx: np.ndarray, dy: np.ndarray, rate: float) -> float:
    """Robust RMS of the position around its own ~1 s running mean (frame fraction), x and y combined."""
    k = max(5, round(rate) | 1)
    out = []
    for v in (dx, dy):
        p = np.cumsum(v)
        wander = p - pd.Series(p).rolling(k, center=True, min_periods=1).mean().to_numpy()
        out.append(1.4826 * float(np.median(np.abs(wander - np.median(wander)))))
    return math.hypot(*out)


def _steady_path(v: np.ndarray, rate: float) -> bool:
    """Is the integrated motion ``v`` (per frame) a steady travel one way, not a wander?

    The windows' displacements must mostly share the sign of the whole travel, and a straight
    line must explain the path (travel >= ``MIN_TRAVEL_TO_RESIDUAL`` x the residual RMS).
    Tracking noise accumulates as a random walk (its travel grows as the square root of the
    length, its residual as fast); a slow pan's travel grows with the length and leaves no residual.
    """
    n = len(v)
    w = max(4, round(PATH_WINDOW_S * rate))
    if n < 2 * w:
        return False
    p = np.cumsum(v)
    t = np.arange(n, dtype=np.float64)
    slope, icpt = np.polyfit(t, p, 1)
    residual = float(np.sqrt(np.mean((p - (slope * t + icpt)) ** 2)))
    travel = abs(float(slope)) * (n - 1)
    sums = v[: n // w * w].reshape(-1, w).sum(1)
    agree = float(np.mean(np.sign(sums) == np.sign(slope)))
    return agree >= MIN_WINDOW_AGREEMENT and travel >= MIN_TRAVEL_TO_RESIDUAL * residual


def classify_movement(signals: pd.DataFrame, rate: float, trim: int | None = None) -> MovementEstimate:
    """Classify one shot's camera movement from its slice of :meth:`CameraSignals.table` rows.

    Robust: ``trim`` frames (default min(3, n/6)) at each end are ignored (they may sit inside a
    transition), frames with a poor RANSAC consensus (``inlier_ratio < MIN_INLIER_RATIO``) are
    dropped, and the rates are medians over the remaining frames, so a moving object or a few
    bad fits do not make a camera move. Rules, with each component's rate compared to its
    threshold (``PAN_MIN_SPEED``, ``ZOOM_MIN_RATE`` (push/pull, with pan/tilt), ``ROLL_MIN_RATE``):

    A component is *sustained* when its rate is at or above its threshold, at least
    ``MIN_CONSISTENCY`` of the frames move that way, and its median is 2.5 standard errors from 0.
    A pan/tilt slower than ``SLOW_PAN_SPEED`` or a push/pull slower than ``SLOW_ZOOM_RATE`` is a
    move *at the margin*, where tracking noise, a moving foreground or a shake can fake it: it is
    sustained only if, besides, at least ``MIN_SLOW_TRACKED`` of the shot tracked, the shot does
    not shake hard (jitter < ``JITTER_MIN``) and its integrated path is steady (temporal
    consistency: the half-second windows travel its way and a straight line explains the path,
    see :func:`_steady_path`; a slow pan is tiny per frame but adds up, noise only wanders).

    * nothing sustained: ``handheld`` if the jitter >= ``JITTER_MIN`` (strong shake), or if the
      jitter >= ``LIGHT_JITTER_MIN`` *and* the sway >= ``SWAY_MIN`` (light shake: an operator's
      body sways at 0.5-5 Hz and trembles; tracking noise is white and tiny, a moving foreground
      sways the fit without the tremor); otherwise ``static``;
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
    for c, slow in (("pan", abs(pan) < SLOW_PAN_SPEED), ("tilt", abs(tilt) < SLOW_PAN_SPEED), ("zoom", abs(zoom) < SLOW_ZOOM_RATE)):
        if sustained[c] and slow:
            # A move at the margin must show in its path, in a well-tracked shot that does not
            # shake hard: a strong shake alone reads as a slow zoom or drift of this size.
            sustained[c] = tracked >= MIN_SLOW_TRACKED and jitter < JITTER_MIN and _steady_path(per_frame[c], rate)
    sway = _sway(dx, dy, rate)
    fit = float(np.clip(np.mean(inl), 0.0, 1.0))
    base = {
        "pan": round(pan, 5),
        "tilt": round(tilt, 5),
        "zoom": round(zoom, 4),
        "roll": round(roll, 4),
        "jitter": round(jitter, 6),
        "tracked_fraction": round(float(tracked), 4),
        "sway": round(sway, 6),
    }
    # Strength of each component as picture motion at the frame edge, frames per second, so a
    # pan and a push can be compared: a zoom of z %/s moves the edges by z/200 frame/s.
    strength = {"pan": abs(pan), "tilt": abs(tilt), "zoom": abs(zoom) / 200.0, "roll": math.radians(abs(roll)) / 2.0}
    moving = sorted((c for c in ratios if sustained[c]), key=lambda c: strength[c], reverse=True)

    if not moving:
        near = min(1.0, max(ratios.values()))
        light = jitter >= LIGHT_JITTER_MIN and sway >= SWAY_MIN
        if jitter >= JITTER_MIN or light:
            evidence = max(jitter / (2 * JITTER_MIN), min(jitter / (2 * LIGHT_JITTER_MIN), sway / (2 * SWAY_MIN)))
            conf = fit * float(np.clip(evidence, 0.5, 1.0))
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
