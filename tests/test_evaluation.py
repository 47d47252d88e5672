"""Objective film metrics on hand-built cuts and signals whose answers are known."""

from __future__ import annotations

import json
import math

import numpy as np
import opentimelineio as otio
import pytest

from filmaster_dag.cinema.evaluation import (
    CLIP_REASON,
    camera_language,
    cut_times_s,
    cuts_on_beats,
    dialogue_margin,
    evaluate_film,
    rhythm_distance,
    shot_units,
    text_frame_alignment,
)
from filmaster_dag.cinema.planning.models import ReferenceShot, SceneReferences, SceneRetrieval, SequenceMatch
from filmaster_dag.cinema.timeline import hold

FPS = 24
RATE = 8000


def _timeline(shots: list[tuple[str, str, int, str, str]]) -> otio.schema.Timeline:
    """A cut from ``(shot_id, scene_id, frames, scale, movement)`` rows, as rough_cut lays it out."""
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    for sid, scene, frames, scale, movement in shots:
        media = otio.schema.ExternalReference(
            target_url=f"file:///clips/{sid}.mp4",
            available_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, FPS), otio.opentime.RationalTime(frames, FPS)),
        )
        track.append(
            otio.schema.Clip(
                name=sid,
                media_reference=media,
                source_range=otio.opentime.TimeRange(otio.opentime.RationalTime(0, FPS), otio.opentime.RationalTime(frames, FPS)),
                metadata={
                    "filmaster": {
                        "shot_id": sid,
                        "scene_id": scene,
                        "scale": scale,
                        "movement": movement,
                        "description": f"what {sid} shows",
                        "source_frames": frames,
                    }
                },
            )
        )
    tl = otio.schema.Timeline(name="t", global_start_time=otio.opentime.RationalTime(0, FPS))
    tl.metadata["filmaster"] = {"frame_rate": str(FPS)}
    tl.tracks.append(track)
    return tl


def _same(scale: str, movement: str, n: int = 4, frames: int = 48) -> otio.schema.Timeline:
    return _timeline([(f"s01-{i:02d}", "s01", frames, scale, movement) for i in range(n)])


# -- camera language ----------------------------------------------------------------------------------


def test_entropy_is_zero_for_one_scale_and_one_for_as_many_scales_as_shots():
    flat = camera_language(_same("medium", "static"))
    assert flat["scale_entropy"] == 0.0 and flat["movement_entropy"] == 0.0 and str(flat["scale_entropy"]) == "0.0"
    assert flat["distinct_scales"] == 1 and flat["shots"] == 4
    varied = camera_language(
        _timeline(
            [
                ("a", "s01", 24, "wide", "static"),
                ("b", "s01", 24, "medium", "pan_left"),
                ("c", "s01", 24, "close_up", "push_in"),
                ("d", "s01", 24, "medium_long", "tilt_up"),
            ]
        )
    )
    assert varied["scale_entropy"] == 1.0 and varied["movement_entropy"] == 1.0
    assert varied["distinct_scales"] == 4 and varied["distinct_movements"] == 4
    # two kinds over four shots: H = log 2, divided by log 4 (what four shots allow)
    half = camera_language(
        _timeline([(c, "s01", 24, s, "static") for c, s in zip("abcd", ["wide", "wide", "medium", "medium"], strict=True)])
    )
    assert half["scale_entropy"] == pytest.approx(0.5, abs=1e-4)


def test_unknown_scales_are_not_a_kind_and_one_shot_has_no_diversity():
    tl = _timeline([("a", "s01", 24, "unknown", "static"), ("b", "s01", 24, "unknown", "static"), ("c", "s01", 24, "wide", "static")])
    out = camera_language(tl)
    assert out["unknown_scales"] == 2 and out["scale_entropy"] is None  # one known scale
    assert out["pairs"] == 0 and out["coherence"] is None  # every pair touches an unknown scale
    assert out["scenes"][0]["unjudged_pairs"] == 2


