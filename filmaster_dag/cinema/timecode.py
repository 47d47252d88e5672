"""Frame-exact time: a frame index, its presentation time and the film's frame rate, kept together."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction


@dataclass(frozen=True, order=True)
class FrameTime:
    """A point on a film's timeline.

    ``frame`` is the 0-based index of the decoded frame (presentation order), ``seconds`` its
    presentation time measured from the first frame, ``rate`` the nominal frame rate. For
    constant-frame-rate films ``seconds == frame / rate``; for variable-frame-rate films the
    time comes from the frame's own timestamp, so we never re-derive one from the other.
    """

    frame: int
    seconds: float
    rate: Fraction

    @classmethod
    def from_frame(cls, frame: int, rate: Fraction | float) -> FrameTime:
        rate = Fraction(rate).limit_denominator(100000)
        return cls(frame=int(frame), seconds=float(frame / rate), rate=rate)

    @property
    def timecode(self) -> str:
        """SMPTE-like ``HH:MM:SS.mmm`` string, for humans."""
        total_ms = round(self.seconds * 1000)
        h, rem = divmod(total_ms, 3_600_000)
        m, rem = divmod(rem, 60_000)
        s, ms = divmod(rem, 1000)
        return f"{h:02d}:{m:02d}:{s:02d}.{ms:03d}"

    @property
    def smpte(self) -> str:
        """Non-drop-frame SMPTE timecode ``HH:MM:SS:FF`` as an editor reads it: frames counted at the
        nominal whole rate (24000/1001 counts 24 to the second, as NLEs do without drop frame)."""
        per_second = max(1, round(self.rate))
        seconds, ff = divmod(self.frame, per_second)
        h, rem = divmod(seconds, 3600)
        m, s = divmod(rem, 60)
        return f"{h:02d}:{m:02d}:{s:02d}:{ff:02d}"

    def __str__(self) -> str:  # pragma: no cover - display only
        return f"{self.timecode} (frame {self.frame} @ {float(self.rate):.3f} fps)"
