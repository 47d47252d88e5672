"""The look descriptor (search by example) on real frames of the sample films."""

from __future__ import annotations

import itertools

import cv2
import numpy as np
import pytest
from PIL import Image

from filmaster_dag.cinema.look import (
    BLOCK_SHARES,
    BLOCKS,
    LOOK_DIM,
    LOOK_VERSION,
    _picture_area,
    describe_look,
    explain_look,
    look_similarity,
    read_image,
)
from filmaster_dag.cinema.media import iter_frames

from .conftest import BBB_60, BBB_720_WEBM, BBB_CUT_FRAMES, CHAPLIN

# Shots of the MP4 as [first, end) frame ranges; the dissolve 761-800 belongs to neither side.
_BOUNDS = [0, *BBB_CUT_FRAMES, 1440]
SHOTS = [(a, b) for a, b in itertools.pairwise(_BOUNDS)]
SHOTS[3:4] = [(553, 761), (800, 1145)]
WEBM_OFFSET = 2  # WebM frame f is MP4 frame f + 2


def _at(shot: tuple[int, int], fraction: float) -> int:
    return shot[0] + round(fraction * (shot[1] - 1 - shot[0]))


def _grab(path, wanted: set[int], max_width: int) -> dict[int, np.ndarray]:
    out = {}
    for frame in iter_frames(path):
        if frame.index in wanted:
            out[frame.index] = frame.rgb(max_width)
        if frame.index >= max(wanted):
            break
    return out


@pytest.fixture(scope="module")
def frames(media) -> dict[str, dict[int, np.ndarray]]:
    wanted = {_at(s, f) for s in SHOTS for f in (0.25, 0.5, 0.75)}
    return {
        "mp4": _grab(BBB_60, wanted, 640),
        # the middle of shot 3 (a rabbit's burrow) and shot 1 (the meadow) at 720p VP8
        "webm": _grab(BBB_720_WEBM, {_at(SHOTS[2], 0.5) - WEBM_OFFSET, _at(SHOTS[0], 0.5) - WEBM_OFFSET}, 1280),
        "chaplin": _grab(CHAPLIN, {100}, 640),
    }


@pytest.fixture(scope="module")
def middles(frames) -> np.ndarray:
    return np.stack([describe_look(frames["mp4"][_at(s, 0.5)]) for s in SHOTS])


def test_vector_is_unit_length_and_fixed_size(frames):
    assert isinstance(LOOK_DIM, int) and LOOK_DIM <= 256
    assert LOOK_VERSION
    assert sum(BLOCK_SHARES.values()) == pytest.approx(1.0)
    assert max(stop for _, stop in BLOCKS.values()) == LOOK_DIM
    pictures = [
        frames["mp4"][_at(SHOTS[0], 0.5)],
        frames["chaplin"][100],
        np.zeros((90, 160, 3), np.uint8),
        np.full((7, 5, 3), 200, np.uint8),
    ]
    for pic in pictures:
        v = describe_look(pic)
        assert v.shape == (LOOK_DIM,) and v.dtype == np.float32
        assert np.isfinite(v).all()
        assert float(np.linalg.norm(v)) == pytest.approx(1.0, abs=1e-5)
    # a grey picture as H x W is read as its RGB equivalent
    gray = cv2.cvtColor(frames["chaplin"][100], cv2.COLOR_RGB2GRAY)
    assert look_similarity(describe_look(gray), describe_look(np.repeat(gray[:, :, None], 3, axis=2))) == pytest.approx(1.0, abs=1e-6)
    # an alpha channel and 16-bit samples describe as the 8-bit RGB picture they hold
    rgb = frames["mp4"][_at(SHOTS[0], 0.5)]
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 255, np.uint8)])
    assert look_similarity(describe_look(rgba), describe_look(rgb)) == pytest.approx(1.0, abs=1e-6)
    assert look_similarity(describe_look(rgb.astype(np.uint16) * 257), describe_look(rgb)) == pytest.approx(1.0, abs=1e-6)
    with pytest.raises(ValueError, match="RGB picture"):
        describe_look(np.zeros((10, 10, 2), np.uint8))


@pytest.mark.parametrize("shot", [0, 2])
def test_same_frame_through_another_codec_and_size_finds_its_shot(frames, middles, shot):
    f = _at(SHOTS[shot], 0.5)
    webm = describe_look(frames["webm"][f - WEBM_OFFSET])  # 1280x720 VP8
    assert frames["webm"][f - WEBM_OFFSET].shape[1] == 1280 and frames["mp4"][f].shape[1] == 640
    assert look_similarity(webm, describe_look(frames["mp4"][f])) > 0.97
    assert int(np.argmax(middles @ webm)) == shot


