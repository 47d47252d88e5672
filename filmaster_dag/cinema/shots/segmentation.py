"""From transitions to shots: cut the film's timeline at its boundaries."""

from __future__ import annotations

from collections.abc import Sequence

from ..timecode import FrameTime
from ..vocabulary import TransitionIn, TransitionKind, TransitionOut
from .boundary import Shot, ShotBoundary


def enforce_min_length(boundaries: Sequence[ShotBoundary], frames: int, min_frames: int) -> list[ShotBoundary]:
    """Boundaries (in film order) leaving no shot shorter than ``min_frames``: of two boundaries
    too close together the less confident goes, and none sits within ``min_frames`` of either end."""
    keep = [b for b in boundaries if min_frames <= b.at.frame <= frames - min_frames]
    changed = True
    while changed and len(keep) > 1:
        changed = False
        for i in range(len(keep) - 1):
            if keep[i + 1].at.frame - keep[i].at.frame < min_frames:
                drop = i if keep[i].confidence < keep[i + 1].confidence else i + 1
                keep.pop(drop)
                changed = True
                break
    return keep


def segment_shots(
    boundaries: list[ShotBoundary],
    frame_times: list[FrameTime],
    duration_s: float,
    opening: ShotBoundary | None = None,
    closing: ShotBoundary | None = None,
) -> list[Shot]:
    """Cut the film ``[0, duration_s)`` into shots at ``boundaries``; durations sum to ``duration_s``.

    ``opening``/``closing``: the film's own fade-in/fade-out (the first shot then comes in by
    ``fade_in``, the last goes out by ``fade_out``, and their ramps are marked as transition frames).
    """
    if not frame_times:
        return []
    n = len(frame_times)
    rate = frame_times[0].rate
    bounds = sorted((b for b in boundaries if 0 < b.at.frame < n), key=lambda b: b.at.frame)
    end_ft = FrameTime(frame=n, seconds=round(float(duration_s), 6), rate=rate)
    starts = [frame_times[0]] + [frame_times[b.at.frame] for b in bounds]
    ends = [frame_times[b.at.frame] for b in bounds] + [end_ft]
    shots = []
    for i, (s, e) in enumerate(zip(starts, ends, strict=True)):
        bin_ = bounds[i - 1] if i > 0 else None
        bout = bounds[i] if i < len(bounds) else None
        head = tail = None
        if bin_ is not None:
            t_in, conf = TransitionIn(bin_.kind.value), bin_.confidence
            if bin_.end_frame >= s.frame and bin_.kind != TransitionKind.CUT:
                head = (s.frame, min(bin_.end_frame, e.frame - 1))
        elif opening is not None:
            t_in, conf = TransitionIn.FADE_IN, opening.confidence
            head = (0, min(opening.end_frame, e.frame - 1))
        else:
            t_in, conf = TransitionIn.START, 1.0
        if bout is not None:
            t_out = TransitionOut(bout.kind.value)
            if bout.start_frame < bout.at.frame and bout.kind != TransitionKind.CUT:
                tail = (max(s.frame, bout.start_frame), bout.at.frame - 1)
        elif closing is not None:
            t_out = TransitionOut.FADE_OUT
            tail = (max(s.frame, closing.start_frame), n - 1)
        else:
            t_out = TransitionOut.END
        shots.append(Shot(i, s, e, t_in, float(conf), t_out, head, tail))
    return shots
