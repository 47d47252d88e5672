"""The audience review of a cut, and the fine cut it leads to.

The brief's audience persona "watches" the rough cut through signals measured from the cut's own
data (clip metadata, record frames, optionally keyframe pictures), never guessed:

- **hook**: when the first thing happens: the first shot with a camera move, a line, or a face or
  character (when the clip's metadata names them), against a target from the attention span;
- **pacing**: each scene's mean shot length against a target from the attention span (and the
  reference library's typical shot length when given);
- **monotony**: runs of three or more shots with the same scale, or the same camera move;
- **near-duplicates**: two shots back to back that look the same (keyframe correlation when pictures
  are given, else the same reference shot with the same scale and move);
- **lines that do not fit**: a shot shorter than the time its dialogue and narration take to say;
- **dead air**: runs of static shots without a line longer than the audience sits through.

Each problem names its shots and the measured values. :func:`rules_critique` turns them into
:class:`EditAction` values deterministically; :func:`critique` asks a language model instead when one is
available ("describe first, then reason") and keeps only the actions :func:`validate_actions` accepts,
falling back to the rules when the answer is unusable. :func:`apply_actions` makes the fine cut and a
report of every change with its reason and the signals before and after.

Pure film-craft code: no Dagster. Edits are :mod:`.timeline`'s pure functions; the input is never changed.
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Annotated, Any, Literal

import numpy as np
import opentimelineio as otio
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter, ValidationError

from ..llm.client import describe_validation_error
from .brief import Audience
from .planning.models import Provenance, SceneReferences, speaking_time_s
from .planning.script import JsonModel, ask_for_draft
from .timeline import MAX_SPEED, MIN_SPEED, cut_list, drop, duration_frames, hold, rearrange, set_speed, shot_metadata, timeline_rate, trim

__all__ = [
    "ATTENTION",
    "CritiqueAnswer",
    "DropAction",
    "EditAction",
    "HoldAction",
    "RearrangeAction",
    "Rejected",
    "ReviewProvenance",
    "SpeedAction",
    "TrimAction",
    "apply_actions",
    "audience_signals",
    "critique",
    "describe_cut",
    "keyframe_similarity",
    "keyframe_thumb",
    "library_shot_seconds",
    "rules_critique",
    "signal_summary",
    "validate_actions",
]

#: Per attention span: the latest the first hook may come, the mean shot length a scene should keep,
#: and the longest stretch of static, silent picture the audience sits through (seconds).
ATTENTION: dict[str, dict[str, float]] = {
    "short": {"hook_s": 3.0, "shot_s": 2.5, "dead_air_s": 4.0},
    "medium": {"hook_s": 5.0, "shot_s": 4.0, "dead_air_s": 6.0},
    "long": {"hook_s": 8.0, "shot_s": 7.0, "dead_air_s": 10.0},
}
#: Subject motion (``film.shot_motion``: the grey-level change, 0..255, reached by the most changed
#: 2 % of the picture between frames) below which a static shot reads as still. On the sample
#: clips a figure crossing the frame reads 20-45; film grain, mist and still landscapes 3-12.
STILL_MOTION = 15.0
#: The review tightens, it does not re-edit: trims for dead air take at most this share of the cut.
MAX_TIGHTEN_SHARE = 0.2
#: A scene's mean shot length may stray this far (as a ratio) from its target before it reads as slow or rushed.
PACING_TOLERANCE = 1.75
#: Shots in a row with the same scale (or the same move) that read as monotonous.
MONOTONY_RUN = 3
#: Keyframe correlation at or above which two neighbouring shots look the same.
DUPLICATE_CORRELATION = 0.95
#: A trim never leaves a shot shorter than this (seconds): below it a shot does not register.
MIN_SHOT_S = 1.0
#: Largest scene whose alternative orders are searched when breaking a monotonous run.
MAX_REARRANGE_SHOTS = 7
#: A persona for reports made without one (the signals need an attention span).
DEFAULT_AUDIENCE = Audience(who="a general audience", attention_span="medium")


# -- reading the cut as the audience sees it ------------------------------------------------------------


def _metas(tl: otio.schema.Timeline) -> dict[str, dict[str, Any]]:
    """Each shot's metadata by shot id (its own clip's, not its freeze's)."""
    clips = tl.video_tracks()[0].find_clips(shallow_search=True)
    return {m["shot_id"]: m for m in map(shot_metadata, clips) if m.get("shot_id") and not m.get("hold_of")}


