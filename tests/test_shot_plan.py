"""The shot planner: the rules on the example briefs against hand-built scene references, frame-exact timing
for many lengths and frame rates, footage that never repeats between consecutive shots, the checks,
and the language-model planner against a real chat-completions server on loopback."""

from __future__ import annotations

import json
import random
from fractions import Fraction
from itertools import pairwise

import pytest

from filmaster_dag.cinema.brief import Brief, load_brief
from filmaster_dag.cinema.planning.models import (
    FootageWindow,
    ReferenceShot,
    SceneReferences,
    SceneRetrieval,
    Script,
    SequenceMatch,
    ShotPlan,
    frames_for,
)
from filmaster_dag.cinema.planning.script import line_seconds, rules_script
from filmaster_dag.cinema.planning.shots import (
    assign_footage,
    fit_frames,
    plan_problems,
    plan_shots,
    rules_plan,
    scene_frames,
    typical_shot_s,
)
from filmaster_dag.cinema.vocabulary import CameraAngle, CameraMovement, ShotScale
from filmaster_dag.resources.llm import OpenAICompatibleModel

from .conftest import EXAMPLE_BRIEFS
from .llm_server import PATIENT_S, SLOW_S, TIMEOUT_S, Reply, ScriptedServer, ok

S, M = ShotScale, CameraMovement


def brief(name: str) -> Brief:
    return load_brief(EXAMPLE_BRIEFS / f"{name}.yaml")


def ref_shot(film: str, n: int, start: float, length: float, scale: ShotScale, move: CameraMovement, faces: int = 0) -> ReferenceShot:
    """A library shot as retrieval returns it: a dissolve eats 0.2 s at each end of its usable footage."""
    return ReferenceShot(
        shot_id=f"{film}-shot{n:03d}",
        film=film,
        source_path=f"/library/{film}.mp4",
        start_s=start,
        end_s=start + length,
        duration_s=length,
        frame_rate=24.0,
        usable_start_s=start + 0.2,
        usable_end_s=start + length - 0.2,
        shot_scale=scale,
        movement=move,
        faces=faces,
        brightness=0.4,
        lighting_key="normal",
        motion_energy=0.1,
        description=f"{scale.words} shot, {move.words}",
    )


def match(rank: int, film: str, n: int, shots: list[ReferenceShot]) -> SequenceMatch:
    return SequenceMatch(
        rank=rank,
        sequence_id=f"{film}-seq{n:03d}",
        film=film,
        score=1.0 / rank,
        text_score=0.4,
        attribute_score=0.6,
        reasons=["daylight: brightness 0.4"],
        camera_chain=" -> ".join(f"{s.shot_scale.value}/{s.movement.value}" for s in shots),
        shots=shots,
    )


def references(script: Script, empty: bool = False, short: bool = False) -> SceneReferences:
    """Two matched sequences per scene (or none; or one very short shot, to force the footage to move around)."""
    scenes = []
    for k, scene in enumerate(script.scenes):
        base = 100.0 * k
        if short:
            matches = [match(1, "bbb", k, [ref_shot("bbb", 10 * k, base, 1.5, S.MEDIUM, M.STATIC, faces=1)])]
        else:
            top = [
                ref_shot("bbb", 10 * k + 1, base, 4.0, S.WIDE, M.STATIC),
                ref_shot("bbb", 10 * k + 2, base + 4.0, 2.5, S.MEDIUM, M.PAN_RIGHT, faces=1),
                ref_shot("bbb", 10 * k + 3, base + 6.5, 3.0, S.CLOSE_UP, M.STATIC, faces=1),
            ]
            second = [
                ref_shot("sintel", 10 * k + 4, base, 2.0, S.MEDIUM_CLOSE_UP, M.PUSH_IN, faces=1),
                ref_shot("sintel", 10 * k + 5, base + 2.0, 6.0, S.EXTREME_WIDE, M.TILT_UP),
            ]
            matches = [match(1, "bbb", 2 * k, top), match(2, "sintel", 2 * k + 1, second)]
        scenes.append(
            SceneRetrieval(scene_id=scene.scene_id, query_text=scene.heading, targets={"faces": 1}, matches=[] if empty else matches)
        )
    return SceneReferences(
        production=script.production, k=2, table_versions={"shots": 3, "sequences": 3}, text_search="full-text", scenes=scenes
    )