def test_coherence_breaks_on_a_wide_to_extreme_close_up_jump_and_on_a_repeat():
    smooth = camera_language(
        _timeline([("a", "s01", 24, "wide", "static"), ("b", "s01", 24, "medium", "push_in"), ("c", "s01", 24, "close_up", "static")])
    )
    assert smooth["coherence"] == 1.0 and smooth["breaks"] == [] and smooth["pairs"] == 2
    jump = camera_language(
        _timeline(
            [
                ("a", "s01", 24, "wide", "static"),
                ("b", "s01", 24, "extreme_close_up", "static"),
                ("c", "s01", 24, "close_up", "pan_left"),
            ]
        )
    )
    assert jump["pairs"] == 2 and jump["coherence"] == 0.5
    assert [(b["from"], b["to"]) for b in jump["breaks"]] == [("a", "b")] and "5 steps" in jump["breaks"][0]["reason"]
    repeat = camera_language(_same("medium", "static", n=3))
    assert repeat["coherence"] == 0.0 and len(repeat["breaks"]) == 2 and "jump cut" in repeat["breaks"][0]["reason"]


def test_coherence_is_judged_within_scenes_only():
    tl = _timeline(
        [
            ("a", "s01", 24, "wide", "static"),
            ("b", "s01", 24, "medium_long", "pan_left"),
            ("c", "s02", 24, "extreme_close_up", "static"),  # a scene change may jump anywhere
            ("d", "s02", 24, "close_up", "push_in"),
        ]
    )
    out = camera_language(tl)
    assert out["pairs"] == 2 and out["coherence"] == 1.0
    assert [s["scene_id"] for s in out["scenes"]] == ["s01", "s02"]
    assert [s["shots"] for s in out["scenes"]] == [2, 2]


def test_a_hold_lengthens_its_shot_and_is_no_cut():
    tl = hold(_timeline([("a", "s01", 24, "wide", "static"), ("b", "s01", 48, "medium", "pan_left")]), "a", 12)
    units = shot_units(tl)
    assert [u["shot_id"] for u in units] == ["a", "b"]
    assert units[0]["seconds"] == pytest.approx(1.5) and units[1]["start_s"] == pytest.approx(1.5)
    assert cut_times_s(tl) == [pytest.approx(1.5)]


# -- rhythm against references -------------------------------------------------------------------------


def _ref_shot(sid: str, seconds: float) -> ReferenceShot:
    return ReferenceShot(
        shot_id=sid,
        film="ref film",
        start_s=0.0,
        end_s=seconds,
        duration_s=seconds,
        frame_rate=24.0,
        usable_start_s=0.0,
        usable_end_s=seconds,
        shot_scale="medium",
        movement="static",
    )


def _match(rank: int, sequence_id: str, shots: list[ReferenceShot]) -> SequenceMatch:
    return SequenceMatch(
        rank=rank,
        sequence_id=sequence_id,
        film="f",
        score=1 / rank,
        text_score=0,
        attribute_score=0,
        reasons=[],
        camera_chain="",
        shots=shots,
    )


def _references(per_scene: dict[str, list[float] | None]) -> SceneReferences:
    scenes = []
    for scene_id, lengths in per_scene.items():
        matches = []
        if lengths is not None:
            shots = [_ref_shot(f"{scene_id}-r{i}", s) for i, s in enumerate(lengths)]
            # the rank-2 decoy must not be the one compared
            matches = [_match(2, f"{scene_id}-decoy", [_ref_shot(f"{scene_id}-d", 30.0)]), _match(1, f"{scene_id}-best", shots)]
        scenes.append(SceneRetrieval(scene_id=scene_id, query_text="q", targets={}, matches=matches))
    return SceneReferences(production="p", k=2, table_versions={}, text_search="full-text", scenes=scenes)


def _cut_of(lengths_s: list[float], scene: str = "s01") -> otio.schema.Timeline:
    return _timeline([(f"{scene}-{i}", scene, round(s * FPS), "medium", "static") for i, s in enumerate(lengths_s)])


def test_rhythm_distance_is_zero_for_the_references_own_lengths_and_grows_with_difference():
    same = rhythm_distance(_cut_of([2.0, 3.0, 4.0]), _references({"s01": [4.0, 2.0, 3.0]}))
    assert same["log_mean_ratio"] == 0.0 and same["wasserstein_s"] == 0.0
    assert same["scenes"][0]["sequence_id"] == "s01-best" and same["unmatched"] == []
    slower = rhythm_distance(_cut_of([4.0, 6.0, 8.0]), _references({"s01": [2.0, 3.0, 4.0]}))
    assert slower["log_mean_ratio"] == pytest.approx(math.log(2), abs=1e-4)
    assert slower["wasserstein_s"] == pytest.approx(3.0, abs=1e-4)  # each length 2, 3, 4 s longer: mean shift 3 s
    slowest = rhythm_distance(_cut_of([8.0, 12.0, 16.0]), _references({"s01": [2.0, 3.0, 4.0]}))
    assert slowest["log_mean_ratio"] > slower["log_mean_ratio"] and slowest["wasserstein_s"] > slower["wasserstein_s"]


