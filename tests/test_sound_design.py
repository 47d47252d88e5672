"""Sound design of a cut on real media: the score conformed to, lines laid, effects by keyword, the mix delivered."""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np
import opentimelineio as otio
import pandas as pd
import pytest

from filmaster_dag.cinema import sound
from filmaster_dag.cinema.brief import DialogueLine
from filmaster_dag.cinema.credits import credits_records, media_licences
from filmaster_dag.cinema.planning.models import PlannedShot, speaking_time_s
from filmaster_dag.cinema.sound_design import conform_to_beats, design_sound, line_slots, sound_concepts, spoken_lines
from filmaster_dag.cinema.timeline import cut_list, duration_frames, hold, rough_cut, trim, write_deliverables
from filmaster_dag.cinema.vocabulary import CameraAngle, CameraMovement, ShotScale

from .conftest import MEDIA
from .plans import shot_plan

MUSIC, SOUND, SPEECH = MEDIA / "music", MEDIA / "sound", MEDIA / "speech"
ROBIN = SOUND / "inspectorj-robin_whistle.ogg"
WHALE = SOUND / "nps-glacier_bay_humpback.ogg"
TRUMPET = MUSIC / "sorohanro-solo_trumpet_06.ogg"
FPS = 24
#: (shot_id, scene_id, planned frames, clip frames, head trim, description, dialogue, narration): a 40 s cut in three scenes
SHOTS = [
    ("s01-01", "s01", 96, 96, 0, "a robin whistles on the garden fence", [], ["The garden wakes."]),
    ("s01-02", "s01", 144, 160, 0, "Anna at the gate", [("ANNA", "Is anyone there?")], []),
    ("s01-03", "s01", 132, 144, 12, "the gate swings shut", [], []),
    ("s02-01", "s02", 156, 156, 12, "humpback whales sing far out in the bay", [], []),
    ("s02-02", "s02", 168, 168, 0, "Ben on the jetty", [("BEN", "They came back this year.")], []),
    ("s03-01", "s03", 144, 144, 0, "a candle in the hut", [], []),
    ("s03-02", "s03", 144, 144, 0, "Anna sleeps", [], []),
]
HEADINGS = {"s01": "EXT. GARDEN - DAWN", "s02": "EXT. SHORE - DAY", "s03": "INT. HUT - NIGHT"}
MOODS = {"s01": "calm", "s02": "cheerful", "s03": "tense"}
#: line key -> (speech file, seconds of it used as the take)
TAKES = {
    "s01-01-n0": ("librispeech-3436-172162-0000.ogg", 2.0),
    "s01-02-d0": ("librispeech-198-209-0000.ogg", 3.0),
    "s02-02-d0": ("librispeech-5703-47212-0000.ogg", 3.5),
}


def _cut() -> otio.schema.Timeline:
    shots = [
        PlannedShot(
            shot_id=sid,
            scene_id=scene,
            order=order,
            prompt=description,
            description=description,
            shot_scale=ShotScale.MEDIUM,
            camera_angle=CameraAngle.EYE_LEVEL,
            movement=CameraMovement.STATIC,
            frames=frames,
            duration_s=frames / FPS,
            dialogue=[DialogueLine(speaker=s, text=t) for s, t in dialogue],
            narration=narration,
        )
        for order, (sid, scene, frames, _, _, description, dialogue, narration) in enumerate(SHOTS)
    ]
    plan = shot_plan(shots, str(FPS), production="sound", target_duration_s=40.0)
    manifest = pd.DataFrame([{"shot_id": s[0], "path": f"/clips/{s[0]}.mp4", "frames": s[3]} for s in SHOTS])
    tl = rough_cut(plan, manifest, "Sound Test", headings=HEADINGS)
    for sid, *_, head, _, _, _ in SHOTS:  # unused head media: room for the cut before it to roll earlier
        if head:
            tl = trim(tl, sid, head_frames=head)
    return tl


def _takes() -> dict[str, tuple[np.ndarray, int, str]]:
    return {key: (sound.load_audio(SPEECH / name, 16000, duration_s=s), 16000, str(SPEECH / name)) for key, (name, s) in TAKES.items()}