def matched_ids(refs: SceneReferences, scene_id: str) -> set[str]:
    return {s.shot_id for m in refs.for_scene(scene_id).matches for s in m.shots}


def assert_sound(plan: ShotPlan, script: Script, b: Brief, refs: SceneReferences) -> None:
    """Every promise of a plan: the checks pass, every line is used once in order, references are the scene's own."""
    assert plan_problems(plan, b) == []
    ShotPlan.model_validate(plan.model_dump())
    assert sum(s.frames for s in plan.shots) == round(Fraction(str(b.target_duration_s)) * b.fps)
    for scene, scene_plan in zip(script.scenes, plan.scenes, strict=True):
        assert scene_plan.scene_id == scene.scene_id and scene_plan.shots
        assert [d for s in scene_plan.shots for d in s.dialogue] == scene.dialogue
        assert [t for s in scene_plan.shots for t in s.narration] == scene.narration
        ids = matched_ids(refs, scene.scene_id)
        for n, shot in enumerate(scene_plan.shots, start=1):
            assert shot.shot_id == f"{scene.scene_id}-{n:02d}"
            assert (shot.reference_shot_id in ids) if ids else shot.reference_shot_id is None
            assert set(shot.characters) <= {c.name for c in b.characters}


# -- the rules planner ----------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["meadow-morning", "silent-chase", "dusk"])
def test_rules_plan_for_each_example_brief(name):
    b = brief(name)
    script = rules_script(b, name)
    refs = references(script)
    plan = assign_footage(rules_plan(script, refs, b), refs)

    assert_sound(plan, script, b, refs)
    assert plan.frame_rate == str(b.fps) and (plan.width, plan.height) == (b.resolution.width, b.resolution.height)
    assert [s.order for s in plan.shots] == list(range(len(plan.shots)))
    assert all(s.footage is not None for s in plan.shots)
    for shot in plan.shots:
        assert shot.shot_scale.words in shot.prompt.lower() and b.style.description in shot.prompt


def test_action_shots_follow_the_references_camera_chain():
    b = brief("meadow-morning")  # no dialogue in the first scene, and a style that does not lock the camera
    script = rules_script(b, "meadow-morning")
    refs = references(script)
    first = rules_plan(script, refs, b).scenes[0]
    chain = [s for m in refs.for_scene("s01").matches for s in m.shots]
    # the top match's shots in order, then into the second match
    assert len(first.shots) >= 4
    for shot, ref in zip(first.shots, chain, strict=False):
        assert (shot.shot_scale, shot.movement, shot.reference_shot_id) == (ref.shot_scale, ref.movement, ref.shot_id)
    assert first.shots[0].narration == ["Every morning, the meadow wakes up slowly."]
    assert "panning right" in first.shots[1].prompt


def test_a_two_hander_cuts_shot_reverse_shot_each_line_long_enough():
    b = brief("dusk")
    script = rules_script(b, "dusk")
    refs = references(script)
    plan = rules_plan(script, refs, b)
    talk = [s for s in plan.scenes[0].shots if s.dialogue]

    assert [s.characters for s in talk] == [["Lena"], ["Old Tomas"], ["Lena"]]
    assert [s.shot_scale for s in talk] == [S.MEDIUM_CLOSE_UP, S.MEDIUM_CLOSE_UP, S.CLOSE_UP]  # tightening as it goes on
    assert talk[0].reference_shot_id == talk[2].reference_shot_id != talk[1].reference_shot_id  # one set-up per speaker
    for shot in talk:
        assert shot.duration_s >= line_seconds(shot.dialogue[0].text, b)
        assert shot.frames >= frames_for(line_seconds(shot.dialogue[0].text, b), plan.fps)
    # a melancholy scene is seen from above; the tender one at eye level
    assert {s.camera_angle for s in plan.scenes[0].shots} == {CameraAngle.HIGH}
    assert {s.camera_angle for s in plan.scenes[1].shots} == {CameraAngle.EYE_LEVEL}