def _units(tl: otio.schema.Timeline) -> list[dict[str, Any]]:
    """One row per shot in record order, its freeze (a hold) counted in its length."""
    metas = _metas(tl)
    units: list[dict[str, Any]] = []
    for row in cut_list(tl):
        if row["kind"] == "freeze" and units and units[-1]["shot_id"] == row["shot_id"]:
            units[-1]["frames"] += row["duration"]
            units[-1]["held"] += row["duration"]
            continue
        meta = metas.get(row["shot_id"], {})
        lines = [str(d.get("text", "")) for d in meta.get("dialogue", [])] + [str(n) for n in meta.get("narration", [])]
        units.append(
            {
                "shot_id": row["shot_id"],
                "scene_id": meta.get("scene_id", ""),
                "record_in": row["record_in"],
                "frames": row["duration"],
                "held": 0,
                "source_frames": row["source_out"] - row["source_in"],
                "speed": row["speed"],
                "scale": meta.get("scale", "unknown"),
                "movement": meta.get("movement", "static"),
                "lines": [t for t in lines if t.strip()],
                "characters": list(meta.get("characters", []) or []),
                "faces": int(meta.get("faces") or 0),
                "reference_shot_id": meta.get("reference_shot_id", "") or "",
                "description": meta.get("description", ""),
            }
        )
    return units


def _runs(units: Sequence[dict[str, Any]], key: str) -> list[list[dict[str, Any]]]:
    """Maximal runs of neighbouring shots sharing ``key`` (known values only)."""
    runs = []
    for value, group in itertools.groupby(units, key=lambda u: u[key]):
        run = list(group)
        if value not in ("", "unknown", None) and len(run) >= MONOTONY_RUN:
            runs.append(run)
    return runs


def keyframe_thumb(picture: np.ndarray, size: int = 16) -> np.ndarray:
    """A ``size``x``size`` grey thumbnail by block means (no resampling library needed)."""
    a = np.asarray(picture, dtype=np.float64)
    if a.ndim == 3:
        a = a[..., :3].mean(axis=2)
    h, w = a.shape
    ys = np.linspace(0, h, size + 1).astype(int)
    xs = np.linspace(0, w, size + 1).astype(int)
    return np.array(
        [[a[ys[i] : max(ys[i + 1], ys[i] + 1), xs[j] : max(xs[j + 1], xs[j] + 1)].mean() for j in range(size)] for i in range(size)]
    )


def keyframe_similarity(a: np.ndarray, b: np.ndarray) -> float:
    """How alike two keyframes look: the correlation of their 16x16 grey thumbnails (-1..1; two flat
    frames of the same level count as 1, of different levels as 0)."""
    ta, tb = keyframe_thumb(a).ravel(), keyframe_thumb(b).ravel()
    ta, tb = ta - ta.mean(), tb - tb.mean()
    na, nb = float(np.linalg.norm(ta)), float(np.linalg.norm(tb))
    if na < 1e-9 or nb < 1e-9:  # flat pictures: alike only when both are flat at the same level
        return 1.0 if na < 1e-9 and nb < 1e-9 and abs(keyframe_thumb(a).mean() - keyframe_thumb(b).mean()) < 2.0 else 0.0
    return float(np.dot(ta, tb) / (na * nb))


def _moving(unit: dict[str, Any]) -> bool:
    """Something moves in the frame (measured), whatever the camera does."""
    return unit.get("motion") is not None and unit["motion"] >= STILL_MOTION


def _hook(unit: dict[str, Any]) -> str | None:
    """Why a shot grabs the audience (a move, subject motion, a line, a face), or None."""
    if unit["movement"] not in ("static", "unknown", ""):
        return f"camera {unit['movement']}"
    if _moving(unit):
        return f"motion in the frame ({unit['motion']:.1f})"
    if unit["lines"]:
        return "a line"
    if unit["faces"] or unit["characters"]:
        return "a face" if unit["faces"] else f"character {unit['characters'][0]}"
    return None


