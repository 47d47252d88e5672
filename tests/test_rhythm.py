"""Rhythm: shot-length statistics, beats of a soundtrack with known tempo, cuts on the beat."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from filmaster_dag.cinema import library as lib
from filmaster_dag.cinema.media import Soundtrack, load_soundtrack
from filmaster_dag.cinema.rhythm import cuts_on_beat, shot_audio_measures, shot_length_stats, soundtrack_rhythm

from .conftest import BBB_60, BBB_CUT_FRAMES, CHAPLIN

ROBIN = "sound/inspectorj-robin_whistle.ogg"


def click_track(media, bpm: float, seconds: float, sr: int = 22050) -> tuple[Soundtrack, np.ndarray]:
    """A real recorded whistle, its sharp onset repeated exactly on a ``bpm`` grid."""
    whistle = load_soundtrack(media / ROBIN, sr).samples
    onset = int(np.argmax(np.abs(whistle) > 0.3 * np.abs(whistle).max()))
    hit = whistle[onset : onset + int(0.12 * sr)] * np.hanning(int(0.12 * sr) * 2)[int(0.12 * sr) :]
    y = np.zeros(int(seconds * sr), np.float32)
    beats = np.arange(0.5, seconds - 0.5, 60.0 / bpm)
    for t in beats:
        i = int(t * sr)
        y[i : i + hit.size] += hit[: y.size - i]
    return Soundtrack(y, sr), beats


def test_shot_length_stats():
    stats = shot_length_stats([2.0, 4.0, 6.0, 12.0], 24.0)
    assert stats.shot_count == 4 and stats.average_shot_length_s == 6.0 and stats.median_shot_length_s == 5.0
    assert stats.cuts_per_minute == pytest.approx(7.5)
    assert sum(stats.histogram_counts) == 4 and stats.histogram_counts[3] == 1  # the 2.0 s shot: 2..3 s bin


@pytest.mark.parametrize("bpm", [90, 128])
def test_tempo_and_beats_of_a_known_grid(media, bpm):
    track, beats = click_track(media, bpm, 20.0)
    rh = soundtrack_rhythm(track)
    assert rh.tempo_bpm == pytest.approx(bpm, rel=0.04)
    # every true beat has a detected beat within 50 ms (after the tracker settles)
    found = [np.min(np.abs(rh.beat_times_s - b)) for b in beats[2:-2]]
    assert np.median(found) < 0.05


def test_cuts_on_beat_fraction(media):
    track, beats = click_track(media, 120, 20.0)
    rh = soundtrack_rhythm(track)
    on, offsets = cuts_on_beat(list(beats[3:8]), rh.beat_times_s, 0.1)
    off, _ = cuts_on_beat(list(beats[3:8] + 0.25), rh.beat_times_s, 0.1)  # half a beat late
    assert on == 1.0 and max(abs(o) for o in offsets) < 0.1
    assert off == 0.0
    assert cuts_on_beat([], rh.beat_times_s) == (None, [])


def test_per_shot_loudness_follows_the_soundtrack(media):
    track, _ = click_track(media, 120, 10.0)
    quiet = Soundtrack(np.concatenate([track.samples, 0.01 * track.samples]), track.sample_rate)
    rh = soundtrack_rhythm(quiet)
    loud, soft = shot_audio_measures(quiet, rh, [(0.0, 10.0), (10.0, 20.0)])
    assert loud["loudness_dbfs"] - soft["loudness_dbfs"] == pytest.approx(40.0, abs=0.5)
    assert loud["beats_in_shot"] >= 15 and loud["onset_strength_mean"] > soft["onset_strength_mean"]


def test_film_rhythm_of_big_buck_bunny(media):
    import pandas as pd

    bounds = [0, *BBB_CUT_FRAMES, 1440]
    shots = pd.DataFrame(
        {
            "shot_index": range(6),
            "start_s": [b / 24 for b in bounds[:-1]],
            "end_s": [b / 24 for b in bounds[1:]],
            "duration_s": [(b - a) / 24 for a, b in itertools.pairwise(bounds)],
            "transition_in": ["fade_in"] + ["cut"] * 5,  # the opening fade-in is no cut
        }
    )
    r = lib.measure_rhythm(shots, 60.0, lib.analyse_soundtrack(str(BBB_60), "bbb"))
    assert r.has_audio and r.stats.shot_count == 6 and r.stats.average_shot_length_s == pytest.approx(10.0)
    assert 60 < r.tempo_bpm < 200 and len(r.beat_times_s) > 50
    assert r.cuts_on_beat_fraction is not None and 0.0 <= r.cuts_on_beat_fraction <= 1.0 and len(r.cut_beat_offsets_s) == 5
    assert list(r.per_shot["shot_index"]) == list(range(6)) and r.per_shot["loudness_dbfs"].between(-60, 0).all()


def test_chaplin_soundtrack_is_measured_and_silent_film_is_not_an_error(media, tmp_path):
    import pandas as pd

    shots = pd.DataFrame({"shot_index": [0], "start_s": [0.0], "end_s": [9.64], "duration_s": [9.64], "transition_in": ["start"]})
    r = lib.measure_rhythm(shots, 9.64, lib.analyse_soundtrack(str(CHAPLIN), "chaplin"))
    assert r.has_audio and r.cuts_on_beat_fraction is None  # no cut, no answer
    silent = lib.measure_rhythm(shots, 9.64, (None, None))
    assert not silent.has_audio and silent.tempo_bpm is None and silent.stats.shot_count == 1
