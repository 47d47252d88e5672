"""The shot planner: each scene of the script broken into shots that take their technique from the
reference sequences retrieved for it, timed to the frame.

- :func:`rules_plan` (deterministic, the default) follows each scene's retrieved sequences: the top
  match's shots give the camera-language chain (scale and movement, in order), continued into the
  next matches when the scene needs more shots; the matched shots' median length, scaled by the
  style's pace and the audience's attention span, sets how many shots a scene gets. Action beats
  get shots in story order; dialogue gets singles, alternating shot / reverse shot between two
  speakers, each speaker always cut from the same reference set-up; a scene with four beats or more
  closes on its last beat after the dialogue.
- :func:`plan_shots` asks a language model to re-plan each whole scene at once from the same
  references (:class:`SceneShotsDraft`), checks the answer (:func:`draft_problems`), and falls back
  to the rules for any scene whose answer does not hold up, saying why.
- :func:`assign_footage` picks, for the ripomatic, the stretch of reference footage each shot is cut
  from, so that two consecutive shots never show the same source frames.
- :func:`plan_problems` lists what is wrong with a plan (the tests and the asset check use it).

Timing is one function for both planners (:func:`fit_frames`): the film's exact frame count,
``round(target * fps)``, is shared between scenes in proportion to the script's durations, then
within a scene between its shots, every count a whole number of frames and never below what a
line needs (:func:`~.script.line_seconds`: the time to say it, or to read it on a title card).

Camera angle (documented rule, :data:`ANGLE_FOR_MOOD`): eye level by default; low for a triumphant
scene (the subject towers), high for a melancholy or somber one (the subject small and vulnerable),
dutch for an eerie one (except dialogue singles, which stay level). A style that asks for a
"static camera" or "eye level" throughout (a silent-film style does) overrides movement or angle.

No Dagster here.
"""

from __future__ import annotations

import json
import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from fractions import Fraction
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ..brief import Brief, DialogueLine, Mood
from ..vocabulary import CameraAngle, CameraMovement, ShotScale
from .models import (
    FootageWindow,
    PlannedShot,
    Provenance,
    ReferenceShot,
    ScenePlan,
    SceneReferences,
    SceneRetrieval,
    Script,
    ScriptScene,
    SequenceMatch,
    ShotPlan,
    frames_for,
)
from .script import JsonModel, ask_for_draft, line_seconds, mentions, share, time_phrase

__all__ = [
    "ANGLE_FOR_MOOD",
    "SceneShotsDraft",
    "ShotDraft",
    "assign_footage",
    "camera_angle",
    "draft_problems",
    "fit_frames",
    "plan_problems",
    "plan_shots",
    "rules_plan",
    "scene_frames",
    "total_frames",
    "typical_shot_s",
]

#: The editing pace of the style stretches or shortens the library's typical shot.
PACE_FACTOR = {"slow": 1.3, "moderate": 1.0, "fast": 0.75}
#: An audience with a short attention span wants a new picture sooner.
ATTENTION_FACTOR = {"short": 0.8, "medium": 1.0, "long": 1.25}
#: The longest typical shot each attention span sits through ("short: something new every few seconds").
ATTENTION_MAX_S = {"short": 5.0, "medium": 8.0, "long": 12.0}
#: Typical shot length when a scene has no reference (the median of narrative film since the 1990s is 3-5 s).
DEFAULT_SHOT_S = 4.0
#: A shot shorter than this reads as a flash frame: every shot lasts at least this long while its scene has room.
MIN_SHOT_S = 1.0
#: A beat of reaction left after a line is spoken, before the cut.
LINE_TAIL_S = 0.5

#: Vertical angle by the scene's mood; any other mood is shot at eye level.
ANGLE_FOR_MOOD: dict[str, CameraAngle] = {
    "triumphant": CameraAngle.LOW,
    "melancholy": CameraAngle.HIGH,
    "somber": CameraAngle.HIGH,
    "eerie": CameraAngle.DUTCH,
}

#: Camera language for a scene the library has nothing for: establish wide, then come closer.
_DEFAULT_CHAIN = (ShotScale.WIDE, ShotScale.MEDIUM, ShotScale.MEDIUM_CLOSE_UP, ShotScale.MEDIUM_LONG)
_TIGHT = (ShotScale.CLOSE_UP, ShotScale.MEDIUM_CLOSE_UP, ShotScale.MEDIUM, ShotScale.EXTREME_CLOSE_UP)


# -- timing -----------------------------------------------------------------------------------------


def total_frames(brief: Brief) -> int:
    """The film's exact length in frames at the production's rate."""
    return max(1, round(Fraction(str(brief.target_duration_s)) * brief.fps))


