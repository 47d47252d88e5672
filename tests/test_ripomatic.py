"""The ripomatic on real footage (Big Buck Bunny 0-60 s): exact clips, the planned camera move as
the library's own classifier measures it, reframing around the subject, retiming, clear errors
and cache keys.

Windows used: 12.0-15.0 s is shot 2, locked off (the camera classifier calls it static); 24.0-30.0 s
is the wide shot of the tree and burrow, which slowly pushes in (about 2.9 %/s).
"""

from __future__ import annotations

from fractions import Fraction
from pathlib import Path

import av
import cv2
import numpy as np
import pytest

from filmaster_dag.cinema.media import iter_frames
from filmaster_dag.cinema.planning.models import FootageWindow, PlannedShot
from filmaster_dag.cinema.ripomatic import (
    FACE_HEIGHT,
    MAX_SPEEDUP,
    RipomaticError,
    clip_movement,
    measure_clip_movement,
    plan_camera,
    render_ripomatic,
    retime,
)
from filmaster_dag.resources.generator import GenerationError, PictureSpec, ShotRequest, cache_key
from filmaster_dag.resources.generator.ripomatic import RipomaticGenerator

from .conftest import BBB_60, CHAPLIN
from .media_factory import real_frames, write_video

STATIC_WINDOW = (12.0, 15.0)
TREE_WINDOW = (24.0, 30.0)


def _shot(
    movement: str = "static",
    scale: str = "wide",
    window: tuple[float, float] | None = STATIC_WINDOW,
    frames: int = 72,
    fps: Fraction = Fraction(24),
    source: Path | str | None = BBB_60,
    **footage: object,
) -> PlannedShot:
    return PlannedShot(
        shot_id="s01-01",
        scene_id="s01",
        order=0,
        prompt="a meadow at morning, wide",
        description="a meadow",
        shot_scale=scale,
        camera_angle="eye_level",
        movement=movement,
        frames=frames,
        duration_s=float(frames / fps),
        footage=None
        if window is None
        else FootageWindow(
            shot_id="bbb-002", film="big_buck_bunny_0-60s", source_path=str(source), in_s=window[0], out_s=window[1], **footage
        ),
    )


def _decoded(path: Path) -> tuple[int, int, int, Fraction, str]:
    """(frames decoded, width, height, frame rate, codec) of a clip, read back with PyAV."""
    with av.open(str(path)) as c:
        vs = c.streams.video[0]
        rate, codec = Fraction(vs.average_rate), vs.codec_context.name
        frames = [f for f in c.decode(vs)]
    return len(frames), frames[0].width, frames[0].height, rate, codec


# -- fast: pure functions and errors ------------------------------------------------------------------------


def test_retime_slows_a_short_window_and_trims_a_long_one():
    times = [i / 24 for i in range(24)]  # a 1 s window at 24 fps
    index, detail = retime(times, 72, Fraction(24))  # into 3 s
    assert len(index) == 72 and detail["mode"] == "slowed"
    assert detail["speed"] == pytest.approx(1 / 3, abs=1e-3)
    assert index == sorted(index) and index[0] == 0 and index[-1] == 23  # all of it, in order, each held ~3 frames
    assert detail["source_frames_used"] == 24

    long = [i / 24 for i in range(240)]  # 10 s into 2 s: real time from the start, tail left out
    index, detail = retime(long, 48, Fraction(24))
    assert detail["mode"] == "trimmed" and index == list(range(48))
    # Only the part that plays is decoded; the planned window's length still decides the mode.
    index, detail = retime(long[:50], 48, Fraction(24), window_s=10.0)
    assert detail["mode"] == "trimmed" and detail["factor"] == 5.0 and index == list(range(48))

    fits = [i / 24 for i in range(int(24 * 2 * MAX_SPEEDUP))]  # up to MAX_SPEEDUP longer: sped up, all used
    index, detail = retime(fits, 48, Fraction(24))
    assert detail["mode"] == "sped up" and detail["speed"] == MAX_SPEEDUP and len(index) == 48
    assert index[-1] >= len(fits) - 2  # the last output frame shows the window's last moment


