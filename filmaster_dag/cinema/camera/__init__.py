"""Camera language of a shot: camera movement, shot scale, lighting and colour.

Pure domain code (no Dagster), one job per module:

* :mod:`.signals`: :class:`CameraSignals` rides the single decode pass and records cheap
  per-frame signals (camera motion, light, colour, sharpness);
* :mod:`.movement`: :func:`classify_movement`, one shot's camera move from its signals;
* :mod:`.scale`: :func:`measure_shot_scale`, the shot scale from faces and people in keyframes;
* :mod:`.lighting`: :func:`measure_lighting`, lighting key, colour temperature and palette;
* :mod:`.record`: :func:`measure_shot`, all of the above as one flat record of the shot.

The words produced are those of :mod:`filmaster_dag.cinema.vocabulary` (``ShotScale``,
``CameraMovement``, ``LightingKey``), stored as plain strings.

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

from .lighting import (
    DARK_LUMA,
    HIGH_KEY_DARK_FRACTION,
    HIGH_KEY_MEAN,
    LOW_KEY_DARK_FRACTION,
    LOW_KEY_MEAN,
    Lighting,
    cct_from_linear_rgb,
    colour_temperature_k,
    measure_lighting,
    palette,
)
from .movement import (
    COMPLEX_RATIO,
    JITTER_MIN,
    LIGHT_JITTER_MIN,
    MIN_CONSISTENCY,
    MIN_INLIER_RATIO,
    MIN_SLOW_TRACKED,
    MIN_TRAVEL_TO_RESIDUAL,
    MIN_WINDOW_AGREEMENT,
    MOVEMENTS,
    PAN_MIN_SPEED,
    PATH_WINDOW_S,
    ROLL_MIN_RATE,
    SLOW_PAN_SPEED,
    SLOW_ZOOM_RATE,
    SWAY_MIN,
    ZOOM_MIN_RATE,
    MovementEstimate,
    classify_movement,
)
from .record import SHOT_RECORD_KEYS, measure_shot
from .scale import (
    FACE_SCALE_THRESHOLDS,
    HOG_MIN_SCORE,
    PERSON_SCALE_THRESHOLDS,
    SCALES,
    Detectors,
    ScaleEstimate,
    borrowed_detectors,
    detect_faces,
    detect_people,
    measure_shot_scale,
)
from .signals import SIGNAL_COLUMNS, CameraSignals

__all__ = [
    "COMPLEX_RATIO",
    "DARK_LUMA",
    "FACE_SCALE_THRESHOLDS",
    "HIGH_KEY_DARK_FRACTION",
    "HIGH_KEY_MEAN",
    "HOG_MIN_SCORE",
    "JITTER_MIN",
    "LIGHT_JITTER_MIN",
    "LOW_KEY_DARK_FRACTION",
    "LOW_KEY_MEAN",
    "MIN_CONSISTENCY",
    "MIN_INLIER_RATIO",
    "MIN_SLOW_TRACKED",
    "MIN_TRAVEL_TO_RESIDUAL",
    "MIN_WINDOW_AGREEMENT",
    "MOVEMENTS",
    "PAN_MIN_SPEED",
    "PATH_WINDOW_S",
    "PERSON_SCALE_THRESHOLDS",
    "ROLL_MIN_RATE",
    "SCALES",
    "SHOT_RECORD_KEYS",
    "SIGNAL_COLUMNS",
    "SLOW_PAN_SPEED",
    "SLOW_ZOOM_RATE",
    "SWAY_MIN",
    "ZOOM_MIN_RATE",
    "CameraSignals",
    "Detectors",
    "Lighting",
    "MovementEstimate",
    "ScaleEstimate",
    "borrowed_detectors",
    "cct_from_linear_rgb",
    "classify_movement",
    "colour_temperature_k",
    "detect_faces",
    "detect_people",
    "measure_lighting",
    "measure_shot",
    "measure_shot_scale",
    "palette",
]
