"""The edit: generated shots assembled into an OpenTimelineIO timeline, edited by pure functions, and
exported as the deliverables an editor opens (OTIO, FCP 7 XML, FCP X XML, CMX 3600 EDL) plus an SRT.

The edit model *is* OpenTimelineIO: a :class:`~opentimelineio.schema.Timeline` whose first video
track holds one :class:`~opentimelineio.schema.Clip` per shot, in film order. Conventions:

- **Time** is counted in whole frames at the production's exact rate: every ``RationalTime`` has an
  integer ``value`` and ``rate = float(Fraction(plan.frame_rate))`` (24000/1001 stays 23.976023...,
  never 23.976), so frame counts survive every conversion exactly.
- **Record time starts at 0** (``global_start_time`` is frame 0, not 01:00:00:00): the cut lines up
  with the rendered film and the SRT, whose first frame is 0. EDL record timecodes therefore start
  at 00:00:00:00; an editor who wants a one-hour start sets it on import.
- **A clip's identity** is ``clip.metadata["filmaster"]["shot_id"]`` (also its name). The same key holds
  the shot's scene, scale, movement, dialogue lines, narration, reference shot and generator.
- **Speed** follows OTIO's own adapters (the CMX 3600 reader): ``source_range.start_time`` is the
  first source frame, ``source_range.duration`` is the *record* length (what the clip occupies in the
  cut), and a :class:`~opentimelineio.schema.LinearTimeWarp` with ``time_scalar = factor`` says how
  fast the source is played; the source consumed is ``round(record * factor)`` frames, recorded as
  ``metadata["filmaster"]["source_frames"]`` so no float ever decides a frame.
- **A hold** first extends the shot into unused source media (a real continuation of the action);
  when the clip has none left (generated clips are exactly their planned length) the shot is followed
  by a freeze: a clip of its last frame with a :class:`~opentimelineio.schema.FreezeFrame` effect,
  ``metadata["filmaster"]["hold_of"] = shot_id``. Edits addressed to a shot move, trim and drop its
  freeze with it.
- **Markers**: one per scene, one frame long, on the first clip of the scene at its first frame (clip
  markers are what the FCP 7, FCP X and CMX 3600 writers all carry); edits re-home them.

Every edit returns a new timeline; the input is never changed.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import opentimelineio as otio
import pandas as pd

from .planning.models import PlannedShot, ShotPlan, speaking_time_s

META = "filmaster"
#: The speed range an edit may ask for: outside it motion looks broken (strobing, or a slide show).
MIN_SPEED, MAX_SPEED = 0.5, 2.0
#: Scene marker colours, cycled so neighbouring scenes differ on the editor's ruler.
MARKER_COLORS = [
    otio.schema.MarkerColor.RED,
    otio.schema.MarkerColor.ORANGE,
    otio.schema.MarkerColor.YELLOW,
    otio.schema.MarkerColor.GREEN,
    otio.schema.MarkerColor.CYAN,
    otio.schema.MarkerColor.BLUE,
    otio.schema.MarkerColor.PURPLE,
    otio.schema.MarkerColor.MAGENTA,
]
#: The adapters the deliverables are written with, and the file suffix each gets.
DELIVERABLES = {
    "otio": ("otio_json", ".otio"),
    "fcp_xml": ("fcp_xml", ".xml"),
    "fcpx_xml": ("fcpx_xml", ".fcpxml"),
    "edl": ("cmx_3600", ".edl"),
}


def _rate(frame_rate: str | Fraction | float) -> float:
    return float(Fraction(str(frame_rate)) if not isinstance(frame_rate, Fraction) else frame_rate)


def _frames(t: otio.opentime.RationalTime, rate: float) -> int:
    """A time as whole frames at ``rate`` (values are whole by construction; round guards float dust)."""
    return round(t.value_rescaled_to(rate))


def _media_url(path: str) -> str:
    """An absolute ``file://`` URL for a local clip (what FCP and Resolve relink by); URLs pass through."""
    if "://" in path:
        return path
    return Path(os.path.abspath(path)).as_uri()


def _shot_meta(shot: PlannedShot, row: Mapping[str, Any], source_frames: int) -> dict[str, Any]:
    return {
        "shot_id": shot.shot_id,
        "scene_id": shot.scene_id,
        "order": shot.order,
        "scale": shot.shot_scale.value,
        "movement": shot.movement.value,
        "angle": shot.camera_angle.value,
        "description": shot.description,
        "dialogue": [{"speaker": line.speaker, "text": line.text} for line in shot.dialogue],
        "narration": list(shot.narration),
        "characters": list(shot.characters),
        "reference_shot_id": shot.reference_shot_id or "",
        "generator": str(row.get("generator", "") or ""),
        "source_frames": source_frames,
    }


