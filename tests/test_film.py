"""The final film: a rough cut of real Big Buck Bunny shots rendered frame-exact with its mix, read back."""

from __future__ import annotations

import io
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import opentimelineio as otio
import pytest
from PIL import Image

from filmaster_dag.cinema import film as film_module
from filmaster_dag.cinema.film import (
    _burn_caption_frame,
    burn_caption,
    expected_frame,
    poster_strip,
    probe_film,
    render_film,
    shot_motion,
    shot_pictures,
    timeline_frames,
)
from filmaster_dag.cinema.render import encode_video
from filmaster_dag.cinema.timeline import duration_frames, hold, set_speed

from .conftest import BBB_60

W, H = 320, 180
#: (shot_id, scene_id, first frame of Big Buck Bunny 0-60 s, frames): four shots with motion, from different cuts
SHOTS = [("s01-01", "s01", 100, 24), ("s01-02", "s01", 600, 24), ("s02-01", "s02", 1150, 24), ("s02-02", "s02", 300, 24)]


def _bbb(first: int, count: int, width: int = W, height: int = H) -> list[np.ndarray]:
    return _bbb_windows([(first, count)], width, height)[0]


def _bbb_windows(windows: list[tuple[int, int]], width: int, height: int) -> list[list[np.ndarray]]:
    """Windows ``(first frame, frames)`` of Big Buck Bunny 0-60 s at ``width`` x ``height``, decoded in one pass."""
    out: list[list[np.ndarray]] = [[] for _ in windows]
    end = max(first + n for first, n in windows)
    with av.open(str(BBB_60)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i >= end:
                break
            picture = None
            for k, (first, n) in enumerate(windows):
                if first <= i < first + n:
                    picture = picture if picture is not None else frame.to_ndarray(format="rgb24", width=width, height=height)
                    out[k].append(picture)
    return out


def _decode(path: str | Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def _mad(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.abs(a.astype(np.int16) - b.astype(np.int16)).mean())


def _timeline(shots: list[tuple[str, Path, int]], fps: str, width: int = W, height: int = H) -> otio.schema.Timeline:
    """A cut as the rough cut makes it (see timeline.rough_cut): one clip per ``(shot_id, clip file, frames)`` on V1,
    whole frames at the exact rate, the production's rate and size in the timeline's metadata."""
    rate = float(Fraction(fps))
    track = otio.schema.Track(name="V1", kind=otio.schema.TrackKind.Video)
    for sid, path, frames in shots:
        span = otio.opentime.TimeRange(otio.opentime.RationalTime(0, rate), otio.opentime.RationalTime(frames, rate))
        track.append(
            otio.schema.Clip(
                name=sid,
                media_reference=otio.schema.ExternalReference(target_url=path.as_uri(), available_range=span),
                source_range=span,
                metadata={"filmaster": {"shot_id": sid, "scene_id": sid[:3], "source_frames": frames}},
            )
        )
    tl = otio.schema.Timeline(name="Film Test", global_start_time=otio.opentime.RationalTime(0, rate))
    tl.metadata["filmaster"] = {"production": "film-test", "frame_rate": fps, "width": width, "height": height}
    tl.tracks.append(track)
    return tl


@pytest.fixture(scope="module")
def clips(media, tmp_path_factory) -> dict[str, Path]:
    """Each shot's clip: a window of Big Buck Bunny re-encoded at the production's size, 24 fps."""
    folder = tmp_path_factory.mktemp("film_clips")
    return {sid: Path(encode_video(folder / f"{sid}.mp4", _bbb(first, n), rate=24)) for sid, _, first, n in SHOTS}


def _cut(clips: dict[str, Path], fps: str = "24") -> otio.schema.Timeline:
    return _timeline([(sid, clips[sid], n) for sid, _, _, n in SHOTS], fps)


def _tone(seconds: float, rate: int = 48000) -> np.ndarray:
    t = np.arange(round(seconds * rate)) / rate
    return (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)


@pytest.mark.parametrize("fps", ["24", "24000/1001"])
def test_film_has_the_cuts_frames_and_sound_of_its_length(clips, tmp_path, fps):
    tl = _cut(clips, fps)
    frames = duration_frames(tl)
    assert frames == 96
    seconds = float(frames / Fraction(fps))
    # the mix is a little short: it is padded with silence to the picture's end
    out = render_film(tl, tmp_path / "film.mp4", audio=_tone(seconds - 0.5))
    assert out["frames"] == frames and out["frame_rate"] == fps and (out["width"], out["height"]) == (W, H)
    assert out["duration_s"] == pytest.approx(seconds, abs=1e-9)
    assert out["video_codec"] == "libx264" and out["audio_codec"] == "aac" and out["bytes"] == Path(out["path"]).stat().st_size
    probe = probe_film(out["path"])
    assert probe["video_frames"] == frames and probe["frame_rate"] == fps
    assert (probe["width"], probe["height"], probe["video_codec"], probe["audio_codec"]) == (W, H, "h264", "aac")
    assert (probe["audio_rate"], probe["audio_channels"]) == (48000, 2)
    frame_s = float(1 / Fraction(fps))
    assert probe["video_s"] == pytest.approx(seconds, abs=1e-9)
    assert abs(probe["audio_s"] - probe["video_s"]) <= frame_s

    film = _decode(out["path"])
    assert len(film) == frames
    for i in (0, 11, 23, 24, 47, 60, 72, 95):
        want = expected_frame(tl, i)
        wrong = expected_frame(tl, (i + 12) % frames)  # half a second away, or another shot
        right_d, wrong_d = _mad(film[i], want), _mad(film[i], wrong)
        assert right_d < 4.0, (i, right_d)
        assert wrong_d > right_d + 4.0, (i, right_d, wrong_d)

    # the sound: the tone, then silence in the padding
    with av.open(out["path"]) as container:
        sound = np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)
    assert sound.shape[0] == 2 and np.allclose(sound[0], sound[1], atol=0.01)  # AAC codes the pair jointly
    assert np.abs(sound[:, 48000 : 2 * 48000]).max() > 0.2
    assert np.abs(sound[:, round((seconds - 0.3) * 48000) :]).max() < 0.01


def test_timeline_frames_are_the_expected_frames(clips):
    tl = _cut(clips)
    pictures = list(timeline_frames(tl))
    assert len(pictures) == duration_frames(tl) and pictures[0].shape == (H, W, 3) and pictures[0].dtype == np.uint8
    for i in (0, 30, 95):
        assert np.array_equal(pictures[i], expected_frame(tl, i))
    # record frame 30 is the second shot's frame 6, decoded straight from its file
    assert np.array_equal(pictures[30], _decode(clips["s01-02"])[6])
    with pytest.raises(ValueError, match=r"record frame 96 is outside the cut \(0..95\)"):
        expected_frame(tl, 96)


def test_speed_change_and_freeze_show_the_right_source_frames(clips, tmp_path):
    tl = hold(set_speed(set_speed(_cut(clips), "s01-02", 2.0), "s02-01", 0.5), "s01-02", 6)
    # s01-01 24 | s01-02 at 2x: 12 | its freeze: 6 | s02-01 at 0.5x: 48 | s02-02 24
    assert duration_frames(tl) == 24 + 12 + 6 + 48 + 24
    fast, slow = _decode(clips["s01-02"]), _decode(clips["s02-01"])
    shown = {24 + i: fast[2 * i] for i in range(12)}  # record i shows source floor(i * 24 / 12)
    shown |= {36 + i: fast[22] for i in range(6)}  # the freeze holds the last frame shown (22), not 23
    shown |= {42 + i: slow[i // 2] for i in range(48)}
    pictures = list(timeline_frames(tl))
    for rec, want in shown.items():
        assert np.array_equal(pictures[rec], want), rec
    assert not np.array_equal(pictures[30], fast[6])  # the naive one-for-one frame is another picture

    out = render_film(tl, tmp_path / "speed.mp4")
    film = _decode(out["path"])
    assert len(film) == 114 == probe_film(out["path"])["video_frames"]
    for rec in (25, 31, 35, 36, 41, 43, 70, 89):
        assert _mad(film[rec], shown[rec]) < 4.0, rec
    naive = {31: fast[7], 35: fast[11], 60: slow[18]}
    for rec, wrong in naive.items():
        assert _mad(film[rec], wrong) > _mad(film[rec], shown[rec]) + 3.0, rec


def test_a_gap_is_black(clips):
    tl = _cut(clips)
    track = tl.video_tracks()[0]
    track.insert(1, otio.schema.Gap(source_range=otio.opentime.TimeRange(duration=otio.opentime.RationalTime(5, 24))))
    assert duration_frames(tl) == 101
    pictures = list(timeline_frames(tl))
    assert len(pictures) == 101
    assert all(pictures[i].max() <= 2 for i in range(24, 29))
    assert pictures[23].mean() > 30 and np.array_equal(pictures[29], expected_frame(tl, 29))


def test_a_missing_or_corrupt_clip_names_the_shot_and_file(clips, tmp_path):
    tl = _cut(clips)
    clip = tl.video_tracks()[0][2]
    missing = tmp_path / "gone" / "s02-01.mp4"
    clip.media_reference.target_url = missing.as_uri()
    with pytest.raises(ValueError, match=rf"shot 's02-01'.*{missing}.*missing"):
        list(timeline_frames(tl))
    with pytest.raises(ValueError, match=rf"shot 's02-01'.*{missing}.*missing"):
        render_film(tl, tmp_path / "film.mp4")
    assert not list(tmp_path.glob("*film.mp4*"))

    corrupt = tmp_path / "corrupt.mp4"
    corrupt.write_bytes(b"not a film at all" * 100)
    clip.media_reference.target_url = corrupt.as_uri()
    with pytest.raises(ValueError, match=rf"shot 's02-01'.*{corrupt}.*cannot be read"):
        render_film(tl, tmp_path / "film.mp4")

    # a clip shorter than the cut says
    clip.media_reference.target_url = clips["s02-01"].as_uri()
    short = tmp_path / "short.mp4"
    encode_video(short, _bbb(1150, 10), rate=24)
    clip.media_reference.target_url = short.as_uri()
    with pytest.raises(ValueError, match=rf"shot 's02-01'.*{short} has 10 frames, the cut needs frame 10"):
        list(timeline_frames(tl))
    # found out half way through the film: nothing is left behind
    with pytest.raises(ValueError, match=rf"shot 's02-01'.*{short} has 10 frames"):
        render_film(tl, tmp_path / "film.mp4")
    assert not list(tmp_path.glob("*film.mp4*"))


def test_prores_option_writes_a_decodable_mov(clips, tmp_path):
    tl = _cut(clips)
    out = render_film(tl, tmp_path / "film.mov", codec="prores", audio=_tone(4.0))
    assert (out["video_codec"], out["audio_codec"]) == ("prores_ks", "pcm_s16le")
    probe = probe_film(out["path"])
    assert probe["video_codec"] == "prores" and probe["audio_codec"] == "pcm_s16le" and probe["video_frames"] == 96
    assert abs(probe["audio_s"] - probe["video_s"]) <= 1 / 24
    film = _decode(out["path"])
    for i in (0, 50, 95):
        assert _mad(film[i], expected_frame(tl, i)) < 3.0  # 4:2:0 clips through 4:2:2 10-bit and back
    with pytest.raises(ValueError, match="codec 'vp9' is not one of h264, prores"):
        render_film(tl, tmp_path / "film.webm", codec="vp9")  # type: ignore[arg-type]


def test_burned_caption_changes_the_lower_third_only():
    picture = _bbb(600, 1)[0]
    text = "Meanwhile, far from the meadow, a very large rabbit wakes up and is not at all pleased about it."
    titled = burn_caption(picture, text)
    third = -(-2 * H // 3)
    assert np.array_equal(titled[:third], picture[:third])
    assert _mad(titled[third:], picture[third:]) > 20
    # white text on the band: some pixels bright, the band darker than the picture on average
    assert titled[third:].max() >= 250 and titled[third:].mean() < picture[third:].mean()


def test_caption_blended_in_the_pictures_own_planes_looks_like_the_rgb_one():
    with av.open(str(BBB_60)) as container:
        frame = next(f for i, f in enumerate(container.decode(video=0)) if i == 600)
    assert frame.format.name == "yuv420p"
    text = "Meanwhile, far from the meadow, a very large rabbit wakes up."
    fast = _burn_caption_frame(frame, text).to_ndarray(format="rgb24")
    reference = burn_caption(frame.to_ndarray(format="rgb24"), text)
    plain = frame.to_ndarray(format="rgb24")
    third = -(-2 * frame.height // 3)
    assert np.array_equal(fast[: third - 1], plain[: third - 1])
    assert _mad(fast[third:], reference[third:]) < 2.0 < _mad(fast[third:], plain[third:])


def test_rendered_captions_change_the_lower_third_only(clips, tmp_path):
    tl = _cut(clips)
    plain = _decode(render_film(tl, tmp_path / "plain.mp4")["path"])
    titled = _decode(render_film(tl, tmp_path / "titled.mp4", captions=[(10, 40, "THE NEXT MORNING")])["path"])
    third = -(-2 * H // 3)
    for i in (10, 25, 39):
        # above the band only the encoder's choices differ (a different picture steers x264's decisions)
        above = _mad(titled[i][: third - 8], plain[i][: third - 8])
        assert above < 3.0, i
        assert _mad(titled[i][third:], plain[i][third:]) > above + 15, i
    for i in (5, 45, 80):
        assert _mad(titled[i], plain[i]) < 3.0, i


def test_rendering_twice_gives_identical_bytes(clips, tmp_path):
    tl = hold(set_speed(_cut(clips), "s01-02", 1.5), "s02-02", 4)
    a = render_film(tl, tmp_path / "a.mp4", audio=_tone(3.0), captions=[(0, 12, "Once")])
    b = render_film(tl, tmp_path / "b.mp4", audio=_tone(3.0), captions=[(0, 12, "Once")])
    assert a["sha256"] == b["sha256"] and Path(a["path"]).read_bytes() == Path(b["path"]).read_bytes()
    c = render_film(tl, tmp_path / "c.mp4", audio=_tone(3.0), captions=[(0, 12, "Twice")])
    assert c["sha256"] != a["sha256"]


def test_silence_when_there_is_no_mix(clips, tmp_path):
    out = render_film(_cut(clips), tmp_path / "silent.mp4")
    probe = probe_film(out["path"])
    assert probe["audio_codec"] == "aac" and abs(probe["audio_s"] - probe["video_s"]) <= 1 / 24
    with av.open(out["path"]) as container:
        sound = np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)
    assert sound.size and np.abs(sound).max() < 1e-4


def test_poster_strip_is_a_jpeg_of_evenly_spaced_frames(clips, tmp_path, monkeypatch):
    out = render_film(_cut(clips), tmp_path / "film.mp4")
    strip = Image.open(io.BytesIO(poster_strip(out["path"], n=4, thumb_width=80)))
    assert strip.format == "JPEG" and strip.size == (4 * 80, 44)
    thumbs = np.asarray(strip.convert("RGB")).astype(np.int16)
    # frames 12, 36, 60, 84: one from each shot, so neighbouring thumbnails differ
    for k in range(3):
        assert np.abs(thumbs[:, k * 80 : (k + 1) * 80] - thumbs[:, (k + 1) * 80 : (k + 2) * 80]).mean() > 10
    film = _decode(out["path"])
    first = np.asarray(Image.fromarray(film[12]).resize((80, 44)), dtype=np.int16)
    assert np.abs(thumbs[:, :80] - first).mean() < 12
    # a long film is sampled by seeking: the same frames
    monkeypatch.setattr(film_module, "POSTER_SEEK_GAP", 0)
    sought = np.asarray(Image.open(io.BytesIO(poster_strip(out["path"], n=4, thumb_width=80))).convert("RGB")).astype(np.int16)
    assert np.abs(sought - thumbs).mean() < 1.0


@pytest.mark.slow
def test_a_thirty_second_film_at_full_size_keeps_picture_and_sound_together(media, tmp_path):
    """The production's real size and an NTSC rate: 12 shots of 2.5 s (30 s), with a speed change and a hold."""
    fps, width, height = "24000/1001", 640, 360
    windows = [
        (100, 60),
        (600, 60),
        (1150, 60),
        (300, 60),
        (820, 60),
        (900, 60),
        (1000, 60),
        (1260, 60),
        (150, 60),
        (650, 60),
        (420, 60),
        (700, 60),
    ]
    rate = Fraction(fps)
    pictures = _bbb_windows(windows, width, height)
    shots = [(f"s{k:02d}", Path(encode_video(tmp_path / f"shot{k:02d}.mp4", p, rate=rate)), len(p)) for k, p in enumerate(pictures)]
    tl = _timeline(shots, fps, width, height)
    tl = hold(set_speed(tl, "s03", 0.5), "s07", 24)
    frames = duration_frames(tl)
    assert frames == 12 * 60 + 60 + 24
    seconds = float(frames / rate)
    out = render_film(tl, tmp_path / "film.mp4", audio=_tone(seconds + 2.0))  # a long mix is trimmed
    probe = probe_film(out["path"])
    assert probe["video_frames"] == frames and probe["frame_rate"] == fps and (probe["width"], probe["height"]) == (width, height)
    assert abs(probe["audio_s"] - seconds) <= float(1 / rate) and probe["video_s"] == pytest.approx(seconds, abs=1e-9)
    with av.open(out["path"]) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i % 97 == 0 or i == frames - 1:
                picture = frame.to_ndarray(format="rgb24")
                right, wrong = _mad(picture, expected_frame(tl, i)), _mad(picture, expected_frame(tl, (i + 30) % frames))
                assert right < 4.0 and wrong > right + 3.0, (i, right, wrong)


def test_a_mix_at_another_rate_is_resampled_to_48k(clips, tmp_path):
    rate = 22050
    t = np.arange(4 * rate) / rate
    mix = (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32)
    out = render_film(_cut(clips), tmp_path / "film.mp4", audio=mix, audio_rate=rate)
    probe = probe_film(out["path"])
    assert probe["audio_rate"] == 48000 and abs(probe["audio_s"] - 4.0) <= 1 / 24
    with av.open(out["path"]) as container:
        sound = np.concatenate([f.to_ndarray() for f in container.decode(audio=0)], axis=1)[0]
    # still a 440 Hz tone at the new rate: the strongest bin of a one-second window
    window = sound[48000:96000]
    assert abs(int(np.argmax(np.abs(np.fft.rfft(window)))) - 440) <= 2


def test_shot_motion_tells_moving_pictures_from_still_ones(clips, tmp_path):
    """Motion is measured in the frames the cut shows: Big Buck Bunny crossing the frame reads above
    review.STILL_MOTION, the meadow with only leaves stirring below it, a held picture about zero."""
    from filmaster_dag.cinema.review import STILL_MOTION

    moving, slow, still = tmp_path / "moving.mp4", tmp_path / "slow.mp4", tmp_path / "still.mp4"
    pictures = _bbb_windows([(1300, 24), (400, 24)], W, H)  # Bunny striding through the frame; the quiet meadow
    encode_video(moving, pictures[0], 24)
    encode_video(slow, pictures[1], 24)
    encode_video(still, [pictures[0][0]] * 24, 24)
    motion = shot_motion(_timeline([("moving", moving, 24), ("slow", slow, 24), ("still", still, 24)], "24"))
    assert set(motion) == {"moving", "slow", "still"}
    assert motion["still"] < 1.0 and motion["slow"] < STILL_MOTION < motion["moving"], motion
    # the keyframe that comes with it is the shot's middle frame, as the review's thumbnail sees it
    from filmaster_dag.cinema.review import keyframe_similarity

    tl = _timeline([("moving", moving, 24), ("slow", slow, 24)], "24")
    seen = shot_pictures(tl)
    assert keyframe_similarity(seen["moving"][0], expected_frame(tl, 12)) > 0.99
    assert keyframe_similarity(seen["moving"][0], expected_frame(tl, 36)) < keyframe_similarity(seen["slow"][0], expected_frame(tl, 36))
