"""The script writer: the rules on the three example briefs, the sharing of the target length, and the
language-model writer against a real chat-completions server on loopback (valid, malformed,
schema-violating, slow and failing answers), which must always end in a valid script that says who wrote it."""

from __future__ import annotations

import json
import random

import pytest

from filmaster_dag.cinema.brief import Brief, load_brief
from filmaster_dag.cinema.planning.models import Script, reading_time_s, speaking_time_s
from filmaster_dag.cinema.planning.script import (
    ScriptDraft,
    line_seconds,
    rules_script,
    scene_durations,
    share,
    split_beats,
    timing_problem,
    write_script,
)
from filmaster_dag.resources.llm import OpenAICompatibleModel, RulesOnly

from .conftest import EXAMPLE_BRIEFS
from .llm_server import PATIENT_S, SLOW_S, TIMEOUT_S, Reply, ScriptedServer, ok


def brief(name: str) -> Brief:
    return load_brief(EXAMPLE_BRIEFS / f"{name}.yaml")


def lines_need(scene, b: Brief) -> float:
    return sum(line_seconds(t, b) for t in [d.text for d in scene.dialogue] + list(scene.narration))


def assert_valid(script: Script, b: Brief) -> None:
    Script.model_validate(script.model_dump())
    assert [s.scene_id for s in script.scenes] == [f"s{i + 1:02d}" for i in range(len(script.scenes))]
    assert sum(s.duration_s for s in script.scenes) == pytest.approx(b.target_duration_s, abs=1e-6)
    names = {c.name for c in b.characters}
    for scene in script.scenes:
        assert set(scene.characters) <= names
        assert {d.speaker for d in scene.dialogue} <= set(scene.characters)
        assert scene.duration_s >= lines_need(scene, b) - 1e-3


# -- the rules writer -------------------------------------------------------------------------------


def test_rules_keep_the_briefs_scenes_and_add_beats_objectives_and_lengths():
    b = brief("meadow-morning")
    script = rules_script(b, "meadow-morning")

    assert_valid(script, b)
    assert [s.heading for s in script.scenes] == [s.heading for s in b.scenes]
    assert [s.mood for s in script.scenes] == [s.mood for s in b.scenes]
    assert script.scenes[0].narration == ["Every morning, the meadow wakes up slowly."]
    burrow = script.scenes[1]
    # one visual event each: 'Buck pushes his way out, gets stuck ..., pops free, stands up and stretches' is four
    assert burrow.beats == [
        "The burrow trembles.",
        "Buck pushes his way out.",
        "Buck gets stuck for a moment at the hips.",
        "Buck pops free.",
        "Buck stands up and stretches in the sunlight with an enormous yawn.",
    ]
    assert script.scenes[2].dialogue[0].speaker == "Buck" and script.scenes[2].characters == ["Buck", "Pip"]
    assert [s.objective.split(":")[0] for s in script.scenes] == ["Setup", "Development", "Climax", "Resolution"]
    assert all(s.provenance.by == "rules" and s.provenance.fallback_reason is None for s in script.scenes)
    assert script.title == b.title and script.production == "meadow-morning"


def test_rules_split_a_synopsis_into_scenes_that_follow_the_story():
    b = brief("silent-chase")
    script = rules_script(b, "silent-chase")

    assert_valid(script, b)
    assert 45 / 20 <= len(script.scenes) <= 45 / 10  # one scene per 10-20 s
    beats = [beat for s in script.scenes for beat in s.beats]
    assert beats[0].startswith("On a busy street") and beats[-1].startswith("At last")
    assert "The tramp runs." in beats and "The tramp skids round corners." in beats
    # every sentence of the synopsis is in the beats, in order
    flat = " ".join(beats)
    positions = [flat.find(w) for w in ("umbrella from a stand", "gives chase", "lamp-post", "a baker", "bandstand", "twirling his cane")]
    assert -1 not in positions and positions == sorted(positions)
    assert script.scenes[0].location == "High Street" and script.scenes[-1].location == "Park"
    assert script.scenes[-1].heading == "EXT. PARK - DAY"
    assert all(s.time_of_day == "day" for s in script.scenes)  # nothing in the text names a time: the documented default
    assert script.scenes[0].mood == "frantic"
    assert "The Baker" in {c for s in script.scenes for c in s.characters}
    assert script.scenes[0].objective.startswith("Setup") and script.scenes[-1].objective.startswith("Resolution")