def rough_cut(plan: ShotPlan, manifest: pd.DataFrame, title: str, headings: Mapping[str, str] | None = None) -> otio.schema.Timeline:
    """The generated shots assembled in plan order: one clip per shot on track V1, each pointing at its
    clip file with its full length as available media, and a marker at the first frame of every scene
    (named ``'s01 EXT. MEADOW - MORNING'`` when ``headings`` maps scene ids to the script's headings).

    ``manifest`` is the ``generated_shots`` table (``shot_id``, ``path``, ``frames``, ``generator``...);
    a planned shot missing from it is an error, since a cut with a hole is not a rough cut.
    """
    rate = _rate(plan.frame_rate)
    rows = {str(r["shot_id"]): r for r in manifest.to_dict("records")}
    missing = [s.shot_id for s in plan.shots if s.shot_id not in rows]
    if missing:
        raise ValueError(f"rough cut of '{plan.production}': no generated clip for shot(s) {', '.join(missing)}")
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    scene_start: dict[str, None] = {}
    for shot in plan.shots:
        row = rows[shot.shot_id]
        media_frames = int(row.get("frames") or shot.frames)
        if media_frames < shot.frames:
            raise ValueError(f"shot {shot.shot_id}: its clip has {media_frames} frames, the plan needs {shot.frames}")
        ref = otio.schema.ExternalReference(
            target_url=_media_url(str(row["path"])),
            available_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(media_frames, rate)),
        )
        clip = otio.schema.Clip(
            name=shot.shot_id,
            media_reference=ref,
            source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(shot.frames, rate)),
            metadata={META: _shot_meta(shot, row, shot.frames)},
        )
        track.append(clip)
        scene_start.setdefault(shot.scene_id, None)
    for i, scene_id in enumerate(scene_start):
        heading = (headings or {}).get(scene_id, "")
        marker = otio.schema.Marker(
            name=f"{scene_id} {heading}".strip(),
            marked_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(1, rate)),
            color=MARKER_COLORS[i % len(MARKER_COLORS)],
            metadata={META: {"scene_id": scene_id, "heading": heading}},
        )
        next(c for c in track.find_clips(shallow_search=True) if _meta(c).get("scene_id") == scene_id).markers.append(marker)
    timeline = otio.schema.Timeline(name=title, global_start_time=otio.opentime.RationalTime(0, rate))
    timeline.metadata[META] = {"production": plan.production, "frame_rate": plan.frame_rate, "width": plan.width, "height": plan.height}
    timeline.tracks.append(track)
    return timeline


# -- reading the cut ----------------------------------------------------------------------------------


def _video(tl: otio.schema.Timeline) -> otio.schema.Track:
    tracks = tl.video_tracks()
    if not tracks:
        raise ValueError(f"timeline '{tl.name}' has no video track")
    return tracks[0]


def timeline_rate(tl: otio.schema.Timeline) -> float:
    """The cut's frame rate (the production's, as stored; else the first clip's)."""
    stored = dict(tl.metadata.get(META, {})).get("frame_rate")
    if stored:
        return _rate(str(stored))
    for clip in _video(tl).find_clips():
        return clip.source_range.duration.rate
    return tl.global_start_time.rate if tl.global_start_time else 24.0


def plain_metadata(value: Any) -> Any:
    """OTIO's metadata containers (AnyDictionary, AnyVector) as plain dicts and lists (copies that
    outlive their timeline, ready for JSON)."""
    if isinstance(value, (str, bytes)):
        return value
    if hasattr(value, "items"):
        return {str(k): plain_metadata(v) for k, v in value.items()}
    if isinstance(value, Iterable):
        return [plain_metadata(v) for v in value]
    return value


def shot_metadata(item: otio.core.Item) -> dict[str, Any]:
    """A clip's (or marker's) ``metadata["filmaster"]`` as plain Python: shot_id, scene_id, scale,
    movement, angle, description, dialogue (``[{"speaker", "text"}]``), narration, reference_shot_id,
    generator, source_frames; a freeze has ``hold_of`` instead of the shot's description."""
    return plain_metadata(item.metadata.get(META, {}))


_meta = shot_metadata