@pytest.mark.parametrize("move", ["static", "pan_left", "pan_right", "tilt_up", "tilt_down", "push_in", "pull_out", "handheld"])
def test_camera_path_stays_inside_the_frame(move):
    plan = plan_camera(96, 24.0, (640, 360), 16 / 9, (600.0, 30.0), 0.5, None if move == "static" else move, seed=3)
    assert len(plan.boxes) == 96
    for b in plan.boxes:
        assert b.x >= 0 and b.y >= 0 and b.x + b.w <= 640 + 1e-6 and b.y + b.h <= 360 + 1e-6
        assert b.w / b.h == pytest.approx(16 / 9, rel=1e-6)
    first, last = plan.boxes[0], plan.boxes[-1]
    if move in ("pan_left", "pan_right"):
        assert (last.x - first.x) * (1 if move == "pan_right" else -1) > 0.15 * first.w
    if move == "push_in":
        assert last.w < first.w / 1.15
    if move == "static":
        assert first == last


def test_no_footage_is_a_clear_error(tmp_path):
    with pytest.raises(RipomaticError, match=r"^ripomatic shot s01-01: no footage window to cut from; "):
        render_ripomatic(_shot(window=None), 320, 180, Fraction(24), tmp_path / "a.mp4")
    with pytest.raises(RipomaticError, match=r"source film not found"):
        render_ripomatic(_shot(source=tmp_path / "gone.mp4"), 320, 180, Fraction(24), tmp_path / "a.mp4")
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a film at all" * 100)
    with pytest.raises(RipomaticError, match=r"source film cannot be read \(junk.mp4"):
        render_ripomatic(_shot(source=junk), 320, 180, Fraction(24), tmp_path / "a.mp4")
    with pytest.raises(RipomaticError, match=r"no frames in the footage window 70.00-75.00 s"):
        render_ripomatic(_shot(window=(70.0, 75.0)), 320, 180, Fraction(24), tmp_path / "a.mp4")
    # The resource says the same, as the generator interface's error.
    request = ShotRequest(_shot(window=None), PictureSpec(320, 180, Fraction(24)), seed=7)
    with pytest.raises(GenerationError, match=r"no footage window to cut from"):
        RipomaticGenerator().generate(request, str(tmp_path / "a.mp4"))
    assert not (tmp_path / "a.mp4").exists()


def test_cache_parts_change_with_what_makes_the_clip_and_nothing_else():
    gen = RipomaticGenerator()
    spec = PictureSpec(854, 480, Fraction(24))
    base = ShotRequest(_shot("pan_left"), spec, seed=7)
    key = cache_key(gen, base)
    assert key == cache_key(RipomaticGenerator(), ShotRequest(_shot("pan_left"), spec, seed=7))
    parts = gen.cache_parts(base)
    assert parts["source"]["size"] == BBB_60.stat().st_size and parts["window"] == [12.0, 15.0]

    same = [
        base.shot.model_copy(update={"prompt": "another prompt", "description": "another"}),
        base.shot.model_copy(update={"camera_angle": "low"}),  # the ripomatic has no angle to give
    ]
    for shot in same:
        assert cache_key(gen, ShotRequest(shot, spec, seed=7)) == key
    assert cache_key(gen, ShotRequest(base.shot, spec, seed=7, style="noir")) == key

    changed = [
        ShotRequest(_shot("pan_right"), spec, seed=7),
        ShotRequest(_shot("pan_left", window=(12.0, 14.0)), spec, seed=7),
        ShotRequest(_shot("pan_left", frames=48), spec, seed=7),
        ShotRequest(_shot("pan_left", scale="close_up"), spec, seed=7),
        ShotRequest(_shot("pan_left", reference_movement="pan_left"), spec, seed=7),
        ShotRequest(_shot("pan_left", reference_scale="medium"), spec, seed=7),
        ShotRequest(base.shot, PictureSpec(854, 480, Fraction(25)), seed=7),
        ShotRequest(base.shot, PictureSpec(1280, 720, Fraction(24)), seed=7),
        ShotRequest(base.shot, spec, seed=8),
    ]
    keys = {cache_key(gen, r) for r in changed}
    assert key not in keys and len(keys) == len(changed)
    assert cache_key(RipomaticGenerator(move_strength=0.25), base) != key
    assert cache_key(RipomaticGenerator(crf=23), base) != key


