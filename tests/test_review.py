"""The audience review: measured signals, the rules critic, validated actions and the fine cut."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

import numpy as np
import opentimelineio as otio
import pandas as pd
import pytest

from filmaster_dag.cinema.brief import Audience
from filmaster_dag.cinema.planning.models import PlannedShot, SceneReferences, reading_time_s
from filmaster_dag.cinema.review import (
    CritiqueAnswer,
    DropAction,
    HoldAction,
    RearrangeAction,
    TrimAction,
    apply_actions,
    audience_signals,
    critique,
    describe_cut,
    keyframe_similarity,
    library_shot_seconds,
    rules_critique,
    validate_actions,
)
from filmaster_dag.cinema.timeline import cut_list, rough_cut
from filmaster_dag.resources.llm import OpenAICompatibleModel

from .llm_server import ScriptedServer, ok
from .plans import shot_plan

FPS = "24"
AUDIENCE = Audience(who="children 6-10 watching with a parent", attention_span="medium", dislikes=["slow openings"])
LONG_LINE = "I have been waiting here for you since the sun came up over the hill."  # 15 words: 6.5 s to say

#: (shot_id, scene, scale, movement, frames, reference shot, dialogue)
PLANTED = [
    ("s01-01", "s01", "wide", "static", 288, "r1", []),  # a 12 s static, silent opening
    ("s01-02", "s01", "medium", "pan_right", 96, "r2", []),
    ("s01-03", "s01", "medium", "pan_right", 96, "r2", []),  # the same shot again
    ("s02-01", "s02", "close_up", "static", 48, "r3", [("ANNA", LONG_LINE)]),  # 2 s for a 6.5 s line
    ("s02-02", "s02", "wide", "push_in", 96, "r4", []),
]
CLEAN = [
    ("s01-01", "s01", "wide", "static", 96, "r1", []),
    ("s01-02", "s01", "medium", "pan_right", 96, "r2", []),
    ("s01-03", "s01", "close_up", "static", 72, "r5", [("BEN", "Who is there?")]),
    ("s02-01", "s02", "close_up", "static", 168, "r3", [("ANNA", LONG_LINE)]),
    ("s02-02", "s02", "wide", "push_in", 96, "r4", []),
]


def _cut(shots) -> otio.schema.Timeline:
    """A rough cut of ``shots`` (rows as in :data:`PLANTED`) at 24 fps, one scene per scene id."""
    planned = [
        PlannedShot.model_validate(
            {
                "shot_id": sid,
                "scene_id": scene,
                "order": order,
                "prompt": f"shot {sid}",
                "description": f"what {sid} shows",
                "shot_scale": scale,
                "camera_angle": "eye_level",
                "movement": move,
                "frames": frames,
                "duration_s": float(frames / Fraction(FPS)),
                "dialogue": [{"speaker": who, "text": text} for who, text in dialogue],
                "reference_shot_id": ref,
            }
        )
        for order, (sid, scene, scale, move, frames, ref, dialogue) in enumerate(shots)
    ]
    plan = shot_plan(planned, FPS, production="review", target_duration_s=30.0)
    # the generated clips are exactly their planned length (the rough cut reads no pixels)
    manifest = pd.DataFrame([{"shot_id": s[0], "path": f"/clips/{s[0]}.mp4", "frames": s[4], "generator": "slate"} for s in shots])
    return rough_cut(plan, manifest, "Review Test")


def _kinds(signals) -> set[str]:
    return {p["kind"] for p in signals["problems"]}


def _problem(signals, kind):
    return next(p for p in signals["problems"] if p["kind"] == kind)


def test_clean_cut_has_no_problems():
    signals = audience_signals(_cut(CLEAN), AUDIENCE)
    assert signals["problems"] == []
    assert signals["hook"]["shot_id"] == "s01-02" and signals["hook"]["at_s"] == 4.0
    assert [p["mean_shot_s"] for p in signals["pacing"]] == [pytest.approx(11 / 3, abs=1e-3), 5.5]


def test_planted_problems_are_measured():
    signals = audience_signals(_cut(PLANTED), AUDIENCE)
    assert _kinds(signals) == {"slow_hook", "near_duplicate", "line_too_long", "dead_air"}
    hook = _problem(signals, "slow_hook")
    assert hook["shots"] == ["s01-01"] and hook["at_s"] == 12.0 and hook["excess_frames"] == 288 - 120
    assert _problem(signals, "near_duplicate")["shots"] == ["s01-02", "s01-03"]
    line = _problem(signals, "line_too_long")
    assert line["shots"] == ["s02-01"] and line["line_s"] == 6.5 and line["missing_frames"] == 108  # 6.5 * 24 - 48
    assert _problem(signals, "dead_air")["seconds"] == 12.0


def test_rules_fix_the_planted_problems():
    tl = _cut(PLANTED)
    signals = audience_signals(tl, AUDIENCE)
    actions = rules_critique(signals, tl)
    assert [type(a) for a in actions] == [DropAction, TrimAction, HoldAction]
    drop_, trim_, hold_ = actions
    assert (trim_.shot_id, trim_.head_frames, trim_.tail_frames) == ("s01-01", 168, 0)
    assert drop_.shot_id == "s01-03"
    assert (hold_.shot_id, hold_.extra_frames) == ("s02-01", 108)
    assert all(a.reason for a in actions)

    fine, report = apply_actions(tl, actions, AUDIENCE)
    after = audience_signals(fine, AUDIENCE)
    assert after["problems"] == []
    assert after["hook"]["at_s"] == 5.0
    assert [(r["shot_id"], r["kind"], r["duration"]) for r in cut_list(fine)] == [
        ("s01-01", "shot", 120),
        ("s01-02", "shot", 96),
        ("s02-01", "shot", 48),
        ("s02-01", "freeze", 108),
        ("s02-02", "shot", 96),
    ]
    assert [r["applied"] for r in report] == [True, True, True]
    assert "s01-03 removed" in report[0]["change"] and report[0]["after"]["problems"].get("near_duplicate") is None
    assert report[1]["before"]["hook_s"] == 12.0 and report[1]["after"]["hook_s"] == 5.0
    assert "s01-01: 288 -> 120 frames" in report[1]["change"]
    assert report[2]["before"]["problems"] == {"line_too_long": 1} and report[2]["after"]["problems"] == {}
    assert len(cut_list(tl)) == 5  # the rough cut itself is untouched


def test_keyframes_decide_near_duplicates():
    tl = _cut(PLANTED)
    rng = np.random.default_rng(0)
    pictures = {s[0]: rng.uniform(0, 255, (48, 64, 3)) for s in PLANTED}
    pictures["s01-03"] = pictures["s01-02"] + rng.normal(0, 5, (48, 64, 3))  # the same frame, re-encoded
    signals = audience_signals(tl, AUDIENCE, keyframe_of=pictures.get)
    dup = _problem(signals, "near_duplicate")
    assert dup["shots"] == ["s01-02", "s01-03"] and dup["similarity"] > 0.95
    # same reference shot, different pictures: not a duplicate when the pictures say so
    pictures["s01-03"] = rng.uniform(0, 255, (48, 64, 3))
    assert "near_duplicate" not in _kinds(audience_signals(tl, AUDIENCE, keyframe_of=pictures.get))
    assert keyframe_similarity(pictures["s01-02"], pictures["s01-02"]) == pytest.approx(1.0)


def test_monotony_is_broken_by_rearranging_the_scene():
    shots = [
        ("s01-01", "s01", "medium", "pan_left", 96, "r1", []),
        ("s01-02", "s01", "medium", "static", 96, "r2", []),
        ("s01-03", "s01", "medium", "push_in", 96, "r3", []),
        ("s01-04", "s01", "wide", "tilt_up", 96, "r4", []),
    ]
    tl = _cut(shots)
    signals = audience_signals(tl, AUDIENCE)
    mono = _problem(signals, "monotony")
    assert mono["shots"] == ["s01-01", "s01-02", "s01-03"] and mono["attribute"] == "scale"
    actions = rules_critique(signals, tl)
    assert [type(a) for a in actions] == [RearrangeAction]
    fine, _ = apply_actions(tl, actions, AUDIENCE)
    assert "monotony" not in _kinds(audience_signals(fine, AUDIENCE))


def test_validate_actions_refuses_with_reasons():
    tl = _cut(PLANTED)
    proposed = [
        {"action": "speed", "shot_id": "s01-01", "factor": 3.0, "reason": "faster"},
        {"action": "drop", "shot_id": "s09-09", "reason": "not there"},
        {"action": "trim", "shot_id": "s02-01", "tail_frames": 500, "reason": "too much"},
        {"action": "drop", "shot_id": "s02-01", "reason": "it speaks"},
        {"action": "zoom", "shot_id": "s01-01", "reason": "no such edit"},
        {"action": "drop", "shot_id": "s01-03", "reason": "a repeat"},
        {"action": "hold", "shot_id": "s01-03", "extra_frames": 10, "reason": "already dropped above"},
    ]
    valid, rejected = validate_actions(proposed, tl)
    assert [(type(a), a.shot_id) for a in valid] == [(DropAction, "s01-03")]
    reasons = [r.reason for r in rejected]
    assert len(reasons) == 6
    assert "outside 0.5..2.0" in reasons[0]
    assert "no shot 's09-09'" in reasons[1]
    assert "leaves" in reasons[2] and "s02-01" in reasons[2]
    assert "carries 1 line" in reasons[3]
    assert "does not match" in reasons[4]
    assert "no shot 's01-03'" in reasons[5]
    assert validate_actions([{"action": "drop", "shot_id": "s01-01", "reason": "x"}], _cut(PLANTED[:1]))[1][0].reason.startswith(
        "cannot drop"
    )


@dataclass
class _Answer:
    value: CritiqueAnswer | None
    error: str | None = None
    attempts: int = 1
    seconds: float = 0.01


class _FakeModel:
    """A critic that always gives the same answer."""

    available = True
    identity = "fake-critic"

    def __init__(self, answer: _Answer) -> None:
        self.answer = answer
        self.messages: list = []

    def complete_json(self, messages, schema, *, temperature=0.2, seed=None):
        self.messages.append(messages)
        return self.answer


def _answer(*actions: dict) -> CritiqueAnswer:
    return CritiqueAnswer.model_validate({"description": "a meadow, then ...", "reasoning": "the opening drags", "actions": list(actions)})


def test_model_critique_keeps_valid_actions_and_rejects_the_rest():
    tl = _cut(PLANTED)
    signals = audience_signals(tl, AUDIENCE)
    model = _FakeModel(
        _Answer(
            _answer(
                {"action": "speed", "shot_id": "s01-01", "factor": 5.0, "reason": "much faster"},
                {"action": "trim", "shot_id": "s01-01", "head_frames": 100, "reason": "shorter opening"},
            )
        )
    )
    actions, prov = critique(tl, signals, AUDIENCE, model)
    assert [(type(a), a.shot_id) for a in actions] == [(TrimAction, "s01-01")]
    assert prov.by == "fake-critic" and prov.reasoning == "the opening drags"
    assert len(prov.rejected) == 1 and "5.0 is outside" in prov.rejected[0].reason
    prompt = model.messages[0][1]["content"]
    assert "s01-01" in prompt and "slow_hook" in prompt and "children 6-10" in prompt
    # the refused action is never applied
    fine, report = apply_actions(tl, [prov.rejected[0].action], AUDIENCE)
    assert cut_list(fine) == cut_list(tl) and report[0]["applied"] is False and "outside" in report[0]["refused"]


def test_unusable_answers_fall_back_to_the_rules():
    tl = _cut(PLANTED)
    signals = audience_signals(tl, AUDIENCE)
    rules = rules_critique(signals, tl)
    actions, prov = critique(tl, signals, AUDIENCE, _FakeModel(_Answer(None, error="timed out after 30 s")))
    assert actions == rules and prov.by == "rules" and prov.fallback_reason == "timed out after 30 s"
    bad_only = _FakeModel(_Answer(_answer({"action": "drop", "shot_id": "nope", "reason": "x"})))
    actions, prov = critique(tl, signals, AUDIENCE, bad_only)
    assert actions == rules and prov.by == "rules" and "no shot 'nope'" in prov.fallback_reason
    assert critique(tl, signals, AUDIENCE, None)[1].by == "rules"


def test_critic_over_a_loopback_server_is_validated():
    tl = _cut(PLANTED)
    signals = audience_signals(tl, AUDIENCE)
    answer = {
        "description": "A wide static meadow for twelve seconds, then a pan twice.",
        "reasoning": "Children lose interest before anything moves; the pan repeats.",
        "actions": [
            {"action": "drop", "shot_id": "s01-03", "reason": "the repeat"},
            {"action": "hold", "shot_id": "s02-01", "extra_frames": 9999, "reason": "hold forever"},
        ],
    }
    with ScriptedServer() as server:
        server.script(ok(answer))
        model = OpenAICompatibleModel(base_url=server.base_url, model="test-model", timeout_s=10.0, retries=0, backoff_s=0.0)
        actions, prov = critique(tl, signals, AUDIENCE, model)
    assert [(type(a), a.shot_id) for a in actions] == [(DropAction, "s01-03")]
    assert prov.by.startswith("openai-compatible:test-model") and "10 s limit" in prov.rejected[0].reason
    assert "s02-01" in describe_cut(tl) and LONG_LINE in describe_cut(tl)


def test_a_slow_opening_of_short_static_shots_is_trimmed_then_sped_up():
    short = Audience(who="teenagers on phones", attention_span="short")
    shots = [
        ("s01-01", "s01", "wide", "static", 30, "r1", []),
        ("s01-02", "s01", "medium", "static", 30, "r2", []),
        ("s01-03", "s01", "close_up", "static", 30, "r3", []),
        ("s01-04", "s01", "medium_close_up", "static", 30, "r4", []),
        ("s02-01", "s02", "wide", "pan_left", 96, "r5", []),
    ]
    tl = _cut(shots)
    signals = audience_signals(tl, short)
    assert _problem(signals, "slow_hook")["excess_frames"] == 120 - 72  # the hook at 5 s, wanted by 3 s
    actions = rules_critique(signals, tl)
    # each static shot keeps 1 s (24 frames): trims take 4 x 6 frames, the other 24 come from playing 2x
    assert [(type(a).__name__, a.shot_id, getattr(a, "head_frames", None) or getattr(a, "factor", None)) for a in actions] == [
        ("TrimAction", "s01-01", 6),
        ("TrimAction", "s01-02", 6),
        ("TrimAction", "s01-03", 6),
        ("TrimAction", "s01-04", 6),
        ("SpeedAction", "s01-01", 2.0),
        ("SpeedAction", "s01-02", 2.0),
    ]
    fine, report = apply_actions(tl, actions, short)
    after = audience_signals(fine, short)
    assert after["hook"]["at_s"] == 3.0 and all(r["applied"] for r in report)
    # four static shots in a scene of static shots: no order breaks the run, so the rules leave it; and the
    # scene now cuts faster than this audience's 2.5 s a shot: the trade-off is measured, not hidden
    assert _kinds(after) == {"monotony", "rushed_pacing"} and not any(type(a).__name__ == "RearrangeAction" for a in actions)
    assert _problem(after, "rushed_pacing")["mean_shot_s"] == 0.75


def test_dead_air_later_in_the_film_is_tightened_and_title_cards_take_reading_time():
    shots = [
        ("s01-01", "s01", "wide", "pan_left", 96, "r1", []),
        ("s01-02", "s01", "medium", "static", 120, "r2", []),
        ("s01-03", "s01", "close_up", "static", 96, "r3", []),
        ("s01-04", "s01", "wide", "push_in", 96, "r4", [("ANNA", "Look.")]),
    ]
    tl = _cut(shots)
    signals = audience_signals(tl, AUDIENCE)
    dead = _problem(signals, "dead_air")
    assert dead["shots"] == ["s01-02", "s01-03"] and dead["seconds"] == 9.0
    actions = rules_critique(signals, tl)
    assert [(type(a), a.shot_id, a.head_frames) for a in actions] == [(TrimAction, "s01-02", 72)]  # 216 frames down to 6 s
    fine, report = apply_actions(tl, actions, AUDIENCE)
    assert "dead_air" not in _kinds(audience_signals(fine, AUDIENCE)) and report[0]["after"]["problems"] == {}
    # the same one-word line read as a title card needs 2 s, not 0.9 s: a 1 s shot is too short for it
    cards = audience_signals(_cut([*shots[:3], ("s01-04", "s01", "wide", "push_in", 24, "r4", [("ANNA", "Look.")])]), AUDIENCE)
    assert "line_too_long" not in _kinds(cards)
    cards = audience_signals(
        _cut([*shots[:3], ("s01-04", "s01", "wide", "push_in", 24, "r4", [("ANNA", "Look.")])]), AUDIENCE, line_seconds=reading_time_s
    )
    assert _problem(cards, "line_too_long")["missing_frames"] == 24


def _reference(seconds: list[float], rank: int) -> dict:
    shots = [
        {"shot_id": f"f-{rank}-{i}", "film": "f", "start_s": 0.0, "end_s": d, "duration_s": d, "frame_rate": 24.0, "usable_start_s": 0.0}
        | {"usable_end_s": d, "shot_scale": "medium", "movement": "static"}
        for i, d in enumerate(seconds)
    ]
    return {"rank": rank, "sequence_id": f"q{rank}", "film": "f", "score": 1.0, "text_score": 0.5, "attribute_score": 0.5} | {
        "reasons": [],
        "camera_chain": "",
        "shots": shots,
    }


def test_pacing_follows_the_library_rhythm_of_each_scene():
    refs = SceneReferences.model_validate(
        {
            "production": "review",
            "k": 2,
            "table_versions": {"shots": 1, "sequences": 1},
            "text_search": "full-text",
            "scenes": [
                {
                    "scene_id": "s01",
                    "query_text": "a",
                    "targets": {},
                    "matches": [_reference([9.0, 9.0], 2), _reference([4.0, 3.0, 5.0], 1)],
                },
                {"scene_id": "s02", "query_text": "b", "targets": {}, "matches": [_reference([1.0, 1.5, 2.0], 1)]},
            ],
        }
    )
    library = library_shot_seconds(refs)
    assert library == {"s01": 4.0, "s02": 1.5}  # the best match's median shot, not the second's
    signals = audience_signals(_cut(CLEAN), AUDIENCE, library_shot_s=library)
    slow = _problem(signals, "slow_pacing")
    # s02 cuts at 5.5 s a shot; the target is halfway between the audience's 4 s and the library's 1.5 s
    assert slow["scene_id"] == "s02" and slow["target_s"] == 2.75 and slow["mean_shot_s"] == 5.5
    assert _kinds(signals) == {"slow_pacing"}


def test_a_character_on_screen_is_the_hook_even_in_a_static_silent_shot():
    """The rough cut carries each shot's characters, so a static opening that shows one is not a slow hook."""
    tl = _cut(PLANTED)
    first = tl.tracks[0][0]
    assert list(first.metadata["filmaster"]["characters"]) == []
    first.metadata["filmaster"]["characters"] = ["Buck"]
    signals = audience_signals(tl, AUDIENCE)
    assert signals["hook"]["shot_id"] == "s01-01" and signals["hook"]["at_s"] == 0
    assert "Buck" in signals["hook"]["why"]
    assert "slow_hook" not in {p["kind"] for p in signals["problems"]}


