"""The ripomatic: a planned shot cut from real reference footage, as previsualisation does it.

A ripomatic (a "rip-o-matic") is the editor's previs: before anything is shot or generated, the
planned film is cut from existing footage that has the wanted technique. Here each planned shot
takes its reference shot's footage window and is

1. **retimed** to exactly ``shot.frames`` frames at the production's frame rate, by frame mapping
   (no blending): a window shorter than the shot is slowed down (frames are held, as step
   printing does); a window up to :data:`MAX_SPEEDUP` times longer is sped up to use all of it
   (a slight undercrank nobody notices); a longer one plays in real time from ``in_s`` and is
   trimmed at the tail;
2. **reframed** to the planned shot scale relative to the reference shot's scale: the frame is
   cropped and scaled around the measured subject (the largest confirmed face, else the tallest
   person, else a saliency estimate from motion and edges), the crop (its whole path over the shot) kept inside the frame
   and conformed to the output's aspect ratio. A crop never zooms in more than :data:`MAX_ZOOM` (the
   picture would turn to mush), and a wider scale than the reference's cannot be made (there is
   no picture outside the frame): the full frame is used and the detail says so;
3. given the planned **camera move** as a virtual camera when the footage lacks it: the crop
   window travels (pan, tilt), shrinks or grows (push-in, pull-out) or shakes (handheld), with
   magnitudes the library's own classifier (:func:`~.camera.movement.classify_movement`)
   recognises: a pan covers ``move_strength`` (default 20 %) of the frame width over the shot and
   at least :data:`MIN_MOVE_SPEED` of it a second (at most 40 %); a push-in or pull-out changes
   the scale by ``1 + move_strength`` and at least :data:`MIN_ZOOM_RATE` a second (at most 1.6x);
   handheld is a seeded sway of ``handheld_amplitude`` of the frame plus a tremor.

Whether the footage already has the planned move is decided by measuring the window itself with
the library's camera signals (the reference shot's recorded move is used only when the window
cannot be tracked). A steady move in the footage (pan, tilt, push, pull) that the plan does not
want is cancelled: the crop follows the content at the measured rate, so a planned ``static``
shot is locked off and a planned pan is seen as a pan. Shake, ``complex`` moves and moves too
strong to cancel inside the frame are left in (the detail says so); ``complex`` and ``unknown``
get no virtual move. Pure picture code: decoding and encoding with PyAV, pictures with OpenCV.
"""

from __future__ import annotations

import itertools
import math
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import cv2
import numpy as np

from .camera.movement import MovementEstimate, classify_movement
from .camera.scale import FACE_SCALE_THRESHOLDS, PERSON_SCALE_THRESHOLDS, borrowed_detectors, detect_faces, detect_people
from .camera.signals import CameraSignals
from .media import DecodedFrame, Reformatters, _rotation_of, analysis_size_for, run_decode_pass
from .planning.models import PlannedShot
from .render import encode_video
from .timecode import FrameTime
from .vocabulary import CameraMovement, ShotScale

#: A window up to this many times the shot's length is sped up to fit; a longer one is trimmed.
MAX_SPEEDUP = 1.25
#: The largest blow-up: the tightest crop is 1/MAX_ZOOM of the frame's side (3x a 640-px source is soft already).
MAX_ZOOM = 3.0
#: Pan/tilt speed never below this, frame widths (heights) a second: twice the classifier's threshold.
MIN_MOVE_SPEED = 0.04
#: Push-in/pull-out rate never below this, scale change a second (3 %, three times the classifier's 1 %/s).
MIN_ZOOM_RATE = 0.03
#: The hand-held tremor: frame-to-frame jitter as a fraction of the shake amplitude.
TREMOR = 0.5
#: Where a face sits in a reframed crop: centred across, a little above the middle (headroom).
FACE_HEIGHT_IN_CROP = 0.42

#: Typical height of the framed face (Haar box) per scale, as a fraction of the frame height: the
#: middle of each band of :data:`~.camera.scale.FACE_SCALE_THRESHOLDS`. Ratios between two scales
#: give the blow-up that turns one into the other.
FACE_HEIGHT = {
    ShotScale.EXTREME_CLOSE_UP.value: 0.70,
    ShotScale.CLOSE_UP.value: 0.50,
    ShotScale.MEDIUM_CLOSE_UP.value: 0.34,
    ShotScale.MEDIUM.value: 0.24,
    ShotScale.MEDIUM_LONG.value: 0.175,
    ShotScale.WIDE.value: 0.10,
    ShotScale.EXTREME_WIDE.value: 0.045,
}
#: The scale assumed for reference footage whose scale was neither given nor measurable (no face,
#: no person): the library's landscapes and establishing shots.
DEFAULT_REFERENCE_SCALE = ShotScale.WIDE.value