def test_a_static_eye_level_style_holds_the_camera():
    b = brief("silent-chase")  # "static camera at eye level"
    script = rules_script(b, "silent-chase")
    plan = rules_plan(script, references(script), b)
    assert {s.movement for s in plan.shots} == {M.STATIC} and {s.camera_angle for s in plan.shots} == {CameraAngle.EYE_LEVEL}
    assert all("black and white" in s.prompt for s in plan.shots)


def test_an_empty_library_still_gets_every_scene_shot():
    b = brief("dusk")
    script = rules_script(b, "dusk")
    refs = references(script, empty=True)
    plan = assign_footage(rules_plan(script, refs, b), refs)

    assert_sound(plan, script, b, refs)
    assert all(s.reference_shot_id is None and s.footage is None for s in plan.shots)
    assert plan.shots[0].shot_scale is S.WIDE  # establishing, as the default chain opens


def test_shot_length_follows_the_matches_pace_and_attention():
    b = brief("meadow-morning")
    script = rules_script(b, "meadow-morning")
    retrieval = references(script).for_scene("s01")
    median = 3.0  # of 4.0, 2.5, 3.0, 2.0, 6.0
    assert typical_shot_s(retrieval, b) == pytest.approx(median * 1.0 * 0.8)  # moderate pace, short attention span
    slow = b.model_copy(update={"style": b.style.model_copy(update={"pace": "slow"})})
    assert typical_shot_s(retrieval, slow) == pytest.approx(median * 1.3 * 0.8)
    assert typical_shot_s(None, b) == pytest.approx(4.0 * 0.8)


# -- timing for any length and frame rate -------------------------------------------------------------


def test_fit_frames_is_exact_and_keeps_minimums():
    counts = fit_frames([1.0, 1.0, 1.0], [10, 0, 0], 31)
    assert sum(counts) == 31 and counts[0] >= 10
    assert fit_frames([3.0, 1.0], [1, 1], 100) == [75, 25]
    with pytest.raises(ValueError, match="cannot share"):
        fit_frames([1.0, 1.0, 1.0], [1, 1, 1], 2)


@pytest.mark.parametrize("fps", ["24", "25", "24000/1001"])
def test_plans_are_frame_exact_for_many_lengths_and_rates(fps):
    rng = random.Random(fps)
    for name in ("dusk", "meadow-morning", "silent-chase"):
        base = brief(name)
        for _ in range(12):
            target = round(rng.uniform(20, 240), rng.choice([0, 2]))
            b = base.model_copy(update={"target_duration_s": target, "frame_rate": fps})
            if rng.random() < 0.5:  # title cards: the lines are read, not spoken
                b = b.model_copy(update={"style": b.style.model_copy(update={"narration": "title_cards"})})
            script = rules_script(b, name)
            refs = references(script, short=rng.random() < 0.3)
            plan = assign_footage(rules_plan(script, refs, b), refs)
            assert_sound(plan, script, b, refs)
            assert abs(plan.duration_s - target) <= 0.5 / float(b.fps) + 1e-9
            assert sum(scene_frames(script, b)) == sum(s.frames for s in plan.shots)


WORDS = "the river light snow ferry across hurry gone night bank rope pole quiet still wind far hope".split()


