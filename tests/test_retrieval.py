"""Scene-level retrieval of reference sequences: attribute targets and the text query (no media),
and retrieval on the real library built from ../shared/media/films (slow, shared fixture)."""

from __future__ import annotations

import io
import shutil
import statistics

import numpy as np
import pytest
from PIL import Image

from filmaster_dag.cinema.brief import Brief
from filmaster_dag.cinema.describe import describe_shot
from filmaster_dag.cinema.planning.models import (
    Provenance,
    ReferenceShot,
    SceneReferences,
    SceneRetrieval,
    Script,
    ScriptScene,
    SequenceMatch,
)
from filmaster_dag.cinema.planning.retrieval import query_text, reference_sheet, retrieve, scene_targets
from filmaster_dag.cinema.vocabulary import CameraMovement, ShotScale
from filmaster_dag.index import ShotIndex

WIDE = {"wide", "extreme_wide", "medium_long"}


def make_brief(**style: object) -> Brief:
    return Brief.model_validate(
        {
            "title": "Test",
            "logline": "A rabbit and a bird spend a day in the meadow.",
            "audience": {"who": "children", "attention_span": "short"},
            "style": {"description": "bright animation", **style},
            "target_duration_s": 30,
            "resolution": "640x360",
            "frame_rate": 24,
            "characters": [{"name": "Buck", "description": "a big rabbit"}, {"name": "Pip", "description": "a small bird"}],
        }
    )


def make_scene(heading: str, time_of_day: str, action: str, mood: str, scene_id: str = "s01", **extra: object) -> ScriptScene:
    return ScriptScene.model_validate(
        {
            "scene_id": scene_id,
            "heading": heading,
            "time_of_day": time_of_day,
            "beats": [action],
            "mood": mood,
            "objective": "show it",
            "duration_s": 10.0,
            "provenance": Provenance(by="rules"),
            **extra,
        }
    )


def make_script(*scenes: ScriptScene) -> Script:
    return Script(production="test", title="Test", scenes=list(scenes), target_duration_s=10.0 * len(scenes))


MEADOW_DAY = make_scene("EXT. MEADOW - DAY", "day", "A wide, still view of the meadow in bright daylight.", "calm")
ROAD_DUSK = make_scene("EXT. ROAD - DUSK", "dusk", "The last light fades over the empty road.", "somber", scene_id="s02")


# -- targets and the text query (no media) ------------------------------------------------------------


def test_daylight_still_wide_scene_asks_for_bright_static_wide_shots():
    t = scene_targets(MEADOW_DAY, make_brief())
    assert t["brightness_min"] >= 0.4 and t["brightness_max"] == 1.0
    assert set(t["lighting_key"]) == {"normal", "high_key"}
    assert t["movement"] == ["static"] and t["motion"] == "low"
    assert t["scale"][0] == "wide" and "close_up" not in t["scale"]
    assert t["pace"] == "slow" and t["shot_length_min_s"] >= 5
    assert "alternating" not in t and "faces_min" not in t
    SceneRetrieval(scene_id="s01", query_text="q", targets=t, matches=[])  # the record accepts them as they are


def test_dusk_night_and_evening_ask_for_low_key_dark_pictures():
    for tod in ("dusk", "evening", "night"):
        t = scene_targets(make_scene("EXT. ROAD - NIGHT", tod, "The road is empty.", "somber"), make_brief())
        assert t["lighting_key"] == ["low_key"] and t["brightness_max"] <= 0.35, tod
    day = scene_targets(MEADOW_DAY, make_brief())
    dusk = scene_targets(ROAD_DUSK, make_brief())
    assert dusk["brightness_max"] < day["brightness_min"]