PANS = {CameraMovement.PAN_LEFT.value: (-1, 0), CameraMovement.PAN_RIGHT.value: (1, 0)}
TILTS = {CameraMovement.TILT_UP.value: (0, -1), CameraMovement.TILT_DOWN.value: (0, 1)}
ZOOMS = {CameraMovement.PUSH_IN.value: 1, CameraMovement.PULL_OUT.value: -1}
VIRTUAL_MOVES = {*PANS, *TILTS, *ZOOMS, CameraMovement.HANDHELD.value, CameraMovement.STATIC.value}


class RipomaticError(ValueError):
    """A shot the ripomatic cannot cut (one line: the shot, what is missing, what to do)."""


@dataclass(frozen=True)
class Box:
    """A crop window in source display pixels (upright, anamorphic pixels unsqueezed)."""

    x: float
    y: float
    w: float
    h: float

    def as_list(self) -> list[float]:
        return [round(float(v), 2) for v in (self.x, self.y, self.w, self.h)]


@dataclass
class _Window:
    """What the first pass over the footage window learned."""

    times: list[float]  # source presentation times (seconds from the film's first frame) in the window
    display: tuple[int, int]  # upright display size of the source
    rotation: int
    rate: Fraction
    samples: list[np.ndarray]  # up to three upright RGB pictures, for the face and people detectors
    grays: list[np.ndarray]  # every window frame's analysis gray picture, for the saliency estimate
    movement: MovementEstimate


def _fail(shot: PlannedShot, problem: str, fix: str) -> RipomaticError:
    return RipomaticError(f"ripomatic shot {shot.shot_id}: {problem}; {fix}")


def _open_source(shot: PlannedShot) -> tuple[av.container.InputContainer, str]:
    footage = shot.footage
    if footage is None or not footage.source_path:
        raise _fail(shot, "no footage window to cut from", "plan it with a reference shot that has footage, or use another generator")
    path = footage.source_path
    if not Path(path).is_file():
        raise _fail(shot, f"source film not found ({path})", "re-ingest the library or fix the footage path")
    try:
        container = av.open(path, metadata_errors="ignore")
    except (av.error.FFmpegError, OSError) as err:
        raise _fail(shot, f"source film cannot be read ({Path(path).name}: {err})", "re-export the film or re-ingest the library") from err
    if not container.streams.video:
        container.close()
        raise _fail(shot, f"source film has no video stream ({Path(path).name})", "re-ingest the library")
    return container, path


def _decode_window(container: av.container.InputContainer, in_s: float, out_s: float) -> Iterator[tuple[float, av.VideoFrame]]:
    """(seconds from the film's first frame, frame) for every frame presented in [in_s, out_s).

    Seeks to the keyframe before ``in_s`` and decodes only up to ``out_s``.
    """
    vs = container.streams.video[0]
    vs.thread_type = "AUTO"
    tb = vs.time_base or Fraction(1, 90000)
    origin = float(vs.start_time * tb) if vs.start_time is not None else 0.0
    rate = vs.average_rate or vs.guessed_rate or 24
    half = 0.5 / float(rate)
    container.seek(max(0, int((origin + in_s) / tb)), stream=vs, backward=True, any_frame=False)
    for frame in container.decode(vs):
        if frame.pts is None:
            continue
        t = float(frame.pts * tb) - origin
        if t < in_s - half:
            continue
        if t >= out_s - half:
            break
        yield t, frame


def _source_geometry(container: av.container.InputContainer, first: av.VideoFrame) -> tuple[tuple[int, int], int]:
    """Upright display size (non-square pixels unsqueezed, rotation applied) and the rotation."""
    vs = container.streams.video[0]
    rotation = _rotation_of(first)
    sar = vs.codec_context.sample_aspect_ratio or Fraction(1, 1)
    w, h = round(first.width * float(sar)) // 2 * 2, first.height
    return ((h, w) if rotation in (90, 270) else (w, h)), rotation