def random_brief(rng: random.Random) -> Brief:
    """A brief of random scenes, lines and narration, long enough for its lines."""
    names = ["Ada", "Ben", "Cleo"]
    scenes = []
    for k in range(rng.randint(1, 5)):
        who = rng.sample(names, rng.randint(1, 3))
        lines = [{"speaker": rng.choice(who), "text": " ".join(rng.choices(WORDS, k=rng.randint(1, 14)))} for _ in range(rng.randint(0, 5))]
        narration = [" ".join(rng.choices(WORDS, k=rng.randint(2, 12))) for _ in range(rng.randint(0, 2))]
        beats = ". ".join(f"{rng.choice(who)} looks at the {rng.choice(WORDS)}" for _ in range(rng.randint(1, 6))) + "."
        scenes.append(
            {
                "heading": f"EXT. PLACE {k} - NIGHT",
                "time_of_day": "night",
                "characters": who,
                "action": beats,
                "dialogue": lines,
                "narration": narration,
                "mood": rng.choice(["calm", "tense", "triumphant", "melancholy", "eerie", "comic"]),
            }
        )
    mode = rng.choice(["voice_over", "title_cards"])
    data = {
        "title": "Random",
        "logline": "Someone waits by a river.",
        "audience": {"who": "anyone", "attention_span": rng.choice(["short", "medium", "long"])},
        "style": {"description": "plain", "pace": rng.choice(["slow", "moderate", "fast"]), "narration": mode},
        "target_duration_s": 1.0,
        "resolution": "640x360",
        "frame_rate": rng.choice(["24", "25", "24000/1001", "30000/1001"]),
        "characters": [{"name": n, "description": f"{n}, a traveller."} for n in names],
        "scenes": scenes,
    }
    b = Brief.model_validate(data)
    need = sum(line_seconds(t, b) for s in b.scenes for t in [d.text for d in s.dialogue] + list(s.narration))
    return b.model_copy(update={"target_duration_s": round(need + len(scenes) * rng.uniform(0.5, 20), rng.choice([0, 1, 3]))})


def test_random_briefs_get_sound_plans():
    rng = random.Random(2026)
    for _ in range(60):
        b = random_brief(rng)
        script = rules_script(b, "random")
        refs = references(script, empty=rng.random() < 0.2, short=rng.random() < 0.3)
        plan = assign_footage(rules_plan(script, refs, b), refs)
        assert_sound(plan, script, b, refs)
        for before, after in pairwise(plan.shots):
            assert before.footage is None or after.footage is None or not overlaps(before.footage, after.footage)


# -- footage for the ripomatic --------------------------------------------------------------------------


def overlaps(a: FootageWindow, b: FootageWindow) -> bool:
    return a.source_path == b.source_path and a.in_s < b.out_s and b.in_s < a.out_s


def test_consecutive_shots_never_show_the_same_source_frames():
    b = brief("meadow-morning")
    script = rules_script(b, "meadow-morning")
    refs = references(script, short=True)  # one 1.5 s shot per scene: every shot wants the same footage
    plan = assign_footage(rules_plan(script, refs, b), refs)

    shots = plan.shots
    assert all(s.footage is not None for s in shots)
    for before, after in pairwise(shots):
        assert not overlaps(before.footage, after.footage), (before.shot_id, after.shot_id)
    for shot in shots:
        ref = next(r for sc in refs.scenes for m in sc.matches for r in m.shots if r.shot_id == shot.footage.shot_id)
        assert ref.usable_start_s - 1e-6 <= shot.footage.in_s < shot.footage.out_s <= ref.usable_end_s + 1e-6
        assert shot.footage.reference_scale is ref.shot_scale and shot.footage.reference_movement is ref.movement
    assert plan_problems(plan, b) == []
    # deterministic
    assert assign_footage(rules_plan(script, refs, b), refs) == plan


def test_a_window_is_as_long_as_the_shot_or_the_usable_footage():
    b = brief("dusk")
    script = rules_script(b, "dusk")
    refs = references(script)
    plan = assign_footage(rules_plan(script, refs, b), refs)
    usable = {r.shot_id: r.usable_end_s - r.usable_start_s for sc in refs.scenes for m in sc.matches for r in m.shots}
    for shot in plan.shots:
        window = shot.footage.out_s - shot.footage.in_s
        assert window == pytest.approx(min(shot.duration_s, usable[shot.footage.shot_id]), abs=1e-5)