def audience_signals(
    tl: otio.schema.Timeline,
    audience: Audience | None = None,
    *,
    library_shot_s: float | Mapping[str, float] | None = None,
    keyframe_of: Callable[[str], np.ndarray | None] | None = None,
    line_seconds: Callable[[str], float] = speaking_time_s,
    motion_of: Callable[[str], float | None] | None = None,
) -> dict[str, Any]:
    """What the audience persona meets in the cut, measured.

    Returns ``{"attention_span", "fps", "duration_s", "shots", "hook": {...}, "pacing": [per scene],
    "problems": [...]}``; every problem is ``{"kind", "shots", "message", ...measured values}`` with
    kind one of ``slow_hook``, ``slow_pacing``, ``rushed_pacing``, ``monotony``, ``near_duplicate``,
    ``line_too_long``, ``dead_air``. ``library_shot_s`` (the reference library's typical shot length
    for similar sequences: one number, or per scene id as :func:`library_shot_seconds` gives) pulls a
    scene's pacing target halfway toward it; ``keyframe_of(shot_id)`` gives a
    shot's keyframe picture (H x W [x C] array) for the near-duplicate check; ``line_seconds`` is the
    screen time a line needs (spoken by default; ``planning.script.line_seconds`` with the brief for a
    silent film's title cards); ``motion_of(shot_id)`` the subject motion measured in the shot's clip
    (:data:`STILL_MOTION` scale): a static shot where something moves is a hook and not dead air.
    """
    audience = audience or DEFAULT_AUDIENCE
    fps = timeline_rate(tl)
    targets = ATTENTION[audience.attention_span]
    units = _units(tl)
    for u in units:
        u["motion"] = motion_of(u["shot_id"]) if motion_of else None
    problems: list[dict[str, Any]] = []

    def sec(frames: float) -> float:
        return round(frames / fps, 3)

    # the hook
    first = next((u for u in units if _hook(u)), None)
    hook_frames = first["record_in"] if first else duration_frames(tl)
    hook: dict[str, Any] = {
        "shot_id": first["shot_id"] if first else None,
        "why": _hook(first) if first else "nothing moves, speaks or shows a face",
        "at_s": sec(hook_frames),
        "at_frames": hook_frames,
        "target_s": targets["hook_s"],
    }
    if hook_frames > targets["hook_s"] * fps:
        opening = [u["shot_id"] for u in units if u["record_in"] < hook_frames]
        problems.append(
            {
                "kind": "slow_hook",
                "shots": opening,
                "at_s": hook["at_s"],
                "target_s": targets["hook_s"],
                "excess_frames": hook_frames - math.floor(targets["hook_s"] * fps),
                "message": f"the first hook ({hook['why']}) comes at {hook['at_s']:.2f} s, later than the "
                f"{targets['hook_s']:g} s a {audience.attention_span}-attention audience waits",
            }
        )

    # pacing per scene
    pacing = []
    for scene_id, group in itertools.groupby(units, key=lambda u: u["scene_id"]):
        scene = list(group)
        library = library_shot_s.get(scene_id) if isinstance(library_shot_s, Mapping) else library_shot_s
        shot_target = targets["shot_s"] if library is None else round((targets["shot_s"] + float(library)) / 2, 3)
        mean = sec(sum(u["frames"] for u in scene) / len(scene))
        ratio = round(mean / shot_target, 3)
        pacing.append(
            {
                "scene_id": scene_id,
                "shots": len(scene),
                "mean_shot_s": mean,
                "library_shot_s": library,
                "target_s": shot_target,
                "ratio": ratio,
            }
        )
        if ratio > PACING_TOLERANCE or ratio < 1 / PACING_TOLERANCE:
            kind = "slow_pacing" if ratio > 1 else "rushed_pacing"
            problems.append(
                {
                    "kind": kind,
                    "shots": [u["shot_id"] for u in scene],
                    "scene_id": scene_id,
                    "mean_shot_s": mean,
                    "target_s": shot_target,
                    "message": f"scene {scene_id}: mean shot {mean:.2f} s against a target of {shot_target:g} s ({kind.split('_')[0]})",
                }
            )

    # monotony
    for key, what in (("scale", "scale"), ("movement", "camera move")):
        for run in _runs(units, key):
            problems.append(
                {
                    "kind": "monotony",
                    "shots": [u["shot_id"] for u in run],
                    "attribute": key,
                    "value": run[0][key],
                    "run": len(run),
                    "message": f"{len(run)} shots in a row with the same {what} ({run[0][key]})",
                }
            )

    # near-duplicates back to back
    for a, b in itertools.pairwise(units):
        pa = keyframe_of(a["shot_id"]) if keyframe_of else None
        pb = keyframe_of(b["shot_id"]) if keyframe_of else None
        if pa is not None and pb is not None:
            similarity = round(keyframe_similarity(pa, pb), 4)
            same, how = similarity >= DUPLICATE_CORRELATION, f"keyframe correlation {similarity:.3f}"
        else:
            similarity = None
            same = bool(a["reference_shot_id"]) and a["reference_shot_id"] == b["reference_shot_id"]
            same = same and a["scale"] == b["scale"] and a["movement"] == b["movement"]
            how = f"same reference shot {a['reference_shot_id']}, scale and move"
        if same:
            problems.append(
                {
                    "kind": "near_duplicate",
                    "shots": [a["shot_id"], b["shot_id"]],
                    "similarity": similarity,
                    "message": f"{a['shot_id']} and {b['shot_id']} look the same back to back ({how})",
                }
            )

    # lines that do not fit their shots
    for u in units:
        need = round(sum(line_seconds(t) for t in u["lines"]), 3)
        if need and need * fps > u["frames"] + 1e-6:
            missing = math.ceil(round(need * fps - u["frames"], 6))
            problems.append(
                {
                    "kind": "line_too_long",
                    "shots": [u["shot_id"]],
                    "line_s": need,
                    "shot_s": sec(u["frames"]),
                    "missing_frames": missing,
                    "message": f"{u['shot_id']}: its lines need {need:.2f} s, the shot lasts {sec(u['frames']):.2f} s "
                    f"({missing} frames short)",
                }
            )

    # dead air: static, silent stretches
    limit = targets["dead_air_s"]
    for quiet, group in itertools.groupby(units, key=lambda u: u["movement"] == "static" and not u["lines"] and not _moving(u)):
        run = list(group)
        length = sum(u["frames"] for u in run)
        if quiet and length > limit * fps:
            problems.append(
                {
                    "kind": "dead_air",
                    "shots": [u["shot_id"] for u in run],
                    "seconds": sec(length),
                    "limit_s": limit,
                    "message": f"{sec(length):.2f} s of static picture without a line ({', '.join(u['shot_id'] for u in run)}), "
                    f"more than {limit:g} s",
                }
            )

    return {
        "attention_span": audience.attention_span,
        "fps": fps,
        "duration_s": sec(duration_frames(tl)),
        "shots": [{k: u[k] for k in ("shot_id", "scene_id", "record_in", "frames", "scale", "movement", "motion")} for u in units],
        "hook": hook,
        "pacing": pacing,
        "problems": problems,
    }