def test_rules_give_dialogue_scenes_their_speakers_and_the_time_to_speak():
    b = brief("dusk")
    script = rules_script(b, "dusk")

    assert_valid(script, b)
    first, second = script.scenes
    assert [d.text for d in first.dialogue] == [d.text for d in b.scenes[0].dialogue]
    assert first.characters == ["Lena", "Old Tomas"] and first.time_of_day == "dusk"
    assert second.beats[-1] == "The last light fades from the sky behind them."
    # the scene with three lines is not shortchanged for the one with five beats and one line
    assert first.duration_s >= sum(speaking_time_s(d.text) for d in first.dialogue)


def test_split_beats_cuts_at_sentences_semicolons_and_verbs_of_one_subject():
    assert split_beats("Tomas leans on his pole; Lena watches the far bank. Neither speaks.") == [
        "Tomas leans on his pole.",
        "Lena watches the far bank.",
        "Neither speaks.",
    ]
    # a long subject is not repeated: the sentence stays one beat rather than being cut in the wrong place
    tangled = "At last, cornered at a fence, the tramp bows, hands back the umbrella."
    assert split_beats(tangled) == [tangled]


# -- sharing the target length ------------------------------------------------------------------------


def test_share_honours_minimums_and_sums_to_the_total():
    parts = share(10.0, [1, 1, 8], [4, 0, 0])
    assert sum(parts) == pytest.approx(10.0) and parts[0] == pytest.approx(4.0)
    assert parts[2] / parts[1] == pytest.approx(8.0)
    # minimums beyond the total: proportional to them (the checks report the shortfall)
    assert share(6.0, [1, 1], [4, 8]) == pytest.approx([2.0, 4.0])


def test_scene_lengths_sum_to_any_target_and_never_cut_a_line_short():
    b = brief("dusk")
    script = rules_script(b, "dusk")
    rng = random.Random(6)
    for _ in range(200):
        target = round(rng.uniform(12, 600), rng.choice([0, 1, 3]))
        bt = b.model_copy(update={"target_duration_s": target})
        durations = scene_durations(script.scenes, bt)
        assert sum(durations) == pytest.approx(target, abs=1e-6)
        for scene, seconds in zip(script.scenes, durations, strict=True):
            assert seconds >= lines_need(scene, bt) - 1e-3


def test_title_cards_are_timed_for_reading():
    b = brief("dusk")
    cards = b.model_copy(update={"style": b.style.model_copy(update={"narration": "title_cards"})})
    line = b.scenes[0].dialogue[0].text
    assert line_seconds(line, cards) == reading_time_s(line) != speaking_time_s(line)
    script = rules_script(cards.model_copy(update={"target_duration_s": 14}), "dusk")
    first = script.scenes[0]
    assert first.duration_s >= sum(reading_time_s(d.text) for d in first.dialogue) - 1e-3


# -- the language-model writer against a real server ------------------------------------------------


def model(server: ScriptedServer, **kwargs) -> OpenAICompatibleModel:
    options = {"timeout_s": PATIENT_S, "retries": 1, "backoff_s": 0.0} | kwargs
    return OpenAICompatibleModel(base_url=server.base_url, model="test-model", **options)


def dusk_answer(b: Brief) -> dict:
    """What a good model writes for the dusk brief: its scenes kept, with its own beats and objectives."""
    return {
        "scenes": [
            {
                "heading": s.heading,
                "location": s.location,
                "time_of_day": s.time_of_day,
                "characters": ["Lena", "Old Tomas"],
                "beats": [f"Beat {k} of scene {i}." for k in range(1, 3 + i)],
                "dialogue": [{"speaker": d.speaker, "text": d.text} for d in s.dialogue],
                "narration": list(s.narration),
                "mood": s.mood,
                "objective": f"The model's objective for scene {i}.",
            }
            for i, s in enumerate(b.scenes, start=1)
        ]
    }