def test_motion_in_a_static_frame_is_a_hook_and_not_dead_air():
    """A static camera on a chase is not dead air: with the clip's measured motion the run of static,
    silent shots is judged by what moves in it (the still one alone is quiet, and short enough)."""
    shots = [
        ("s01-01", "s01", "wide", "static", 120, "r1", []),
        ("s01-02", "s01", "medium", "static", 120, "r2", []),
        ("s01-03", "s01", "wide", "static", 96, "r3", []),
    ]
    tl = _cut(shots)
    blind = audience_signals(tl, AUDIENCE)
    assert {"slow_hook", "dead_air"} <= _kinds(blind) and _problem(blind, "dead_air")["seconds"] == 14.0
    motion = {"s01-01": 32.0, "s01-02": 21.0, "s01-03": 4.0}  # a running figure, then a still landscape
    seen = audience_signals(tl, AUDIENCE, motion_of=motion.get)
    assert seen["hook"]["shot_id"] == "s01-01" and seen["hook"]["why"].startswith("motion in the frame")
    assert not {"slow_hook", "dead_air"} & _kinds(seen)
    assert [s["motion"] for s in seen["shots"]] == [32.0, 21.0, 4.0]


def test_dead_air_trims_take_at_most_a_share_of_the_film():
    """A film that is all static, silent stillness is the plan's problem: the review tightens it by at
    most MAX_TIGHTEN_SHARE instead of cutting every shot to a second (a 45 s silent film once came out 16 s)."""
    from filmaster_dag.cinema.review import MAX_TIGHTEN_SHARE

    shots = [("s01-01", "s01", "wide", "pan_left", 72, "r0", [])] + [
        (f"s01-{i:02d}", "s01", "medium" if i % 2 else "wide", "static", 120, f"r{i}", []) for i in range(2, 10)
    ]
    tl = _cut(shots)
    total = sum(s[4] for s in shots)
    signals = audience_signals(tl, AUDIENCE)
    actions = rules_critique(signals, tl)
    trimmed = sum(a.head_frames for a in actions if isinstance(a, TrimAction))
    assert 0 < trimmed <= MAX_TIGHTEN_SHARE * total
    assert all(f"at most {MAX_TIGHTEN_SHARE:.0%}" in a.reason for a in actions if isinstance(a, TrimAction))
    fine, _ = apply_actions(tl, actions, AUDIENCE)
    assert sum(r["duration"] for r in cut_list(fine)) >= (1 - MAX_TIGHTEN_SHARE) * total