def test_action_words_set_motion_and_movement():
    brief = make_brief()
    chase = scene_targets(make_scene("EXT. FIELD - DAY", "day", "Buck chases Pip; they run and flee.", "frantic"), brief)
    assert chase["motion"] == "high" and {"pan_left", "pan_right"} <= set(chase["movement"])
    walk = scene_targets(make_scene("EXT. FIELD - DAY", "day", "Buck walks slowly across the grass.", "calm"), brief)
    assert walk["motion"] == "moderate" and "pan_right" in walk["movement"] and "static" not in walk["movement"]
    sit = scene_targets(make_scene("EXT. BANK - DAY", "day", "They sit and watch the water.", "tender"), brief)
    assert sit["motion"] == "low" and sit["movement"] == ["static"]
    named = scene_targets(make_scene("EXT. BANK - DAY", "day", "They sit; the camera tilts up to the sky.", "tender"), brief)
    assert named["movement"] == ["tilt_up", "tilt_down"]  # a camera word in the text wins over the action's default
    nothing = scene_targets(make_scene("EXT. BANK - DAY", "day", "A bird.", "calm"), brief)
    assert "motion" not in nothing and "movement" not in nothing


def test_mood_sets_palette_and_pace():
    brief = make_brief()
    frantic = scene_targets(make_scene("EXT. A - DAY", "day", "x", "frantic"), brief)
    somber = scene_targets(make_scene("EXT. A - DAY", "day", "x", "somber"), brief)
    cheerful = scene_targets(make_scene("EXT. A - DAY", "day", "x", "cheerful"), brief)
    assert frantic["pace"] == "fast" and frantic["shot_length_max_s"] < somber["shot_length_min_s"]
    assert somber["temperature"] == "cool" and somber["saturation_max"] <= 0.3
    assert cheerful["temperature"] == "warm" and cheerful["saturation_min"] >= 0.3
    # a mood without a pace of its own takes the film's editing pace
    assert scene_targets(make_scene("EXT. A - DAY", "day", "x", "cheerful"), make_brief(pace="fast"))["pace"] == "fast"


def test_dialogue_between_two_characters_asks_for_alternating_faces():
    lines = [{"speaker": "Buck", "text": "Hello."}, {"speaker": "Pip", "text": "Hi!"}]
    t = scene_targets(make_scene("EXT. A - DAY", "day", "They talk.", "tender", characters=["Buck", "Pip"], dialogue=lines), make_brief())
    assert t["alternating"] is True and t["faces_min"] == 1
    alone = make_scene("EXT. A - DAY", "day", "He mutters.", "tender", characters=["Buck"], dialogue=lines[:1])
    assert "faces_min" not in scene_targets(alone, make_brief())


def test_black_and_white_style_and_close_ups():
    t = scene_targets(
        make_scene("INT. ROOM - DAY", "day", "Close on her face as she reads.", "tender"), make_brief(color="black_and_white")
    )
    assert t["black_and_white"] is True and t["saturation_max"] <= 0.02 and "temperature" not in t
    assert t["scale"][0] == "close_up" and "wide" not in t["scale"]


def test_query_text_carries_the_scene_and_the_library_description_words():
    brief = make_brief()
    text = query_text(MEADOW_DAY, brief)
    assert "meadow" in text.lower() and "calm" in text
    # every word of the description the library would write for a perfect match is in the query
    ideal = describe_shot({"movement": "static", "shot_scale": "wide", "lighting_key": "high_key"})
    assert ideal.startswith("static wide shot") and ideal.split(", ")[0] in text and "high-key" in text
    dusk = query_text(ROAD_DUSK, brief)
    assert "low-key" in dusk and "cool palette" in dusk and "high-key" not in dusk
    chase = query_text(make_scene("EXT. FIELD - DAY", "day", "Buck chases Pip.", "frantic"), brief)
    assert "panning left" in chase and "lots of action in frame" in chase
    assert query_text(MEADOW_DAY, brief) == text  # deterministic