def test_a_deliberate_repeat_reuses_the_previous_frames():
    b = brief("dusk")
    script = rules_script(b, "dusk")
    refs = references(script)
    plan = rules_plan(script, refs, b)
    shots = plan.scenes[0].shots
    again = shots[1].model_copy(update={"repeat_footage": True, "reference_shot_id": shots[0].reference_shot_id})
    scene = plan.scenes[0].model_copy(update={"shots": [shots[0], again, *shots[2:]]})
    repeated = assign_footage(plan.model_copy(update={"scenes": [scene, *plan.scenes[1:]]}), refs)
    first, second = repeated.shots[0].footage, repeated.shots[1].footage
    assert overlaps(first, second) and second.in_s == first.in_s
    assert plan_problems(repeated, b) == []


def test_plan_problems_finds_what_is_wrong():
    b = brief("dusk")
    script = rules_script(b, "dusk")
    refs = references(script)
    plan = assign_footage(rules_plan(script, refs, b), refs)
    talk = next(s for s in plan.shots if s.dialogue)
    broken = []
    for shot in plan.shots:
        if shot.shot_id == talk.shot_id:
            shot = shot.model_copy(update={"frames": 5, "duration_s": 5 / 24})
        broken.append(shot)
    first, second = broken[0], broken[1]
    second = second.model_copy(update={"footage": first.footage})
    broken[1] = second
    shots_by_scene = {sc.scene_id: [s for s in broken if s.scene_id == sc.scene_id] for sc in plan.scenes}
    bad = plan.model_copy(update={"scenes": [sc.model_copy(update={"shots": shots_by_scene[sc.scene_id]}) for sc in plan.scenes]})
    problems = plan_problems(bad, b)

    assert any(f"shot {talk.shot_id} lasts" in p and "its lines need" in p for p in problems)
    assert any(f"shot {second.shot_id} repeats source frames" in p for p in problems)
    assert any("more than 1 s from the target" in p for p in problems)
    assert any("lasts" in p and "shots add up" in p for p in problems)
    assert plan_problems(plan, b.model_copy(update={"frame_rate": "25"}))[0].startswith("the plan is at 24 fps")


# -- the language-model planner against a real server ------------------------------------------------------


def model(server: ScriptedServer, **kwargs) -> OpenAICompatibleModel:
    options = {"timeout_s": PATIENT_S, "retries": 1, "backoff_s": 0.0} | kwargs
    return OpenAICompatibleModel(base_url=server.base_url, model="test-model", **options)


def shot(scale: str, move: str, seconds: float, ref: str | None, lines=(), narration=(), who=(), angle="eye_level") -> dict:
    return {
        "shot_scale": scale,
        "camera_angle": angle,
        "movement": move,
        "seconds": seconds,
        "dialogue_lines": list(lines),
        "narration_lines": list(narration),
        "characters": list(who),
        "reference_shot_id": ref,
        "description": f"A {scale} shot.",
        "prompt": f"{scale} shot of the river landing at dusk, painterly 3D.",
    }


def dusk_drafts(refs: SceneReferences) -> list[dict]:
    """A good model's plan for each dusk scene, taking its techniques from the scene's matched shots."""
    one = sorted(matched_ids(refs, "s01"))
    two = sorted(matched_ids(refs, "s02"))
    return [
        {
            "shots": [
                shot("extreme_wide", "static", 5.0, one[0]),
                shot("medium_close_up", "push_in", 3.0, one[1], lines=[0], who=["Lena"]),
                shot("close_up", "static", 3.0, one[2], lines=[1], who=["Old Tomas"], angle="high"),
                shot("close_up", "static", 3.0, one[1], lines=[2], who=["Lena"]),
                shot("wide", "pan_left", 3.0, one[3]),
            ]
        },
        {"shots": [shot("wide", "static", 10.0, two[0]), shot("medium", "static", 12.0, two[1], lines=[0], who=["Old Tomas"])]},
    ]


@pytest.fixture
def dusk():
    b = brief("dusk")
    script = rules_script(b, "dusk")
    return b, script, references(script)