def fit_frames(desired_s: Sequence[float], minimum_frames: Sequence[int], total: int) -> list[int]:
    """Whole frame counts summing exactly to ``total``, in proportion to ``desired_s``, each at least its minimum.

    When the minimums cannot all be met the counts are proportional to them instead (each at least one
    frame): the shortfall is spread, and :func:`plan_problems` reports it.
    """
    n = len(desired_s)
    if n == 0:
        return []
    if total < n:
        raise ValueError(f"{n} shots or scenes cannot share {total} frames (each needs at least one)")
    mins = [max(1, int(m)) for m in minimum_frames]
    weights: Sequence[float] = desired_s
    if sum(mins) > total:
        weights, mins = [float(m) for m in mins], [1] * n
    parts = share(float(total), weights, [float(m) for m in mins])
    counts = [max(m, math.floor(p + 1e-9)) for m, p in zip(mins, parts, strict=True)]
    spare = total - sum(counts)
    order = sorted(range(n), key=lambda i: (-(parts[i] - counts[i]), i))
    k = 0
    while spare > 0:  # the frames lost to rounding down go to the largest remainders
        counts[order[k % n]] += 1
        spare, k = spare - 1, k + 1
    while spare < 0:  # float error only: take back from the longest part above its minimum
        i = max((j for j in range(n) if counts[j] > mins[j]), key=lambda j: counts[j])
        counts[i] -= 1
        spare += 1
    return counts


def _scene_line_frames(scene: ScriptScene, brief: Brief) -> int:
    lines = [line.text for line in scene.dialogue] + list(scene.narration)
    return sum(frames_for(line_seconds(t, brief), brief.fps) for t in lines)


def scene_frames(script: Script, brief: Brief) -> list[int]:
    """Each scene's frame count: the film's frames shared in proportion to the script's durations,
    never fewer than its lines need."""
    desired = [s.duration_s for s in script.scenes]
    need = [_scene_line_frames(s, brief) for s in script.scenes]
    return fit_frames(desired, need, total_frames(brief))


def typical_shot_s(retrieval: SceneRetrieval | None, brief: Brief) -> float:
    """The length a shot of this scene should have: the matched shots' median, scaled by pace and attention
    span, and no longer than that attention span sits through (:data:`ATTENTION_MAX_S`)."""
    lengths = [shot.duration_s for m in (retrieval.matches if retrieval else []) for shot in m.shots if shot.duration_s > 0]
    base = statistics.median(lengths) if lengths else DEFAULT_SHOT_S
    scaled = base * PACE_FACTOR[brief.style.pace] * ATTENTION_FACTOR[brief.audience.attention_span]
    return min(ATTENTION_MAX_S[brief.audience.attention_span], max(1.5 * MIN_SHOT_S, scaled))


# -- a shot before it is timed ----------------------------------------------------------------------------


@dataclass
class _Shot:
    description: str
    action: str
    scale: ShotScale
    angle: CameraAngle
    movement: CameraMovement
    desired_s: float
    min_s: float = 0.0  # the time its lines need (said, or read on a card)
    dialogue: list[DialogueLine] = field(default_factory=list)
    narration: list[str] = field(default_factory=list)
    characters: list[str] = field(default_factory=list)
    reference: ReferenceShot | None = None
    sequence_id: str | None = None
    prompt: str | None = None


def _chain(retrieval: SceneRetrieval | None) -> list[tuple[ReferenceShot, SequenceMatch]]:
    """The scene's camera-language chain: the top match's shots in order, then the next matches' shots
    (a scene that needs more shots than the chain holds goes round it again)."""
    matches = sorted(retrieval.matches, key=lambda m: m.rank) if retrieval else []
    return [(shot, m) for m in matches for shot in m.shots]


def _style_locks(brief: Brief) -> tuple[bool, bool]:
    """Whether the style asks for a static camera, and for eye level, throughout."""
    text = brief.style.description.casefold()
    static = any(w in text for w in ("static camera", "locked-off", "locked off", "fixed camera"))
    level = re.search(r"\beye[ -]level\b", text) is not None
    return static, level


def camera_angle(mood: Mood, dialogue: bool, brief: Brief) -> CameraAngle:
    """The vertical angle for a shot of a scene in ``mood`` (see :data:`ANGLE_FOR_MOOD`)."""
    if _style_locks(brief)[1]:
        return CameraAngle.EYE_LEVEL
    angle = ANGLE_FOR_MOOD.get(mood, CameraAngle.EYE_LEVEL)
    return CameraAngle.EYE_LEVEL if dialogue and angle is CameraAngle.DUTCH else angle