def library_shot_seconds(references: SceneReferences) -> dict[str, float]:
    """Per scene, the median shot length (seconds) of its best-matched reference sequence: the rhythm
    the library cut similar material to (scenes without a match are left out)."""
    out = {}
    for scene in references.scenes:
        if scene.matches:
            best = min(scene.matches, key=lambda m: m.rank)
            out[scene.scene_id] = round(float(np.median([shot.duration_s for shot in best.shots])), 3)
    return out


def signal_summary(signals: dict[str, Any]) -> dict[str, Any]:
    """The headline values a report compares before and after an edit."""
    counts: dict[str, int] = {}
    for p in signals["problems"]:
        counts[p["kind"]] = counts.get(p["kind"], 0) + 1
    return {
        "duration_s": signals["duration_s"],
        "hook_s": signals["hook"]["at_s"],
        "mean_shot_s": {p["scene_id"]: p["mean_shot_s"] for p in signals["pacing"]},
        "problems": counts,
    }


# -- edit actions ----------------------------------------------------------------------------------------


class _Action(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, description="why the audience is better served, in one sentence")


class RearrangeAction(_Action):
    """Put some shots in a new order: the shots named take the places they held, in the order given."""

    action: Literal["rearrange"]
    order: list[str] = Field(min_length=2, description="shot ids in their new order (a subset of the cut; they swap places)")


class TrimAction(_Action):
    """Shorten a shot at its head and/or tail (source frames)."""

    action: Literal["trim"]
    shot_id: str
    head_frames: int = Field(default=0, description="frames cut from the start")
    tail_frames: int = Field(default=0, description="frames cut from the end")


class SpeedAction(_Action):
    """Play a shot faster (>1) or slower (<1), within 0.5..2.0."""

    action: Literal["speed"]
    shot_id: str
    factor: float = Field(description=f"playback speed, {MIN_SPEED}..{MAX_SPEED}")


class DropAction(_Action):
    """Take a shot out of the cut."""

    action: Literal["drop"]
    shot_id: str


class HoldAction(_Action):
    """Hold a shot longer (into unused media, else on its last frame)."""

    action: Literal["hold"]
    shot_id: str
    extra_frames: int = Field(description="frames added at the shot's end")


_AnyAction = RearrangeAction | TrimAction | SpeedAction | DropAction | HoldAction
#: One edit, told apart by its ``action`` word.
EditAction = Annotated[_AnyAction, Field(discriminator="action")]
_ACTION = TypeAdapter(EditAction)


class Rejected(BaseModel):
    """An action that was refused, and why (it is never applied)."""

    action: dict[str, Any]
    reason: str