def _shot_of(item: otio.core.Item) -> str | None:
    """The shot an item belongs to: its own, or the one a freeze holds."""
    meta = _meta(item)
    return meta.get("hold_of") or meta.get("shot_id") or None


def _speed(clip: otio.schema.Clip) -> float:
    for fx in clip.effects:
        if isinstance(fx, otio.schema.LinearTimeWarp) and not isinstance(fx, otio.schema.FreezeFrame):
            return float(fx.time_scalar)
    return 1.0


def _source_frames(clip: otio.schema.Clip, rate: float) -> int:
    """Source frames the clip consumes (a freeze consumes one)."""
    if any(isinstance(fx, otio.schema.FreezeFrame) for fx in clip.effects):
        return 1
    stored = _meta(clip).get("source_frames")
    return int(stored) if stored is not None else round(_frames(clip.source_range.duration, rate) * _speed(clip))


def cut_list(tl: otio.schema.Timeline) -> list[dict[str, Any]]:
    """The video track as an editor's cut list, one row per clip in record order: ``shot_id``,
    ``kind`` ('shot' or 'freeze'), ``record_in``/``record_out`` (frames, out exclusive), ``source_in``/
    ``source_out`` (frames in the clip file, out exclusive), ``duration`` (record frames) and ``speed``."""
    rate = timeline_rate(tl)
    track = _video(tl)
    rows = []
    for clip in track.find_clips(shallow_search=True):
        rec = track.range_of_child(clip)
        start = _frames(clip.source_range.start_time, rate)
        freeze = any(isinstance(fx, otio.schema.FreezeFrame) for fx in clip.effects)
        rows.append(
            {
                "shot_id": _shot_of(clip) or clip.name,
                "name": clip.name,
                "kind": "freeze" if freeze else "shot",
                "record_in": _frames(rec.start_time, rate),
                "record_out": _frames(rec.end_time_exclusive(), rate),
                "source_in": start,
                "source_out": start + _source_frames(clip, rate),
                "duration": _frames(rec.duration, rate),
                "speed": 0.0 if freeze else _speed(clip),
            }
        )
    return rows


def duration_frames(tl: otio.schema.Timeline) -> int:
    """The cut's length in frames (the video track's)."""
    return _frames(_video(tl).duration(), timeline_rate(tl))


# -- edit operations (pure) --------------------------------------------------------------------------


def _copy(tl: otio.schema.Timeline) -> otio.schema.Timeline:
    return tl.deepcopy()


def _find(track: otio.schema.Track, shot_id: str) -> int:
    for i, item in enumerate(track):
        if isinstance(item, otio.schema.Clip) and _meta(item).get("shot_id") == shot_id and not _meta(item).get("hold_of"):
            return i
    raise ValueError(f"no shot '{shot_id}' in the cut")


def _freeze_after(track: otio.schema.Track, index: int) -> int | None:
    """Index of the freeze holding the shot at ``index``, if it is followed by one."""
    shot_id = _meta(track[index]).get("shot_id")
    nxt = index + 1
    if nxt < len(track) and _meta(track[nxt]).get("hold_of") == shot_id:
        return nxt
    return None


def _remove_shot(track: otio.schema.Track, shot_id: str) -> list[otio.core.Item]:
    """Take a shot (with its freeze) out of the track, returning the removed items in order."""
    i = _find(track, shot_id)
    j = _freeze_after(track, i)
    taken = [track[i]] + ([track[j]] if j is not None else [])
    for _ in taken:
        del track[i]
    return taken


def scene_markers(tl: otio.schema.Timeline) -> list[tuple[int, otio.schema.Marker]]:
    """``(record frame, marker)`` of every scene marker, in record order."""
    track = _video(tl)
    rate = timeline_rate(tl)
    found = []
    for clip in track.find_clips(shallow_search=True):
        rec, src = track.range_of_child(clip), clip.source_range.start_time
        for m in clip.markers:
            found.append((_frames(rec.start_time + (m.marked_range.start_time - src), rate), m))
    return found


def _scene_markers(tl: otio.schema.Timeline) -> otio.schema.Timeline:
    """Scene markers re-homed on the first clip of each scene in the cut as it now is, at its first
    frame (a scene with no shot left loses its marker). Markers sit on clips, not on the track,
    because clip markers are what the FCP 7, FCP X and CMX 3600 writers all carry."""
    markers: dict[str, otio.schema.Marker] = {}
    for clip in _video(tl).find_clips(shallow_search=True):
        keep = []
        for m in clip.markers:
            scene = _meta(m).get("scene_id")
            if scene is None:
                keep.append(m)
            else:
                markers.setdefault(scene, m)
        clip.markers[:] = keep
    for clip in _video(tl).find_clips(shallow_search=True):
        scene = _meta(clip).get("scene_id")
        if scene in markers and not _meta(clip).get("hold_of"):
            m = markers.pop(scene)
            m.marked_range = otio.opentime.TimeRange(clip.source_range.start_time, m.marked_range.duration)
            clip.markers.append(m)
    return tl


