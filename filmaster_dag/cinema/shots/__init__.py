"""Shot boundary detection: hard cuts, dissolves and fades, found inside our single decode pass.

One small detector per job, one per module, in the manner of PySceneDetect's ``detectors/``:

* :mod:`.cuts` - :class:`CutDetector`: PySceneDetect's ``AdaptiveDetector`` (or
  ``ContentDetector``) fed the already-downscaled analysis picture;
* :mod:`.flash` - :class:`FlashFilter`: a picture that returns within a few frames is a flash;
* :mod:`.fades` - :class:`FadeDetector`: runs of black (white) frames with ramps either side; a
  fade-in at the very start (fade-out at the very end) opens (closes) the film, not a boundary;
* :mod:`.dissolves` - :class:`DissolveDetector`: frame ``t`` is the mix of ``t-k`` and ``t+k``;
* :mod:`.transnet` - :class:`TransNetDetector`: TransNetV2 (the shipped weights) on 48x27 frames;
* :mod:`.signatures` - the 16x9 colour signature of every frame, which the tests above share;
* :mod:`.detector` - :class:`ShotBoundaryDetector`, the frame analyser that wires them together
  (``adaptive``/``content``: cuts + our gradual detection; ``transnetv2``: TransNetV2 alone;
  ``hybrid``: adaptive cuts + our gradual detection confirmed or completed by TransNetV2);
* :mod:`.segmentation` - :func:`segment_shots`: the shots between the boundaries.

Every detector publishes its per-frame measurements into one :class:`FrameScores` table
(``ShotBoundaryDetector.scores()``). Pure domain code: no Dagster imports.
"""

from ..vocabulary import BOUNDARY_KINDS, TransitionIn, TransitionKind, TransitionOut
from .base import FrameDetector, TransitionDetector
from .boundary import BoundaryKind, Shot, ShotBoundary, overlaps
from .config import ShotDetectionConfig
from .cuts import ContentScore, CutDetector
from .detector import ShotBoundaryDetector, detect_shots
from .dissolves import DissolveDetector
from .fades import FadeDetector
from .flash import FlashFilter
from .scores import FrameScores
from .segmentation import enforce_min_length, segment_shots
from .signatures import SignatureRecorder, Signatures
from .transnet import TransitionNetwork, TransNetDetector, TransNetV2Stream, load_transnetv2

__all__ = [
    "BOUNDARY_KINDS",
    "BoundaryKind",
    "ContentScore",
    "CutDetector",
    "DissolveDetector",
    "FadeDetector",
    "FlashFilter",
    "FrameDetector",
    "FrameScores",
    "Shot",
    "ShotBoundary",
    "ShotBoundaryDetector",
    "ShotDetectionConfig",
    "SignatureRecorder",
    "Signatures",
    "TransNetDetector",
    "TransNetV2Stream",
    "TransitionDetector",
    "TransitionIn",
    "TransitionKind",
    "TransitionNetwork",
    "TransitionOut",
    "detect_shots",
    "enforce_min_length",
    "load_transnetv2",
    "overlaps",
    "segment_shots",
]