def test_rhythm_distance_weights_scenes_by_screen_time_and_lists_unmatched_ones():
    tl = _timeline(
        [
            ("a", "s01", 48, "medium", "static"),
            ("b", "s02", 96, "medium", "static"),
            ("c", "s02", 96, "wide", "static"),
            ("d", "s03", 24, "wide", "static"),
        ]
    )
    out = rhythm_distance(tl, _references({"s01": [2.0], "s02": [2.0, 2.0], "s03": None}))
    by = {s["scene_id"]: s for s in out["scenes"]}
    assert by["s01"]["log_mean_ratio"] == 0.0 and by["s02"]["log_mean_ratio"] == pytest.approx(math.log(2), abs=1e-4)
    assert out["log_mean_ratio"] == pytest.approx(math.log(2) * 8 / 10, abs=1e-3)  # s01 2 s, s02 8 s
    assert out["unmatched"] == ["s03"]


# -- cuts on beats ------------------------------------------------------------------------------------------


def test_cuts_on_beats_counts_only_cuts_under_music():
    beats = [1.0, 1.5, 2.0, 10.0, 11.0]
    # 1.02 on a beat under music; 2.2 under music, off the beat; 10.0 on a beat but after the music stopped
    out = cuts_on_beats([1.02, 2.2, 10.0], beats, [(0.5, 5.0)])
    assert out["cuts"] == 3 and out["cuts_with_music"] == 2 and out["on_beat"] == 1 and out["share"] == 0.5
    assert cuts_on_beats([1.02, 2.2, 10.0], beats, [(0.5, 5.0), (9.0, 12.0)])["share"] == pytest.approx(2 / 3, abs=1e-4)
    none = cuts_on_beats([1.02, 2.2], beats, [])
    assert none["cuts_with_music"] == 0 and none["share"] is None
    assert cuts_on_beats([1.02], beats, [(0.5, 5.0)], tolerance_s=0.01)["share"] == 0.0


# -- dialogue margin --------------------------------------------------------------------------------------


