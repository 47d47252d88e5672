"""Shot scale of a shot from its keyframes, for everyone on screen: people, animals, objects, places.

Two kinds of evidence, strongest first:

1. **Faces and people** found by offline OpenCV detectors (Haar faces confirmed by two cascades,
   HOG standing people): the face's or figure's height in the frame gives the scale by the
   conventions of live-action framing (:data:`FACE_SCALE_THRESHOLDS`, :data:`PERSON_SCALE_THRESHOLDS`).
2. **The picture itself** (:func:`picture_cues`), for animation, animals, objects and landscapes,
   where no human face is found. Measured on a fixed-size analysis picture (the frame inside
   letterbox/pillarbox bars, resized to :data:`ANALYSIS_HEIGHT` rows), so the same frame at 360p
   and at 720p gives the same answer:

   * *structure size* -- how large the picture's structures are relative to the frame: the energy
     of coarse detail (Gaussian band sigma 2.5-8 rows of 96) over fine detail (sigma 1-2.5), on the
     textured pixels. The nearer the camera is to its subject, the larger its shapes and the fewer
     small ones (the "spatial envelope" depth cue of Torralba & Oliva, 2002); a wide view of a
     place is many small structures;
   * *softness* -- local fine contrast over the frame's tonal range: a far view is soft (aerial
     perspective, haze, fog), whatever the codec or resolution (a ratio of contrasts): an extreme wide.

   These are weaker than a face: the confidence says so (at most :data:`PICTURE_MAX_CONFIDENCE`).

``unknown`` is given only when nothing can be measured: no image, or a black or flat frame.

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

#: Width faces and people are looked for at: the ingest keyframe width. Every source is scaled to
#: it (larger ones down), so a 720p and a 360p copy of a frame are searched at the same size; at
#: 640 px the sharper downscaled 720p frame gave Haar and HOG false hits the 360p one did not.
DETECTION_WIDTH = 480
#: Rows of the analysis picture the picture cues are measured on (whatever the source resolution).
ANALYSIS_HEIGHT = 96
#: Structure size (coarse / fine detail energy, see :func:`picture_cues`) -> scale, first match from
#: the top. Hand-set on the sample films' hand-labelled shots (tests/truth/shot_scale.csv): wide views
#: of places and whole figures measured 1.25-1.75, a figure from the knees up or a body filling the
#: frame 1.8-2.0, waist-up 2.0-2.2, an object filling the frame ~2.4.
STRUCTURE_SCALE_THRESHOLDS: tuple[tuple[float, str], ...] = (
    (2.45, ShotScale.CLOSE_UP.value),
    (2.2, ShotScale.MEDIUM_CLOSE_UP.value),
    (2.0, ShotScale.MEDIUM.value),
    (1.75, ShotScale.MEDIUM_LONG.value),
    (0.0, ShotScale.WIDE.value),
)
#: Softness: local fine contrast (the 90th percentile, grey levels) over the frame's grey-level spread.
#: A far view is soft: its detail is small and low in contrast under the broad tones of sky and land
#: (aerial perspective, haze, fog). Below this, an extreme wide. On the sample films far landscapes
#: measured 0.12-0.15, every nearer shot 0.195 and up (a top-down road surface, 0.13-0.17, is the
#: exception found). A ratio of contrasts, so a codec's or a resolution's loss of fine detail,
#: which lowers both, barely moves it (360p vs 720p: 0.131 vs 0.136).
SOFT_MAX = 0.17
#: Below this 90th-percentile local contrast, or this grey-level spread, nothing can be measured (a
#: black, white or flat frame): "unknown".
FLAT_MAX_DETAIL = 0.6
FLAT_MAX_STD = 3.0
#: The picture cues never claim more confidence than this (a confirmed face reaches 0.9).
PICTURE_MAX_CONFIDENCE = 0.5


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
    """One shot's scale, as measured: from the largest confirmed face, else the tallest person, else the picture.

    ``faces``/``people``: the most seen in any one image. ``face_height``/``person_height``: the
    largest box height as a fraction of the frame height (0 when none). ``evidence``: "face",
    "person", "picture" (the picture cues of :func:`picture_cues`) or "none" (nothing measurable).
    ``structure``/``softness``/``sky``: the picture cues of :class:`PictureCues` (of the image of median
    structure size; 0 when not measured).
    ``scale``: a :class:`~filmaster_dag.cinema.vocabulary.ShotScale` value.
    """

    scale: str
    confidence: float
    faces: int = 0
    people: int = 0
    face_height: float = 0.0
    person_height: float = 0.0
    evidence: str = "none"
    images: int = 0
    structure: float = 0.0
    softness: float = 0.0
    sky: float = 0.0

    def to_record(self) -> dict:
        return asdict(self)


@dataclass(frozen=True)
class PictureCues:
    """What one frame's picture says about the distance to its subject (see :func:`picture_cues`).

    ``structure``: coarse / fine detail energy on the textured pixels (larger = nearer subject).
    ``sky``: share of the frame that is smooth and joined to the top edge (left out of ``structure``:
    the soft gradients of a sky say nothing about distance). ``detail``: the 90th percentile of
    local fine contrast (grey levels). ``std``: grey-level spread of the frame.
    """

    structure: float
    sky: float
    detail: float
    std: float

    @property
    def softness(self) -> float:
        """Local fine contrast over the frame's grey-level spread (see :data:`SOFT_MAX`)."""
        return self.detail / max(self.std, 1e-6)

    @property
    def flat(self) -> bool:
        """A black, white or flat frame: nothing to measure."""
        return self.detail < FLAT_MAX_DETAIL or self.std < FLAT_MAX_STD

    def scale(self) -> tuple[str, float]:
        """The scale these cues give, with a confidence 0..:data:`PICTURE_MAX_CONFIDENCE` ("unknown", 0 for a flat frame)."""
        if self.flat:
            return ShotScale.UNKNOWN.value, 0.0
        if self.softness < SOFT_MAX:
            # the softer the surer: a fog bank is surely far, a frame near the line maybe not
            return ShotScale.EXTREME_WIDE.value, round(0.25 + 0.25 * min(1.0, (SOFT_MAX - self.softness) / 0.04), 3)
        name = _scale_from(self.structure, STRUCTURE_SCALE_THRESHOLDS)
        # confidence grows with the distance to the nearest threshold (0.15 of structure = sure)
        margin = min(abs(self.structure - t) for t, _ in STRUCTURE_SCALE_THRESHOLDS[:-1])
        return name, round(0.2 + 0.3 * min(1.0, margin / 0.15), 3)