def test_frames_of_the_same_shot_rank_above_other_shots(frames, middles):
    for i, shot in enumerate(SHOTS):
        for fraction in (0.25, 0.75):
            sims = middles @ describe_look(frames["mp4"][_at(shot, fraction)])
            others = np.delete(sims, i)
            assert sims[i] > others.max(), (i, fraction, sims.round(3))


def test_black_and_white_film_is_far_from_the_meadow(frames, middles):
    chaplin = describe_look(frames["chaplin"][100])
    meadow = middles[0]
    same_shot = describe_look(frames["mp4"][_at(SHOTS[0], 0.25)])
    assert look_similarity(chaplin, meadow) < 0.5
    assert look_similarity(same_shot, meadow) > look_similarity(chaplin, meadow) + 0.3
    why = explain_look(chaplin, meadow)
    assert why["palette"] < 0.5  # no colour at all against green and sky blue


def test_resizing_and_jpeg_recompression_barely_change_the_look(frames):
    pic = frames["mp4"][_at(SHOTS[2], 0.5)]
    v = describe_look(pic)
    small = cv2.resize(pic, (320, 180), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(small, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, 50])
    assert ok
    recompressed = cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)
    assert look_similarity(v, describe_look(small)) > 0.98
    assert look_similarity(v, describe_look(recompressed)) > 0.97
    # a different aspect of the same picture (stretched to 4:3) still looks the same, more or less
    assert look_similarity(v, describe_look(cv2.resize(pic, (480, 360)))) > 0.95


def test_letterbox_and_pillarbox_bars_are_not_part_of_the_look(frames):
    pic = frames["mp4"][_at(SHOTS[5], 0.5)]  # 640x360
    scope = pic[46:314]  # a 2.39:1 extraction of the frame
    matted = np.zeros_like(pic)
    matted[46:314] = scope
    assert look_similarity(describe_look(matted), describe_look(scope)) > 0.99
    pillar = np.zeros((360, 640, 3), np.uint8)
    pillar[:, 80:560] = cv2.resize(pic, (480, 360), interpolation=cv2.INTER_AREA)
    assert look_similarity(describe_look(pillar), describe_look(pic)) > 0.98
    # dark at the top only is a night sky, not a matte: the picture keeps it
    night = pic.copy()
    night[:60] = 0
    assert look_similarity(describe_look(night), describe_look(night[60:])) < look_similarity(describe_look(matted), describe_look(scope))
    assert _picture_area(night).shape == night.shape
    assert _picture_area(np.zeros((360, 640, 3), np.uint8)).shape == (360, 640, 3)  # black frame of a fade


def test_explain_look_is_per_block_and_averages_to_the_similarity(frames):
    a = describe_look(frames["mp4"][_at(SHOTS[1], 0.5)])
    b = describe_look(frames["mp4"][_at(SHOTS[4], 0.5)])
    why = explain_look(a, b)
    assert set(why) == {"colour_layout", "palette", "texture", "composition"}
    assert all(0.0 <= s <= 1.0 for s in why.values())
    # a block that disagrees outright (negative cosine) counts 0, so the mean can only be higher
    assert sum(BLOCK_SHARES[k] * s for k, s in why.items()) >= look_similarity(a, b) - 1e-6
    c = describe_look(frames["mp4"][_at(SHOTS[1], 0.25)])
    same_shot = explain_look(a, c)
    assert min(same_shot.values()) > 0.5
    assert sum(BLOCK_SHARES[k] * s for k, s in same_shot.items()) == pytest.approx(look_similarity(a, c), abs=1e-5)
    assert explain_look(a, a) == pytest.approx(dict.fromkeys(why, 1.0), abs=1e-5)


def test_read_image_round_trip_and_clear_errors(frames, tmp_path):
    pic = frames["mp4"][_at(SHOTS[2], 0.5)]
    png = tmp_path / "still.png"
    cv2.imwrite(str(png), cv2.cvtColor(pic, cv2.COLOR_RGB2BGR))
    back = read_image(png)
    assert back.dtype == np.uint8 and back.shape == pic.shape
    assert np.array_equal(back, pic)

    webp = tmp_path / "still.webp"
    Image.fromarray(pic).save(webp, quality=80)
    assert read_image(webp).shape == pic.shape
    assert look_similarity(describe_look(read_image(webp)), describe_look(pic)) > 0.98

    text = tmp_path / "notes.jpg"
    text.write_text("this is a shot list, not a picture")
    with pytest.raises(ValueError, match=r"notes\.jpg.*not an image"):
        read_image(text)

    jpeg = tmp_path / "cut_off.jpg"
    ok, buf = cv2.imencode(".jpg", pic)
    assert ok
    jpeg.write_bytes(buf.tobytes()[:200])
    with pytest.raises(ValueError, match=r"cut_off\.jpg.*cannot read"):
        read_image(jpeg)

    with pytest.raises(ValueError, match=r"missing\.png.*cannot read"):
        read_image(tmp_path / "missing.png")
