"""Shot and sequence descriptions: the vocabulary's words, and the same text as before it existed.

Full-text search indexes these descriptions, so their text must not drift: the expected strings
below were produced by the descriptions before they took their words from the vocabulary.
"""

from __future__ import annotations

import pytest

from filmaster_dag.cinema import describe
from filmaster_dag.cinema.describe import describe_sequence, describe_shot
from filmaster_dag.cinema.vocabulary import CameraMovement, ShotScale, TransitionIn

BASE = {
    "movement": "static",
    "shot_scale": "wide",
    "lighting_key": "high_key",
    "saturation": 0.3,
    "colour_temperature_k": 3900.0,
    "motion_energy": 0.01,
    "faces": 0,
    "duration_s": 3.94,
    "transition_in": "cut",
}

# (case, change to BASE, description): every vocabulary word of each described field, one at a time.
CASES = [
    ("base", {}, "static wide shot, high-key, warm palette, 3.9 s, after a cut"),
    ("movement=static", {"movement": "static"}, "static wide shot, high-key, warm palette, 3.9 s, after a cut"),
    ("movement=pan_left", {"movement": "pan_left"}, "panning left wide shot, high-key, warm palette, 3.9 s, after a cut"),
    ("movement=pan_right", {"movement": "pan_right"}, "panning right wide shot, high-key, warm palette, 3.9 s, after a cut"),
    ("movement=tilt_up", {"movement": "tilt_up"}, "tilting up wide shot, high-key, warm palette, 3.9 s, after a cut"),
    ("movement=tilt_down", {"movement": "tilt_down"}, "tilting down wide shot, high-key, warm palette, 3.9 s, after a cut"),
    ("movement=push_in", {"movement": "push_in"}, "push-in wide shot, high-key, warm palette, 3.9 s, after a cut"),
    ("movement=pull_out", {"movement": "pull_out"}, "pull-out wide shot, high-key, warm palette, 3.9 s, after a cut"),
    ("movement=handheld", {"movement": "handheld"}, "handheld wide shot, high-key, warm palette, 3.9 s, after a cut"),
    ("movement=complex", {"movement": "complex"}, "moving (complex camera move) wide shot, high-key, warm palette, 3.9 s, after a cut"),
    ("movement=unknown", {"movement": "unknown"}, "wide shot, high-key, warm palette, 3.9 s, after a cut"),
    ("movement=None", {"movement": None}, "wide shot, high-key, warm palette, 3.9 s, after a cut"),
    (
        "shot_scale=extreme_close_up",
        {"shot_scale": "extreme_close_up"},
        "static extreme close-up shot, high-key, warm palette, 3.9 s, after a cut",
    ),
    ("shot_scale=close_up", {"shot_scale": "close_up"}, "static close-up shot, high-key, warm palette, 3.9 s, after a cut"),
    (
        "shot_scale=medium_close_up",
        {"shot_scale": "medium_close_up"},
        "static medium close-up shot, high-key, warm palette, 3.9 s, after a cut",
    ),
    ("shot_scale=medium", {"shot_scale": "medium"}, "static medium shot, high-key, warm palette, 3.9 s, after a cut"),
    ("shot_scale=medium_long", {"shot_scale": "medium_long"}, "static medium long shot, high-key, warm palette, 3.9 s, after a cut"),
    ("shot_scale=wide", {"shot_scale": "wide"}, "static wide shot, high-key, warm palette, 3.9 s, after a cut"),
    ("shot_scale=extreme_wide", {"shot_scale": "extreme_wide"}, "static extreme wide shot, high-key, warm palette, 3.9 s, after a cut"),
    ("shot_scale=unknown", {"shot_scale": "unknown"}, "static shot, high-key, warm palette, 3.9 s, after a cut"),
    ("shot_scale=None", {"shot_scale": None}, "static shot, high-key, warm palette, 3.9 s, after a cut"),
    ("lighting_key=low_key", {"lighting_key": "low_key"}, "static wide shot, low-key, warm palette, 3.9 s, after a cut"),
    ("lighting_key=normal", {"lighting_key": "normal"}, "static wide shot, normal, warm palette, 3.9 s, after a cut"),
    ("lighting_key=high_key", {"lighting_key": "high_key"}, "static wide shot, high-key, warm palette, 3.9 s, after a cut"),
    ("lighting_key=unknown", {"lighting_key": "unknown"}, "static wide shot, unknown, warm palette, 3.9 s, after a cut"),
    ("lighting_key=None", {"lighting_key": None}, "static wide shot, warm palette, 3.9 s, after a cut"),
    ("transition_in=start", {"transition_in": "start"}, "static wide shot, high-key, warm palette, 3.9 s, opening the film"),
    ("transition_in=fade_in", {"transition_in": "fade_in"}, "static wide shot, high-key, warm palette, 3.9 s, fading in at the opening"),
    ("transition_in=cut", {"transition_in": "cut"}, "static wide shot, high-key, warm palette, 3.9 s, after a cut"),
    ("transition_in=dissolve", {"transition_in": "dissolve"}, "static wide shot, high-key, warm palette, 3.9 s, after a dissolve"),
    ("transition_in=fade", {"transition_in": "fade"}, "static wide shot, high-key, warm palette, 3.9 s, after a fade"),
    ("transition_in=None", {"transition_in": None}, "static wide shot, high-key, warm palette, 3.9 s"),
    (
        "saturation=0.01,cct=3900.0",
        {"saturation": 0.01, "colour_temperature_k": 3900.0},
        "static wide shot, high-key, black-and-white, 3.9 s, after a cut",
    ),
    (
        "saturation=0.05,cct=9000.0",
        {"saturation": 0.05, "colour_temperature_k": 9000.0},
        "static wide shot, high-key, desaturated, cool palette, 3.9 s, after a cut",
    ),
    (
        "saturation=0.05,cct=nan",
        {"saturation": 0.05, "colour_temperature_k": float("nan")},
        "static wide shot, high-key, desaturated palette, 3.9 s, after a cut",
    ),
    (
        "saturation=0.3,cct=5600.0",
        {"saturation": 0.3, "colour_temperature_k": 5600.0},
        "static wide shot, high-key, neutral palette, 3.9 s, after a cut",
    ),
    (
        "saturation=0.3,cct=8000.0",
        {"saturation": 0.3, "colour_temperature_k": 8000.0},
        "static wide shot, high-key, cool palette, 3.9 s, after a cut",
    ),
    ("saturation=None,cct=None", {"saturation": None, "colour_temperature_k": None}, "static wide shot, high-key, 3.9 s, after a cut"),
    ("motion_energy=0.2", {"motion_energy": 0.2}, "static wide shot, high-key, warm palette, lots of action in frame, 3.9 s, after a cut"),
    ("motion_energy=None", {"motion_energy": None}, "static wide shot, high-key, warm palette, 3.9 s, after a cut"),
    ("faces=1", {"faces": 1}, "static wide shot, high-key, warm palette, 1 face visible, 3.9 s, after a cut"),
    ("faces=2", {"faces": 2}, "static wide shot, high-key, warm palette, 2 faces visible, 3.9 s, after a cut"),
    ("faces=None", {"faces": None}, "static wide shot, high-key, warm palette, 3.9 s, after a cut"),
    (
        "both unknown, no duration",
        {"movement": "unknown", "shot_scale": "unknown", "duration_s": None},
        "shot, high-key, warm palette, after a cut",
    ),
]