def rearrange(tl: otio.schema.Timeline, shot_ids_in_new_order: Iterable[str]) -> otio.schema.Timeline:
    """The same shots in a new order (every shot of the cut named exactly once); freezes follow their shot."""
    order = list(shot_ids_in_new_order)
    present = [row["shot_id"] for row in cut_list(tl) if row["kind"] == "shot"]
    if sorted(order) != sorted(present) or len(set(order)) != len(order):
        extra = sorted(set(order) - set(present))
        missing = sorted(set(present) - set(order))
        twice = sorted({s for s in order if order.count(s) > 1})
        raise ValueError(
            f"rearrange must name every shot once: unknown {extra or 'none'}, missing {missing or 'none'}, twice {twice or 'none'}"
        )
    out = _copy(tl)
    track = _video(out)
    items = {sid: _remove_shot(track, sid) for sid in order}
    for sid in order:
        for item in items[sid]:
            track.append(item)
    return _scene_markers(out)


def drop(tl: otio.schema.Timeline, shot_id: str) -> otio.schema.Timeline:
    """The cut without a shot (and its freeze); the last shot cannot be dropped."""
    if len([r for r in cut_list(tl) if r["kind"] == "shot"]) <= 1:
        raise ValueError(f"cannot drop '{shot_id}': it is the only shot of the cut")
    out = _copy(tl)
    _remove_shot(_video(out), shot_id)
    return _scene_markers(out)


def _set_source(clip: otio.schema.Clip, start: int, source_frames: int, rate: float) -> None:
    """Give a clip ``source_frames`` of source from ``start``, its record length following its speed."""
    record = max(1, round(source_frames / _speed(clip)))
    clip.source_range = otio.opentime.TimeRange(otio.opentime.RationalTime(start, rate), otio.opentime.RationalTime(record, rate))
    meta = _meta(clip)
    meta["source_frames"] = source_frames
    clip.metadata[META] = meta


def _available(clip: otio.schema.Clip, rate: float) -> tuple[int, int]:
    """The clip file's first and end (exclusive) frames."""
    ref = clip.media_reference
    avail = getattr(ref, "available_range", None)
    if avail is None:
        raise ValueError(f"shot '{clip.name}': its media has no known length")
    return _frames(avail.start_time, rate), _frames(avail.end_time_exclusive(), rate)


def trim(tl: otio.schema.Timeline, shot_id: str, head_frames: int = 0, tail_frames: int = 0) -> otio.schema.Timeline:
    """Trim a shot by source frames at its head and tail. Positive values shorten it, negative values
    lengthen it into unused media. It keeps at least one source frame and never reaches outside its
    clip file; a sped-up or slowed shot's record length follows (``round(source / speed)``)."""
    if int(head_frames) != head_frames or int(tail_frames) != tail_frames:
        raise ValueError(f"trim of '{shot_id}': frames must be whole numbers, got head {head_frames}, tail {tail_frames}")
    out = _copy(tl)
    rate = timeline_rate(out)
    track = _video(out)
    clip = track[_find(track, shot_id)]
    start = _frames(clip.source_range.start_time, rate)
    frames = _source_frames(clip, rate)
    first, end = _available(clip, rate)
    new_start, new_frames = start + int(head_frames), frames - int(head_frames) - int(tail_frames)
    if new_frames < 1:
        raise ValueError(
            f"trim of '{shot_id}': {frames} source frames minus head {head_frames} and tail {tail_frames} "
            f"leaves {new_frames}; a shot keeps at least 1"
        )
    if new_start < first or new_start + new_frames > end:
        raise ValueError(
            f"trim of '{shot_id}': source frames {new_start}..{new_start + new_frames} fall outside its clip's media {first}..{end}"
        )
    _set_source(clip, new_start, new_frames, rate)
    j = _freeze_after(track, track.index(clip))
    if j is not None:  # a freeze holds the shot's (new) last frame
        freeze = track[j]
        last = otio.opentime.RationalTime(new_start + new_frames - 1, rate)
        freeze.source_range = otio.opentime.TimeRange(last, freeze.source_range.duration)
    return _scene_markers(out)