@pytest.fixture(scope="module")
def designed(media):
    tl = _cut()
    return tl, design_sound(tl, MOODS, _takes(), MUSIC, SOUND, beat_slack_frames=12)


def test_spoken_lines_are_in_film_order_with_stable_keys():
    tl = hold(_cut(), "s01-01", 5)  # a freeze carries no lines
    lines = spoken_lines(tl)
    assert [(x.key, x.kind, x.speaker, x.text) for x in lines] == [
        ("s01-01-n0", "narration", "", "The garden wakes."),
        ("s01-02-d0", "dialogue", "ANNA", "Is anyone there?"),
        ("s02-02-d0", "dialogue", "BEN", "They came back this year."),
    ]
    rows = {r["shot_id"]: r for r in cut_list(tl) if r["kind"] == "shot"}
    assert [(x.record_in, x.record_frames) for x in lines] == [(rows[x.shot_id]["record_in"], rows[x.shot_id]["duration"]) for x in lines]
    assert lines[1].record_in == 101 and lines[0].scene_id == "s01"


def test_lines_share_their_shot_like_the_subtitles():
    from filmaster_dag.cinema.timeline import subtitle_cues

    tl = _cut()
    clip = tl.video_tracks()[0][0]
    meta = dict(clip.metadata["filmaster"])
    meta["dialogue"] = [{"speaker": "ANNA", "text": "Look."}]
    clip.metadata["filmaster"] = meta
    slots = line_slots(spoken_lines(tl))
    assert list(slots)[:2] == ["s01-01-d0", "s01-01-n0"]
    cues = subtitle_cues(tl)[:2]
    assert list(slots.values())[:2] == [(a, b) for a, b, _ in cues]
    assert list(slots.values())[1][1] == 96


def test_film_words_name_sounds():
    assert sound_concepts("A robin whistles on the fence") >= {"bird"}
    assert sound_concepts("birdsong at dawn") >= {"bird"} and "sea" in sound_concepts("humpback whales in the ocean")
    assert sound_concepts("the single take") == set()


def _cue(scene_id, beats):
    return {"scene_id": scene_id, "beats_s": beats}


def test_conform_rolls_cuts_inside_a_scene_onto_beats_within_the_slack():
    tl = _cut()
    rows = {r["shot_id"]: r for r in cut_list(tl)}
    cut_a = rows["s01-02"]["record_out"]  # 240: s01-02 has 16 unused tail frames, s01-03 has 12 unused head frames
    boundary = rows["s01-03"]["record_out"]  # 360: s01 -> s02, and s02-01 has head room too
    beats = [(cut_a + 5) / FPS, (boundary - 3) / FPS, (boundary + 2) / FPS]
    out, nudges = conform_to_beats(tl, [_cue("s01", beats), _cue("s02", [(boundary + 2) / FPS])], slack_frames=6)
    assert nudges == [{"after_shot": "s01-02", "before_shot": "s01-03", "from_frame": 240, "to_frame": 245, "beat_s": beats[0]}]
    after = {r["shot_id"]: r for r in cut_list(out)}
    assert after["s01-02"]["record_out"] == 245 and after["s01-03"]["source_in"] == 12 + 5
    assert after["s01-03"]["record_out"] == boundary  # the scene boundary stays
    assert duration_frames(out) == duration_frames(tl)
    # a beat out of reach (7 frames with 6 of slack) and a beat needing more tail than the media has stay unused
    far, _ = conform_to_beats(tl, [_cue("s01", [(cut_a + 7) / FPS])], slack_frames=6)
    assert cut_list(far) == cut_list(tl)
    # earlier: s01-02 gives up frames, s01-03 reaches into its head
    early, moved = conform_to_beats(tl, [_cue("s01", [(cut_a - 4) / FPS])], slack_frames=6)
    assert moved[0]["to_frame"] == 236 and {r["shot_id"]: r for r in cut_list(early)}["s01-03"]["source_in"] == 8