class ReviewProvenance(Provenance):
    """Who critiqued the cut; with a model, its description and reasoning and the actions refused."""

    description: str | None = None
    reasoning: str | None = None
    rejected: list[Rejected] = Field(default_factory=list)


class CritiqueAnswer(BaseModel):
    """The critic's answer: look first, then think, then act."""

    model_config = ConfigDict(extra="forbid")

    description: str = Field(description="what the audience sees, shot by shot, in plain words (no judgement yet)")
    reasoning: str = Field(description="where this audience would lose interest or be confused, and why, citing the signals")
    # a plain union (JSON schema anyOf, which grammar-constrained servers support more widely than oneOf);
    # each member's ``action`` is a constant and extra keys are refused, so it parses unambiguously
    actions: list[_AnyAction] = Field(default_factory=list, description="edit actions in the order to apply them")


def _full_order(tl: otio.schema.Timeline, named: Sequence[str]) -> list[str]:
    """The whole cut's shot order with the ``named`` shots swapped into the places they held."""
    present = [r["shot_id"] for r in cut_list(tl) if r["kind"] == "shot"]
    unknown = [s for s in named if s not in present]
    if unknown or len(set(named)) != len(named):
        twice = sorted({s for s in named if list(named).count(s) > 1})
        raise ValueError(f"rearrange: unknown shots {unknown or 'none'}, named twice {twice or 'none'}")
    slots = [i for i, s in enumerate(present) if s in set(named)]
    order = list(present)
    for slot, sid in zip(slots, named, strict=True):
        order[slot] = sid
    if order == present:
        raise ValueError("rearrange: the order given is the cut's present order")
    return order


def _lines_of(tl: otio.schema.Timeline, shot_id: str) -> list[str]:
    meta = _metas(tl).get(shot_id, {})
    return [str(d.get("text", "")) for d in meta.get("dialogue", [])] + [str(n) for n in meta.get("narration", [])]


def _apply_one(tl: otio.schema.Timeline, a: BaseModel) -> otio.schema.Timeline:
    """One action on the cut (a new timeline), or ValueError saying why it cannot be made."""
    if isinstance(a, RearrangeAction):
        return rearrange(tl, _full_order(tl, a.order))
    if isinstance(a, TrimAction):
        if a.head_frames == 0 and a.tail_frames == 0:
            raise ValueError(f"trim of '{a.shot_id}': nothing to trim (head and tail are 0)")
        return trim(tl, a.shot_id, a.head_frames, a.tail_frames)
    if isinstance(a, SpeedAction):
        return set_speed(tl, a.shot_id, a.factor)
    if isinstance(a, DropAction):
        lines = [t for t in _lines_of(tl, a.shot_id) if t.strip()]
        if lines:
            raise ValueError(f"drop of '{a.shot_id}': it carries {len(lines)} line(s) of the script ('{lines[0][:40]}')")
        return drop(tl, a.shot_id)
    if isinstance(a, HoldAction):
        return hold(tl, a.shot_id, a.extra_frames)
    raise ValueError(f"unknown action {a!r}")


def _as_dict(raw: Any) -> dict[str, Any]:
    if isinstance(raw, BaseModel):
        return raw.model_dump(mode="json")
    return dict(raw) if isinstance(raw, dict) else {"value": repr(raw)}


def validate_actions(actions: Iterable[Any], tl: otio.schema.Timeline) -> tuple[list[BaseModel], list[Rejected]]:
    """Split proposed actions (models or plain dicts) into those that can be made and those refused.

    Each is test-applied, in order, to the cut as the accepted ones before it leave it, with the
    timeline's own edit functions: an action whose edit raises (unknown shot, a trim beyond the clip, a
    speed outside 0.5..2.0, dropping the only shot, a hold over 10 s...) is refused with that message.
    Also refused: actions that do not parse, dropping a shot that carries a line, and edits that
    change nothing. Nothing is applied to ``tl``."""
    valid: list[BaseModel] = []
    rejected: list[Rejected] = []
    current = tl
    for raw in actions:
        try:
            action = raw if isinstance(raw, BaseModel) else _ACTION.validate_python(raw)
        except ValidationError as err:
            rejected.append(Rejected(action=_as_dict(raw), reason=describe_validation_error(err, _Action)))
            continue
        try:
            edited = _apply_one(current, action)
        except (ValueError, TypeError, KeyError) as err:
            rejected.append(Rejected(action=_as_dict(action), reason=str(err)))
            continue
        if cut_list(edited) == cut_list(current):
            rejected.append(Rejected(action=_as_dict(action), reason="the edit changes nothing in the cut"))
            continue
        valid.append(action)
        current = edited
    return valid, rejected