# -- slow: real clips -------------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("fps", "size"), [(Fraction(24), (854, 480)), (Fraction(24000, 1001), (640, 360)), (Fraction(25), (1280, 720))])
def test_clip_has_the_exact_frames_size_and_rate(media, tmp_path, fps, size):
    gen = RipomaticGenerator()
    shot = _shot("pan_right", frames=61, fps=fps)
    clip = gen.generate(ShotRequest(shot, PictureSpec(*size, fps), seed=3), str(tmp_path / "clip.mp4"))
    assert (clip.frames, clip.width, clip.height, clip.fps, clip.generator) == (61, *size, str(fps), "ripomatic/1")
    frames, width, height, rate, codec = _decoded(tmp_path / "clip.mp4")
    assert (frames, width, height, rate, codec) == (61, *size, fps, "h264")
    assert clip.detail["output"] == {"width": size[0], "height": size[1], "fps": str(fps), "frames": 61}
    assert clip.detail["source"]["in_s"] == 12.0 and clip.detail["move"]["applied"] == "pan_right"


@pytest.mark.slow
def test_the_same_shot_renders_to_the_same_bytes(media, tmp_path):
    """A clip is reproducible: measuring the window (RANSAC) and encoding (x264) give the same file
    every time, so a manifest's sha256 means the same picture. (With x264's MB-tree on, three
    encodes of this shot in one process gave three different files.)"""
    gen = RipomaticGenerator()
    request = ShotRequest(_shot("push_in", window=TREE_WINDOW, frames=61), PictureSpec(854, 480, Fraction(24)), seed=5)
    clips = [gen.generate(request, str(tmp_path / f"{n}.mp4")) for n in range(3)]
    assert clips[0].detail == clips[1].detail == clips[2].detail
    assert len({(tmp_path / f"{n}.mp4").read_bytes() for n in range(3)}) == 1


@pytest.mark.slow
@pytest.mark.parametrize("move", ["static", "pan_left", "pan_right", "tilt_up", "tilt_down", "push_in", "pull_out", "handheld"])
def test_planned_move_is_what_the_library_measures(media, tmp_path, move):
    """On the locked-off window every planned move is made by the virtual camera, and the
    library's own camera-movement classifier reads it back."""
    path = tmp_path / f"{move}.mp4"
    detail = render_ripomatic(_shot(move), 854, 480, Fraction(24), path, reference_movement="static", seed=1)
    assert detail["reference"]["movement"] == "static"  # measured over the window
    assert detail["move"]["applied"] == (None if move == "static" else move)
    measured = clip_movement(path)
    assert measured.movement == move, measured
    if move in ("pan_left", "pan_right"):  # filmic: about a fifth of the frame over 3 s, not a whip
        assert 0.04 <= measured.speed <= 0.12, measured


@pytest.mark.slow
@pytest.mark.parametrize("seed", [2, 5, 11])
def test_handheld_shake_is_read_as_handheld_for_other_seeds(media, tmp_path, seed):
    path = tmp_path / "handheld.mp4"
    render_ripomatic(_shot("handheld", window=(40.0, 44.0), frames=96), 640, 360, Fraction(24000, 1001), path, seed=seed)
    assert measure_clip_movement(path) == "handheld"


@pytest.mark.slow
@pytest.mark.parametrize("move", ["static", "pan_right", "pull_out"])
def test_a_moving_reference_is_countered(media, tmp_path, move):
    """The tree shot pushes in by itself; a planned static shot is locked off by cancelling it,
    and a planned pan or pull-out is what is seen, not the reference's push-in."""
    path = tmp_path / f"tree-{move}.mp4"
    detail = render_ripomatic(_shot(move, window=TREE_WINDOW, frames=96), 854, 480, Fraction(24), path)
    assert detail["reference"]["movement"] == "push_in"
    assert detail["move"]["countered"]["zoom"] > 0.01
    assert detail["retime"]["mode"] == "trimmed" and detail["source"]["decoded_until_s"] == pytest.approx(28.1)
    assert measure_clip_movement(path) == move