def test_conform_never_shortens_a_shot_below_its_line_or_a_second():
    tl = _cut()
    cut = {r["shot_id"]: r for r in cut_list(tl)}["s01-02"]["record_out"]
    # s01-03 must keep 1 s; the line of s01-02 needs speaking_time_s: make it need almost all of its 144 frames
    long_line = lambda text: 143 / FPS if text == "Is anyone there?" else speaking_time_s(text)  # noqa: E731
    _, nudges = conform_to_beats(tl, [_cue("s01", [(cut - 4) / FPS])], slack_frames=6, line_seconds=long_line)
    assert nudges == []  # 144 frames, 143 needed + 1: nothing to give
    _, nudges = conform_to_beats(tl, [_cue("s01", [(cut - 4) / FPS])], slack_frames=6)
    assert nudges and nudges[0]["to_frame"] == cut - 4


@pytest.mark.slow  # the first music analysis warms librosa up (about 7 s)
def test_design_sound_delivers_a_mix_of_the_films_length_at_target(designed):
    tl, d = designed
    frames = duration_frames(tl)
    n = round(frames / FPS * sound.MIX_RATE)
    assert frames == 40 * FPS
    assert set(d.stems) == {"dialogue", "music", "effects"} and all(len(s) == n for s in d.stems.values()) and len(d.mix) == n
    figures = sound.measure(d.mix, d.rate)
    assert abs(figures["integrated_lufs"] - sound.TARGET_LUFS) <= 1.0, figures
    assert figures["true_peak_dbtp"] <= sound.CEILING_DBTP and figures["clipped_samples"] == 0
    assert d.loudness["integrated_lufs"] == figures["integrated_lufs"] and d.loudness["target_lufs"] == -16.0
    assert d.music_duck_db is not None and d.music_duck_db <= -10.0
    assert d.dialogue_margin_db is not None and d.dialogue_margin_db >= 10.0
    assert [x["key"] for x in d.lines] == list(TAKES) and all(x["status"] in ("fits", "stretched") for x in d.lines)
    assert d.problems == []


@pytest.mark.slow  # the first music analysis warms librosa up (about 7 s)
def test_design_sound_scores_each_scene_and_conforms_cuts_on_its_beats(designed):
    tl, d = designed
    assert [c["scene_id"] for c in d.cues] == ["s01", "s02", "s03"]
    assert all(Path(c["path"]).parent == MUSIC for c in d.cues)
    assert all(a["path"] != b["path"] for a, b in zip(d.cues, d.cues[1:], strict=False))  # no cue twice in a row here
    assert all(c["reasons"] and c["tempo_bpm"] > 0 and c["beats_s"] for c in d.cues)
    assert all(c["start_s"] <= b < c["end_s"] for c in d.cues for b in c["beats_s"])
    before, after = cut_list(tl), cut_list(d.timeline)
    assert duration_frames(d.timeline) == duration_frames(tl)
    assert d.nudges, "s01-02 | s01-03 has slack both ways and a beat is always within 12 frames of 60+ bpm"
    beats = [b for c in d.cues for b in c["beats_s"]]
    for nudge in d.nudges:
        assert abs(nudge["to_frame"] - nudge["from_frame"]) <= 12
        assert min(abs(nudge["to_frame"] / FPS - b) for b in beats) <= 0.5 / FPS + 1e-9  # on a beat, to the frame
    scene_of = {s[0]: s[1] for s in SHOTS}
    assert all(scene_of[n["after_shot"]] == scene_of[n["before_shot"]] for n in d.nudges)
    starts = lambda rows: {scene_of[r["shot_id"]]: r["record_in"] for r in reversed(rows)}  # noqa: E731
    assert starts(after) == starts(before)  # scene boundaries never move


@pytest.mark.slow  # the first music analysis warms librosa up (about 7 s)
def test_design_sound_places_effects_by_keyword(designed):
    _, d = designed
    robin = [e for e in d.effects if e["path"] == str(ROBIN)]
    assert [(e["shot_id"], e["level"]) for e in robin] == [("s01-01", "event")] and "bird" in robin[0]["keyword"]
    assert 0.0 < robin[0]["start_s"] < 4.0 and robin[0]["end_s"] <= 5.0
    whale = [e for e in d.effects if e["path"] == str(WHALE)]
    assert [(e["scene_id"], e["level"]) for e in whale] == [("s02", "ambience")]
    assert whale[0]["start_s"] == pytest.approx(15.0) and whale[0]["end_s"] == pytest.approx(28.0)
    assert sound.rms_db(d.stems["effects"][: round(0.3 * d.rate)]) == -math.inf  # nothing before the robin
    assert sound.rms_db(d.stems["effects"][round(28 * d.rate) :]) == -math.inf  # the hut has nothing that matches


