"""Camera language of a shot: camera movement, shot scale, lighting and colour.

Pure domain code (no Dagster). :class:`CameraSignals` rides the single decode pass and records
cheap per-frame signals; the ``measure_*`` functions turn one shot's slice of those signals (and a
few keyframe pictures) into the shot's camera language.

Conventions (image coordinates: x to the right, y downwards)
-------------------------------------------------------------
``dx``/``dy`` in the signals are the motion of the *picture content* at the frame centre from the
previous frame to this one, in fractions of the frame width/height per frame. The camera moves the
other way:

* pan right  = camera turns right  = content moves left  (``dx < 0``)
* pan left   = camera turns left   = content moves right (``dx > 0``)
* tilt up    = camera turns up     = content moves down  (``dy > 0``)
* tilt down  = camera turns down   = content moves up    (``dy < 0``)
* push-in (dolly in or zoom in)    = content expands     (``zoom > 0``)
* pull-out (dolly out or zoom out) = content shrinks     (``zoom < 0``)
* handheld   = small, jittery, mean-reverting motion with no sustained direction
* complex    = sustained motion in several components at once (e.g. pan + push, or a roll)

A 2-D image model cannot tell a pan from a truck (sideways dolly) or a tilt from a crane/pedestal
move, nor a zoom from a dolly; they are reported under the pan/tilt/push/pull names.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from typing import Sequence

import cv2
import numpy as np
import pandas as pd

# --------------------------------------------------------------------------------------------
# Per-frame signals (decode pass)
# --------------------------------------------------------------------------------------------

SIGNAL_COLUMNS = [
    "frame",
    "seconds",
    "dx",  # content motion at the frame centre, fraction of frame width per frame (+ = right)
    "dy",  # content motion at the frame centre, fraction of frame height per frame (+ = down)
    "zoom",  # log scale change per frame (+ = content expands = push-in)
    "rotation",  # content rotation, degrees per frame (+ = clockwise on screen)
    "inlier_ratio",  # RANSAC inliers / tracked grid points: 0 = no estimate, 1 = every point agrees
    "motion_energy",  # mean |difference| (0..1) left after compensating the camera motion
    "frame_diff",  # mean |difference| (0..1) to the previous frame, uncompensated
    "brightness",  # mean luma 0..1
    "contrast",  # RMS contrast: standard deviation of luma 0..1
    "saturation",  # mean HSV saturation 0..1
    "colour_temperature_k",  # McCamy CCT of the mean linear-sRGB colour (NaN for near-black)
    "sharpness",  # variance of the Laplacian of the analysis-size gray picture
]

_SRGB_TO_XYZ = np.array(
    [[0.4124564, 0.3575761, 0.1804375], [0.2126729, 0.7151522, 0.0721750], [0.0193339, 0.1191920, 0.9503041]]
)


def _srgb_linear_lut() -> np.ndarray:
    v = np.arange(256, dtype=np.float64) / 255.0
    lin = np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)
    return lin.astype(np.float32)


_LIN_LUT = _srgb_linear_lut()


def cct_from_linear_rgb(r: float, g: float, b: float) -> float:
    """Correlated colour temperature (K) of a linear-sRGB colour, McCamy's cubic on CIE xy.

    NaN for (near) black. Clipped to 1000..25000 K: McCamy's formula is only meaningful near the
    Planckian locus (~2000-12000 K); strongly saturated colours give a nominal value.
    """
    X, Y, Z = _SRGB_TO_XYZ @ np.array([r, g, b], dtype=np.float64)
    s = X + Y + Z
    if not np.isfinite(s) or s <= 1e-4 or Y <= 1e-4:
        return float("nan")
    x, y = X / s, Y / s
    if abs(0.1858 - y) < 1e-6:
        return float("nan")
    n = (x - 0.3320) / (0.1858 - y)
    cct = 449.0 * n**3 + 3525.0 * n**2 + 6823.3 * n + 5520.33
    return float(np.clip(cct, 1000.0, 25000.0))


def colour_temperature_k(picture: np.ndarray, bgr: bool = False) -> float:
    """CCT (K) of a uint8 picture's mean colour (RGB, or BGR with ``bgr=True``), averaged in linear light."""
    lin = cv2.LUT(np.ascontiguousarray(picture[..., :3]), _LIN_LUT)
    c0, c1, c2 = cv2.mean(lin)[:3]
    return cct_from_linear_rgb(c2, c1, c0) if bgr else cct_from_linear_rgb(c0, c1, c2)