def test_a_valid_answer_is_the_script_and_says_which_model_wrote_it(server):
    b = brief("dusk")
    server.script(ok(dusk_answer(b)))
    llm = model(server)
    script = write_script(b, "dusk", llm)

    assert_valid(script, b)
    assert all(s.provenance.by == llm.identity and s.provenance.fallback_reason is None for s in script.scenes)
    assert all(s.provenance.attempts == 1 for s in script.scenes)
    assert script.scenes[1].beats == [f"Beat {k} of scene 2." for k in range(1, 5)]
    assert script.scenes[0].objective == "The model's objective for scene 1."
    # lengths come from the same sharing as the rules, not from the model
    assert [s.duration_s for s in script.scenes] == scene_durations(script.scenes, b)
    # the schema sent names the declared characters as the only choices
    (request,) = server.requests
    schema = json.dumps(request["body"]["response_format"]["json_schema"]["schema"])
    assert '"Old Tomas"' in schema and '"Lena"' in schema
    assert "Will you take me across?" in request["body"]["messages"][1]["content"]


def test_a_model_writes_scenes_from_a_synopsis(server):
    b = brief("silent-chase")
    answer = {
        "scenes": [
            {
                "heading": "EXT. HIGH STREET - DAY",
                "location": "High Street",
                "time_of_day": "afternoon",
                "characters": ["The Tramp", "The Policeman"],
                "beats": ["The tramp takes the umbrella.", "The policeman gives chase."],
                "dialogue": [],
                "narration": ["He only wanted to stay dry."],
                "mood": "comic",
                "objective": "Start the chase.",
            },
            {
                "heading": "EXT. PARK - DAY",
                "location": "Park",
                "time_of_day": "afternoon",
                "characters": ["The Tramp", "The Policeman"],
                "beats": ["The tramp bows and returns the umbrella."],
                "dialogue": [],
                "narration": [],
                "mood": "triumphant",
                "objective": "End it with dignity.",
            },
        ]
    }
    server.script(ok(answer))
    script = write_script(b, "silent-chase", model(server))

    assert_valid(script, b)
    assert script.scenes[0].provenance.by.startswith("openai-compatible:test-model@")
    assert script.scenes[0].narration == ["He only wanted to stay dry."]
    assert script.scenes[0].duration_s >= reading_time_s("He only wanted to stay dry.")  # a title card, read


def assert_rules_fallback(script: Script, b: Brief, reason: str, attempts: int) -> None:
    assert_valid(script, b)
    expected = rules_script(b, script.production)
    assert [s.model_dump(exclude={"provenance"}) for s in script.scenes] == [s.model_dump(exclude={"provenance"}) for s in expected.scenes]
    for scene in script.scenes:
        p = scene.provenance
        assert p.by == "rules" and p.attempts == attempts
        assert p.fallback_reason is not None and reason in p.fallback_reason and "\n" not in p.fallback_reason


def test_malformed_json_falls_back_to_the_rules(server):
    b = brief("dusk")
    server.script(Reply(content='{"scenes": [{"heading": "EXT'), Reply(content="Sorry, I cannot write that."))
    script = write_script(b, "dusk", model(server))
    assert_rules_fallback(script, b, "no JSON object", attempts=2)


def test_an_undeclared_character_is_refused_by_the_schema_and_falls_back(server):
    b = brief("dusk")
    bad = dusk_answer(b)
    bad["scenes"][0]["characters"] = ["Lena", "The Stranger"]
    server.script(ok(bad), ok(bad))
    script = write_script(b, "dusk", model(server))
    assert_rules_fallback(script, b, "scenes.0.characters.1", attempts=2)
    # the client fed the error back before giving up
    assert "The Stranger" not in json.dumps(script.model_dump())
    assert "scenes.0.characters.1" in server.requests[1]["body"]["messages"][-1]["content"]