@pytest.mark.slow  # the first music analysis warms librosa up (about 7 s)
def test_design_sound_lays_the_edits_sound_tracks(designed, tmp_path):
    tl, d = designed
    assert [t.name for t in d.timeline.audio_tracks()] == ["A1 dialogue", "A2 music", "A3 effects"]
    assert not tl.audio_tracks()  # the input is untouched
    a1, a2 = d.timeline.audio_tracks()[:2]
    lines = a1.find_clips()
    assert [c.name for c in lines] == list(TAKES)
    assert lines[1].media_reference.target_url == Path(os.path.abspath(SPEECH / TAKES["s01-02-d0"][0])).as_uri()  # links kept
    assert round(a1.range_of_child(lines[1]).start_time.value) == round(d.lines[1]["start_s"] * FPS)
    cues = a2.find_clips()
    assert [Path(otio.url_utils.filepath_from_url(c.media_reference.target_url)) for c in cues] == [Path(c["path"]) for c in d.cues]
    assert [c.source_range.start_time.value for c in cues] == [round(c["offset_s"] * FPS) for c in d.cues]
    paths = write_deliverables(d.timeline, tmp_path, "film")
    back = otio.adapters.read_from_file(paths["otio"])
    assert [t.name for t in back.audio_tracks()] == [t.name for t in d.timeline.audio_tracks()]
    assert cut_list(back) == cut_list(d.timeline)


@pytest.mark.slow  # the first music analysis warms librosa up (about 7 s)
def test_design_sound_credits_every_music_and_sound_file(designed):
    _, d = designed
    records = credits_records(d.used_media(), media_licences(MEDIA / "README.md"))
    assert {r["path"] for r in records} == {c["path"] for c in d.cues} | {str(ROBIN), str(WHALE)}
    assert all(r["known"] for r in records)
    assert next(r for r in records if r["path"] == str(ROBIN))["licence"] == "CC-BY 3.0 (freesound 456440)"
    assert next(r for r in records if r["path"] == str(WHALE))["licence"] == "public domain"


def test_a_silent_cut_without_music_or_sound_is_a_problem_not_an_error(media):
    tl = _cut()
    d = design_sound(tl, MOODS, {}, None, None)
    assert len(d.mix) == round(40 * sound.MIX_RATE) and not np.any(d.mix)
    assert d.dialogue_margin_db is None and d.music_duck_db is None and d.cues == [] and d.nudges == []
    assert d.loudness["integrated_lufs"] is None and d.loudness["clipped_samples"] == 0
    assert any("not voiced" in p for p in d.problems) and any("no music" in p for p in d.problems)
    assert [t.name for t in d.timeline.audio_tracks()] == ["A1 dialogue", "A2 music", "A3 effects"]
    assert duration_frames(d.timeline) == 40 * FPS


@pytest.mark.slow
def test_a_short_score_loops_and_is_laid_pass_by_pass(media, tmp_path):
    music = tmp_path / "music"
    music.mkdir()
    (music / TRUMPET.name).symlink_to(TRUMPET)  # a 5.3 s loop: every scene must repeat it
    d = design_sound(_cut(), MOODS, {}, music, None)
    assert [Path(c["path"]).name for c in d.cues] == [TRUMPET.name] * 3
    assert all(any("loops" in r for r in c["reasons"]) for c in d.cues)
    clips = d.timeline.audio_tracks()[1].find_clips()
    track = d.timeline.audio_tracks()[1]
    for c in d.cues:
        scene = [x for x in clips if x.metadata["filmaster"]["scene_id"] == c["scene_id"]]
        assert len(scene) >= 2 and all(x.source_range.start_time.value == round(c["offset_s"] * FPS) for x in scene)
        first = round(track.range_of_child(scene[0]).start_time.value)
        last = track.range_of_child(scene[-1]).end_time_exclusive().value
        assert (first, round(last)) == (round(c["start_s"] * FPS), round(c["end_s"] * FPS))  # the passes fill the scene
    assert sound.rms_db(d.stems["music"][round(20 * d.rate) : round(21 * d.rate)]) > -60  # the loop still plays 20 s in
