"""What shot detection produces: transitions between shots, and the shots between them."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Literal

from ..timecode import FrameTime
from ..vocabulary import BOUNDARY_KINDS, TransitionIn, TransitionKind, TransitionOut

# The stored words of a boundary's kind, for type hints on records; the fields themselves hold the
# vocabulary's members, which compare equal to (and serialise as) these same strings.
BoundaryKind = Literal["cut", "dissolve", "fade"]

__all__ = ["BOUNDARY_KINDS", "BoundaryKind", "Shot", "ShotBoundary", "overlaps"]


@dataclass(frozen=True)
class ShotBoundary:
    """A transition between two shots.

    ``at`` is the first frame of the incoming shot. ``start_frame``..``end_frame`` (inclusive) are
    the frames inside the transition: for a cut both equal ``at.frame``; for a dissolve the blended
    frames; for a fade the ramp(s) and the black/white frames. ``source`` names the detector that
    found it (``adaptive``, ``content``, ``dissolve``, ``fade``, ``transnetv2``).
    """

    at: FrameTime
    kind: TransitionKind
    confidence: float
    start_frame: int
    end_frame: int
    source: str = "adaptive"

    def __post_init__(self) -> None:
        # Accept the stored word ("cut") as well as the member; reject words outside the vocabulary.
        object.__setattr__(self, "kind", TransitionKind.parse(self.kind))

    @property
    def frames(self) -> int:
        """Frames inside the transition (1 for a cut)."""
        return self.end_frame - self.start_frame + 1

    def to_record(self) -> dict:
        return {
            "frame": self.at.frame,
            "seconds": self.at.seconds,
            "timecode": self.at.timecode,
            "kind": self.kind.value,
            "confidence": round(float(self.confidence), 4),
            "start_frame": self.start_frame,
            "end_frame": self.end_frame,
            "source": self.source,
        }


def overlaps(a: ShotBoundary, b: ShotBoundary, slack: int = 0) -> bool:
    """Whether two transitions share frames (or come within ``slack`` frames of each other)."""
    return a.start_frame <= b.end_frame + slack and b.start_frame <= a.end_frame + slack


@dataclass(frozen=True)
class Shot:
    """A shot ``[start, end)``; ``end`` is the first frame of the next shot (or one past the last).

    ``transition_in``/``transition_out`` say how the shot begins and ends (vocabulary
    :class:`TransitionIn`/:class:`TransitionOut`). ``head_transition``/``tail_transition`` are
    inclusive frame ranges at the start/end of the shot that are still inside a transition
    (dissolve/fade frames): keyframes should avoid them.
    """

    index: int
    start: FrameTime
    end: FrameTime
    transition_in: TransitionIn
    transition_in_confidence: float
    transition_out: TransitionOut = TransitionOut.END
    head_transition: tuple[int, int] | None = None
    tail_transition: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "transition_in", TransitionIn.parse(self.transition_in))
        object.__setattr__(self, "transition_out", TransitionOut.parse(self.transition_out))

    @property
    def duration_s(self) -> float:
        return self.end.seconds - self.start.seconds

    @property
    def frame_count(self) -> int:
        return self.end.frame - self.start.frame

    @property
    def clean_frames(self) -> tuple[int, int]:
        """``[first, last)`` frames outside any transition (falls back to the whole shot)."""
        lo, hi = self.start.frame, self.end.frame
        if self.head_transition:
            lo = max(lo, self.head_transition[1] + 1)
        if self.tail_transition:
            hi = min(hi, self.tail_transition[0])
        return (lo, hi) if hi > lo else (self.start.frame, self.end.frame)

    def to_record(self) -> dict:
        rec = asdict(self)
        rec["transition_in"] = self.transition_in.value
        rec["transition_out"] = self.transition_out.value
        rec["start"] = {"frame": self.start.frame, "seconds": self.start.seconds, "timecode": self.start.timecode}
        rec["end"] = {"frame": self.end.frame, "seconds": self.end.seconds, "timecode": self.end.timecode}
        rec["duration_s"] = round(self.duration_s, 6)
        return rec