def test_empty_library_gives_no_matches(tmp_path):
    index = ShotIndex(str(tmp_path / "lancedb"))
    refs = retrieve(make_script(MEADOW_DAY, ROAD_DUSK), make_brief(), index, k=3)
    assert [s.matches for s in refs.scenes] == [[], []]
    assert refs.text_search == "full-text" and set(refs.table_versions) == {"shots", "sequences"}
    with pytest.raises(ValueError, match="k must be at least 1"):
        retrieve(make_script(MEADOW_DAY), make_brief(), index, k=0)


def _jpeg(colour: tuple[int, int, int], size=(64, 36)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, colour).save(buf, format="JPEG")
    return buf.getvalue()


def _shot(shot_id: str, keyframe: str | None) -> ReferenceShot:
    return ReferenceShot(
        shot_id=shot_id,
        film="f",
        start_s=0.0,
        end_s=2.0,
        duration_s=2.0,
        frame_rate=24.0,
        usable_start_s=0.0,
        usable_end_s=2.0,
        shot_scale=ShotScale.WIDE,
        movement=CameraMovement.STATIC,
        keyframe_path=keyframe,
    )


def test_reference_sheet_has_one_row_per_match():
    frames = {"a.jpg": _jpeg((200, 40, 40)), "b.jpg": _jpeg((40, 200, 40)), "c.jpg": _jpeg((40, 40, 200))}
    matches = [
        SequenceMatch(
            rank=1, sequence_id="f/seq000", film="f", score=0.9, text_score=0.5, attribute_score=1.0, reasons=["x"],
            camera_chain="wide static -> wide static", shots=[_shot("f/0000", "a.jpg"), _shot("f/0001", "b.jpg")],
        ),
        SequenceMatch(
            rank=2, sequence_id="f/seq001", film="f", score=0.5, text_score=0.0, attribute_score=0.7, reasons=["y"],
            camera_chain="wide static", shots=[_shot("f/0002", "c.jpg")],
        ),
    ]  # fmt: skip
    retrieval = SceneRetrieval(scene_id="s01", query_text="q", targets={}, matches=matches)
    sheet = Image.open(io.BytesIO(reference_sheet(retrieval, frames.get, thumb_width=64)))
    # two columns (the longest sequence), two rows (one per match): the second row's blank pads it
    tile_h = 36 + 16
    assert sheet.size == (2 * (64 + 4) + 4, 2 * (tile_h + 4) + 4)
    first_row = np.asarray(sheet)[4 + 18, 4 + 32]
    assert first_row[0] > 150 and first_row[1] < 100  # the first match's first keyframe (red) leads the first row
    second_row = np.asarray(sheet)[4 + tile_h + 4 + 18, 4 + 32]
    assert second_row[2] > 150  # the second match (blue) starts the second row
    assert reference_sheet(retrieval, lambda path: None) is None  # no keyframe at all: no sheet
    assert reference_sheet(SceneRetrieval(scene_id="s01", query_text="q", targets={}, matches=[]), frames.get) is None


# -- on the real library (slow) --------------------------------------------------------------------------


def _measured(library) -> dict[str, dict]:
    """Per sequence, from the index's shots: mean brightness and the shares of static, wide and bright shots."""
    shots = library.index.filter(table="shots")
    out = {}
    for sid, g in shots.groupby("sequence_id"):
        out[sid] = {
            "brightness": float(g["brightness"].mean()),
            "static": float((g["movement"] == "static").mean()),
            "wide": float(g["shot_scale"].isin(WIDE).mean()),
            "bright": float((g["brightness"] >= 0.45).mean()),
        }
    return out


