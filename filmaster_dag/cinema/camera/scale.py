"""Shot scale of a shot from its keyframes: faces and people found by offline OpenCV detectors.

The detectors are not thread-safe, so each measurement borrows a set of its own
(:func:`borrowed_detectors`): the camera-language stage measures shots in a thread pool.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import cv2
import numpy as np

from ..vocabulary import ShotScale

#: Every scale :func:`measure_shot_scale` can give, tightest first, then "unknown".
SCALES: tuple[str, ...] = ShotScale.values()

#: Face-box height / frame height -> scale, first match from the top. The Haar face box spans
#: roughly brows-to-chin, about 1/7 of a standing adult, so a full figure filling the frame height
#: has a face box of ~0.14 (a full shot = "wide", the long shot of Salt's scale); knees-up ~0.18;
#: waist-up ~0.25; chest-up ~0.33; head-and-shoulders ~0.5; face filling the frame >= 0.6.
FACE_SCALE_THRESHOLDS: tuple[tuple[float, str], ...] = (
    (0.60, ShotScale.EXTREME_CLOSE_UP.value),
    (0.40, ShotScale.CLOSE_UP.value),
    (0.28, ShotScale.MEDIUM_CLOSE_UP.value),
    (0.20, ShotScale.MEDIUM.value),
    (0.15, ShotScale.MEDIUM_LONG.value),
    (0.06, ShotScale.WIDE.value),
    (0.0, ShotScale.EXTREME_WIDE.value),
)
#: HOG full-body box height / frame height -> scale (used when no face is confirmed). The HOG
#: box has ~12% margin above and below the person. A whole figure at least ~40% of the frame
#: height is a long/full shot ("wide"); smaller figures make an "extreme_wide".
PERSON_SCALE_THRESHOLDS: tuple[tuple[float, str], ...] = ((0.45, ShotScale.WIDE.value), (0.0, ShotScale.EXTREME_WIDE.value))
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
        base = cv2.data.haarcascades  # type: ignore[attr-defined]  # missing from the opencv stubs
        cascades = {}
        for name in ("frontalface_default", "frontalface_alt2"):
            c = cv2.CascadeClassifier(base + f"haarcascade_{name}.xml")
            if c.empty():  # pragma: no cover - the opencv-python 4.x wheel ships them
                raise RuntimeError(f"OpenCV Haar cascade haarcascade_{name}.xml is missing from {base}")
            cascades[name] = c
        hog = cv2.HOGDescriptor()
        hog.setSVMDetector(cv2.HOGDescriptor_getDefaultPeopleDetector())  # type: ignore[attr-defined]
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
class ScaleEstimate:
    """One shot's scale, as measured: from the largest confirmed face (else the tallest person).

    ``faces``/``people``: the most seen in any one image. ``face_height``/``person_height``: the
    largest box height as a fraction of the frame height (0 when none). ``evidence``: "face",
    "person" or "none". ``scale``: a :class:`~filmaster_dag.cinema.vocabulary.ShotScale` value.
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
    for x, y, fw, fh in cands if len(cands) else []:
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


def _scale_from(value: float, table: tuple[tuple[float, str], ...]) -> str:
    for thr, name in table:
        if value >= thr:
            return name
    return table[-1][1]


def measure_shot_scale(images: Sequence[np.ndarray], max_width: int = 640) -> ScaleEstimate:
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
                gray = cv2.resize(gray, (max_width, round(gray.shape[0] * max_width / gray.shape[1])), interpolation=cv2.INTER_AREA)
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
        return ScaleEstimate(scale, round(min(conf, 0.9), 3), n_faces, n_people, round(fh, 4), round(ph, 4), "face", used)
    if person_h:
        scale = _scale_from(ph, PERSON_SCALE_THRESHOLDS)
        conf = 0.3 + 0.4 * len(person_h) / max(1, used)
        return ScaleEstimate(scale, round(conf, 3), 0, n_people, 0.0, round(ph, 4), "person", used)
    return ScaleEstimate(ShotScale.UNKNOWN.value, 0.0, 0, 0, 0.0, 0.0, "none", used)