def _camera_words(movement: CameraMovement) -> str:
    if movement in (CameraMovement.STATIC, CameraMovement.UNKNOWN):
        return "static camera"
    if movement is CameraMovement.HANDHELD:
        return "handheld camera"
    if movement is CameraMovement.COMPLEX:
        return "moving camera"
    if movement in (CameraMovement.PUSH_IN, CameraMovement.PULL_OUT):
        return f"slow {movement.words}"
    return f"camera {movement.words}"


def _mentioned(text: str, names: Sequence[str]) -> list[str]:
    return [n for n in names if mentions(text, n)]


def _prompt(shot: _Shot, scene: ScriptScene, brief: Brief) -> str:
    """The generation prompt: framing and camera language, action, who is in it, setting, mood and style."""
    parts = [f"{shot.scale.words.capitalize()} shot, {shot.angle.words}, {_camera_words(shot.movement)}.", shot.action]
    people = [brief.character(n) for n in shot.characters]
    if people:
        parts.append("Characters: " + "; ".join(f"{c.name}: {c.description.rstrip('.')}" for c in people) + ".")
    place = next((loc for loc in brief.locations if scene.location and loc.name.casefold() == scene.location.casefold()), None)
    setting = place.description.rstrip(".") if place else (scene.location or scene.heading)
    parts.append(f"Setting: {setting}, {time_phrase(scene.time_of_day)}. Mood: {scene.mood}.")
    colour = "black and white. " if brief.style.color == "black_and_white" else ""
    parts.append(f"Style: {colour}{brief.style.description}")
    return " ".join(p.strip() for p in parts if p.strip())


# -- the rules planner ----------------------------------------------------------------------------------