def test_an_answer_that_rewrites_the_briefs_dialogue_falls_back(server):
    b = brief("dusk")
    bad = dusk_answer(b)
    bad["scenes"][0]["dialogue"][1]["text"] = "It is far too late, child."
    server.script(ok(bad))
    script = write_script(b, "dusk", model(server))
    assert_rules_fallback(script, b, "scene 1 does not keep the brief's dialogue", attempts=1)


def test_an_answer_that_drops_a_scene_falls_back(server):
    b = brief("dusk")
    bad = dusk_answer(b)
    bad["scenes"] = bad["scenes"][:1]
    server.script(ok(bad))
    script = write_script(b, "dusk", model(server))
    assert_rules_fallback(script, b, "the brief gives 2 scenes; the answer has 1", attempts=1)


def test_a_bad_mood_word_falls_back(server):
    b = brief("meadow-morning")
    scene = {"heading": "EXT. MEADOW - DAY", "location": "Meadow", "time_of_day": "day", "characters": ["Buck"], "beats": ["Buck wakes."]}
    answer = {"scenes": [scene | {"dialogue": [], "narration": [], "mood": "whimsical", "objective": "Wake up."}]}
    server.script(ok(answer), ok(answer))
    script = write_script(b, "meadow-morning", model(server))
    assert_rules_fallback(script, b, "mood", attempts=2)


def test_a_slow_answer_past_the_timeout_falls_back(server):
    b = brief("dusk")
    server.script(Reply(content=json.dumps(dusk_answer(b)), delay_s=SLOW_S))
    script = write_script(b, "dusk", model(server, timeout_s=TIMEOUT_S, retries=0))
    assert_rules_fallback(script, b, "timed out", attempts=1)
    assert script.scenes[0].provenance.seconds >= TIMEOUT_S


def test_a_server_error_falls_back(server):
    b = brief("meadow-morning")
    server.script(Reply(status=500, body='{"error": "out of memory"}'), Reply(status=500, body='{"error": "out of memory"}'))
    script = write_script(b, "meadow-morning", model(server))
    assert_rules_fallback(script, b, "HTTP 500", attempts=2)


def test_no_model_means_the_rules_without_a_fallback_reason():
    b = brief("dusk")
    for llm in (None, RulesOnly()):
        script = write_script(b, "dusk", llm)
        assert script == rules_script(b, "dusk")
        assert script.scenes[0].provenance.fallback_reason is None


def test_the_draft_schema_is_sendable():
    # the base draft (and the per-brief one built from it) must have a JSON schema for the response format
    assert "scenes" in ScriptDraft.model_json_schema()["properties"]


def synopsis_brief(synopsis: str, target: float = 12) -> Brief:
    return Brief.model_validate(
        {
            "title": "Words",
            "synopsis": synopsis,
            "audience": {"who": "anyone", "attention_span": "medium"},
            "style": "plain",
            "target_duration_s": target,
            "resolution": "640x360",
            "frame_rate": 24,
            "characters": [{"name": "Ada", "description": "a traveller"}],
        }
    )


@pytest.mark.parametrize(
    ("synopsis", "time_of_day", "mood"),
    [
        ("A soft wind blows against the window. Ada hopes for a letter.", "day", "calm"),  # 'wind' is not 'win', 'hopes' not 'hop'
        ("At dusk the team wins and the crowd cheers for Ada.", "dusk", "triumphant"),
        ("Under the moon Ada hops and plays a game.", "night", "playful"),
        ("Ada runs, skids and flees the ghost before dawn.", "dawn", "frantic"),
    ],
)
def test_time_and_mood_are_read_from_whole_words(synopsis, time_of_day, mood):
    (scene,) = rules_script(synopsis_brief(synopsis), "words").scenes
    assert (scene.time_of_day, scene.mood) == (time_of_day, mood)
    assert scene.characters == ["Ada"] and scene.heading.startswith("EXT. ")


def test_a_brief_whose_lines_outrun_its_length_is_told_so():
    b = brief("dusk")
    assert timing_problem(b) is None
    short = b.model_copy(update={"target_duration_s": 6})
    problem = timing_problem(short)
    assert problem is not None and problem.startswith("target_duration_s: the dialogue and narration need 12.4 s spoken")
    assert "raise target_duration_s to at least 13" in problem