def _content_box(gray: np.ndarray, level: int = 12) -> tuple[int, int, int, int]:
    """The picture inside letterbox and pillarbox bars (near-black full bands), as (top, bottom, left, right)."""
    top, bottom = _content_rows(gray, level)
    cols = gray[top:bottom].mean(axis=0)
    lit = np.nonzero(cols > level)[0]
    if len(lit) < gray.shape[1] // 3:
        return top, bottom, 0, gray.shape[1]
    return top, bottom, int(lit[0]), int(lit[-1]) + 1


def analysis_picture(img: np.ndarray, height: int = ANALYSIS_HEIGHT) -> np.ndarray:
    """The frame's grey picture inside its bars, resized to ``height`` rows (area-averaged): the same
    picture whatever the source resolution, so measurements on it do not depend on 360p vs 720p."""
    gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if img.ndim == 3 else img
    top, bottom, left, right = _content_box(gray)
    gray = gray[top:bottom, left:right]
    width = max(16, round(gray.shape[1] * height / max(1, gray.shape[0])))
    return cv2.resize(gray, (width, height), interpolation=cv2.INTER_AREA).astype(np.float32)


def picture_cues(img: np.ndarray) -> PictureCues:
    """Structure size, softness and open sky of one RGB (or grey) frame, on its analysis picture.

    Three Gaussian bands of the analysis picture (:data:`ANALYSIS_HEIGHT` rows): fine = blur 1 - blur
    2.5, coarse = blur 2.5 - blur 8 (sigmas in rows). The finest octave is left out: it is where
    codecs and resolutions differ. Cost: ~2 ms per frame.
    """
    g = analysis_picture(img)
    std = float(g.std())
    g1 = cv2.GaussianBlur(g, (0, 0), 1.0)
    g2 = cv2.GaussianBlur(g, (0, 0), 2.5)
    g3 = cv2.GaussianBlur(g, (0, 0), 8.0)
    fine = np.abs(g1 - g2)
    coarse = np.abs(g2 - g3)
    local = cv2.blur(fine, (7, 7))
    detail = float(np.percentile(local, 90))
    # open sky: smooth pixels joined to the top edge (a cloudless or soft sky, a ceiling of haze)
    smooth = (local < max(1.0, 0.2 * detail)).astype(np.uint8)
    _, labels = cv2.connectedComponents(smooth)
    top = np.unique(labels[0][smooth[0] > 0])
    sky_mask = np.isin(labels, top[top > 0]) if len(top) else np.zeros(g.shape, bool)
    textured = ~sky_mask & (local >= 0.2 * detail)
    structure = float(coarse[textured].mean() / (fine[textured].mean() + 1e-3)) if textured.any() else 0.0
    return PictureCues(round(structure, 4), round(float(sky_mask.mean()), 4), round(detail, 4), round(std, 3))


def _iou(a, b) -> float:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    ix = max(0, min(ax + aw, bx + bw) - max(ax, bx))
    iy = max(0, min(ay + ah, by + bh) - max(ay, by))
    inter = ix * iy
    union = aw * ah + bw * bh - inter
    return inter / union if union > 0 else 0.0


def _content_rows(gray: np.ndarray, level: int = 12) -> tuple[int, int]:
    """Rows of the picture inside letterbox bars (near-black full-width bands), as (top, bottom)."""
    rows = gray.mean(axis=1)
    lit = np.nonzero(rows > level)[0]
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


Box = tuple[int, int, int, int]