def _scan(shot: PlannedShot, in_s: float, out_s: float) -> _Window:
    """First pass: the window's frame times, a few pictures to find the subject, and its measured move."""
    container, _path = _open_source(shot)
    # RANSAC draws from OpenCV's per-thread generator, whose state carries over between calls:
    # seeded here, the same window measures (and so renders) the same in every run and process
    cv2.setRNGSeed(0)
    signals = CameraSignals(background=False)
    times: list[float] = []
    grays: list[np.ndarray] = []
    frames_rgb: list[tuple[float, np.ndarray]] = []
    display: tuple[int, int] = (0, 0)
    rotation = 0
    reformatters = Reformatters()
    with container:
        vs = container.streams.video[0]
        rate = Fraction(vs.average_rate or vs.guessed_rate or 24).limit_denominator(100000)
        size = (0, 0)
        try:
            for index, (t, frame) in enumerate(_decode_window(container, in_s, out_s)):
                if index == 0:
                    display, rotation = _source_geometry(container, frame)
                    size = analysis_size_for(display[0], display[1], 256)
                decoded = DecodedFrame(frame, index, FrameTime(index, t, rate), rotation, size, display, reformatters)
                signals.update(decoded)
                times.append(t)
                grays.append(decoded.gray)
                # Keep a 640-px picture every half second; three are chosen below.
                if not frames_rgb or t - frames_rgb[-1][0] >= 0.5:
                    frames_rgb.append((t, decoded.rgb(640)))
        except av.error.FFmpegError as err:
            raise _fail(shot, f"source film cannot be decoded at {in_s:.2f}-{out_s:.2f} s ({err})", "re-export the film") from err
    if not times:
        planned = f"{shot.footage.in_s:.2f}-{shot.footage.out_s:.2f} s" if shot.footage else f"{in_s:.2f}-{out_s:.2f} s"
        raise _fail(shot, f"no frames in the footage window {planned}", "check the window against the source film's length")
    picks = sorted({round(q * (len(frames_rgb) - 1)) for q in (0.25, 0.5, 0.75)})
    samples = [frames_rgb[i][1] for i in picks]
    movement = classify_movement(signals.table(), float(rate))
    return _Window(times, display, rotation, rate, samples, grays, movement)


# -- subject -----------------------------------------------------------------------------------------


def _scale_from(value: float, table: tuple[tuple[float, str], ...]) -> str:
    return next((name for thr, name in table if value >= thr), table[-1][1])


def find_subject(samples: list[np.ndarray], grays: list[np.ndarray]) -> dict[str, Any]:
    """Where the subject is, as fractions of the frame: the largest confirmed face, else the tallest
    person, else the peak of a saliency map (motion where there is some, edges and sharpness).

    Returns ``{"x", "y", "evidence", "box" (fractions, or None), "height" (box height / frame height)}``.
    """
    best: tuple[str, tuple[int, int, int, int], tuple[int, int]] | None = None
    with borrowed_detectors() as det:
        for kind, detect in (("face", detect_faces), ("person", detect_people)):
            for img in samples:
                gray = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)
                found = detect(cv2.equalizeHist(gray) if kind == "face" else gray, det)
                for box in found:
                    if best is None or box[3] > best[1][3]:
                        best = (kind, box, (gray.shape[1], gray.shape[0]))
            if best is not None:
                break
    if best is not None:
        kind, (x, y, w, h), (fw, fh) = best
        return {
            "x": (x + w / 2) / fw,
            "y": (y + h / 2) / fh,
            "evidence": kind,
            "box": [x / fw, y / fh, w / fw, h / fh],
            "height": h / fh,
        }
    sx, sy = _saliency_peak(grays)
    return {"x": sx, "y": sy, "evidence": "saliency", "box": None, "height": 0.0}