def _beat_shots(
    scene: ScriptScene, count: int, chain: list[tuple[ReferenceShot, SequenceMatch]], typical: float, brief: Brief
) -> list[_Shot]:
    beats = scene.beats
    median = statistics.median([r.duration_s for r, _ in chain]) if chain else typical
    shots = []
    for k in range(count):
        if count <= len(beats):
            covered = beats[k * len(beats) // count : (k + 1) * len(beats) // count]
            action, again = " ".join(covered), False
        else:  # more shots than beats: a beat is covered from more than one set-up
            b = k * len(beats) // count
            action, again = beats[b], k > 0 and (k - 1) * len(beats) // count == b
        reference, match = chain[k % len(chain)] if chain else (None, None)
        scale = reference.shot_scale if reference else _DEFAULT_CHAIN[k % len(_DEFAULT_CHAIN)]
        if scale is ShotScale.UNKNOWN:
            scale = ShotScale.WIDE if k == 0 else ShotScale.MEDIUM
        movement = reference.movement if reference else CameraMovement.STATIC
        ratio = min(1.6, max(0.6, reference.duration_s / median)) if reference and median > 0 else 1.0
        characters = _mentioned(action, scene.characters)
        if not characters and k > 0 and re.search(r"\b(he|she|they|him|her|them|his|their)\b", action, re.I):
            characters = list(scene.characters)
        shots.append(
            _Shot(
                description=action if not again else f"{action.rstrip('.')} (another angle).",
                action=action,
                scale=scale,
                angle=camera_angle(scene.mood, False, brief),
                movement=movement if movement is not CameraMovement.UNKNOWN else CameraMovement.STATIC,
                desired_s=typical * ratio,
                characters=characters,
                reference=reference,
                sequence_id=match.sequence_id if match else None,
            )
        )
    return shots


def _face_set_ups(chain: list[tuple[ReferenceShot, SequenceMatch]]) -> list[tuple[ReferenceShot, SequenceMatch]]:
    """Reference shots fit for a dialogue single: faces in frame and a tight scale first, then the rest of the chain."""

    def rank(item: tuple[ReferenceShot, SequenceMatch]) -> tuple[int, int]:
        shot = item[0]
        return (0 if (shot.faces or 0) >= 1 else 1, _TIGHT.index(shot.shot_scale) if shot.shot_scale in _TIGHT else len(_TIGHT))

    return sorted(chain, key=rank)  # stable: chain order breaks ties


def _dialogue_shots(scene: ScriptScene, chain: list[tuple[ReferenceShot, SequenceMatch]], brief: Brief) -> list[_Shot]:
    """Singles on each speaker; with two speakers, shot / reverse shot. Each speaker keeps one set-up."""
    speakers = list(dict.fromkeys(line.speaker for line in scene.dialogue))
    set_ups = _face_set_ups(chain)
    static = _style_locks(brief)[0]
    seen: set[str] = set()
    shots = []
    for line in scene.dialogue:
        reference, match = set_ups[speakers.index(line.speaker) % len(set_ups)] if set_ups else (None, None)
        # the exchange starts on medium close-ups and tightens to close-ups once everyone has spoken
        scale = ShotScale.CLOSE_UP if line.speaker in seen else ShotScale.MEDIUM_CLOSE_UP
        seen.add(line.speaker)
        listeners = [s for s in speakers if s != line.speaker]
        to = f" to {', '.join(listeners)}" if listeners else ""
        need = line_seconds(line.text, brief)
        movement = CameraMovement.STATIC
        if not static and reference is not None and reference.movement is CameraMovement.PUSH_IN:
            movement = CameraMovement.PUSH_IN
        shots.append(
            _Shot(
                description=f'{line.speaker} says{to}: "{line.text}"',
                action=f'{line.speaker} speaks{to}, saying: "{line.text}"',
                scale=scale,
                angle=camera_angle(scene.mood, True, brief),
                movement=movement,
                desired_s=need + LINE_TAIL_S,
                min_s=need,
                dialogue=[line],
                characters=[line.speaker],
                reference=reference,
                sequence_id=match.sequence_id if match else None,
            )
        )
    return shots


def _rules_shots(scene: ScriptScene, frames: int, retrieval: SceneRetrieval | None, brief: Brief) -> list[_Shot]:
    fps = brief.fps
    chain = _chain(retrieval)
    typical = typical_shot_s(retrieval, brief)
    seconds = float(frames / fps)
    spoken = sum(line_seconds(line.text, brief) for line in scene.dialogue)
    rest = seconds - spoken
    count = round(rest / typical) if rest >= MIN_SHOT_S else 0
    count = max(0, min(count, int(rest // MIN_SHOT_S)))
    if not scene.dialogue or scene.narration:
        count = max(1, count)  # something must carry the picture (and the narration)
    shots = _beat_shots(scene, count, chain, typical, brief)
    for j, text in enumerate(scene.narration):  # narration spread over the action shots, in order
        shot = shots[j * len(shots) // len(scene.narration)]
        shot.narration.append(text)
        shot.min_s += line_seconds(text, brief)
    talk = _dialogue_shots(scene, chain, brief)
    if talk and not shots:  # no room for an action shot: the first single carries the scene's action
        talk[0].action = f"{' '.join(scene.beats)} {talk[0].action}"
    if len(scene.beats) >= 4 and len(shots) >= 2 and talk:  # a closing image after the exchange
        ordered = shots[:-1] + talk + shots[-1:]
    else:
        ordered = shots + talk
    static = _style_locks(brief)[0]
    if static:
        ordered = [replace(s, movement=CameraMovement.STATIC) for s in ordered]
    return _within(ordered, frames, fps)


def _within(shots: list[_Shot], frames: int, fps: Fraction) -> list[_Shot]:
    """Shots without lines folded into their neighbour while the scene cannot give every shot a frame beyond
    what the lines need (a scene that is nearly all talk)."""
    shots = list(shots)

    def need() -> int:
        return sum(frames_for(s.min_s, fps) if s.min_s > 0 else 1 for s in shots)

    while need() > frames and len(shots) > 1:
        spare = [i for i, s in enumerate(shots) if s.min_s <= 0]
        if not spare:
            break
        i = spare[-1]
        into = shots[i - 1] if i > 0 else shots[1]
        into.description = f"{into.description} {shots[i].action}".strip()
        into.action = f"{into.action} {shots[i].action}".strip()
        del shots[i]
    return shots


def _timed(scene: ScriptScene, shots: list[_Shot], frames: int, brief: Brief, provenance: Provenance) -> ScenePlan:
    """The scene's shots with exact frame counts (one fitting function for both planners), as a :class:`ScenePlan`."""
    fps = brief.fps
    # every shot holds its lines, and lasts at least a second while the scene has room for that
    mins = [frames_for(max(s.min_s, MIN_SHOT_S), fps) for s in shots]
    if sum(mins) > frames:  # the one-second floor gives way before any line does
        mins = [frames_for(s.min_s, fps) if s.min_s > 0 else 1 for s in shots]
    counts = fit_frames([s.desired_s for s in shots], mins, frames)
    planned = []
    for n, (shot, count) in enumerate(zip(shots, counts, strict=True), start=1):
        planned.append(
            PlannedShot(
                shot_id=f"{scene.scene_id}-{n:02d}",
                scene_id=scene.scene_id,
                order=0,
                prompt=shot.prompt or _prompt(shot, scene, brief),
                description=shot.description,
                shot_scale=shot.scale,
                camera_angle=shot.angle,
                movement=shot.movement,
                frames=count,
                duration_s=float(count / fps),
                dialogue=shot.dialogue,
                narration=shot.narration,
                characters=shot.characters,
                reference_shot_id=shot.reference.shot_id if shot.reference else None,
                reference_sequence_id=shot.sequence_id,
            )
        )
    return ScenePlan(scene_id=scene.scene_id, duration_s=float(sum(counts) / fps), shots=planned, provenance=provenance)


def _retrieval(references: SceneReferences, scene_id: str) -> SceneRetrieval | None:
    try:
        return references.for_scene(scene_id)
    except KeyError:
        return None


def _assemble(scenes: list[ScenePlan], script: Script, brief: Brief) -> ShotPlan:
    order = 0
    numbered = []
    for plan in scenes:
        shots = []
        for shot in plan.shots:
            shots.append(shot.model_copy(update={"order": order}))
            order += 1
        numbered.append(plan.model_copy(update={"shots": shots}))
    return ShotPlan(
        production=script.production,
        frame_rate=str(brief.fps),
        width=brief.resolution.width,
        height=brief.resolution.height,
        target_duration_s=brief.target_duration_s,
        scenes=numbered,
    )


def _rules_scene(scene: ScriptScene, frames: int, references: SceneReferences, brief: Brief, provenance: Provenance) -> ScenePlan:
    return _timed(scene, _rules_shots(scene, frames, _retrieval(references, scene.scene_id), brief), frames, brief, provenance)


def rules_plan(script: Script, references: SceneReferences, brief: Brief) -> ShotPlan:
    """The deterministic plan: every scene broken into shots that follow its references' camera chain, timed to the frame."""
    scenes = [
        _rules_scene(scene, frames, references, brief, Provenance(by="rules"))
        for scene, frames in zip(script.scenes, scene_frames(script, brief), strict=True)
    ]
    return _assemble(scenes, script, brief)


# -- footage for the ripomatic ------------------------------------------------------------------------------


def _usable(shot: ReferenceShot) -> tuple[float, float]:
    if shot.usable_end_s - shot.usable_start_s > 0:
        return shot.usable_start_s, shot.usable_end_s
    return shot.start_s, shot.end_s


def _source(window: FootageWindow) -> str:
    return window.source_path or window.film


def _overlaps(a: FootageWindow, b: FootageWindow | None) -> bool:
    return b is not None and _source(a) == _source(b) and a.in_s < b.out_s and b.in_s < a.out_s


def _window(ref: ReferenceShot, in_s: float, out_s: float) -> FootageWindow:
    return FootageWindow(
        shot_id=ref.shot_id,
        film=ref.film,
        source_path=ref.source_path,
        in_s=round(in_s, 6),
        out_s=round(out_s, 6),
        reference_scale=ref.shot_scale,
        reference_movement=ref.movement,
    )


def _placements(ref: ReferenceShot, length: float, cursor: float | None, before: FootageWindow | None) -> list[tuple[float, float]]:
    """Where a window of ``length`` may sit in ``ref``: where the last use of it stopped, its start, just after
    or just before the previous shot's window, its end."""
    lo, hi = _usable(ref)
    starts = [cursor] if cursor is not None else []
    starts.append(lo)
    if before is not None:
        starts += [before.out_s, before.in_s - length]
    starts.append(hi - length)
    out = []
    for s in starts:
        if s is not None and lo - 1e-9 <= s and s + length <= hi + 1e-9:
            out.append((max(lo, s), min(hi, s + length)))
    return out


def assign_footage(plan: ShotPlan, references: SceneReferences) -> ShotPlan:
    """Each shot's footage window, cut from its reference shot (another matched shot when that one has no fresh frames).

    A window lies inside the reference shot's usable part and lasts ``min(planned duration, usable
    length)`` (the ripomatic retimes it to the planned length). Consecutive shots never share source
    frames unless the later one sets ``repeat_footage``: the window moves along the reference shot
    (continuing where its last use stopped), and if the shot is too short for that, another shot of
    the scene's matched sequences (then of any scene's) is used. As a last resort the window is the
    longest stretch of a reference shot not shown by the previous shot. A shot without a reference,
    or in a production whose library matched nothing, gets no footage.
    """
    by_id: dict[str, ReferenceShot] = {}
    for retrieval in references.scenes:
        for match in sorted(retrieval.matches, key=lambda m: m.rank):
            for ref in match.shots:
                by_id.setdefault(ref.shot_id, ref)
    cursor: dict[str, float] = {}
    previous: FootageWindow | None = None
    scenes = []
    for scene in plan.scenes:
        scene_refs = [s for m in sorted(_matches(references, scene.scene_id), key=lambda m: m.rank) for s in m.shots]
        shots = []
        for shot in scene.shots:
            window = None
            reference = by_id.get(shot.reference_shot_id or "")
            if shot.repeat_footage and previous is not None:  # a deliberate repeat: the previous shot's frames again
                window = previous.model_copy(update={"out_s": min(previous.out_s, previous.in_s + shot.duration_s)})
            elif reference is not None:
                candidates = list(dict.fromkeys([reference.shot_id] + [s.shot_id for s in scene_refs] + list(by_id)))
                window = _choose(shot, [by_id[c] for c in candidates], cursor, previous)
            if window is not None:
                cursor[window.shot_id] = window.out_s
            shots.append(shot.model_copy(update={"footage": window}))
            previous = window
        scenes.append(scene.model_copy(update={"shots": shots}))
    return plan.model_copy(update={"scenes": scenes})


def _matches(references: SceneReferences, scene_id: str) -> list[SequenceMatch]:
    retrieval = _retrieval(references, scene_id)
    return retrieval.matches if retrieval else []


def _choose(
    shot: PlannedShot, candidates: list[ReferenceShot], cursor: dict[str, float], previous: FootageWindow | None
) -> FootageWindow | None:
    for ref in candidates:
        lo, hi = _usable(ref)
        length = min(shot.duration_s, hi - lo)
        if length <= 0:
            continue
        for in_s, out_s in _placements(ref, length, cursor.get(ref.shot_id), previous):
            window = _window(ref, in_s, out_s)
            if not _overlaps(window, previous):
                return window
    # no candidate has a full-length fresh stretch: the longest stretch the previous shot did not show
    best: tuple[float, ReferenceShot, float, float] | None = None
    for ref in candidates:
        lo, hi = _usable(ref)
        gaps = [(lo, hi)]
        if previous is not None and _source(previous) == (ref.source_path or ref.film):
            gaps = [(lo, min(hi, previous.in_s)), (max(lo, previous.out_s), hi)]
        for a, b in gaps:
            if b - a > 1e-6 and (best is None or b - a > best[0]):
                best = (b - a, ref, a, min(b, a + shot.duration_s))
    return _window(best[1], best[2], best[3]) if best else None


# -- the language-model planner --------------------------------------------------------------------------


def _words(enum: type[ShotScale] | type[CameraAngle] | type[CameraMovement]) -> Any:
    """The enum's words a model may answer with (``unknown`` is for measurements, not plans)."""
    return Literal.__getitem__(tuple(v for v in enum.values() if v != "unknown"))


ScaleWord = _words(ShotScale)
AngleWord = _words(CameraAngle)
MovementWord = _words(CameraMovement)


class _Draft(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ShotDraft(_Draft):
    """One shot as a model plans it."""

    shot_scale: ScaleWord  # type: ignore[valid-type]
    camera_angle: AngleWord  # type: ignore[valid-type]
    movement: MovementWord  # type: ignore[valid-type]
    seconds: float = Field(gt=0, description="intended length in seconds (fitted to the scene's length afterwards)")
    dialogue_lines: list[int] = Field(description="0-based indexes of the scene's dialogue lines spoken in this shot")
    narration_lines: list[int] = Field(description="0-based indexes of the scene's narration passages over this shot")
    characters: list[str] = Field(description="declared characters in frame")
    reference_shot_id: str | None = Field(description="the matched reference shot whose technique this shot takes")
    description: str = Field(min_length=1, description="what the audience sees, one sentence")
    prompt: str = Field(min_length=1, description="the video-generation prompt: subject, action, setting, style, camera language")


class SceneShotsDraft(_Draft):
    """A whole scene's shots as a model plans them."""

    shots: list[ShotDraft] = Field(min_length=1, max_length=60)


_SYSTEM = (
    "You are a film director planning the shots of one scene. Plan the whole scene at once so the camera "
    "language forms a chain, taking each shot's technique from one of the reference shots given (by its "
    "shot_id). Every dialogue line and every narration passage must be used exactly once, in order. "
    "Use only the characters named. Give each shot a length in seconds; the lengths should add up to about the "
    "scene's duration, and a shot with a line must be long enough to say it."
)


def _scene_messages(scene: ScriptScene, frames: int, retrieval: SceneRetrieval | None, brief: Brief) -> list[dict[str, Any]]:
    refs = [
        {
            "shot_id": shot.shot_id,
            "sequence_id": match.sequence_id,
            "rank": match.rank,
            "shot_scale": str(shot.shot_scale),
            "movement": str(shot.movement),
            "duration_s": round(shot.duration_s, 2),
            "faces": shot.faces,
            "description": shot.description,
        }
        for shot, match in _chain(retrieval)
    ]
    data = {
        "scene": {
            "heading": scene.heading,
            "location": scene.location,
            "time_of_day": scene.time_of_day,
            "mood": scene.mood,
            "objective": scene.objective,
            "beats": scene.beats,
            "dialogue": [
                {"index": i, "speaker": d.speaker, "text": d.text, "seconds_needed": line_seconds(d.text, brief)}
                for i, d in enumerate(scene.dialogue)
            ],
            "narration": [{"index": i, "text": t, "seconds_needed": line_seconds(t, brief)} for i, t in enumerate(scene.narration)],
            "characters": {c: brief.character(c).description for c in scene.characters},
            "duration_s": round(float(frames / brief.fps), 3),
        },
        "typical_shot_s": round(typical_shot_s(retrieval, brief), 2),
        "style": brief.style.model_dump(mode="json"),
        "audience": brief.audience.model_dump(mode="json"),
        "reference_shots": refs,
        "vocabulary": {
            "shot_scale": [v for v in ShotScale.values() if v != "unknown"],
            "camera_angle": [v for v in CameraAngle.values() if v != "unknown"],
            "movement": [v for v in CameraMovement.values() if v != "unknown"],
        },
    }
    user = "Plan the shots of this scene.\n" + json.dumps(data, ensure_ascii=False, indent=1)
    return [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": user}]


def draft_problems(draft: SceneShotsDraft, scene: ScriptScene, frames: int, retrieval: SceneRetrieval | None, brief: Brief) -> list[str]:
    """Why a model's plan for ``scene`` cannot be used (empty when it can); one short line each."""
    problems = []
    seconds = float(frames / brief.fps)
    ids = {shot.shot_id for shot, _ in _chain(retrieval)}
    names = {c.name.casefold() for c in brief.characters}
    for n, shot in enumerate(draft.shots, start=1):
        for value, enum in ((shot.shot_scale, ShotScale), (shot.camera_angle, CameraAngle), (shot.movement, CameraMovement)):
            if value not in enum.values() or value == "unknown":
                problems.append(f"shot {n}: {value!r} is not a {enum.__name__} word")
        if ids and shot.reference_shot_id not in ids:
            problems.append(f"shot {n} names reference {shot.reference_shot_id!r}, not one of the scene's matched shots")
        if not ids and shot.reference_shot_id is not None:
            problems.append(f"shot {n} names reference {shot.reference_shot_id!r}, but the scene has no matched shots")
        problems += [f"shot {n} shows {who!r}, who is not a declared character" for who in shot.characters if who.casefold() not in names]
        if not math.isfinite(shot.seconds) or shot.seconds > seconds:
            problems.append(f"shot {n} lasts {shot.seconds:g} s, longer than the scene's {seconds:.2f} s")
    for what, used, count in (
        ("dialogue line", [i for s in draft.shots for i in s.dialogue_lines], len(scene.dialogue)),
        ("narration passage", [i for s in draft.shots for i in s.narration_lines], len(scene.narration)),
    ):
        if used != list(range(count)):
            problems.append(f"the {what}s used are {used}; each of 0..{count - 1} once, in order, was expected")
    total = sum(s.seconds for s in draft.shots if math.isfinite(s.seconds))
    if not 0.5 * seconds <= total <= 2.0 * seconds:
        problems.append(f"the shots add up to {total:.1f} s for a {seconds:.1f} s scene")
    if not problems:  # each shot at least a second, and as long as its lines: does the scene hold them all?
        need = 0
        for shot in draft.shots:
            lines = [scene.dialogue[i].text for i in shot.dialogue_lines] + [scene.narration[i] for i in shot.narration_lines]
            need += frames_for(max(MIN_SHOT_S, sum(line_seconds(t, brief) for t in lines)), brief.fps)
        if need > frames:
            problems.append(f"{len(draft.shots)} shots with their lines need {need} frames; the scene has {frames}")
    return problems


def _drafted_shots(draft: SceneShotsDraft, scene: ScriptScene, retrieval: SceneRetrieval | None, brief: Brief) -> list[_Shot]:
    refs = {shot.shot_id: (shot, match) for shot, match in _chain(retrieval)}
    shots = []
    for d in draft.shots:
        reference, match = refs.get(d.reference_shot_id or "", (None, None))
        dialogue = [scene.dialogue[i] for i in d.dialogue_lines]
        narration = [scene.narration[i] for i in d.narration_lines]
        need = sum(line_seconds(t, brief) for t in [line.text for line in dialogue] + narration)
        shots.append(
            _Shot(
                description=" ".join(d.description.split()),
                action=d.description,
                scale=ShotScale(d.shot_scale),
                angle=CameraAngle(d.camera_angle),
                movement=CameraMovement(d.movement),
                desired_s=max(d.seconds, need),
                min_s=need,
                dialogue=dialogue,
                narration=narration,
                characters=list(dict.fromkeys(brief.character(c).name for c in d.characters)),
                reference=reference,
                sequence_id=match.sequence_id if match else None,
                prompt=" ".join(d.prompt.split()),
            )
        )
    return shots


def _model_scene(scene: ScriptScene, frames: int, references: SceneReferences, brief: Brief, model: JsonModel) -> ScenePlan:
    """One scene planned whole by the model, or by the rules (saying why) when its answer does not hold up."""
    retrieval = _retrieval(references, scene.scene_id)
    messages = _scene_messages(scene, frames, retrieval, brief)
    draft, provenance = ask_for_draft(
        model, messages, SceneShotsDraft, SceneShotsDraft, lambda d: draft_problems(d, scene, frames, retrieval, brief)
    )
    if draft is None:
        return _rules_scene(scene, frames, references, brief, provenance)
    return _timed(scene, _drafted_shots(draft, scene, retrieval, brief), frames, brief, provenance)


def plan_shots(script: Script, references: SceneReferences, brief: Brief, model: JsonModel | None) -> ShotPlan:
    """The shot plan, each scene planned whole by the language model when one is available and its answer holds
    up, else by the rules (with the reason in the scene's provenance); footage assigned for the ripomatic."""
    scenes = [
        _model_scene(scene, frames, references, brief, model)
        if model is not None and model.available
        else _rules_scene(scene, frames, references, brief, Provenance(by="rules"))
        for scene, frames in zip(script.scenes, scene_frames(script, brief), strict=True)
    ]
    return assign_footage(_assemble(scenes, script, brief), references)


# -- checks ------------------------------------------------------------------------------------------------


def plan_problems(plan: ShotPlan, brief: Brief) -> list[str]:
    """What is wrong with a plan for ``brief``, one line each (empty when nothing is)."""
    problems = []
    fps = brief.fps
    if plan.fps != fps:
        problems.append(f"the plan is at {plan.frame_rate} fps, the brief at {brief.frame_rate}")
    if abs(plan.duration_s - brief.target_duration_s) > 1.0:
        problems.append(f"the plan lasts {plan.duration_s:.3f} s, more than 1 s from the target {brief.target_duration_s:g} s")
    order = [shot.order for shot in plan.shots]
    if order != list(range(len(order))):
        problems.append("shot order is not 0, 1, 2, ... in film order")
    ids = [shot.shot_id for shot in plan.shots]
    if len(set(ids)) != len(ids):
        problems.append("shot ids are not unique")
    previous: PlannedShot | None = None
    for scene in plan.scenes:
        if not scene.shots:
            problems.append(f"scene {scene.scene_id} has no shots")
        if abs(scene.duration_s - sum(s.frames for s in scene.shots) / fps) > 1e-6:
            problems.append(f"scene {scene.scene_id} lasts {scene.duration_s} s but its shots add up to another length")
        for shot in scene.shots:
            where = f"shot {shot.shot_id}"
            if shot.scene_id != scene.scene_id or not shot.shot_id.startswith(f"{scene.scene_id}-"):
                problems.append(f"{where} is filed under scene {scene.scene_id}")
            if shot.frames != round(shot.duration_s * fps):
                problems.append(f"{where}: {shot.frames} frames is not its {shot.duration_s} s at {fps} fps")
            for value, enum in ((shot.shot_scale, ShotScale), (shot.camera_angle, CameraAngle), (shot.movement, CameraMovement)):
                if not isinstance(value, enum) or value.value == "unknown":
                    problems.append(f"{where}: {value!r} is not a usable {enum.__name__}")
            lines = [line.text for line in shot.dialogue] + list(shot.narration)
            need = sum(line_seconds(t, brief) for t in lines)
            if lines and shot.frames < frames_for(need, fps):
                problems.append(f"{where} lasts {shot.duration_s:.2f} s; its lines need {need:.2f} s")
            if shot.footage is not None:
                if shot.footage.out_s <= shot.footage.in_s:
                    problems.append(f"{where}: empty footage window")
                if previous is not None and not shot.repeat_footage and _overlaps(shot.footage, previous.footage):
                    problems.append(f"{where} repeats source frames of {previous.shot_id} without asking for it")
            previous = shot
    return problems