def faces_fitting_people(faces: list[Box], people: list[Box]) -> list[Box]:
    """The faces that can belong to the people found: a face inside a standing figure's box sits in its
    top third and is at most a third of its height; a "face" on someone's chest or hands is a false hit.
    Faces outside every person box are kept (their bodies may be out of frame or unseen by HOG)."""
    kept = []
    for fx, fy, fw, fh in faces:
        cx, cy = fx + fw / 2, fy + fh / 2
        owners = [(px, py, pw, ph) for px, py, pw, ph in people if px <= cx <= px + pw and py <= cy <= py + ph]
        if all(cy - py > ph / 3 or fh > ph / 3 for _, py, _, ph in owners) and owners:
            continue
        kept.append((fx, fy, fw, fh))
    return kept


def _scale_from(value: float, table: tuple[tuple[float, str], ...]) -> str:
    for thr, name in table:
        if value >= thr:
            return name
    return table[-1][1]


#: The ways :func:`measure_shot_scale` can measure: "auto" (faces, then people, then the picture)
#: or "faces" (faces and people only, the method before the picture cues: "unknown" without them).
SCALE_METHODS: tuple[str, ...] = ("auto", "faces")


def measure_shot_scale(images: Sequence[np.ndarray], max_width: int = DETECTION_WIDTH, method: str = "auto") -> ScaleEstimate:
    """Shot scale of a shot from a few RGB keyframes, for people, animals, objects and places.

    Faces (two-cascade consensus, see :func:`detect_faces`) decide when present: the largest face
    box height over the frame height maps to a scale by :data:`FACE_SCALE_THRESHOLDS` (the median
    over the images that show a face). Otherwise people found by HOG map by
    :data:`PERSON_SCALE_THRESHOLDS`. Otherwise (``method="auto"``) the picture cues of
    :func:`picture_cues` (medians over the images) give the scale, with a lower confidence; only a
    black or flat frame stays ``"unknown"``. ``method="faces"`` keeps the faces-and-people-only
    measure (``"unknown"`` without them). Face heights are measured inside letterbox bars on the
    frame scaled down to ``max_width`` (:data:`DETECTION_WIDTH`: a 720p and a 360p copy of a
    frame are both searched at 480 px).
    Cost: faces and people ~0.1-0.3 s per 640x360 image on one core; the picture cues ~2 ms.
    """
    if method not in SCALE_METHODS:
        raise ValueError(f"unknown shot-scale method {method!r}; expected one of {', '.join(SCALE_METHODS)}")
    face_h: list[float] = []
    person_h: list[float] = []
    cues: list[PictureCues] = []
    n_faces = n_people = 0
    used = 0
    with borrowed_detectors() as det:
        for img in images:
            if img is None or img.size == 0:
                continue
            used += 1
            gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY) if img.ndim == 3 else img
            if method == "auto":
                cues.append(picture_cues(gray))
            if gray.shape[1] > max_width:
                gray = cv2.resize(gray, (max_width, round(gray.shape[0] * max_width / gray.shape[1])), interpolation=cv2.INTER_AREA)
            top, bottom = _content_rows(gray)
            gray = gray[top:bottom]
            H = gray.shape[0]
            eq = cv2.equalizeHist(gray)
            people = detect_people(gray, det)
            faces = faces_fitting_people(detect_faces(eq, det), people)
            n_faces = max(n_faces, len(faces))
            n_people = max(n_people, len(people))
            if faces:
                face_h.append(max(f[3] for f in faces) / H)
            if people:
                person_h.append(min(1.0, max(p[3] for p in people) / H))
    fh = float(np.median(face_h)) if face_h else 0.0
    ph = float(np.median(person_h)) if person_h else 0.0
    # the frame of median structure size speaks for the shot's picture (its own softness and sky with it)
    median = sorted(cues, key=lambda c: c.structure)[len(cues) // 2] if cues else None
    pic = {k: round(float(getattr(median, k)), 4) for k in ("structure", "softness", "sky")} if median else {}
    if face_h:
        scale = _scale_from(fh, FACE_SCALE_THRESHOLDS)
        conf = 0.45 + 0.35 * len(face_h) / max(1, used) + (0.1 if person_h else 0.0)
        return ScaleEstimate(scale, round(min(conf, 0.9), 3), n_faces, n_people, round(fh, 4), round(ph, 4), "face", used, **pic)
    if person_h:
        scale = _scale_from(ph, PERSON_SCALE_THRESHOLDS)
        conf = 0.3 + 0.4 * len(person_h) / max(1, used)
        return ScaleEstimate(scale, round(conf, 3), 0, n_people, 0.0, round(ph, 4), "person", used, **pic)
    if median is not None:
        scale, conf = median.scale()
        if scale != ShotScale.UNKNOWN.value:
            return ScaleEstimate(scale, conf, 0, 0, 0.0, 0.0, "picture", used, **pic)
    return ScaleEstimate(ShotScale.UNKNOWN.value, 0.0, 0, 0, 0.0, 0.0, "none", used, **pic)
