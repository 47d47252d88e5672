"""Voices and the mix on real media: piper's neural voice, LibriSpeech read speech, CC-BY music."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import soundfile as sf

from filmaster_dag.cinema import sound
from filmaster_dag.cinema.planning.models import speaking_time_s
from filmaster_dag.resources.voice import EspeakVoice, PiperVoice, make_voice

from .conftest import MEDIA

MUSIC = MEDIA / "music"
SPEECH = MEDIA / "speech" / "librispeech-198-209-0000.ogg"  # 13.9 s, one reader
VIBE_ACE = MUSIC / "kevin_macleod-vibe_ace.ogg"
LINE = "The lighthouse keeper climbed the stairs one last time, and the sea was quiet."


@pytest.fixture(scope="module")
def piper() -> PiperVoice:
    voice = PiperVoice()
    if not voice.available:
        pytest.fail(f"piper voice expected in the venv: {voice.why_unavailable}")
    return voice


@pytest.fixture(scope="module")
def speech(media) -> np.ndarray:
    return sound.load_audio(SPEECH, sound.MIX_RATE)


def test_piper_speaks_a_line_of_plausible_length(piper, tmp_path):
    take = piper.speak(LINE, tmp_path / "line.wav")
    audio, rate = sf.read(take["path"], dtype="float32", always_2d=True)
    assert audio.shape == (take["samples"], 1) and rate == take["rate"] == piper.rate == 22050
    expected = speaking_time_s(LINE)  # 14 words: 6.1 s with breaths
    assert expected / 2 < take["duration_s"] < expected * 1.5, (take["duration_s"], expected)
    a, b = sound.speech_bounds(audio[:, 0], rate)
    assert (b - a) / rate > 0.8 * take["duration_s"]  # words, not silence
    assert sound.rms_db(audio[a:b, 0]) > -30


def test_piper_takes_are_reproducible(piper, tmp_path):
    first = piper.speak(LINE, tmp_path / "a.wav", seed=7)
    piper.speak("Something else in between.", tmp_path / "other.wav", seed=7)
    again = piper.speak(LINE, tmp_path / "b.wav", seed=7)
    assert first["samples"] == again["samples"]
    assert (tmp_path / "a.wav").read_bytes() == (tmp_path / "b.wav").read_bytes()
    assert first["voice"] == again["voice"] == piper.identity and "en_US-joe-medium" in piper.identity


def test_espeak_says_why_it_cannot_speak(tmp_path):
    missing = EspeakVoice(binary="espeak-ng-not-installed")
    assert not missing.available
    assert "espeak-ng-not-installed" in missing.why_unavailable and "not on PATH" in missing.why_unavailable
    with pytest.raises(RuntimeError, match="not on PATH"):
        missing.speak(LINE, tmp_path / "x.wav")
    assert not (tmp_path / "x.wav").exists()
    # On this machine (no Debian espeak-ng) the default one is unavailable too, and auto picks piper.
    assert EspeakVoice().available == (shutil.which("espeak-ng") is not None)
    assert isinstance(make_voice("auto"), PiperVoice) and isinstance(make_voice("espeak"), EspeakVoice)


def test_true_peak_sees_between_the_samples():
    rate = 48000
    t = np.arange(rate)
    tone = np.sin(2 * np.pi * (rate / 4) * t / rate + np.pi / 4).astype(np.float32)  # samples at +-0.707, peaks at 1.0
    assert sound.measure(tone, rate)["sample_peak_dbfs"] == pytest.approx(-3.01, abs=0.05)
    assert sound.true_peak_dbtp(tone, rate) == pytest.approx(0.0, abs=0.3)


def test_a_line_that_fits_is_padded_and_a_slightly_long_one_is_sped_up(speech):
    rate = sound.MIX_RATE
    a, b = sound.speech_bounds(speech, rate)
    words_s = (b - a) / rate
    roomy = sound.fit_line(speech, rate, words_s + 2.0)
    assert roomy.status == "fits" and len(roomy.audio) == round((words_s + 2.0) * rate)
    assert roomy.speech_start_s == pytest.approx(0.2) and roomy.stretch == 1.0
    tight = sound.fit_line(speech, rate, words_s / 1.08)
    assert tight.status == "stretched" and 1.08 <= tight.stretch <= sound.MAX_STRETCH
    assert len(tight.audio) == round(words_s / 1.08 * rate) and tight.overflow_s == 0


def test_a_line_longer_than_its_shot_is_reported_never_cut(speech):
    rate = sound.MIX_RATE
    shot_s = 8.0  # the clip's words take 13.8 s: even 1.15x faster they need 12 s
    fitted = sound.fit_line(speech, rate, shot_s)
    assert fitted.status == "too_long" and "nothing was cut" in fitted.note
    assert fitted.stretch == sound.MAX_STRETCH
    assert fitted.overflow_s == pytest.approx(fitted.speech_s / sound.MAX_STRETCH - shot_s, abs=0.1)
    assert len(fitted.audio) / rate == pytest.approx(fitted.speech_s / sound.MAX_STRETCH, rel=0.01)
    stem = sound.place_lines([sound.LineCue("s1-l1", "a read passage", speech, rate, 1.0, shot_s)], duration_s=10.0)
    assert stem.lines[0].status == "too_long"
    assert any("s1-l1" in p and "runs" in p for p in stem.problems)
    assert any("past the film's end" in p for p in stem.problems)
    assert stem.duration_s > 10.0  # the track grew rather than losing the last words


def test_mix_of_speech_over_music_is_ducked_and_delivered_at_target(speech):
    rate, film_s = sound.MIX_RATE, 20.0
    stem = sound.place_lines([sound.LineCue("s1-l1", "a read passage", speech, rate, 2.0, 16.0)], film_s)
    assert stem.problems == [] and stem.lines[0].status == "fits"
    music = sound.fit_bed(sound.load_audio(VIBE_ACE, rate, offset_s=10.0, duration_s=film_s), rate, film_s)
    regions = stem.regions
    ducked, _ = sound.duck(music, stem.signal, rate, regions=regions)
    side_chain_only, _ = sound.duck(music, stem.signal, rate)
    alone = sound.region_rms_db(music, rate, regions)
    assert alone - sound.region_rms_db(ducked, rate, regions) >= 10.0
    assert alone - sound.region_rms_db(side_chain_only, rate, regions) >= 10.0
    before_line = [(0.0, 1.5)]  # the bed plays at full level before anyone speaks
    assert sound.region_rms_db(ducked, rate, before_line) == pytest.approx(sound.region_rms_db(music, rate, before_line), abs=0.5)

    dialogue = sound.compress_dialogue(stem.signal, rate)
    crest = sound.measure(stem.signal, rate)["sample_peak_dbfs"] - sound.rms_db(stem.signal)
    assert sound.measure(dialogue, rate)["sample_peak_dbfs"] - sound.rms_db(dialogue) < crest - 1.0  # loud syllables came down
    final, report = sound.normalize(sound.mix({"dialogue": dialogue, "music": ducked}, {"music": -6.0}), rate)
    figures = sound.measure(final, rate)
    assert abs(figures["integrated_lufs"] - sound.TARGET_LUFS) <= 1.0, figures
    assert figures["true_peak_dbtp"] <= sound.CEILING_DBTP, figures
    assert figures["clipped_samples"] == 0 and float(np.abs(final).max()) < 1.0
    assert report["integrated_lufs"] == figures["integrated_lufs"] and abs(report["missed_lu"]) <= 0.2
    assert report["limiter_max_reduction_db"] > 0 and len(final) == round(film_s * rate)  # the peaks were limited, not clipped


@pytest.mark.slow
def test_choose_score_ranks_the_music_folder_with_reasons(media):
    lively = sound.choose_score(MUSIC, "cheerful", energy_hint="high", need_s=30.0)
    assert {c.path for c in lively} == {str(p) for p in MUSIC.iterdir()}
    assert [c.distance for c in lively] == sorted(c.distance for c in lively)
    assert all(len(c.reasons) >= 3 and "bpm" in c.reasons[0] for c in lively)
    quiet = sound.choose_score(MUSIC, "somber", energy_hint="low", need_s=30.0)
    assert lively[0].analysis.energy > quiet[0].analysis.energy
    trumpet = next(c for c in lively if "trumpet" in c.path)  # a 5 s loop for a 30 s scene
    assert any("loop" in r for r in trumpet.reasons)
    assert all(beat >= 0 for beat in lively[0].analysis.beats_s) and len(lively[0].analysis.beats_s) > 10


def test_every_brief_mood_has_a_score_profile():
    from typing import get_args

    from filmaster_dag.cinema.brief import Mood

    assert set(sound.MOOD_MUSIC) == set(get_args(Mood))
    with pytest.raises(ValueError, match="unknown mood"):
        sound.choose_score(MUSIC, "jaunty")


@pytest.mark.slow
def test_expressive_piper_takes_are_reproducible_per_seed(tmp_path):
    voice = PiperVoice(expressive=True)  # the trained sampling noise: each take reloads the model seeded from (seed, text)
    one = voice.synthesize(LINE, seed=1)[0]
    other_seed = voice.synthesize(LINE, seed=2)[0]
    assert np.array_equal(voice.synthesize(LINE, seed=1)[0], one)
    assert not np.array_equal(other_seed[: len(one)], one[: len(other_seed)])


def test_cuts_move_onto_beats_only_within_their_slack():
    beats = [0.5, 1.0, 1.5, 2.0, 2.5]
    assert sound.nudge_cuts([0.9, 1.74, 2.3], beats, 0.2) == [1.0, 1.74, 2.5]
    assert sound.nudge_cuts([0.9, 1.9], beats, [0.0, 0.2]) == [0.9, 2.0]  # the first cut is locked
    assert sound.nudge_cuts([0.9], [], 0.5) == [0.9]