@pytest.mark.parametrize("change,text", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_description_text_is_unchanged(change, text):
    assert describe_shot({**BASE, **change}) == text


def test_sequence_description_text_is_unchanged():
    assert (
        describe_sequence(3, 12.5, "wide static -> medium pan_right", "start")
        == "opening sequence of 3 shots, 12.5 s: wide static -> medium pan_right"
    )
    assert describe_sequence(1, 2.0, "close_up static", "new look") == "sequence of 1 shot, 2.0 s: close_up static"
    assert describe_sequence(2, 4.25, "wide tilt_down", "fade") == "sequence after a fade of 2 shots, 4.2 s: wide tilt_down"


def test_words_are_the_vocabulary_phrases():
    """Every measurable word is described, with the vocabulary's phrase; "unknown" is left unsaid."""
    assert describe.MOVEMENT_WORDS == {m.value: m.words for m in CameraMovement if m is not CameraMovement.UNKNOWN}
    assert describe.SCALE_WORDS == {s.value: s.words for s in ShotScale if s is not ShotScale.UNKNOWN}
    assert describe.TRANSITION_WORDS == {t.value: t.words for t in TransitionIn}
    assert CameraMovement.PUSH_IN.words in describe_shot({"movement": CameraMovement.PUSH_IN.value})
    assert describe_shot({"movement": "unknown", "shot_scale": "unknown"}) == "shot"