def _saliency_peak(grays: list[np.ndarray]) -> tuple[float, float]:
    """Centre of the most salient region: where things move (frame differences) and where the
    picture is detailed and sharp (Laplacian energy), with a mild preference for the centre."""
    step = max(1, len(grays) // 12)
    picks = grays[::step]
    h, w = picks[0].shape
    edges = np.zeros((h, w), np.float32)
    for g in picks:
        edges += np.abs(cv2.Laplacian(g, cv2.CV_32F, ksize=3))
    motion = np.zeros((h, w), np.float32)
    for a, b in itertools.pairwise(picks):
        motion += cv2.absdiff(a, b).astype(np.float32)

    def normalised(m: np.ndarray) -> np.ndarray:
        m = cv2.GaussianBlur(m, (0, 0), 0.06 * w)
        top = float(np.percentile(m, 99.5))
        return m / top if top > 1e-6 else np.zeros_like(m)

    # Motion counts only where it stands out from the picture's own noise (a locked-off landscape
    # has none; a character walking has plenty).
    mot = normalised(motion)
    weight = 0.6 if float(motion.mean()) > 1.5 * len(picks) else 0.0
    sal = (1 - weight) * normalised(edges) + weight * mot
    yy, xx = np.mgrid[0:h, 0:w]
    prior = np.exp(-(((xx - w / 2) / (0.45 * w)) ** 2 + ((yy - h / 2) / (0.45 * h)) ** 2) / 2)
    sal = sal * (0.6 + 0.4 * prior)
    peak = sal >= 0.85 * float(sal.max())
    return float(xx[peak].mean() + 0.5) / w, float(yy[peak].mean() + 0.5) / h


# -- the virtual camera ---------------------------------------------------------------------------


def _ease(u: float) -> float:
    """Smoothstep without the dead start: the move eases in and out a little, as a fluid head does."""
    return 0.15 * (3 * u * u - 2 * u * u * u) + 0.85 * u


def _handheld_path(n: int, fps: float, seed: int) -> np.ndarray:
    """(n, 3) seeded offsets (x, y, zoom) of an operator's hands, in units of the shake amplitude.

    A slow sway (two incommensurate wobbles between 0.7 and 2 Hz: breathing, balance) peaking at
    1, plus a tremor (white noise smoothed over about a frame) whose frame-to-frame jitter is
    :data:`TREMOR` times the amplitude, measured as the library's classifier measures jitter
    (robust spread of the per-frame motion around its 9-frame running median): the tremor is what
    tells a hand-held camera from a slow drift. Seeded, so a shot shakes the same way every time.
    """
    rng = np.random.default_rng(seed)
    t = np.arange(n) / fps
    out = np.zeros((n, 3))
    for axis in range(3):
        sway = sum(rng.uniform(0.5, 1.0) * np.sin(2 * np.pi * rng.uniform(0.7, 2.0) * t + rng.uniform(0, 2 * np.pi)) for _ in range(2))
        sway = np.asarray(sway, np.float64)
        sway /= float(np.abs(sway).max()) or 1.0
        tremor = cv2.GaussianBlur(rng.normal(0, 1.0, (n, 1)), (1, 0), 0.8).ravel()
        spread = _jitter(tremor)
        out[:, axis] = sway + (TREMOR / spread * tremor if spread > 0 else 0.0)
    out[:, 2] *= 0.3  # the lens breathes far less than the frame wobbles
    return out


def _jitter(position: np.ndarray) -> float:
    """Robust frame-to-frame jitter of a position track (as :func:`~.camera.movement.classify_movement` measures it)."""
    v = np.diff(position)
    if len(v) < 3:
        return 0.0
    k = 9
    pad = np.pad(v, k // 2, mode="edge")
    running = np.median(np.lib.stride_tricks.sliding_window_view(pad, k), axis=1)
    return float(1.4826 * np.median(np.abs(v - running)))


@dataclass
class CameraPlan:
    """Crop boxes for every output frame, and how they were decided."""

    boxes: list[Box]
    move: str | None
    crop_fraction: float
    countered: dict[str, float]


def plan_camera(
    n: int,
    fps: float,
    display: tuple[int, int],
    aspect: float,
    subject: tuple[float, float],
    crop_fraction: float,
    move: str | None,
    *,
    counter: dict[str, float] | None = None,
    move_strength: float = 0.2,
    handheld_amplitude: float = 0.006,
    seed: int = 0,
    face_framing: bool = False,
) -> CameraPlan:
    """The crop window for each of ``n`` output frames.

    ``crop_fraction``: the crop's size at mid-shot relative to the largest box of the output
    aspect that fits the source (1 = all of it). ``subject``: (x, y) in source display pixels, kept
    at the crop's centre at mid-shot (a face a little above it). ``move``: the virtual move, or None
    to hold. ``counter``: the reference footage's own steady move to cancel, per output second
    (``pan``/``tilt`` in source frame widths/heights, + = right/up; ``zoom`` as a log scale rate,
    + = push in): the crop follows the content so that only the planned move is seen.

    The whole path of the crop (its union over the shot) is placed inside the frame as one piece,
    so no frame's box is pushed against the edge and the move stays clean; the crop is tightened
    as much as needed (down to ``1 / MAX_ZOOM``) to make room for it. When even that is not
    enough, the counter-move is dropped (``countered`` is then empty).
    """
    W, H = display
    bw = min(W, H * aspect)
    bh = bw / aspect
    duration = n / fps
    t = np.arange(n) / fps - duration / 2  # seconds from mid-shot
    e = np.array([_ease(i / max(1, n - 1)) for i in range(n)]) - 0.5  # -0.5 .. 0.5, eased
    scale = np.ones(n)
    travel = np.zeros((n, 2))  # in units of the crop's width / height
    if move in PANS or move in TILTS:
        sx, sy = PANS.get(move) or TILTS[move]
        amount = min(0.4, max(move_strength, MIN_MOVE_SPEED * duration))  # of the output frame's side
        travel = np.stack([sx * amount * e, sy * amount * e], axis=1)
    elif move in ZOOMS:
        zoom = min(1.6, max(1.0 + move_strength, math.exp(MIN_ZOOM_RATE * duration)))
        scale = zoom ** (-ZOOMS[move] * e)  # the planned scale is the middle of the move
    elif move == CameraMovement.HANDHELD.value:
        shake = _handheld_path(n, fps, seed) * handheld_amplitude
        travel = shake[:, :2] * np.array([1.0, aspect])  # the same pixels up and down as across
        scale = 1.0 + shake[:, 2]

    def boxes_for(c: float, cancel: dict[str, float]) -> np.ndarray:
        """(n, 4) boxes as (centre x, centre y, w, h) relative to the mid-shot centre."""
        follow = np.exp(cancel.get("zoom", 0.0) * t)  # the crop grows as the reference pushes in
        w, h = c * bw * scale * follow, c * bh * scale * follow
        # Content moves against the reference's camera: a pan right slides it left, so the crop follows left.
        ox = travel[:, 0] * c * bw - cancel.get("pan", 0.0) * W * t
        oy = travel[:, 1] * c * bh + cancel.get("tilt", 0.0) * H * t
        return np.stack([ox, oy, w, h], axis=1)

    def extent(b: np.ndarray) -> tuple[float, float, float, float]:
        return (
            float((b[:, 0] - b[:, 2] / 2).min()),
            float((b[:, 1] - b[:, 3] / 2).min()),
            float((b[:, 0] + b[:, 2] / 2).max()),
            float((b[:, 1] + b[:, 3] / 2).max()),
        )

    def fits(c: float, cancel: dict[str, float]) -> bool:
        x0, y0, x1, y1 = extent(boxes_for(c, cancel))
        return x1 - x0 <= W + 1e-6 and y1 - y0 <= H + 1e-6

    cancel = {k: v for k, v in (counter or {}).items() if v}
    lo, hi = 1.0 / MAX_ZOOM, min(1.0, crop_fraction)
    if not fits(min(lo, hi), cancel):
        cancel = {}
    if fits(hi, cancel):
        c = hi
    else:  # the largest crop whose whole path fits: the union's size grows with the crop
        for _ in range(40):
            mid = (lo + hi) / 2
            lo, hi = (mid, hi) if fits(mid, cancel) else (lo, mid)
        c = lo
    rel = boxes_for(c, cancel)
    x0, y0, x1, y1 = extent(rel)
    cx, cy = subject
    if face_framing:
        cy += (0.5 - FACE_HEIGHT_IN_CROP) * c * bh
    # Place the mid-shot centre on the subject, as near as the whole path allows.
    ax = min(max(cx, -x0), W - x1) if x1 - x0 <= W else W / 2 - (x0 + x1) / 2
    ay = min(max(cy, -y0), H - y1) if y1 - y0 <= H else H / 2 - (y0 + y1) / 2
    boxes = []
    for ox, oy, w, h in rel.tolist():
        w, h = min(w, W), min(h, H)
        x = min(max(ax + ox - w / 2, 0.0), W - w)
        y = min(max(ay + oy - h / 2, 0.0), H - h)
        boxes.append(Box(x, y, w, h))
    return CameraPlan(boxes, move, c, {k: round(v, 5) for k, v in cancel.items()})


# -- retiming ------------------------------------------------------------------------------------------


def retime(times: list[float], frames: int, fps: Fraction, window_s: float | None = None) -> tuple[list[int], dict[str, Any]]:
    """Which source frame (index into ``times``) each of ``frames`` output frames shows, and how.

    Source time for output frame i is ``times[0] + i / fps * speed``: ``speed`` < 1 slows a short
    window down (frames held), up to :data:`MAX_SPEEDUP` speeds a long one up to use it all, and
    beyond that the window plays in real time from its start and its tail is left out.
    ``window_s``: the planned window's length when ``times`` covers only the part that will be
    used (a long window is decoded only that far); by default the span of ``times``.
    """
    step = float(times[1] - times[0]) if len(times) > 1 else 1 / 24
    window = window_s if window_s is not None else times[-1] - times[0] + step
    shot = frames / float(fps)
    factor = window / shot
    if factor <= MAX_SPEEDUP:
        speed, mode = factor, ("slowed" if factor < 0.999 else "sped up" if factor > 1.001 else "real time")
    else:
        speed, mode = 1.0, "trimmed"
    arr = np.asarray(times)
    wanted = times[0] + np.arange(frames) / float(fps) * speed
    idx = np.searchsorted(arr, wanted + 0.25 * step, side="right") - 1
    idx = np.clip(idx, 0, len(times) - 1)
    detail = {
        "mode": mode,
        "window_s": round(window, 4),
        "shot_s": round(shot, 4),
        "factor": round(factor, 4),
        "speed": round(speed, 4),
        "source_frames": len(times),
        "source_frames_used": len(np.unique(idx)),
        "used_until_s": round(float(arr[idx[-1]]) + step, 4),
    }
    return idx.tolist(), detail


# -- framing --------------------------------------------------------------------------------------------


def _order(scale: str) -> int | None:
    return list(FACE_HEIGHT).index(scale) if scale in FACE_HEIGHT else None


#: A HOG person box is about this many face (Haar box) heights tall: the figure is ~7 faces and
#: the box has ~12 % margin above and below it.
PERSON_IN_FACES = 8.75
#: Where to frame a person found by HOG, as a fraction down their box, per planned scale: the head
#: for the tight scales, the chest for a medium, the middle of the figure for a wide.
PERSON_POINT = {
    ShotScale.EXTREME_CLOSE_UP.value: 0.17,
    ShotScale.CLOSE_UP.value: 0.18,
    ShotScale.MEDIUM_CLOSE_UP.value: 0.22,
    ShotScale.MEDIUM.value: 0.3,
    ShotScale.MEDIUM_LONG.value: 0.4,
}
#: Scales framed with headroom (the face a little above the middle of the crop).
TIGHT = {ShotScale.EXTREME_CLOSE_UP.value, ShotScale.CLOSE_UP.value, ShotScale.MEDIUM_CLOSE_UP.value}


def framing(planned: str, reference: str | None, subject: dict[str, Any]) -> tuple[float, str, str, str]:
    """(crop fraction, reference scale, where it came from, note) to turn the reference's scale into the planned one.

    With a face the blow-up is exact: the face's measured height over the height a face has at
    the planned scale; with a person, the same from the face height a figure that tall has
    (:data:`PERSON_IN_FACES`). Otherwise the ratio of the two scales' typical face heights.
    """
    source = "plan"
    face = 0.0
    if subject["evidence"] == "face":
        face = subject["height"]
    elif subject["evidence"] == "person":
        face = subject["height"] / PERSON_IN_FACES
    if reference not in FACE_HEIGHT:
        if subject["evidence"] == "face":
            reference, source = _scale_from(subject["height"], FACE_SCALE_THRESHOLDS), "measured face"
        elif subject["evidence"] == "person":
            reference, source = _scale_from(subject["height"], PERSON_SCALE_THRESHOLDS), "measured person"
        else:
            reference, source = DEFAULT_REFERENCE_SCALE, "assumed"
    assert reference is not None
    if planned not in FACE_HEIGHT:
        return 1.0, reference, source, f"planned scale '{planned}': the reference's framing kept"
    c = face / FACE_HEIGHT[planned] if face > 0 else FACE_HEIGHT[reference] / FACE_HEIGHT[planned]
    note = ""
    if c > 1.0:
        note = f"a {planned.replace('_', ' ')} is wider than the footage's framing: full frame kept"
    elif c < 1.0 / MAX_ZOOM:
        note = f"blow-up limited to {MAX_ZOOM:g}x"
    return float(min(1.0, max(1.0 / MAX_ZOOM, c))), reference, source, note


def framing_point(planned: str, subject: dict[str, Any]) -> tuple[float, float, bool]:
    """(x, y) as fractions of the frame to frame on, and whether to give it headroom: a face's
    centre; a person's head, chest or middle by the planned scale; the saliency peak."""
    if subject["evidence"] == "person" and subject["box"]:
        bx, by, bw, bh = subject["box"]
        return bx + bw / 2, by + bh * PERSON_POINT.get(planned, 0.5), planned in TIGHT
    return subject["x"], subject["y"], subject["evidence"] == "face"


# -- the whole shot ----------------------------------------------------------------------------------------


def render_ripomatic(
    shot: PlannedShot,
    width: int,
    height: int,
    fps: Fraction,
    path: str | os.PathLike,
    *,
    reference_scale: str | None = None,
    reference_movement: str | None = None,
    seed: int = 0,
    move_strength: float = 0.2,
    handheld_amplitude: float = 0.006,
    crf: int = 20,
    preset: str = "veryfast",
) -> dict[str, Any]:
    """Cut, retime, reframe and move one planned shot from its footage window; write it to ``path``.

    The clip is exactly ``width`` x ``height`` (both even), ``shot.frames`` frames at ``fps``,
    H.264 (yuv420p). ``reference_scale``/``reference_movement``: the reference shot's measured
    scale and move (from the library); when not given, the scale comes from a face or person found
    in the footage (else "wide" is assumed) and the move is measured over the window with the
    library's own camera signals. Returns the detail of what was done. Raises
    :class:`RipomaticError` when the shot has no footage or the source cannot be read.
    """
    if width <= 0 or height <= 0 or width % 2 or height % 2:
        raise _fail(shot, f"output size {width}x{height} is not even", "use an even width and height (H.264 4:2:0)")
    fps = Fraction(fps)
    if shot.footage is None:
        _open_source(shot)  # raises the one-line error
    footage = shot.footage
    assert footage is not None
    if not footage.out_s > footage.in_s:
        raise _fail(shot, f"empty footage window {footage.in_s:.2f}-{footage.out_s:.2f} s", "plan a window with out_s after in_s")
    # A window far longer than the shot plays in real time from its start: decode and measure only that part.
    shot_s = shot.frames / float(fps)
    long_window = footage.out_s - footage.in_s > MAX_SPEEDUP * shot_s
    used_out = min(footage.out_s, footage.in_s + shot_s + 0.1) if long_window else footage.out_s
    window = _scan(shot, footage.in_s, used_out)
    index, timing = retime(window.times, shot.frames, fps, footage.out_s - footage.in_s if long_window else None)
    subject = find_subject(window.samples, window.grays)
    W, H = window.display
    planned_scale = str(shot.shot_scale.value if hasattr(shot.shot_scale, "value") else shot.shot_scale)
    crop, ref_scale, scale_from, scale_note = framing(planned_scale, reference_scale, subject)
    px, py, headroom = framing_point(planned_scale, subject)

    planned_move = str(shot.movement.value if hasattr(shot.movement, "value") else shot.movement)
    measured = window.movement
    # The window's own measured move decides (it is the footage actually used); the library's
    # record of the whole reference shot only when the window could not be tracked.
    if measured.movement != CameraMovement.UNKNOWN.value or not reference_movement:
        ref_move, move_from = measured.movement, "measured over the window"
    else:
        ref_move, move_from = reference_movement, "reference shot record"
    counter: dict[str, float] = {}
    if planned_move not in VIRTUAL_MOVES:
        move, why = None, f"no virtual camera for '{planned_move}': the reference's own movement kept"
    elif planned_move == ref_move:
        move, why = None, f"the reference already has the planned {planned_move.replace('_', ' ')}"
    else:
        move = None if planned_move == CameraMovement.STATIC.value else planned_move
        why = f"virtual {planned_move.replace('_', ' ')} (reference: {ref_move})" if move else "held"
        if ref_move in PANS or ref_move in TILTS or ref_move in ZOOMS:
            # A steady reference move is cancelled by the crop following the content, so only the planned move is seen.
            speed = timing["speed"]
            counter = {"pan": measured.pan * speed, "tilt": measured.tilt * speed, "zoom": math.log1p(measured.zoom / 100) * speed}
    camera = plan_camera(
        shot.frames,
        float(fps),
        window.display,
        width / height,
        (px * W, py * H),
        crop,
        move,
        counter=counter,
        move_strength=move_strength,
        handheld_amplitude=handheld_amplitude,
        seed=seed,
        face_framing=headroom,
    )
    if counter:
        why += f"; the reference's {ref_move.replace('_', ' ')} " + ("cancelled" if camera.countered else "too strong to cancel: left in")

    try:
        encode_video(path, _pictures(shot, window, used_out, index, camera.boxes, width, height), rate=fps, crf=crf, preset=preset)
    except BaseException:
        Path(path).unlink(missing_ok=True)  # never leave half a clip where a whole one is expected
        raise
    return {
        "source": {
            "path": footage.source_path,
            "in_s": footage.in_s,
            "out_s": footage.out_s,
            "decoded_until_s": round(used_out, 4),
            "display": list(window.display),
            "rotation": window.rotation,
            "frame_rate": str(window.rate),
        },
        "retime": timing,
        "subject": {
            "x": round(subject["x"], 4),
            "y": round(subject["y"], 4),
            "evidence": subject["evidence"],
            "box": [round(v, 4) for v in subject["box"]] if subject["box"] else None,
            "framed_on": [round(px, 4), round(py, 4)],
        },
        "reference": {
            "scale": ref_scale,
            "scale_from": scale_from,
            "movement": ref_move,
            "movement_from": move_from,
            "recorded_movement": reference_movement,
            "measured": measured.to_record(),
        },
        "framing": {"planned_scale": planned_scale, "crop_fraction": round(camera.crop_fraction, 4), "note": scale_note},
        "crop_start": camera.boxes[0].as_list(),
        "crop_end": camera.boxes[-1].as_list(),
        "move": {"planned": planned_move, "applied": move, "why": why, "countered": camera.countered},
        "output": {"width": width, "height": height, "fps": str(fps), "frames": shot.frames},
    }


def _pictures(
    shot: PlannedShot, window: _Window, out_s: float, index: list[int], boxes: list[Box], width: int, height: int
) -> Iterator[np.ndarray]:
    """Second pass: decode the window again and yield each output picture as its source frame arrives."""
    footage = shot.footage
    assert footage is not None
    wanted: dict[int, list[int]] = {}
    for out, src in enumerate(index):
        wanted.setdefault(src, []).append(out)
    last = max(wanted)
    container, _ = _open_source(shot)
    reformatters = Reformatters()
    emitted = 0
    with container:
        for src, (t, frame) in enumerate(_decode_window(container, footage.in_s, out_s)):
            if src > last:
                break
            outs = wanted.get(src)
            if not outs:
                continue
            decoded = DecodedFrame(frame, src, FrameTime(src, t, window.rate), window.rotation, (4, 4), window.display, reformatters)
            rgb = decoded.rgb(window.display[0])
            for out in outs:
                yield _warp(rgb, boxes[out], width, height)
                emitted += 1
    if emitted != len(index):  # the film changed between the passes, or decoded differently
        raise _fail(shot, f"source gave {emitted} of {len(index)} frames on the second pass", "re-ingest the library")


def _warp(rgb: np.ndarray, box: Box, width: int, height: int) -> np.ndarray:
    """The crop ``box`` of ``rgb`` scaled to ``width`` x ``height`` (sub-pixel exact, so moves are smooth)."""
    sx, sy = box.w / width, box.h / height
    src = rgb
    if sx > 2.0:  # a large crop shrunk a lot: average first, or the picture aliases
        f = int(sx)
        src = cv2.resize(rgb, (rgb.shape[1] // f, rgb.shape[0] // f), interpolation=cv2.INTER_AREA)
        box = Box(box.x / f, box.y / f, box.w / f, box.h / f)
        sx, sy = box.w / width, box.h / height
    # Output pixel centre (u + 0.5) samples source point box.x + (u + 0.5) * sx - 0.5.
    M = np.array([[sx, 0, box.x + 0.5 * sx - 0.5], [0, sy, box.y + 0.5 * sy - 0.5]], np.float64)
    return cv2.warpAffine(src, M, (width, height), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REPLICATE)


def clip_movement(path: str | os.PathLike) -> MovementEstimate:
    """A clip's camera move as the library measures a shot's: its camera signals, classified."""
    signals = CameraSignals()
    dp = run_decode_pass(path, [signals])
    return classify_movement(signals.table(), float(dp.rate))


def measure_clip_movement(path: str | os.PathLike) -> str:
    """The camera-movement word the library's classifier gives a clip (``pan_left``, ``static``, ...)."""
    return clip_movement(path).movement