def _fit_similarity(p: np.ndarray, q: np.ndarray) -> np.ndarray | None:
    """Least-squares similarity transform (2x3) taking points ``p`` to ``q`` (N x 2), closed form."""
    pm, qm = p.mean(0), q.mean(0)
    pc, qc = p - pm, q - qm
    den = float((pc * pc).sum())
    if den <= 1e-9:
        return None
    a = float((pc * qc).sum()) / den
    c = float((pc[:, 0] * qc[:, 1] - pc[:, 1] * qc[:, 0]).sum()) / den
    tx = qm[0] - (a * pm[0] - c * pm[1])
    ty = qm[1] - (c * pm[0] + a * pm[1])
    return np.array([[a, -c, tx], [c, a, ty]])


def _tighten(M: np.ndarray, p: np.ndarray, q: np.ndarray) -> np.ndarray:
    """Refit on the RANSAC inliers that fit best.

    Points whose tracking window overlaps a moving object are dragged a fraction of a pixel:
    still inliers at the RANSAC threshold, they bias the fit (a crossing object read as a slow
    zoom). Keeping residuals within 2x the median (at least 0.15 px) and refitting removes them.
    """
    p = p.reshape(-1, 2).astype(np.float64)
    q = q.reshape(-1, 2).astype(np.float64)
    if len(p) < 6:
        return M
    d = p @ M[:, :2].T + M[:, 2] - q
    res = np.sqrt((d * d).sum(1))
    keep = res <= max(0.15, 2.0 * float(np.median(res)))
    if keep.sum() < 6:
        return M
    refit = _fit_similarity(p[keep], q[keep])
    return refit if refit is not None else M