def set_speed(tl: otio.schema.Timeline, shot_id: str, factor: float) -> otio.schema.Timeline:
    """Play a shot ``factor`` times as fast (0.5..2.0), with a LinearTimeWarp: it keeps the same source
    frames and its record length becomes ``round(source_frames / factor)`` (at least 1). A factor of 1
    removes the effect; a second call replaces the first, it does not compound."""
    factor = float(factor)
    if not (MIN_SPEED <= factor <= MAX_SPEED) or math.isnan(factor):
        raise ValueError(f"speed of '{shot_id}': {factor} is outside {MIN_SPEED}..{MAX_SPEED}")
    out = _copy(tl)
    rate = timeline_rate(out)
    track = _video(out)
    clip = track[_find(track, shot_id)]
    start, frames = _frames(clip.source_range.start_time, rate), _source_frames(clip, rate)
    clip.effects[:] = [fx for fx in clip.effects if not isinstance(fx, otio.schema.LinearTimeWarp)]
    if factor != 1.0:
        clip.effects.append(otio.schema.LinearTimeWarp(name="speed", time_scalar=factor))
    _set_source(clip, start, frames, rate)
    return _scene_markers(out)


def hold(tl: otio.schema.Timeline, shot_id: str, extra_frames: int) -> otio.schema.Timeline:
    """Hold a shot ``extra_frames`` longer: into its clip's unused tail when there is enough (the action
    goes on), else with a freeze of its last frame after it (one freeze per shot; a second hold lengthens
    it). At most ten seconds: a longer hold is dead air, not an edit."""
    if int(extra_frames) != extra_frames or extra_frames < 1:
        raise ValueError(f"hold of '{shot_id}': extra frames must be a whole number of at least 1, got {extra_frames}")
    extra = int(extra_frames)
    out = _copy(tl)
    rate = timeline_rate(out)
    limit = math.ceil(10 * rate)
    if extra > limit:
        raise ValueError(f"hold of '{shot_id}': {extra} frames is more than the 10 s limit ({limit} frames)")
    track = _video(out)
    i = _find(track, shot_id)
    clip = track[i]
    start, frames = _frames(clip.source_range.start_time, rate), _source_frames(clip, rate)
    _, end = _available(clip, rate)
    j = _freeze_after(track, i)
    if j is None and _speed(clip) == 1.0 and start + frames + extra <= end:
        _set_source(clip, start, frames + extra, rate)
        return _scene_markers(out)
    if j is not None:
        freeze = track[j]
        total = _frames(freeze.source_range.duration, rate) + extra
        freeze.source_range = otio.opentime.TimeRange(freeze.source_range.start_time, otio.opentime.RationalTime(total, rate))
        return _scene_markers(out)
    meta = _meta(clip)
    freeze = otio.schema.Clip(
        name=f"{shot_id} hold",
        media_reference=clip.media_reference.deepcopy(),
        source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(start + frames - 1, rate), otio.opentime.RationalTime(extra, rate)),
        metadata={META: {"shot_id": shot_id, "hold_of": shot_id, "scene_id": meta.get("scene_id"), "source_frames": 1}},
    )
    freeze.effects.append(otio.schema.FreezeFrame(name="hold"))
    track.insert(i + 1, freeze)
    return _scene_markers(out)


# -- deliverables ----------------------------------------------------------------------------------------


#: FCP X's frame durations for NTSC rates. The fcpx_xml adapter looks a rate up by ``int(rate)`` or
#: ``float(rate)`` in a table keyed 23.98/29.97/59.94, so the exact 24000/1001 (23.976023...) finds
#: nothing and the format is written with an empty frameDuration; registering the exact floats fixes
#: the writer without touching its output by hand.
_FCPX_NTSC = {
    float(Fraction(24000, 1001)): "1001/24000s",
    float(Fraction(30000, 1001)): "1001/30000s",
    float(Fraction(60000, 1001)): "1001/60000s",
}


def _teach_fcpx_ntsc_rates() -> None:
    # the module OTIO's plugin system loaded (not ``otio_fcpx_xml_adapter.fcpx_xml``: it imports its own copy)
    table = otio.adapters.from_name("fcpx_xml").module().FRAMERATE_FRAMEDURATION
    table.update({k: v for k, v in _FCPX_NTSC.items() if k not in table})