def _tone(freq: float, seconds: float, amplitude: float) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    return (amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_dialogue_margin_is_the_level_difference_inside_speech():
    speech = np.zeros(4 * RATE, np.float32)
    speech[RATE : 2 * RATE] = _tone(220, 1.0, 0.4)
    bed = _tone(440, 4.0, 0.4 * 10 ** (-12 / 20))
    bed[2 * RATE :] *= 10  # loud where nobody speaks: outside the regions, so it does not count
    assert dialogue_margin(speech, bed, RATE, [(1.0, 2.0)]) == pytest.approx(12.0, abs=0.05)
    assert dialogue_margin(speech, bed, RATE, []) is None
    assert dialogue_margin(speech, bed, RATE, [(3.0, 4.0)]) is None  # silence in the region: no speech
    assert dialogue_margin(speech, np.zeros_like(bed), RATE, [(1.0, 2.0)]) > 100  # a silent bed is far under


# -- text and picture --------------------------------------------------------------------------------------


def test_text_frame_alignment_needs_both_embedders_and_measures_cosine():
    tl = _timeline([("a", "s01", 24, "wide", "static"), ("b", "s01", 24, "medium", "static"), ("c", "s01", 24, "medium", "pan_left")])
    frames = {"a": np.full((4, 4, 3), 1.0), "b": np.full((4, 4, 3), 2.0)}  # no keyframe for c
    vectors = {1.0: [1.0, 0.0], 2.0: [0.0, 3.0], "what a shows": [2.0, 0.0], "what b shows": [1.0, 1.0]}
    assert text_frame_alignment(tl, frames.get, None, None) is None
    out = text_frame_alignment(
        tl,
        frames.get,
        lambda imgs: np.array([vectors[float(i.flat[0])] for i in imgs]),
        lambda texts: np.array([vectors[t] for t in texts]),
    )
    assert out["shots"] == 2 and out["missing"] == ["c"]
    assert [p["cosine"] for p in out["per_shot"]] == [1.0, pytest.approx(1 / math.sqrt(2), abs=1e-4)]
    assert out["mean_cosine"] == pytest.approx((1 + 1 / math.sqrt(2)) / 2, abs=1e-4)


# -- the whole report ---------------------------------------------------------------------------------------


def _mix(level: float, seconds: float = 3.0) -> np.ndarray:
    return _tone(997, seconds, level)


def _report(mix: np.ndarray) -> dict:
    tl = _timeline([("a", "s01", 48, "wide", "static"), ("b", "s01", 24, "medium", "push_in"), ("c", "s02", 24, "close_up", "static")])
    speech = np.zeros(len(mix), np.float32)
    speech[: RATE // 2] = _tone(220, 0.5, 0.3)
    stems = {"dialogue": speech, "music": _tone(440, len(mix) / RATE, 0.3 * 10 ** (-14 / 20)), "effects": np.zeros(RATE, np.float32)}
    return evaluate_film(
        tl,
        references=_references({"s01": [2.0, 1.0], "s02": None}),
        beats_s=[2.0, 2.5],
        music_regions=[(0.0, 4.0)],
        stems=stems,
        speech_regions=[(0.0, 0.5)],
        rate=RATE,
        mix=mix,
        review={
            "before": {"hook_s": 6.0, "problems": {"monotony": 1, "dead_air": 1}},
            "after": {"hook_s": np.float64(2.0), "problems": {}},
        },
    )


def _rows(report: dict) -> dict[str, dict]:
    return {r["metric"]: r for r in report["table"]}


def test_evaluate_film_is_json_ready_and_its_table_flags_a_failing_loudness():
    # a mono 1 kHz sine at amplitude A reads about 20 log10(A) - 3 LUFS (BS.1770): 0.22 -> about -16.2
    good = _report(_mix(0.22))
    again = json.loads(json.dumps(good, allow_nan=False))
    assert again == good
    rows = _rows(good)
    assert (
        rows["integrated loudness (LUFS)"]["value"] == pytest.approx(-16.0, abs=1.0) and rows["integrated loudness (LUFS)"]["meets"] is True
    )
    assert rows["true peak (dBTP)"]["meets"] is True and rows["clipped samples"]["value"] == 0
    assert good["cuts_on_beats"]["cuts_with_music"] == 2 and good["cuts_on_beats"]["share"] == 0.5  # cuts at 2.0 (beat) and 3.0
    assert good["dialogue_margin_db"] == pytest.approx(14.0, abs=0.1) and rows["dialogue margin over bed (dB)"]["meets"] is True
    assert good["rhythm"]["unmatched"] == ["s02"] and good["rhythm"]["log_mean_ratio"] == 0.0
    assert good["camera_language"]["coherence"] == 1.0
    assert rows["review: problems after the fine cut"]["value"] == 0 and rows["review: problems after the fine cut"]["meets"] is True
    assert rows["review: first hook (s)"]["value"] == 2.0
    assert good["text_frame_alignment"] is None and good["skipped"]["text_frame_alignment"] == CLIP_REASON
    clip_row = rows["text-to-frame alignment (CLIP cosine)"]
    assert clip_row["value"] is None and clip_row["meets"] is None and clip_row["note"] == CLIP_REASON
    assert all(set(r) == {"metric", "value", "target", "meets", "note"} for r in good["table"])

    loud = _rows(_report(_mix(0.9)))
    assert loud["integrated loudness (LUFS)"]["meets"] is False and loud["integrated loudness (LUFS)"]["value"] > -15.0
    quiet = _rows(_report(_mix(0.01)))
    assert quiet["integrated loudness (LUFS)"]["meets"] is False and quiet["integrated loudness (LUFS)"]["value"] < -17.0


def test_evaluate_film_without_sound_or_references_says_what_it_skipped():
    report = evaluate_film(_same("medium", "static", n=2))
    json.dumps(report, allow_nan=False)
    assert report["loudness"] is None and report["rhythm"] is None and report["dialogue_margin_db"] is None and report["review"] is None
    assert set(report["skipped"]) == {"rhythm", "cuts_on_beats", "dialogue_margin_db", "loudness", "text_frame_alignment"}
    rows = _rows(report)
    assert rows["chain coherence"]["meets"] is False  # two identical shots: a jump cut
    assert rows["integrated loudness (LUFS)"]["meets"] is None and rows["integrated loudness (LUFS)"]["note"] == "no mix given"
    assert "review: first hook (s)" not in rows


def test_a_silent_mix_has_no_loudness_number_but_stays_json():
    report = evaluate_film(_same("medium", "static", n=2), mix=np.zeros(RATE, np.float32), rate=RATE)
    json.dumps(report, allow_nan=False)
    assert report["loudness"]["integrated_lufs"] is None and report["loudness"]["clipped_samples"] == 0
    assert _rows(report)["integrated loudness (LUFS)"]["meets"] is None