# -- the rules critic ---------------------------------------------------------------------------------


def _alternative_order(units: list[dict[str, Any]], scene: list[dict[str, Any]]) -> list[str] | None:
    """An order of the scene's shots (lines kept in their order) that leaves no monotonous run, the
    one closest to the present order; None when there is none."""
    if len(scene) > MAX_REARRANGE_SHOTS:
        return None
    ids = [u["shot_id"] for u in scene]
    speaking = [u["shot_id"] for u in scene if u["lines"]]
    start = units.index(scene[0])
    best: tuple[int, list[str]] | None = None
    for perm in itertools.permutations(scene):
        order = [u["shot_id"] for u in perm]
        if order == ids or [s for s in order if s in speaking] != speaking:
            continue
        trial = units[:start] + list(perm) + units[start + len(scene) :]
        if _runs(trial, "scale") or _runs(trial, "movement"):
            continue
        moved = sum(1 for x, y in zip(order, ids, strict=True) if x != y)
        if best is None or moved < best[0]:
            best = (moved, order)
    return best[1] if best else None


#: The order the rules take problems in: shots dropped first are not held, trimmed or reordered after.
_RULE_ORDER = ("near_duplicate", "slow_hook", "line_too_long", "dead_air", "monotony")


def _trim_heads(
    units: dict[str, dict[str, Any]], shots: Sequence[str], excess: int, min_frames: int, cut: dict[str, int], reason: str
) -> tuple[list[BaseModel], int]:
    """Head trims of static shots, longest first, each kept at least ``min_frames``, until ``excess``
    frames are gone; returns the actions and the excess left. ``cut`` counts what earlier actions took."""
    actions: list[BaseModel] = []
    for u in sorted((units[s] for s in shots if s in units), key=lambda u: -u["frames"]):
        if excess <= 0:
            break
        if u["speed"] != 1.0 or u["held"] or u["movement"] != "static":
            continue
        take = min(excess, u["source_frames"] - cut.get(u["shot_id"], 0) - min_frames)
        if take > 0:
            actions.append(TrimAction(action="trim", shot_id=u["shot_id"], head_frames=take, reason=reason))
            cut[u["shot_id"]] = cut.get(u["shot_id"], 0) + take
            excess -= take
    return actions, excess


def rules_critique(signals: dict[str, Any], tl: otio.schema.Timeline) -> list[BaseModel]:
    """Deterministic edit actions for the measured problems:

    - two near-identical shots back to back: drop the second (the first when only the second speaks);
    - a slow hook: trim the heads of the static opening shots (longest first, each kept at least
      :data:`MIN_SHOT_S`), then speed what is left (at most 2x) until the hook comes in time;
    - lines longer than their shot: hold the shot by the missing frames;
    - dead air later in the film: trim the heads of its longest static shots down to the limit, all such
      trims together taking at most :data:`MAX_TIGHTEN_SHARE` of the film (the review tightens a cut;
      a film that is all stillness is the plan's problem, reported, not cut to a third of its length);
    - monotony: rearrange the scene when another order (lines kept in order) breaks the run, else nothing.

    Slow or rushed pacing gets no action: it is a matter of the plan, reported for the critic and the notes.
    """
    fps = signals["fps"]
    units = {u["shot_id"]: u for u in _units(tl)}
    actions: list[BaseModel] = []
    dropped: set[str] = set()
    cut: dict[str, int] = {}
    min_frames = max(1, math.ceil(MIN_SHOT_S * fps))
    problems = sorted(signals["problems"], key=lambda p: _RULE_ORDER.index(p["kind"]) if p["kind"] in _RULE_ORDER else len(_RULE_ORDER))
    for p in problems:
        if p["kind"] == "near_duplicate":
            first, second = p["shots"]
            victim = second if not units[second]["lines"] else first if not units[first]["lines"] else None
            if victim and not dropped & {first, second}:
                dropped.add(victim)
                actions.append(DropAction(action="drop", shot_id=victim, reason=f"{p['message']}; the repeat adds nothing"))
        elif p["kind"] == "slow_hook":
            opening = [s for s in p["shots"] if s not in dropped]
            gone = sum(units[s]["frames"] for s in p["shots"] if s in dropped)
            reason = (
                f"the opening holds {p['at_s']:.2f} s before anything happens; cutting static frames brings the hook "
                f"within {p['target_s']:g} s"
            )
            trims, excess = _trim_heads(units, opening, int(p["excess_frames"]) - gone, min_frames, cut, reason)
            actions += trims
            for sid in opening:
                u = units[sid]
                if excess <= 0:
                    break
                if u["held"] or u["speed"] != 1.0:
                    continue
                frames = u["frames"] - cut.get(sid, 0)
                factor = min(MAX_SPEED, math.ceil(frames / max(frames - excess, 1) * 1000) / 1000)
                if factor > 1.0:
                    why = f"still {excess} frames too slow to the hook after trimming; play the static opening faster"
                    actions.append(SpeedAction(action="speed", shot_id=sid, factor=factor, reason=why))
                    excess -= frames - round(frames / factor)
        elif p["kind"] == "line_too_long" and p["shots"][0] not in dropped:
            why = f"{p['message']}; hold the shot so the line finishes on it"
            actions.append(HoldAction(action="hold", shot_id=p["shots"][0], extra_frames=int(p["missing_frames"]), reason=why))
        elif p["kind"] == "dead_air":
            left = [s for s in p["shots"] if s not in dropped]
            excess = sum(units[s]["frames"] - cut.get(s, 0) for s in left) - math.floor(p["limit_s"] * fps)
            budget = math.floor(MAX_TIGHTEN_SHARE * sum(u["frames"] for u in units.values())) - sum(cut.values())
            why = f"{p['message']}; tighten the static shots"
            if budget < excess:
                why += f" (by at most {MAX_TIGHTEN_SHARE:.0%} of the film: the rest is the plan's to change)"
            actions += _trim_heads(units, left, min(excess, budget), min_frames, cut, why)[0]
        elif p["kind"] == "monotony":
            scene_id = units[p["shots"][0]]["scene_id"]
            ordered = [u for u in units.values() if u["shot_id"] not in dropped]
            scene = [u for u in ordered if u["scene_id"] == scene_id]
            if any(isinstance(a, RearrangeAction) and set(a.order) == {u["shot_id"] for u in scene} for a in actions):
                continue
            order = _alternative_order(ordered, scene)
            if order:
                why = f"{p['message']}; reorder scene {scene_id} to vary it"
                actions.append(RearrangeAction(action="rearrange", order=order, reason=why))
    return actions


