"""Keyframes (sharp, inside their shot, not black) and sequences (visual continuity) on real footage."""

from __future__ import annotations

import io

import pandas as pd
from PIL import Image

from filmaster_dag.cinema import keyframes as kf
from filmaster_dag.cinema import library as lib
from filmaster_dag.cinema.media import run_decode_pass

from .conftest import BBB_60, BBB_CUT_FRAMES, CHAPLIN


def _bbb_candidates():
    sampler = kf.KeyframeCandidates(24)
    run_decode_pass(BBB_60, [sampler])
    return sampler


def test_candidates_encoded_in_the_worker_are_those_encoded_in_line(media):
    """The worker thread changes where the candidates are encoded, not what they are."""
    worker, inline = kf.KeyframeCandidates(25), kf.KeyframeCandidates(25, background=False)
    worker.MAX_PENDING = 2  # the pass waits for the worker too
    run_decode_pass(CHAPLIN, [worker, inline])
    assert len(worker.candidates) == len(inline.candidates) == 241 // 12 + 1
    assert [c.__dict__ for c in worker.candidates] == [c.__dict__ for c in inline.candidates]
    assert [c.frame for c in worker.candidates] == list(range(0, 241, 12))


def test_keyframes_are_sharp_lit_and_inside_their_shot(media):
    sampler = _bbb_candidates()
    assert sampler.stride == 12 and len(sampler.candidates) == 120
    bounds = [0, *BBB_CUT_FRAMES, 1440]
    shots = pd.DataFrame(
        {
            "shot_index": range(6),
            "start_frame": bounds[:-1],
            "end_frame": bounds[1:],
            "usable_first_frame": [36, *bounds[1:-1]],  # the fade-in from black ends ~1.4 s
            "usable_last_frame": [b - 1 for b in bounds[1:]],
        }
    )
    cands = pd.DataFrame([c.__dict__ for c in sampler.candidates])
    table, missing = lib.choose_keyframes(shots, cands)
    assert not missing and sorted(table["shot_index"].unique()) == list(range(6))
    for s in shots.itertuples():
        mine = table[table["shot_index"] == s.shot_index]
        assert 1 <= len(mine) <= 3 and mine["primary"].sum() == 1
        assert mine["frame"].between(s.usable_first_frame, s.usable_last_frame).all()
        # the sharpest candidate of its part of the shot
        inside = cands[cands["frame"].between(s.usable_first_frame, s.usable_last_frame)]
        assert mine["sharpness"].max() == inside["sharpness"].max()
    first = kf.decode_jpeg_rgb(table[table["shot_index"] == 0]["jpeg"].iloc[0])
    assert first.shape == (270, 480, 3) and first.mean() > 40  # not a black fade frame


def test_contact_sheet_tiles_every_shot(media):
    sampler = _bbb_candidates()
    thumbs = [(f"#{i}", c.jpeg) for i, c in enumerate(sampler.candidates[:8])]
    sheet = Image.open(io.BytesIO(kf.contact_sheet(thumbs, columns=4, thumb_width=100)))
    assert sheet.format == "JPEG" and sheet.width == 4 * 104 + 4
    assert sheet.height > 2 * 56  # two rows of 16:9 tiles with labels


def test_a_shot_shorter_than_the_candidate_stride_gets_its_middle_frame(media):
    """With min_shot_s lowered, a 5-frame shot can fall between two stride candidates."""
    from filmaster_dag.cinema.media import probe

    sampler = _bbb_candidates()
    cands = pd.DataFrame([c.__dict__ for c in sampler.candidates])
    shots = pd.DataFrame(
        {
            "shot_index": [0, 1, 2],
            "start_frame": [0, 290, 295],
            "end_frame": [290, 295, 1440],
            "usable_first_frame": [36, 290, 295],
            "usable_last_frame": [289, 294, 1439],
        }
    )
    without, missing = lib.choose_keyframes(shots, cands)
    assert missing == [1] and 1 not in set(without["shot_index"])
    table, missing = lib.choose_keyframes(shots, cands, path=str(BBB_60), film="bbb", probe=probe(BBB_60))
    assert missing == [] and table.loc[table["shot_index"] == 1, "frame"].tolist() == [292]