@pytest.mark.slow
def test_static_wide_daylight_scene_ranks_such_sequences_first(reference_library):
    measured = _measured(reference_library)
    count = len(measured)
    refs = retrieve(make_script(MEADOW_DAY), make_brief(), reference_library.index, k=count, source_paths=reference_library.films)
    ranking = [m.sequence_id for m in refs.scenes[0].matches]
    assert sorted(ranking) == sorted(measured)  # a small library is read whole: every sequence is scored

    def fit(sid: str) -> float:
        m = measured[sid]
        return m["static"] + m["wide"] + m["bright"]

    best_fit = max(fit(s) for s in measured)
    assert best_fit == 3.0  # the sample films hold a static wide daylight shot (Big Buck Bunny's tree and burrow)
    assert fit(ranking[0]) == best_fit
    top, rest = ranking[:3], ranking[3:]
    assert statistics.mean(fit(s) for s in top) > statistics.mean(fit(s) for s in rest)
    # nothing that is neither static nor wide nor bright comes before something that is all three
    for i, sid in enumerate(ranking):
        if fit(sid) == 3.0:
            assert all(fit(s) > 0 for s in ranking[:i])
    scores = [m.score for m in refs.scenes[0].matches]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.slow
def test_dusk_scene_ranks_darker_sequences_higher(reference_library):
    measured = _measured(reference_library)
    refs = retrieve(make_script(ROAD_DUSK), make_brief(), reference_library.index, k=len(measured))
    ranking = [m.sequence_id for m in refs.scenes[0].matches]
    brightness = [measured[s]["brightness"] for s in ranking]
    assert statistics.mean(brightness[:3]) < statistics.mean(brightness[3:])
    assert brightness[0] <= statistics.median(brightness)
    # the daylight scene puts them the other way round
    day = retrieve(make_script(MEADOW_DAY), make_brief(), reference_library.index, k=3).scenes[0].matches
    assert statistics.mean(measured[m.sequence_id]["brightness"] for m in day) > statistics.mean(brightness[:3])


@pytest.mark.slow
def test_retrieval_is_deterministic_records_versions_and_respects_k(reference_library):
    index = reference_library.index
    script = make_script(MEADOW_DAY, ROAD_DUSK)
    first = retrieve(script, make_brief(), index, k=3, source_paths=reference_library.films)
    second = retrieve(script, make_brief(), index, k=3, source_paths=reference_library.films)
    assert first.model_dump() == second.model_dump()
    assert first.table_versions == {"shots": index.table("shots").version, "sequences": index.table("sequences").version}
    assert first.text_search == "full-text" and first.k == 3
    assert SceneReferences.model_validate_json(first.model_dump_json()) == first  # stored as JSON, read back whole
    for scene in first.scenes:
        assert len(scene.matches) == 3 and [m.rank for m in scene.matches] == [1, 2, 3]
        assert len({m.sequence_id for m in scene.matches}) == 3
    assert len(retrieve(script, make_brief(), index, k=1).scenes[0].matches) == 1
    everything = retrieve(script, make_brief(), index, k=1000).scenes[0].matches
    assert len(everything) == index.count(table="sequences")


@pytest.mark.slow
def test_matches_carry_shots_and_reasons_with_measured_values(reference_library):
    refs = retrieve(make_script(MEADOW_DAY, ROAD_DUSK), make_brief(), reference_library.index, k=3, source_paths=reference_library.films)
    shots = reference_library.index.filter(table="shots").set_index("shot_id")
    for scene in refs.scenes:
        for match in scene.matches:
            assert match.reasons and all(r.strip() for r in match.reasons)
            assert any(any(ch.isdigit() for ch in r) for r in match.reasons)  # measured values, not just words
            assert 0 <= match.text_score <= 1 and 0 <= match.attribute_score <= 1
            for shot in match.shots:
                row = shots.loc[shot.shot_id]
                assert row["sequence_id"] == match.sequence_id and shot.film == match.film
                assert shot.source_path == reference_library.films[shot.film]
                assert shot.start_s <= shot.usable_start_s < shot.usable_end_s <= shot.end_s + 1e-6
                assert shot.brightness == pytest.approx(row["brightness"]) and shot.movement.value == row["movement"]
                assert shot.keyframe_path and reference_library.store.read_path(shot.keyframe_path)[:2] == b"\xff\xd8"
            light = next((r for r in match.reasons if r.startswith(("daylight:", "dusk:"))), None)
            if light is not None:  # the brightness it names is the shots' measured one
                mean = statistics.mean(s.brightness for s in match.shots if s.brightness is not None)
                assert f"brightness {mean:.2f}" in light or len(match.shots) > 1
    best = refs.scenes[0].matches[0]
    assert any(r.startswith("daylight: brightness") for r in best.reasons)
    assert any(r.startswith("static ") and r.endswith(" shots") for r in best.reasons)
    sheet = reference_sheet(refs.scenes[0], reference_library.store.read_path)
    assert sheet is not None and Image.open(io.BytesIO(sheet)).size[1] > 3 * 60  # a row per match