# -- the language-model critic ---------------------------------------------------------------------------


def describe_cut(tl: otio.schema.Timeline) -> str:
    """The cut in words, one line per shot: position, length, scale, move, what it shows, its lines."""
    fps = timeline_rate(tl)
    metas = _metas(tl)
    lines = [f"'{tl.name}': {duration_frames(tl)} frames at {fps:.3f} fps ({duration_frames(tl) / fps:.2f} s)"]
    for u in _units(tl):
        meta = metas.get(u["shot_id"], {})
        said = "; ".join(f'{d.get("speaker")}: "{d.get("text")}"' for d in meta.get("dialogue", []))
        said += "; ".join(f'narration: "{n}"' for n in meta.get("narration", []))
        lines.append(
            f"- {u['shot_id']} (scene {u['scene_id']}) at {u['record_in'] / fps:.2f} s for {u['frames']} frames "
            f"({u['frames'] / fps:.2f} s{', held ' + str(u['held']) + ' frames' if u['held'] else ''}"
            f"{', speed ' + str(u['speed']) if u['speed'] not in (0.0, 1.0) else ''}; "
            f"clip media {u['source_frames']} frames used): {u['scale']}, {u['movement']}. {u['description']}"
            + (f" Lines: {said}" if said else "")
        )
    return "\n".join(lines)


def _messages(tl: otio.schema.Timeline, signals: dict[str, Any], audience: Audience) -> list[dict[str, Any]]:
    system = (
        "You are a film editor watching a rough cut as its intended audience would. First describe what is on screen, "
        "then reason about where this audience loses interest, then propose edit actions. Actions: rearrange (order: shot ids "
        "that swap places), trim (shot_id, head_frames, tail_frames; cannot reach beyond the clip's media), speed (shot_id, "
        f"factor {MIN_SPEED}..{MAX_SPEED}), drop (shot_id; never a shot with lines, never the last shot), hold (shot_id, "
        "extra_frames, at most 10 s). Each action needs a one-sentence reason. Propose only what the signals support; "
        "an empty list is a valid answer."
    )
    persona = {
        "who": audience.who,
        "likes": list(audience.likes),
        "dislikes": list(audience.dislikes),
        "attention_span": audience.attention_span,
    }
    brief = {k: signals[k] for k in ("duration_s", "hook", "pacing", "problems")}
    user = f"Audience: {json.dumps(persona)}\n\nThe cut:\n{describe_cut(tl)}\n\nMeasured signals:\n{json.dumps(brief, indent=1)}"
    return [{"role": "system", "content": system}, {"role": "user", "content": user}]