def test_valid_answers_plan_each_scene_and_say_which_model_did(server, dusk):
    b, script, refs = dusk
    drafts = dusk_drafts(refs)
    server.script(*(ok(d) for d in drafts))
    llm = model(server)
    plan = plan_shots(script, refs, b, llm)

    assert_sound(plan, script, b, refs)
    for scene, draft in zip(plan.scenes, drafts, strict=True):
        assert scene.provenance.by == llm.identity and scene.provenance.fallback_reason is None and scene.provenance.attempts == 1
        assert [s.shot_scale.value for s in scene.shots] == [d["shot_scale"] for d in draft["shots"]]
        assert [s.movement.value for s in scene.shots] == [d["movement"] for d in draft["shots"]]
        assert [s.reference_shot_id for s in scene.shots] == [d["reference_shot_id"] for d in draft["shots"]]
        assert [s.prompt for s in scene.shots] == [d["prompt"] for d in draft["shots"]]
    assert plan.scenes[0].shots[2].camera_angle is CameraAngle.HIGH
    # the model's seconds are fitted to the scene's frames, in proportion (5:3 here)
    first = plan.scenes[0].shots
    assert first[0].frames / first[4].frames == pytest.approx(5 / 3, rel=0.05)
    assert all(s.footage is not None for s in plan.shots)
    # one request per scene, each carrying the scene's references and lines
    assert len(server.requests) == 2
    asked = server.requests[0]["body"]["messages"][1]["content"]
    assert sorted(matched_ids(refs, "s01"))[0] in asked and "Will you take me across?" in asked


def assert_scene_fell_back(plan: ShotPlan, script: Script, b: Brief, refs: SceneReferences, scene: int, reason: str, attempts: int):
    assert_sound(plan, script, b, refs)
    expected = assign_footage(rules_plan(script, refs, b), refs).scenes[scene]
    got = plan.scenes[scene]
    assert [s.model_dump(exclude={"footage", "order"}) for s in got.shots] == [
        s.model_dump(exclude={"footage", "order"}) for s in expected.shots
    ]
    p = got.provenance
    assert p.by == "rules" and p.attempts == attempts
    assert p.fallback_reason is not None and reason in p.fallback_reason and "\n" not in p.fallback_reason


def test_a_made_up_reference_falls_back_for_that_scene_only(server, dusk):
    b, script, refs = dusk
    drafts = dusk_drafts(refs)
    drafts[1]["shots"][0]["reference_shot_id"] = "bbb-shot999"
    server.script(ok(drafts[0]), ok(drafts[1]))
    llm = model(server)
    plan = plan_shots(script, refs, b, llm)

    assert plan.scenes[0].provenance.by == llm.identity
    assert_scene_fell_back(plan, script, b, refs, 1, "shot 1 names reference 'bbb-shot999', not one of the scene's matched shots", 1)


def test_a_bad_movement_word_falls_back(server, dusk):
    b, script, refs = dusk
    drafts = dusk_drafts(refs)
    drafts[0]["shots"][4]["movement"] = "whip_zoom"
    server.script(ok(drafts[0]), ok(drafts[0]), ok(drafts[1]))
    plan = plan_shots(script, refs, b, model(server))

    assert_scene_fell_back(plan, script, b, refs, 0, "shots.4.movement", 2)
    assert plan.scenes[1].provenance.fallback_reason is None


def test_dialogue_used_twice_or_out_of_order_falls_back(server, dusk):
    b, script, refs = dusk
    drafts = dusk_drafts(refs)
    drafts[0]["shots"][3]["dialogue_lines"] = [1]
    server.script(ok(drafts[0]), ok(drafts[1]))
    plan = plan_shots(script, refs, b, model(server))
    assert_scene_fell_back(plan, script, b, refs, 0, "the dialogue lines used are [0, 1, 1]", 1)


def test_an_undeclared_character_and_absurd_lengths_fall_back(server, dusk):
    b, script, refs = dusk
    drafts = dusk_drafts(refs)
    drafts[1]["shots"][1]["characters"] = ["The Stranger"]
    drafts[1]["shots"][0]["seconds"] = 500.0
    server.script(ok(drafts[0]), ok(drafts[1]))
    plan = plan_shots(script, refs, b, model(server))
    assert_scene_fell_back(plan, script, b, refs, 1, "'The Stranger', who is not a declared character", 1)
    assert "longer than the scene's" in plan.scenes[1].provenance.fallback_reason