def _for_xml(tl: otio.schema.Timeline) -> otio.schema.Timeline:
    """A copy the XML writers accept: the FCP 7 writer needs every file's length, so a media reference
    without ``available_range`` (a sound file added without probing it) gets the extent its clip uses."""
    out = tl.deepcopy()
    for clip in out.find_clips():
        ref = clip.media_reference
        if isinstance(ref, otio.schema.ExternalReference) and ref.available_range is None and clip.source_range is not None:
            end = clip.source_range.end_time_exclusive()
            ref.available_range = otio.opentime.TimeRange(otio.opentime.RationalTime(0, end.rate), end)
    return out


def _video_only(tl: otio.schema.Timeline) -> otio.schema.Timeline:
    """The cut with its first video track only (the EDL is a picture list: CMX 3600 has one track)."""
    out = otio.schema.Timeline(name=tl.name, global_start_time=tl.global_start_time, metadata=tl.metadata)
    out.tracks.append(_video(tl).deepcopy())
    return out


def write_deliverables(tl: otio.schema.Timeline, folder: str | os.PathLike[str], stem: str) -> dict[str, str]:
    """Write the cut for editors through OTIO's adapters: ``{stem}.otio`` (everything), ``{stem}.xml``
    (Final Cut Pro 7 / Premiere / Resolve), ``{stem}.fcpxml`` (Final Cut Pro X) and ``{stem}.edl``
    (CMX 3600, picture only). Returns ``{"otio"|"fcp_xml"|"fcpx_xml"|"edl": path}``.

    What each keeps (measured by reading them back through OTIO, see tests/test_timeline.py):
    OTIO keeps everything. FCP 7 XML keeps names, order, record and source frames, file URLs and
    scene markers (colours become red), but no speed or freeze (the clip plays at normal speed from its
    source in). FCP X XML keeps the same in exact rational seconds (OTIO's FCP X *reader* counts
    24000/1001 as 23 fps and truncates, the file is right); markers keep red/green only. The EDL keeps
    names (as comments; reels are truncated file names), record and source ins, markers (upper-case)
    and both effects (M2 speed, FF freeze), but its writer puts a sped-up clip's source out at
    ``in + record / speed`` instead of ``in + record * speed``; readers that take speed from M2 are right.
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths: dict[str, str] = {}
    _teach_fcpx_ntsc_rates()
    for key, (adapter, suffix) in DELIVERABLES.items():
        path = str(folder / f"{stem}{suffix}")
        which = tl if adapter == "otio_json" else _video_only(tl) if adapter == "cmx_3600" else _for_xml(tl)
        otio.adapters.write_to_file(which, path, adapter_name=adapter)
        paths[key] = path
    return paths


# -- subtitles -------------------------------------------------------------------------------------------


def _srt_time(frame: int, fps: Fraction) -> str:
    """``HH:MM:SS,mmm`` of a frame boundary, rounded down to the millisecond (a cue never starts late)."""
    ms = math.floor(Fraction(frame) / fps * 1000)
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d},{ms:03d}"


@dataclass
class SpokenLine:
    """One line to be voiced or subtitled: dialogue (with its speaker) or narration, and the shot it is said over."""

    key: str  # f"{shot_id}-d{i}" for dialogue line i, f"{shot_id}-n{i}" for narration line i: stable across edits
    shot_id: str
    scene_id: str
    kind: Literal["dialogue", "narration"]
    speaker: str  # "" for narration
    text: str
    record_in: int  # the shot's first frame in the cut
    record_frames: int  # the shot's length in the cut (frames)


def spoken_lines(tl: otio.schema.Timeline) -> list[SpokenLine]:
    """Every line of the cut in film order: per clip its dialogue, then its narration. Freezes carry none."""
    track = _video(tl)
    rate = timeline_rate(tl)
    lines = []
    for clip in track.find_clips(shallow_search=True):
        meta = _meta(clip)
        if meta.get("hold_of"):
            continue
        rec = track.range_of_child(clip)
        at, frames = _frames(rec.start_time, rate), _frames(rec.duration, rate)
        sid, scene = str(meta.get("shot_id") or clip.name), str(meta.get("scene_id") or "")
        for i, d in enumerate(meta.get("dialogue", [])):
            lines.append(SpokenLine(f"{sid}-d{i}", sid, scene, "dialogue", str(d.get("speaker", "")), str(d["text"]), at, frames))
        for i, n in enumerate(meta.get("narration", [])):
            lines.append(SpokenLine(f"{sid}-n{i}", sid, scene, "narration", "", str(n), at, frames))
    return lines


def line_slots(lines: Iterable[SpokenLine], line_seconds: Callable[[str], float] = speaking_time_s) -> dict[str, tuple[int, int]]:
    """``{key: (first frame, end frame exclusive)}``: a shot's lines share its record span in order, in
    proportion to their speaking time, on whole frames (a line squeezed by a very short shot may get none)."""
    slots: dict[str, tuple[int, int]] = {}
    by_shot: dict[tuple[str, int], list[SpokenLine]] = {}
    for line in lines:
        by_shot.setdefault((line.shot_id, line.record_in), []).append(line)
    for group in by_shot.values():
        weights = [Fraction(line_seconds(x.text)).limit_denominator(1000) for x in group]
        total, acc, start = sum(weights), Fraction(0), group[0].record_in
        for line, w in zip(group, weights, strict=True):
            acc += w
            end = line.record_in + (round(line.record_frames * acc / total) if total else line.record_frames)
            slots[line.key] = (start, end)
            start = end
    return slots


def subtitle_cues(tl: otio.schema.Timeline) -> list[tuple[int, int, str]]:
    """``(first frame, end frame exclusive, text)`` per line: each clip's dialogue (``'SPEAKER: text'``,
    the speaker as written in the brief) then its narration (plain text: a voice has no name on screen),
    sharing the clip's record span in proportion to :func:`speaking_time_s`. Freezes carry no lines."""
    lines = spoken_lines(tl)
    slots = line_slots(lines)
    cues = []
    for line in lines:
        start, end = slots[line.key]
        if end > start:  # a line squeezed below one frame by a very short clip is not shown
            cues.append((start, end, f"{line.speaker}: {line.text}" if line.kind == "dialogue" else line.text))
    return cues