def critique(
    tl: otio.schema.Timeline, signals: dict[str, Any], audience: Audience | None, model: JsonModel | None
) -> tuple[list[BaseModel], ReviewProvenance]:
    """The edit actions for the cut, by the language model when one is available and its answer holds up.

    The model reads :func:`describe_cut` and the signals and answers :class:`CritiqueAnswer`
    (description, reasoning, then actions). Every action goes through :func:`validate_actions`: refused
    ones are listed in the provenance with their reasons and never returned. The rules critique is used
    instead, with ``fallback_reason``, when the answer does not parse, or when every action it proposed
    was refused while the rules have something to do."""
    audience = audience or DEFAULT_AUDIENCE
    rules = rules_critique(signals, tl)
    if model is None or not model.available:
        return validate_actions(rules, tl)[0], ReviewProvenance(by="rules")
    answer, prov = ask_for_draft(model, _messages(tl, signals, audience), CritiqueAnswer, CritiqueAnswer, lambda _: [])
    if answer is None:
        return validate_actions(rules, tl)[0], ReviewProvenance(**prov.model_dump())
    valid, rejected = validate_actions(answer.actions, tl)
    said = ReviewProvenance(**prov.model_dump(), description=answer.description, reasoning=answer.reasoning, rejected=rejected)
    if not valid and rejected and rules:
        reason = f"every action the model proposed was refused ({rejected[0].reason})"
        return validate_actions(rules, tl)[0], said.model_copy(update={"by": "rules", "fallback_reason": reason})
    return valid, said


# -- the fine cut ---------------------------------------------------------------------------------------------


def _change(before: otio.schema.Timeline, after: otio.schema.Timeline) -> str:
    """What an edit changed, in an editor's words."""
    fps = timeline_rate(before)
    a = {u["shot_id"]: u for u in _units(before)}
    b = {u["shot_id"]: u for u in _units(after)}
    parts = [f"{s} removed ({a[s]['frames']} frames)" for s in a if s not in b]
    if [s for s in a if s in b] != list(b):
        parts.append("order " + " ".join(b))
    for s, u in b.items():
        if s in a and (a[s]["frames"], a[s]["speed"], a[s]["held"]) != (u["frames"], u["speed"], u["held"]):
            how = f"{s}: {a[s]['frames']} -> {u['frames']} frames"
            if a[s]["speed"] != u["speed"]:
                how += f", speed {a[s]['speed']:g} -> {u['speed']:g}"
            if a[s]["held"] != u["held"]:
                how += f", freeze {a[s]['held']} -> {u['held']} frames"
            parts.append(how)
    total = f"cut {duration_frames(before) / fps:.2f} -> {duration_frames(after) / fps:.2f} s"
    return "; ".join([*parts, total])


def apply_actions(
    tl: otio.schema.Timeline,
    actions: Iterable[Any],
    audience: Audience | None = None,
    *,
    library_shot_s: float | Mapping[str, float] | None = None,
    keyframe_of: Callable[[str], np.ndarray | None] | None = None,
    line_seconds: Callable[[str], float] = speaking_time_s,
    motion_of: Callable[[str], float | None] | None = None,
) -> tuple[otio.schema.Timeline, list[dict[str, Any]]]:
    """The fine cut: ``actions`` applied in order to a copy of ``tl``, each checked first (a refused one
    is reported with its reason and skipped). The report has one entry per action: ``action``,
    ``reason``, ``applied``, ``change`` (what moved, in words) or ``refused`` (why), and ``before`` /
    ``after`` signal summaries (:func:`signal_summary`)."""

    def summary(cut: otio.schema.Timeline) -> dict[str, Any]:
        return signal_summary(
            audience_signals(
                cut, audience, library_shot_s=library_shot_s, keyframe_of=keyframe_of, line_seconds=line_seconds, motion_of=motion_of
            )
        )

    current = tl
    before = summary(current)
    report: list[dict[str, Any]] = []
    for raw in actions:
        valid, rejected = validate_actions([raw], current)
        entry: dict[str, Any] = {"action": _as_dict(raw), "reason": _as_dict(raw).get("reason", ""), "before": before}
        if rejected:
            report.append(entry | {"applied": False, "refused": rejected[0].reason, "after": before})
            continue
        edited = _apply_one(current, valid[0])
        after = summary(edited)
        report.append(entry | {"applied": True, "change": _change(current, edited), "after": after})
        current, before = edited, after
    return current, report