@pytest.mark.slow
def test_close_up_crops_around_the_subject(media, tmp_path):
    path = tmp_path / "cu.mp4"
    detail = render_ripomatic(_shot("static", scale="close_up", reference_scale="wide"), 854, 480, Fraction(24), path)
    W, H = detail["source"]["display"]
    x, y, w, h = detail["crop_start"]
    assert detail["crop_start"] == detail["crop_end"]
    assert w < 0.5 * W and h < 0.5 * H  # wide -> close-up: a blow-up of about 3x (MAX_ZOOM)
    assert detail["framing"]["crop_fraction"] == pytest.approx(1 / 3, abs=0.01)
    assert w / h == pytest.approx(854 / 480, rel=1e-3)
    sx, sy = detail["subject"]["x"] * W, detail["subject"]["y"] * H
    assert x <= sx <= x + w and y <= sy <= y + h
    assert detail["subject"]["evidence"] in ("face", "person", "saliency")
    # The picture is that crop blown up: compare with the source frame cut and scaled the same way.
    with av.open(str(BBB_60)) as c:
        c.seek(int(12.0 / c.streams.video[0].time_base), stream=c.streams.video[0])
        source = next(f for f in c.decode(video=0) if f.time >= 12.0 - 1e-3).to_ndarray(format="rgb24")
    with av.open(str(path)) as c:
        first = next(c.decode(video=0)).to_ndarray(format="rgb24")
    expected = cv2.resize(source[round(y) : round(y + h), round(x) : round(x + w)], (854, 480), interpolation=cv2.INTER_LINEAR)
    other = cv2.resize(source, (854, 480), interpolation=cv2.INTER_AREA)
    err = np.abs(first.astype(float) - expected).mean()
    assert err < 6 and err < 0.5 * np.abs(first.astype(float) - other).mean()


@pytest.mark.slow
def test_a_face_is_reframed_by_its_measured_height(media, tmp_path):
    """Chaplin in the park (3.5-7.5 s): his face is confirmed by both cascades; a medium shot
    blows the frame up until the face has a medium shot's height, framed with headroom."""
    shot = _shot("static", scale="medium", window=(3.5, 7.5), frames=96, source=CHAPLIN)
    detail = render_ripomatic(shot, 854, 480, Fraction(24), tmp_path / "medium.mp4")
    subject = detail["subject"]
    assert subject["evidence"] == "face" and detail["reference"]["scale_from"] == "measured face"
    fx, fy, fw, fh = subject["box"]
    assert detail["framing"]["crop_fraction"] == pytest.approx(fh / FACE_HEIGHT["medium"], abs=0.002)
    W, H = detail["source"]["display"]
    x, y, w, h = detail["crop_start"]
    assert x <= (fx + fw / 2) * W <= x + w and y <= (fy + fh / 2) * H <= y + h
    assert (fy + fh / 2) * H < y + h / 2  # headroom: the face above the middle of the frame
    assert _decoded(tmp_path / "medium.mp4")[:3] == (96, 854, 480)


@pytest.mark.slow
def test_short_window_is_slowed_to_the_exact_length(media, tmp_path):
    path = tmp_path / "slow.mp4"
    detail = render_ripomatic(_shot("static", window=(12.0, 13.0), frames=60), 640, 360, Fraction(25), path)
    assert detail["retime"]["mode"] == "slowed"
    assert detail["retime"]["speed"] == pytest.approx(1.0 / 2.4, abs=0.01)
    assert detail["retime"]["source_frames_used"] == 24
    assert _decoded(path)[:4] == (60, 640, 360, Fraction(25))


@pytest.mark.slow
def test_a_rotated_phone_clip_is_cut_upright(media, tmp_path):
    """A phone clip stored landscape with a 90-degree display matrix is shown portrait: the
    ripomatic cuts its 16:9 frame from the upright picture, as the library analysed it."""
    phone = write_video(tmp_path / "phone.mp4", real_frames(BBB_60, 300, 36), rotation=-90)
    path = tmp_path / "clip.mp4"
    detail = render_ripomatic(_shot("static", window=(0.0, 1.5), frames=36, source=phone), 320, 180, Fraction(24), path)
    assert detail["source"]["display"] == [360, 640] and detail["source"]["rotation"] in (90, 270)
    _x, y, w, h = detail["crop_start"]
    assert w == pytest.approx(360) and h == pytest.approx(202.5)
    upright = next(iter_frames(phone, 180)).rgb(360)
    assert upright.shape[:2] == (640, 360)
    expected = cv2.resize(upright[round(y) : round(y + h), :], (320, 180), interpolation=cv2.INTER_AREA)
    sideways = cv2.resize(np.ascontiguousarray(np.rot90(upright))[: round(h * 360 / 640)], (320, 180), interpolation=cv2.INTER_AREA)
    with av.open(str(path)) as c:
        first = next(c.decode(video=0)).to_ndarray(format="rgb24").astype(float)
    assert np.abs(first - expected).mean() < 6 < np.abs(first - sideways).mean()
    assert _decoded(path)[:4] == (36, 320, 180, Fraction(24))