def subtitles_srt(tl: otio.schema.Timeline, fps: Fraction | str | float | None = None) -> str:
    """The cut's dialogue and narration as SubRip text, cue times from frame-exact record positions at
    ``fps`` (the cut's own rate when omitted)."""
    rate = Fraction(str(fps)) if fps is not None else Fraction(str(dict(tl.metadata.get(META, {})).get("frame_rate") or timeline_rate(tl)))
    blocks = [f"{n}\n{_srt_time(a, rate)} --> {_srt_time(b, rate)}\n{text}\n" for n, (a, b, text) in enumerate(subtitle_cues(tl), start=1)]
    return "\n".join(blocks)


def write_srt(tl: otio.schema.Timeline, path: str | os.PathLike[str], fps: Fraction | str | float | None = None) -> str:
    """Write :func:`subtitles_srt` to ``path`` (UTF-8) and return the path."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    Path(path).write_text(subtitles_srt(tl, fps), encoding="utf-8")
    return str(path)


# -- conforming to the score and laying sound ------------------------------------------------------------


def move_cut(tl: otio.schema.Timeline, after_shot_id: str, delta_frames: int) -> otio.schema.Timeline:
    """Roll the cut between a shot and the next one by ``delta_frames`` (an editor's roll edit): later
    (positive) lengthens the outgoing shot into its unused tail and shortens the incoming one at its head;
    earlier (negative) does the opposite, the incoming shot reaching back into its unused head. The film's
    length and every other cut stay where they are; scene markers follow the incoming shot's new first frame.

    Only cuts between two shots at normal speed, neither held by a freeze, can roll (a freeze or a speed
    change has no unused media to roll into); each shot keeps at least one frame.
    """
    if int(delta_frames) != delta_frames:
        raise ValueError(f"move of the cut after '{after_shot_id}': frames must be a whole number, got {delta_frames}")
    delta = int(delta_frames)
    out = _copy(tl)
    rate = timeline_rate(out)
    track = _video(out)
    i = _find(track, after_shot_id)
    if _freeze_after(track, i) is not None:
        raise ValueError(f"the cut after '{after_shot_id}' follows its freeze: only a cut between two moving shots can roll")
    if i + 1 >= len(track) or not isinstance(track[i + 1], otio.schema.Clip):
        raise ValueError(f"'{after_shot_id}' ends the film: there is no cut after it to move")
    a, b = track[i], track[i + 1]
    b_id = _meta(b).get("shot_id") or b.name
    for clip, sid in ((a, after_shot_id), (b, b_id)):
        if _speed(clip) != 1.0 or _meta(clip).get("hold_of"):
            raise ValueError(
                f"the cut between '{after_shot_id}' and '{b_id}': '{sid}' is a freeze or plays at another speed; it cannot roll"
            )
    if delta == 0:
        return out
    a_start, a_frames = _frames(a.source_range.start_time, rate), _source_frames(a, rate)
    b_start, b_frames = _frames(b.source_range.start_time, rate), _source_frames(b, rate)
    _, a_end = _available(a, rate)
    b_first, _ = _available(b, rate)
    if delta > 0 and a_start + a_frames + delta > a_end:
        raise ValueError(
            f"cannot move the cut after '{after_shot_id}' {delta} frames later: '{after_shot_id}' has only "
            f"{a_end - a_start - a_frames} unused frames after its out point"
        )
    if delta < 0 and b_start + delta < b_first:
        raise ValueError(
            f"cannot move the cut after '{after_shot_id}' {-delta} frames earlier: '{b_id}' has only "
            f"{b_start - b_first} unused frames before its in point"
        )
    if a_frames + delta < 1 or b_frames - delta < 1:
        short = after_shot_id if a_frames + delta < 1 else b_id
        raise ValueError(
            f"cannot move the cut after '{after_shot_id}' by {delta} frames: '{short}' would be too short (a shot keeps at least 1 frame)"
        )
    _set_source(a, a_start, a_frames + delta, rate)
    _set_source(b, b_start + delta, b_frames - delta, rate)
    return _scene_markers(out)


def _media_frames(path: str, rate: float) -> int | None:
    """The length of a sound file in frames at ``rate`` (None when it cannot be read)."""
    try:
        import soundfile as sf

        return math.floor(sf.info(str(path)).duration * rate)
    except Exception:  # a missing or unreadable file: the clip still goes on the track, its extent from its use
        return None


def add_audio_track(tl: otio.schema.Timeline, name: str, items: Iterable[Mapping[str, Any]]) -> otio.schema.Timeline:
    """The cut with a sound track ``name`` added: one clip per item, gaps between, times in frames at the cut's rate.

    Each item: ``path`` (the sound file), ``start_frame`` (record position), ``frames`` (record length),
    ``source_start_frame`` (where in the file it starts; default 0), ``name`` and ``metadata`` (stored under
    ``metadata["filmaster"]``), optionally ``media_frames`` (the file's length; read from the file when
    omitted) and ``speed`` (a take sped up to fit its shot: a LinearTimeWarp, as a picture clip's speed).
    Items that overlap (an ambience under a spot effect, two lines that run into each other) go
    on further tracks named ``'{name} 2'``, ``'{name} 3'``..., as an editor lays them.
    """
    out = _copy(tl)
    rate = timeline_rate(out)
    lanes: list[list[Mapping[str, Any]]] = []
    for item in sorted(items, key=lambda it: (int(it["start_frame"]), str(it.get("name", "")))):
        if int(item["frames"]) < 1 or int(item["start_frame"]) < 0:
            raise ValueError(f"sound clip '{item.get('name', item['path'])}': needs a start at frame 0 or later and at least 1 frame")
        lane = next((lane for lane in lanes if _lane_end(lane[-1]) <= int(item["start_frame"])), None)
        if lane is None:
            lanes.append([item])
        else:
            lane.append(item)
    for k, lane in enumerate(lanes or [[]], start=1):
        track = otio.schema.Track(name=name if k == 1 else f"{name} {k}", kind=otio.schema.TrackKind.Audio)
        at = 0
        for item in lane:
            start, frames, src = int(item["start_frame"]), int(item["frames"]), int(item.get("source_start_frame", 0))
            if start > at:
                track.append(otio.schema.Gap(source_range=otio.opentime.TimeRange(duration=otio.opentime.RationalTime(start - at, rate))))
            media = item.get("media_frames")
            media = _media_frames(str(item["path"]), rate) if media is None else int(media)
            speed = float(item.get("speed") or 1.0)
            media = max(media or 0, src + math.ceil(frames * speed))
            ref = otio.schema.ExternalReference(
                target_url=_media_url(str(item["path"])),
                available_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(media, rate)),
            )
            track.append(
                otio.schema.Clip(
                    name=str(item.get("name") or Path(str(item["path"])).stem),
                    media_reference=ref,
                    source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(src, rate), otio.opentime.RationalTime(frames, rate)),
                    metadata={META: dict(item.get("metadata") or {})},
                )
            )
            if speed != 1.0:
                track[-1].effects.append(otio.schema.LinearTimeWarp(name="speed", time_scalar=speed))
            at = start + frames
        out.tracks.append(track)
    return out


def _lane_end(item: Mapping[str, Any]) -> int:
    return int(item["start_frame"]) + int(item["frames"])
