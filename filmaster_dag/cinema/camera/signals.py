"""Per-frame camera signals, recorded while the film decodes once: camera motion, light, colour.

Motion is that of the *picture content* (see the conventions in :mod:`filmaster_dag.cinema.camera`);
:mod:`.movement` turns a shot's rows into a camera move.
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np
import pandas as pd

from ..media import InOrderWorker
from .lighting import colour_temperature_k

if TYPE_CHECKING:
    from ..media import DecodedFrame

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


_NAN = float("nan")


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


def _median(values: np.ndarray) -> float:
    """``np.median`` of a short 1-D array, the same number at a tenth of its overhead."""
    n = len(values)
    if not n or np.isnan(values).any():
        return float(np.median(values))
    half = n // 2
    if n % 2:
        return float(np.partition(values, half)[half])
    part = np.partition(values, (half - 1, half))
    return (float(part[half - 1]) + float(part[half])) / 2.0


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
    keep = res <= max(0.15, 2.0 * _median(res))
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
    an even stride get their own values). Cost: ~0.7 ms of CPU a frame for a 320-px analysis picture
    (``bench/analysers.py``), the tracking-size resize, Lucas-Kanade and the colour statistics most of it.
    The first row (and any frame without a fit) has NaN motion and ``inlier_ratio`` 0.

    With ``background`` (the default) the frames are measured in a worker thread, in order, a
    batch at a time, while the pass's thread feeds the other analysers: OpenCV releases the GIL,
    so the two cores share the work. The rows are the same; :meth:`table` waits for the last.
    """

    #: Frames handed to the worker at once (fewer hand-overs), and batches waiting at most.
    BATCH = 8
    MAX_PENDING = 8

    def __init__(
        self,
        width: int = 128,
        grid: tuple[int, int] = (8, 5),
        colour_every: int = 2,
        ransac_threshold_px: float = 0.6,
        min_eig: float = 1e-3,
        background: bool = True,
    ):
        self.width = int(width)
        self.background = background
        self._seen = 0  # frames handed to update
        self._batch: list[tuple[int, float, np.ndarray, np.ndarray | None]] = []
        self._worker: InOrderWorker[None] | None = None
        self.grid = grid
        self.colour_every = max(1, int(colour_every))
        self.ransac_threshold_px = float(ransac_threshold_px)
        self.min_eig = float(min_eig)
        self._rows: list[tuple] = []
        self._prev: np.ndarray | None = None
        self._pts: np.ndarray = np.empty((0, 1, 2), np.float32)  # the tracked grid, set on the first frame
        self._size: tuple[int, int] | None = None
        self._source: tuple[int, int] | None = None  # analysis picture size the tracking size was worked out for
        self._scaled: tuple[int, int, int] = (1, 0, 0)
        self._colour: tuple[float, float, float, float, float] = (float("nan"),) * 5
        self._lk: dict[str, Any] = {
            "winSize": (11, 11),
            "maxLevel": 2,
            "criteria": (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 8, 0.03),
            "minEigThreshold": self.min_eig,
        }

    def _grid_points(self, w: int, h: int) -> np.ndarray:
        gx, gy = self.grid
        # Keep the tracking windows off the borders: border pixels bias LK towards zero motion
        # (it under-read a known 15 %/s push-in by 13 % and read handheld shake as a pull-out).
        mx, my = max(6.0, 0.12 * w), max(6.0, 0.12 * h)
        xs = np.linspace(mx, w - 1 - mx, gx)
        ys = np.linspace(my, h - 1 - my, gy)
        return np.array([(x, y) for y in ys for x in xs], np.float32).reshape(-1, 1, 2)

    def _tracking_size(self, w0: int, h0: int) -> tuple[int, int, int]:
        """(factor, width, height) of the tracked picture for a ``w0`` x ``h0`` analysis picture."""
        # A whole downscale factor nearest ``width``: OpenCV's area resize is an exact, fast
        # block average then (a 320-px analysis picture is tracked at 160 px, a 256-px one at 128).
        factor = max(1, int(w0 / self.width + 0.5))
        return factor, w0 // factor, max(8, h0 // factor)

    def update(self, frame: DecodedFrame) -> None:
        colour = frame.index % self.colour_every == 0 or not self._seen
        # The pictures are taken here, on the pass's thread (views are made once a frame, for
        # every analyser); the measuring happens in order in a worker when ``background``.
        item = (int(frame.index), float(frame.time.seconds), frame.gray, frame.bgr if colour else None)
        self._seen += 1
        if not self.background:
            self._measure(*item)
            return
        self._batch.append(item)
        if len(self._batch) >= self.BATCH:
            self._submit()

    def _submit(self) -> None:
        if not self._batch:
            return
        if self._worker is None:
            self._worker = InOrderWorker("camera-signals", self.MAX_PENDING)
        batch, self._batch = self._batch, []
        self._worker.submit(self._measure_batch, batch)

    def _measure_batch(self, batch: list[tuple[int, float, np.ndarray, np.ndarray | None]]) -> None:
        for item in batch:
            self._measure(*item)

    def _finish(self) -> None:
        """Wait for the worker to measure every frame handed over so far."""
        self._submit()
        if self._worker is not None:
            self._worker.drain()

    def _measure(self, index: int, seconds: float, gray: np.ndarray, bgr: np.ndarray | None) -> None:
        """One frame's row: motion from the previous frame; light and colour when ``bgr`` is given."""
        h0, w0 = gray.shape[:2]
        if self._source != (w0, h0):  # the sizes are worked out once a film, not once a frame
            self._source = (w0, h0)
            self._scaled = self._tracking_size(w0, h0)
        factor, w, h = self._scaled
        small = cv2.resize(gray, (w, h), interpolation=cv2.INTER_AREA) if factor > 1 else gray
        if self._size != (w, h):  # first frame, or the picture size changed: restart tracking
            self._prev = None
            self._size = (w, h)
            self._pts = self._grid_points(w, h)

        nan = _NAN
        dx = dy = zoom = rot = nan
        inliers = 0.0
        energy = diff = nan
        prev = self._prev
        if prev is not None:
            pts = self._pts
            # nextPts=None: OpenCV allocates it (the stubs do not allow None)
            nxt, st, _err = cv2.calcOpticalFlowPyrLK(prev, small, pts, None, **self._lk)  # type: ignore[call-overload]
            ok = st.ravel() == 1
            M = None
            if int(ok.sum()) >= 6:
                tracked, found = pts[ok], nxt[ok]
                M, inl = cv2.estimateAffinePartial2D(
                    tracked,
                    found,
                    method=cv2.RANSAC,
                    ransacReprojThreshold=self.ransac_threshold_px,
                    maxIters=200,
                    confidence=0.99,
                    refineIters=5,
                )
                if M is not None and np.isfinite(M).all():
                    inliers = float(inl.sum()) / len(pts)
                    agree = inl.ravel() == 1
                    M = _tighten(M, tracked[agree], found[agree])
                else:
                    M = None
            if M is not None:
                # Python floats: the same IEEE arithmetic as NumPy's scalars, without their overhead.
                (m00, m01, m02), (m10, m11, m12) = M.tolist()
                s = math.hypot(m00, m10)
                cx, cy = (w - 1) / 2.0, (h - 1) / 2.0
                mx = m00 * cx + m01 * cy + m02
                my = m10 * cx + m11 * cy + m12
                dx, dy = (mx - cx) / w, (my - cy) / h
                zoom = math.log(s) if s > 0 else nan
                rot = math.degrees(math.atan2(m10, m00))
                warped = cv2.warpAffine(prev, M, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
                energy = cv2.mean(cv2.absdiff(warped, small))[0] / 255.0
            diff = cv2.mean(cv2.absdiff(prev, small))[0] / 255.0
            if M is None:
                energy = diff
        self._prev = small

        if bgr is not None:
            sb = cv2.resize(bgr, (w, h), interpolation=cv2.INTER_AREA) if bgr.shape[1] != w else bgr
            mean, std = cv2.meanStdDev(small)
            sat = cv2.mean(cv2.cvtColor(sb, cv2.COLOR_BGR2HSV))[1] / 255.0
            cct = colour_temperature_k(sb, bgr=True)
            _, lstd = cv2.meanStdDev(cv2.Laplacian(gray, cv2.CV_16S))
            self._colour = (float(mean[0, 0]) / 255.0, float(std[0, 0]) / 255.0, sat, cct, float(lstd[0, 0]) ** 2)
        self._rows.append((index, seconds, dx, dy, zoom, rot, inliers, energy, diff, *self._colour))

    def table(self) -> pd.DataFrame:
        """One row per frame seen, columns :data:`SIGNAL_COLUMNS`."""
        self._finish()
        df = pd.DataFrame(self._rows, columns=SIGNAL_COLUMNS)
        df["frame"] = df["frame"].astype("int64")
        return df