class CameraSignals:
    """Frame analyser: global camera motion, motion energy, light and colour for every frame.

    Motion: the analysis gray picture is shrunk to ``width`` px (128 by default); a fixed grid of
    points is tracked from the previous frame with pyramidal Lucas-Kanade and a similarity
    transform (translation, scale, rotation) is fitted with RANSAC
    (:func:`cv2.estimateAffinePartial2D`). Moving objects are outliers to the consensus, so they
    do not pass for camera motion; ``inlier_ratio`` says how much of the grid agreed (flat, black
    or blurred pictures track badly and get a low ratio). The fit is then refitted on the inliers
    that agree best (see :func:`_tighten`). Colour statistics and sharpness are computed every
    ``colour_every`` frames (default 2, filled forward in between; keyframe candidates taken at
    an even stride get their own values). Cost: ~0.3 ms/frame on one core, LK being half of it.
    The first row (and any frame without a fit) has NaN motion and ``inlier_ratio`` 0.
    """

    def __init__(
        self,
        width: int = 128,
        grid: tuple[int, int] = (8, 5),
        colour_every: int = 2,
        ransac_threshold_px: float = 0.6,
        min_eig: float = 1e-3,
    ):
        self.width = int(width)
        self.grid = grid
        self.colour_every = max(1, int(colour_every))
        self.ransac_threshold_px = float(ransac_threshold_px)
        self.min_eig = float(min_eig)
        self._rows: list[tuple] = []
        self._prev: np.ndarray | None = None
        self._pts: np.ndarray | None = None
        self._size: tuple[int, int] | None = None
        self._colour: tuple[float, float, float, float, float] = (float("nan"),) * 5
        self._lk = dict(
            winSize=(11, 11),
            maxLevel=2,
            criteria=(cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 8, 0.03),
            minEigThreshold=self.min_eig,
        )

    def _grid_points(self, w: int, h: int) -> np.ndarray:
        gx, gy = self.grid
        # Keep the tracking windows off the borders: border pixels bias LK towards zero motion
        # (it under-read a known 15 %/s push-in by 13 % and read handheld shake as a pull-out).
        mx, my = max(6.0, 0.12 * w), max(6.0, 0.12 * h)
        xs = np.linspace(mx, w - 1 - mx, gx)
        ys = np.linspace(my, h - 1 - my, gy)
        return np.array([(x, y) for y in ys for x in xs], np.float32).reshape(-1, 1, 2)

    def update(self, frame) -> None:
        gray = frame.gray
        h0, w0 = gray.shape[:2]
        # A whole downscale factor nearest ``width``: OpenCV's area resize is an exact, fast
        # block average then (a 320-px analysis picture is tracked at 160 px, a 256-px one at 128).
        factor = max(1, int(w0 / self.width + 0.5))
        w, h = w0 // factor, max(8, h0 // factor)
        small = cv2.resize(gray, (w, h), interpolation=cv2.INTER_AREA) if factor > 1 else gray
        if self._size != (w, h):  # first frame, or the picture size changed: restart tracking
            self._prev = None
            self._size = (w, h)
            self._pts = self._grid_points(w, h)

        nan = float("nan")
        dx = dy = zoom = rot = nan
        inliers = 0.0
        energy = diff = nan
        prev = self._prev
        if prev is not None:
            pts = self._pts
            nxt, st, _err = cv2.calcOpticalFlowPyrLK(prev, small, pts, None, **self._lk)
            ok = st.ravel() == 1
            M = None
            if int(ok.sum()) >= 6:
                M, inl = cv2.estimateAffinePartial2D(
                    pts[ok],
                    nxt[ok],
                    method=cv2.RANSAC,
                    ransacReprojThreshold=self.ransac_threshold_px,
                    maxIters=200,
                    confidence=0.99,
                    refineIters=5,
                )
                if M is not None and np.all(np.isfinite(M)):
                    inliers = float(inl.sum()) / len(pts)
                    M = _tighten(M, pts[ok][inl.ravel() == 1], nxt[ok][inl.ravel() == 1])
                else:
                    M = None
            if M is not None:
                a, b = float(M[0, 0]), float(M[1, 0])
                s = math.hypot(a, b)
                cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
                mx = M[0, 0] * cx + M[0, 1] * cy + M[0, 2]
                my = M[1, 0] * cx + M[1, 1] * cy + M[1, 2]
                dx, dy = (mx - cx) / w, (my - cy) / h
                zoom = math.log(s) if s > 0 else nan
                rot = math.degrees(math.atan2(b, a))
                warped = cv2.warpAffine(prev, M, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
                energy = cv2.mean(cv2.absdiff(warped, small))[0] / 255.0
            diff = cv2.mean(cv2.absdiff(prev, small))[0] / 255.0
            if M is None:
                energy = diff
        self._prev = small

        if frame.index % self.colour_every == 0 or not self._rows:
            bgr = frame.bgr
            sb = cv2.resize(bgr, (w, h), interpolation=cv2.INTER_AREA) if bgr.shape[1] != w else bgr
            mean, std = cv2.meanStdDev(small)
            sat = cv2.mean(cv2.cvtColor(sb, cv2.COLOR_BGR2HSV))[1] / 255.0
            cct = colour_temperature_k(sb, bgr=True)
            lap = cv2.Laplacian(gray, cv2.CV_16S)
            _, lstd = cv2.meanStdDev(lap)
            self._colour = (float(mean[0, 0]) / 255.0, float(std[0, 0]) / 255.0, sat, cct, float(lstd[0, 0]) ** 2)
        t = frame.time
        self._rows.append((int(frame.index), float(t.seconds), dx, dy, zoom, rot, inliers, energy, diff, *self._colour))

    def table(self) -> pd.DataFrame:
        """One row per frame seen, columns :data:`SIGNAL_COLUMNS`."""
        df = pd.DataFrame(self._rows, columns=SIGNAL_COLUMNS)
        df["frame"] = df["frame"].astype("int64")
        return df


# --------------------------------------------------------------------------------------------
# Camera movement
# --------------------------------------------------------------------------------------------

MOVEMENTS = ("static", "pan_left", "pan_right", "tilt_up", "tilt_down", "push_in", "pull_out", "handheld", "complex")

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
class CameraMovement:
    """One shot's camera movement.

    ``speed`` depends on ``movement``: pans in frame widths per second, tilts in frame heights per
    second, push/pull in percent scale change per second, handheld the jitter in frame fraction per
    second, complex the combined pan/tilt speed in frames per second (0 when static/unknown).
    ``pan``/``tilt``/``zoom``/``roll`` are the signed robust (median) rates of the camera itself:
    pan > 0 = right, tilt > 0 = up, zoom > 0 = push in (%/s), roll in degrees/s.
    ``consistency`` is the fraction of frames moving the same way as the dominant component.
    ``movement`` is "unknown" only when too few frames of the shot could be tracked.
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


def classify_movement(signals: pd.DataFrame, rate: float, trim: int | None = None) -> CameraMovement:
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
    n_all = len(signals)
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
        return CameraMovement("unknown", 0.0, 0.0, tracked_fraction=round(float(tracked), 4))

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
    base = dict(pan=round(pan, 5), tilt=round(tilt, 5), zoom=round(zoom, 4), roll=round(roll, 4), jitter=round(jitter, 6), tracked_fraction=round(float(tracked), 4))
    # Strength of each component as picture motion at the frame edge, frames per second, so a
    # pan and a push can be compared: a zoom of z %/s moves the edges by z/200 frame/s.
    strength = {"pan": abs(pan), "tilt": abs(tilt), "zoom": abs(zoom) / 200.0, "roll": math.radians(abs(roll)) / 2.0}
    moving = sorted((c for c in ratios if sustained[c]), key=strength.get, reverse=True)

    if not moving:
        near = min(1.0, max(ratios.values()))
        if jitter >= JITTER_MIN:
            conf = fit * float(np.clip(jitter / (2 * JITTER_MIN), 0.5, 1.0))
            return CameraMovement("handheld", round(jitter * rate, 5), round(conf, 3), **base)
        conf = fit * (1.0 - 0.6 * near) * (1.0 - 0.5 * min(1.0, jitter / JITTER_MIN))
        return CameraMovement("static", 0.0, round(float(np.clip(conf, 0.05, 1.0)), 3), **base)

    top = moving[0]
    second = moving[1] if len(moving) > 1 else None
    cons = consistency[top]
    if top == "roll" or (second is not None and strength[second] >= COMPLEX_RATIO * strength[top]):
        speed = math.hypot(pan, tilt)
        balance = strength[second] / strength[top] if (second is not None and top != "roll") else 1.0
        conf = fit * cons * min(1.0, 0.5 + balance)
        return CameraMovement("complex", round(speed, 5), round(float(np.clip(conf, 0.05, 1.0)), 3), consistency=round(cons, 3), **base)
    rest = max((strength[c] for c in strength if c != top), default=0.0)

    if top == "pan":
        movement, speed = ("pan_right" if pan > 0 else "pan_left"), abs(pan)
    elif top == "tilt":
        movement, speed = ("tilt_up" if tilt > 0 else "tilt_down"), abs(tilt)
    else:
        movement, speed = ("push_in" if zoom > 0 else "pull_out"), abs(zoom)
    margin = min(1.0, (ratios[top] - 1.0) / 2.0 + 0.5)
    separation = 1.0 - 0.5 * min(1.0, rest / strength[top])
    conf = fit * cons * margin * separation
    return CameraMovement(movement, round(speed, 5), round(float(np.clip(conf, 0.05, 1.0)), 3), consistency=round(cons, 3), **base)


# --------------------------------------------------------------------------------------------
# Shot scale
# --------------------------------------------------------------------------------------------

SCALES = ("extreme_close_up", "close_up", "medium_close_up", "medium", "medium_long", "wide", "extreme_wide", "unknown")

#: Face-box height / frame height -> scale, first match from the top. The Haar face box spans
#: roughly brows-to-chin, about 1/7 of a standing adult, so a full figure filling the frame height
#: has a face box of ~0.14 (a full shot = "wide", the long shot of Salt's scale); knees-up ~0.18;
#: waist-up ~0.25; chest-up ~0.33; head-and-shoulders ~0.5; face filling the frame >= 0.6.
FACE_SCALE_THRESHOLDS = (
    (0.60, "extreme_close_up"),
    (0.40, "close_up"),
    (0.28, "medium_close_up"),
    (0.20, "medium"),
    (0.15, "medium_long"),
    (0.06, "wide"),
    (0.0, "extreme_wide"),
)
#: HOG full-body box height / frame height -> scale (used when no face is confirmed). The HOG
#: box has ~12% margin above and below the person. A whole figure at least ~40% of the frame
#: height is a long/full shot ("wide"); smaller figures make an "extreme_wide".
PERSON_SCALE_THRESHOLDS = ((0.45, "wide"), (0.0, "extreme_wide"))
#: HOG SVM score needed to count a person (0.3-0.7 scores were background false positives).
HOG_MIN_SCORE = 0.8

@dataclass(frozen=True)
class Detectors:
    """One set of the offline face and people detectors (OpenCV Haar cascades and HOG)."""

    face_default: cv2.CascadeClassifier
    face_alt2: cv2.CascadeClassifier
    people: cv2.HOGDescriptor

    @classmethod
    def load(cls) -> Detectors:
        """Load the cascades and the HOG people detector shipped in the opencv wheel (~0.1 s)."""
        base = cv2.data.haarcascades
        cascades = {}
        for name in ("frontalface_default", "frontalface_alt2"):
            c = cv2.CascadeClassifier(base + f"haarcascade_{name}.xml")
            if c.empty():  # pragma: no cover - the opencv-python 4.x wheel ships them
                raise RuntimeError(f"OpenCV Haar cascade haarcascade_{name}.xml is missing from {base}")
            cascades[name] = c
        hog = cv2.HOGDescriptor()
        hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())
        return cls(cascades["frontalface_default"], cascades["frontalface_alt2"], hog)


# OpenCV's CascadeClassifier keeps per-call scratch state inside the object: two threads running
# one classifier corrupt each other (an assertion ``scaleIdx < scaleData->size()``, or silently
# wrong faces). So a detector set is used by one caller at a time: borrowed from this free list
# (or loaded when all are in use) and given back, so a thread pool reuses sets across films.
_FREE_DETECTORS: list[Detectors] = []
_FREE_LOCK = threading.Lock()


@contextmanager
def borrowed_detectors() -> Iterator[Detectors]:
    """A detector set that no other thread uses until the ``with`` block ends."""
    with _FREE_LOCK:
        det = _FREE_DETECTORS.pop() if _FREE_DETECTORS else None
    if det is None:
        det = Detectors.load()
    try:
        yield det
    finally:
        with _FREE_LOCK:
            _FREE_DETECTORS.append(det)


@dataclass
class ShotScale:
    """Shot scale from the largest confirmed face (else the tallest detected person).

    ``faces``/``people``: the most seen in any one image. ``face_height``/``person_height``: the
    largest box height as a fraction of the frame height (0 when none). ``evidence``: "face",
    "person" or "none".
    """

    scale: str
    confidence: float
    faces: int = 0
    people: int = 0
    face_height: float = 0.0
    person_height: float = 0.0
    evidence: str = "none"
    images: int = 0

    def to_record(self) -> dict:
        return asdict(self)


def _iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def _content_rows(gray: np.ndarray) -> tuple[int, int]:
    """Rows of the picture inside letterbox bars (near-black full-width bands), as (top, bottom)."""
    rows = gray.mean(axis=1)
    lit = np.nonzero(rows > 12)[0]
    if len(lit) < gray.shape[0] // 3:
        return 0, gray.shape[0]
    return int(lit[0]), int(lit[-1]) + 1


def detect_faces(gray: np.ndarray, detectors: Detectors | None = None) -> list[tuple[int, int, int, int]]:
    """Frontal faces confirmed by two Haar cascades (``alt2`` boxes that ``default`` also finds).

    Either cascade alone fires on hats, trousers and foliage; their agreement is far cleaner.
    The confirmation runs only on a region around each ``alt2`` candidate, so it is cheap.
    ``detectors``: a set this caller holds alone (default: one borrowed for the call).
    """
    if detectors is None:
        with borrowed_detectors() as det:
            return detect_faces(gray, det)
    det = detectors
    h, w = gray.shape[:2]
    min_side = max(20, int(0.05 * h))
    cands = det.face_alt2.detectMultiScale(gray, scaleFactor=1.1, minNeighbors=3, minSize=(min_side, min_side))
    faces = []
    for x, y, fw, fh in (cands if len(cands) else []):
        pad = int(0.5 * fw)
        x0, y0 = max(0, x - pad), max(0, y - pad)
        x1, y1 = min(w, x + fw + pad), min(h, y + fh + pad)
        roi = gray[y0:y1, x0:x1]
        lo = max(20, int(0.7 * fw))
        conf = det.face_default.detectMultiScale(roi, scaleFactor=1.05, minNeighbors=3, minSize=(lo, lo), maxSize=(int(1.5 * fw) + 1,) * 2)
        if any(_iou((x, y, fw, fh), (cx + x0, cy + y0, cw, ch)) >= 0.3 for cx, cy, cw, ch in (conf if len(conf) else [])):
            faces.append((int(x), int(y), int(fw), int(fh)))
    return faces


def detect_people(gray: np.ndarray, detectors: Detectors | None = None) -> list[tuple[int, int, int, int]]:
    """Standing people with OpenCV's default HOG+SVM detector (score >= ``HOG_MIN_SCORE``), NMS'd."""
    if detectors is None:
        with borrowed_detectors() as det:
            return detect_people(gray, det)
    hog = detectors.people
    if gray.shape[0] < 128 or gray.shape[1] < 64:
        return []
    rects, weights = hog.detectMultiScale(gray, winStride=(8, 8), padding=(8, 8), scale=1.05)
    if len(rects) == 0:
        return []
    boxes = [tuple(int(v) for v in r) for r, s in zip(rects, np.ravel(weights)) if s >= HOG_MIN_SCORE]
    scores = [float(s) for s in np.ravel(weights) if s >= HOG_MIN_SCORE]
    keep: list[tuple[int, int, int, int]] = []
    for i in np.argsort(scores)[::-1]:
        if all(_iou(boxes[i], k) < 0.3 for k in keep):
            keep.append(boxes[i])
    return keep


def _scale_from(value: float, table) -> str:
    for thr, name in table:
        if value >= thr:
            return name
    return table[-1][1]


def measure_shot_scale(images: Sequence[np.ndarray], max_width: int = 640) -> ShotScale:
    """Shot scale of a shot from a few RGB keyframes, with offline OpenCV detectors.

    Faces (two-cascade consensus, see :func:`detect_faces`) decide when present: the largest face
    box height over the frame height maps to a scale by :data:`FACE_SCALE_THRESHOLDS` (the median
    over the images that show a face). Otherwise people found by HOG map by
    :data:`PERSON_SCALE_THRESHOLDS`. Nothing found -> ``"unknown"``: no guess from other cues.
    Heights are measured inside letterbox bars. Cost: ~0.1-0.3 s per 640x360 image on one core.
    """
    face_h: list[float] = []
    person_h: list[float] = []
    n_faces = n_people = 0
    used = 0
    with borrowed_detectors() as det:
        for img in images:
            if img is None or img.size == 0:
                continue
            used += 1
            gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if img.ndim == 3 else img
            if gray.shape[1] > max_width:
                gray = cv2.resize(gray, (max_width, int(round(gray.shape[0] * max_width / gray.shape[1]))), interpolation=cv2.INTER_AREA)
            top, bottom = _content_rows(gray)
            gray = gray[top:bottom]
            H = gray.shape[0]
            eq = cv2.equalizeHist(gray)
            faces = detect_faces(eq, det)
            people = detect_people(gray, det)
            n_faces = max(n_faces, len(faces))
            n_people = max(n_people, len(people))
            if faces:
                face_h.append(max(f[3] for f in faces) / H)
            if people:
                person_h.append(min(1.0, max(p[3] for p in people) / H))
    fh = float(np.median(face_h)) if face_h else 0.0
    ph = float(np.median(person_h)) if person_h else 0.0
    if face_h:
        scale = _scale_from(fh, FACE_SCALE_THRESHOLDS)
        conf = 0.45 + 0.35 * len(face_h) / max(1, used) + (0.1 if person_h else 0.0)
        return ShotScale(scale, round(min(conf, 0.9), 3), n_faces, n_people, round(fh, 4), round(ph, 4), "face", used)
    if person_h:
        scale = _scale_from(ph, PERSON_SCALE_THRESHOLDS)
        conf = 0.3 + 0.4 * len(person_h) / max(1, used)
        return ShotScale(scale, round(conf, 3), 0, n_people, 0.0, round(ph, 4), "person", used)
    return ShotScale("unknown", 0.0, 0, 0, 0.0, 0.0, "none", used)


# --------------------------------------------------------------------------------------------
# Lighting and colour
# --------------------------------------------------------------------------------------------

#: Lighting key from the luma (Rec.601, 0..1) of the keyframes (else the per-frame signals):
#: low key if the mean luma <= LOW_KEY_MEAN or at least LOW_KEY_DARK_FRACTION of the pixels are
#: darker than DARK_LUMA; high key if the mean luma >= HIGH_KEY_MEAN and at most
#: HIGH_KEY_DARK_FRACTION of the pixels are darker than DARK_LUMA; normal otherwise.
LOW_KEY_MEAN = 0.28
LOW_KEY_DARK_FRACTION = 0.55
HIGH_KEY_MEAN = 0.62
HIGH_KEY_DARK_FRACTION = 0.08
DARK_LUMA = 0.2


@dataclass
class Lighting:
    """Lighting key and colour of a shot. ``palette``: hex colours, heaviest first, with ``weights``."""

    key: str
    brightness: float
    contrast: float
    saturation: float
    colour_temperature_k: float
    dark_fraction: float
    palette: list[str] = field(default_factory=list)
    weights: list[float] = field(default_factory=list)

    def to_record(self) -> dict:
        return asdict(self)


def _kmeans(x: np.ndarray, k: int, seed: int = 0, iters: int = 25) -> tuple[np.ndarray, np.ndarray]:
    """Deterministic k-means (k-means++ init from ``seed``): returns (labels, centres)."""
    rng = np.random.default_rng(seed)
    k = min(k, len(x))
    centres = [x[rng.integers(len(x))]]
    d2 = ((x - centres[0]) ** 2).sum(1)
    for _ in range(1, k):
        if d2.sum() <= 0:
            break
        centres.append(x[rng.choice(len(x), p=d2 / d2.sum())])
        d2 = np.minimum(d2, ((x - centres[-1]) ** 2).sum(1))
    c = np.array(centres, dtype=np.float64)
    labels = np.zeros(len(x), dtype=np.int64)
    for it in range(iters):
        dist = ((x[:, None, :] - c[None, :, :]) ** 2).sum(2)
        new = dist.argmin(1)
        if it and np.array_equal(new, labels):
            break
        labels = new
        for j in range(len(c)):
            members = x[labels == j]
            if len(members):
                c[j] = members.mean(0)
    return labels, c


def palette(images: Sequence[np.ndarray], k: int = 5, sample: int = 4000, seed: int = 0) -> tuple[list[str], list[float]]:
    """~``k`` dominant colours of RGB pictures: k-means in CIELAB on a deterministic pixel sample.

    Returns hex colours (the mean sRGB of each cluster), heaviest first, and their weights
    (fractions of the sample, summing to 1). Near-duplicate clusters are not merged.
    """
    pix = []
    for img in images:
        if img is None or img.size == 0 or img.ndim != 3:
            continue
        small = cv2.resize(img[..., :3], (64, max(1, int(round(img.shape[0] * 64 / img.shape[1])))), interpolation=cv2.INTER_AREA)
        pix.append(small.reshape(-1, 3))
    if not pix:
        return [], []
    rgb = np.concatenate(pix)
    rng = np.random.default_rng(seed)
    if len(rgb) > sample:
        rgb = rgb[rng.choice(len(rgb), sample, replace=False)]
    lab = cv2.cvtColor(rgb.reshape(-1, 1, 3).astype(np.uint8), cv2.COLOR_RGB2LAB).reshape(-1, 3).astype(np.float64)
    labels, _ = _kmeans(lab, k, seed)
    out = []
    for j in np.unique(labels):
        members = rgb[labels == j]
        r, g, b = (int(round(v)) for v in members.mean(0))
        out.append((len(members) / len(rgb), f"#{r:02x}{g:02x}{b:02x}"))
    out.sort(key=lambda t: (-t[0], t[1]))
    return [h for _, h in out], [round(float(w), 4) for w, _ in out]


def _nanmedian(series) -> float:
    v = np.asarray(series, dtype=np.float64)
    v = v[np.isfinite(v)]
    return float(np.median(v)) if len(v) else float("nan")


def measure_lighting(signals: pd.DataFrame | None, images: Sequence[np.ndarray] = ()) -> Lighting:
    """Lighting key, brightness/contrast/saturation/colour temperature and palette of a shot.

    Brightness, contrast, saturation and colour temperature are medians of the per-frame signals
    (robust to flashes and the odd transition frame); without signals they come from the
    images. The key follows the rule documented at :data:`LOW_KEY_MEAN` on the images' luma
    histogram (the signals' median brightness when there are no images). Palette from the images.
    """
    imgs = [im for im in images if im is not None and getattr(im, "ndim", 0) == 3 and im.size]
    luma = np.concatenate([cv2.cvtColor(im[..., :3], cv2.COLOR_RGB2GRAY).ravel() for im in imgs]) / 255.0 if imgs else None
    has_sig = signals is not None and len(signals) > 0
    if has_sig:
        brightness = _nanmedian(signals["brightness"])
        contrast = _nanmedian(signals["contrast"])
        saturation = _nanmedian(signals["saturation"])
        cct = _nanmedian(signals["colour_temperature_k"])
    elif imgs:
        brightness = float(luma.mean())
        contrast = float(luma.std())
        saturation = float(np.mean([cv2.mean(cv2.cvtColor(im[..., :3], cv2.COLOR_RGB2HSV))[1] for im in imgs]) / 255.0)
        cct = _nanmedian([colour_temperature_k(im) for im in imgs])
    else:
        nan = float("nan")
        return Lighting("unknown", nan, nan, nan, nan, nan)
    if luma is not None:
        mean_l = float(luma.mean())
        dark = float(np.mean(luma < DARK_LUMA))
    else:
        mean_l, dark = brightness, float("nan")
    if mean_l <= LOW_KEY_MEAN or (np.isfinite(dark) and dark >= LOW_KEY_DARK_FRACTION):
        key = "low_key"
    elif mean_l >= HIGH_KEY_MEAN and (not np.isfinite(dark) or dark <= HIGH_KEY_DARK_FRACTION):
        key = "high_key"
    else:
        key = "normal"
    hexes, weights = palette(imgs) if imgs else ([], [])
    return Lighting(key, round(brightness, 4), round(contrast, 4), round(saturation, 4), round(cct, 1) if np.isfinite(cct) else cct, round(dark, 4) if np.isfinite(dark) else dark, hexes, weights)


# --------------------------------------------------------------------------------------------
# One shot's record
# --------------------------------------------------------------------------------------------

SHOT_RECORD_KEYS = (
    "movement",
    "movement_speed",
    "movement_confidence",
    "pan_speed",
    "tilt_speed",
    "zoom_rate",
    "roll_rate",
    "camera_jitter",
    "shot_scale",
    "shot_scale_confidence",
    "faces",
    "people",
    "face_height",
    "lighting_key",
    "brightness",
    "contrast",
    "saturation",
    "colour_temperature_k",
    "palette",
    "palette_weights",
    "motion_energy",
    "frame_diff",
    "sharpness",
)


def measure_shot(
    signals: pd.DataFrame, images: Sequence[np.ndarray], rate: float, scale_images: Sequence[np.ndarray] | None = None
) -> dict:
    """One flat record of a shot's camera language (keys :data:`SHOT_RECORD_KEYS`).

    ``signals``: the shot's rows of :meth:`CameraSignals.table`; ``images``: a few RGB keyframes;
    ``scale_images``: the keyframes searched for faces and people (default: all of ``images``;
    face detection is the costliest measurement, so callers may pass only the primary keyframe).
    Speeds/rates are those of :class:`CameraMovement`; motion energy, frame difference and
    sharpness are means over the shot's tracked frames (frame 0 of the shot, which straddles the
    cut, is left out).
    """
    images = [im for im in (images or []) if im is not None]
    mv = classify_movement(signals, rate) if signals is not None and len(signals) else CameraMovement("unknown", 0.0, 0.0)
    scale_images = images if scale_images is None else [im for im in scale_images if im is not None]
    sc = measure_shot_scale(scale_images) if scale_images else ShotScale("unknown", 0.0)
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
    }