@pytest.mark.slow
def test_versions_pin_what_was_read_and_reproduce_it(reference_library, tmp_path):
    """A retrieval reads the versions it records; after the library changes those versions still give the same rows."""
    shutil.copytree(reference_library.root / "library" / "lancedb", tmp_path / "lancedb")
    index = ShotIndex(str(tmp_path / "lancedb"))
    script = make_script(MEADOW_DAY)
    before = retrieve(script, make_brief(), index, k=100)
    films_before = {m.film for m in before.scenes[0].matches}
    assert "chaplin-single-shot" in films_before
    index.delete_film("chaplin-single-shot")
    after = retrieve(script, make_brief(), index, k=100)
    assert after.table_versions["shots"] > before.table_versions["shots"]
    assert "chaplin-single-shot" not in {m.film for m in after.scenes[0].matches}
    # the recorded versions still read what the first retrieval saw
    old = index.filter(table="sequences", version=before.table_versions["sequences"])
    assert sorted(old["sequence_id"]) == sorted(m.sequence_id for m in before.scenes[0].matches)
    # and a retrieval pinned to them reproduces the first answer exactly
    again = retrieve(script, make_brief(), index, k=100, versions=before.table_versions)
    assert again == before


@pytest.mark.slow
def test_clip_text_vectors_join_the_text_score(reference_library, tmp_path):
    """With vectors in the library, a query vector close to one sequence's shots lifts that sequence."""
    shutil.copytree(reference_library.root / "library" / "lancedb", tmp_path / "lancedb")
    index = ShotIndex(str(tmp_path / "lancedb"))
    dim = index.settings.vector_dim
    rng = np.random.default_rng(0)
    for film in reference_library.films:
        rows = index.film_rows(film)
        vectors = rng.normal(size=(len(rows), dim)).astype(np.float32)
        rows["vector"] = list(vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
        index.upsert_film(film, rows, index.film_rows(film, table="sequences"))
    shots = index.filter(table="shots", with_vector=True)
    plain = retrieve(make_script(ROAD_DUSK), make_brief(), index, k=100).scenes[0].matches
    # the colour sequence ranked last without CLIP (black-and-white footage stays discounted for a colour film, CLIP or not)
    target = next(m.sequence_id for m in reversed(plain) if not m.sequence_id.startswith("chaplin"))
    before = [m.sequence_id for m in plain].index(target)
    vector = np.asarray(shots.loc[shots["sequence_id"] == target, "vector"].iloc[0], np.float32)
    with_clip = retrieve(make_script(ROAD_DUSK), make_brief(), index, k=100, embed_text=lambda text: vector)
    assert with_clip.text_search == "full-text+clip"
    ranked = [m.sequence_id for m in with_clip.scenes[0].matches]
    assert ranked.index(target) < before
    lifted = with_clip.scenes[0].matches[ranked.index(target)]
    assert any(r.startswith("clip: similarity 1.00") for r in lifted.reasons)
    # no weights configured: the embedder gives nothing and the query is full-text alone
    assert retrieve(make_script(ROAD_DUSK), make_brief(), index, k=3, embed_text=lambda text: None).text_search == "full-text"


@pytest.mark.slow
def test_a_big_library_is_searched_for_candidates_with_the_same_answer(reference_library, monkeypatch):
    """Past SMALL_LIBRARY sequences the library is not read whole: full-text, vector and attribute
    pre-filter legs find the candidates. On the sample library every sequence is a candidate either way."""
    from filmaster_dag.cinema.planning import retrieval

    script = make_script(MEADOW_DAY, ROAD_DUSK)
    whole = retrieve(script, make_brief(), reference_library.index, k=5)
    monkeypatch.setattr(retrieval, "SMALL_LIBRARY", 0)
    searched = retrieve(script, make_brief(), reference_library.index, k=5)
    assert searched.model_dump() == whole.model_dump()


@pytest.mark.slow
def test_the_films_look_sends_a_colour_film_to_colour_footage_and_a_silent_film_to_monochrome(reference_library):
    """Chaplin's monochrome shot is the reference for a black-and-white film's static street scene,
    and ranks below every clearly colourful sequence for the same scene in a colour film."""
    street = make_scene("EXT. STREET - DAY", "day", "Two men stand still and talk in a park.", "comic")
    saturation = reference_library.index.filter(table="shots").groupby("sequence_id")["saturation"].mean()
    monochrome = {s for s, v in saturation.items() if v < 0.03}
    assert monochrome, "the sample library holds Chaplin's black-and-white shot"
    silent = retrieve(make_script(street), make_brief(color="black_and_white"), reference_library.index, k=100).scenes[0].matches
    assert silent[0].sequence_id in monochrome
    assert any("monochrome footage" in r and "black and white film" in r for r in silent[0].reasons)
    colour = retrieve(make_script(street), make_brief(), reference_library.index, k=100).scenes[0].matches
    ranks = {m.sequence_id: m.rank for m in colour}
    colourful = {s for s, v in saturation.items() if v >= 0.06}
    assert len(colourful) >= 3
    assert max(ranks[s] for s in colourful) < min(ranks[s] for s in monochrome)


@pytest.mark.slow
def test_copies_of_one_footage_take_one_place_among_the_references(reference_library, tmp_path):
    """The same film in a second file (here Big Buck Bunny's rows again, two frames earlier, as
    the WebM sample is) never fills two of a scene's K places with the same footage."""
    shutil.copytree(reference_library.root / "library" / "lancedb", tmp_path / "lancedb")
    index = ShotIndex(str(tmp_path / "lancedb"))
    bbb = "big-buck-bunny-0-60s"
    shots, seqs = index.film_rows(bbb), index.film_rows(bbb, table="sequences")
    copy = "bbb-webm-copy"

    def moved(value: str) -> str:
        return value.replace(bbb, copy)

    shots = shots.assign(
        film=copy, shot_id=shots["shot_id"].map(moved), sequence_id=shots["sequence_id"].map(moved), start_s=shots["start_s"] - 2 / 24
    )
    seqs = seqs.assign(
        film=copy, sequence_id=seqs["sequence_id"].map(moved), shot_ids=[[moved(s) for s in ids] for ids in seqs["shot_ids"]]
    )
    index.upsert_film(copy, shots, seqs)
    before = retrieve(make_script(MEADOW_DAY), make_brief(), reference_library.index, k=100).scenes[0].matches
    after = retrieve(make_script(MEADOW_DAY), make_brief(), index, k=100).scenes[0].matches
    assert len(after) == len(before)  # each copy pair gives one reference
    pairs = {m.sequence_id.replace(copy, bbb) for m in after}
    assert len(pairs) == len(after)
    top3 = retrieve(make_script(MEADOW_DAY), make_brief(), index, k=3).scenes[0].matches
    assert len({m.sequence_id.replace(copy, bbb) for m in top3}) == 3