def test_malformed_json_falls_back(server, dusk):
    b, script, refs = dusk
    server.script(Reply(content='{"shots": [{"shot_scale": "wide",'), Reply(content='{"shots": [{"shot_scale": "wide",'))
    server.script(ok(dusk_drafts(refs)[1]))
    plan = plan_shots(script, refs, b, model(server))
    assert_scene_fell_back(plan, script, b, refs, 0, "malformed JSON", 2)


def test_a_slow_answer_past_the_timeout_falls_back(server, dusk):
    b, script, refs = dusk
    drafts = dusk_drafts(refs)
    server.script(Reply(content=json.dumps(drafts[0]), delay_s=SLOW_S), ok(drafts[1]))
    plan = plan_shots(script, refs, b, model(server, timeout_s=TIMEOUT_S, retries=0))
    assert_scene_fell_back(plan, script, b, refs, 0, "timed out", 1)


def test_a_server_error_falls_back_for_every_scene(server, dusk):
    b, script, refs = dusk
    server.script(*[Reply(status=500, body='{"error": "model crashed"}') for _ in range(4)])
    plan = plan_shots(script, refs, b, model(server))
    for k in range(2):
        assert_scene_fell_back(plan, script, b, refs, k, "HTTP 500", 2)


def test_no_model_is_the_rules_plan_with_footage(dusk):
    b, script, refs = dusk
    assert plan_shots(script, refs, b, None) == assign_footage(rules_plan(script, refs, b), refs)


# -- the real library ------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("name", ["meadow-morning", "silent-chase", "dusk"])
def test_rules_plan_on_references_retrieved_from_the_real_library(reference_library, name):
    from filmaster_dag.cinema.planning.retrieval import retrieve

    b = brief(name)
    script = rules_script(b, name)
    refs = retrieve(script, b, reference_library.index, k=3, source_paths=reference_library.films)
    assert any(scene.matches for scene in refs.scenes)
    plan = assign_footage(rules_plan(script, refs, b), refs)

    assert_sound(plan, script, b, refs)
    usable = {r.shot_id: r for sc in refs.scenes for m in sc.matches for r in m.shots}
    for before, after in pairwise(plan.shots):
        assert after.footage is not None and not overlaps(before.footage, after.footage)
    for shot in plan.shots:
        ref = usable[shot.footage.shot_id]
        assert min(ref.usable_start_s, ref.start_s) - 1e-6 <= shot.footage.in_s < shot.footage.out_s
        assert shot.footage.out_s <= max(ref.usable_end_s, ref.end_s) + 1e-6
        assert shot.footage.source_path == reference_library.films[ref.film]


def test_a_model_plans_scenes_the_library_has_nothing_for(server, dusk):
    b, script, _ = dusk
    refs = references(script, empty=True)
    drafts = [
        {"shots": [shot("wide", "static", 6.0, None), *(shot("close_up", "static", 3.0, None, lines=[i]) for i in range(3))]},
        {"shots": [shot("medium", "pull_out", 20.0, None, lines=[0], who=["Old Tomas"])]},
    ]
    server.script(*(ok(d) for d in drafts))
    llm = model(server)
    plan = plan_shots(script, refs, b, llm)

    assert_sound(plan, script, b, refs)
    assert {s.provenance.by for s in plan.scenes} == {llm.identity}
    assert all(s.footage is None and s.reference_shot_id is None for s in plan.shots)
    assert plan.scenes[1].shots[0].movement is M.PULL_OUT
    # a reference named where the library matched nothing is refused
    drafts[1]["shots"][0]["reference_shot_id"] = "bbb-shot001"
    server.script(*(ok(d) for d in drafts))
    again = plan_shots(script, refs, b, llm)
    assert again.scenes[1].provenance.by == "rules" and "the scene has no matched shots" in again.scenes[1].provenance.fallback_reason
