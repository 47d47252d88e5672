"""Probe and decode on real films, and every kind of bad input named in the issue."""

from __future__ import annotations

import dataclasses
import json
import os
import re
from fractions import Fraction

import av
import numpy as np
import pytest

from filmaster_dag.cinema.media import FilmError, FilmProbe, iter_frames, list_films, load_soundtrack, probe, run_decode_pass

from .conftest import BBB_60, BBB_720_WEBM, CHAPLIN, SINTEL
from .media_factory import corrupt_packets, real_frames, truncate, write_audio_only, write_video


def test_probe_real_films(media):
    bbb = probe(BBB_60)
    assert (bbb.container.split(",")[0], bbb.video_codec, bbb.width, bbb.height) == ("mov", "h264", 640, 360)
    assert bbb.frame_rate == 24 and not bbb.variable_frame_rate
    assert bbb.frame_count == 1440 and abs(bbb.duration_s - 60.0) < 1 / 24
    assert bbb.audio_streams[0].codec == "aac" and bbb.audio_streams[0].channels == 2
    assert len(bbb.sha256) == 64 and bbb.file_size == BBB_60.stat().st_size
    assert bbb.display_aspect == pytest.approx(16 / 9, abs=0.01)
    webm = probe(BBB_720_WEBM)
    assert webm.video_codec == "vp8" and (webm.width, webm.height) == (1280, 720)
    assert webm.audio_streams[0].codec == "vorbis" and webm.frame_count == 720
    assert probe(CHAPLIN).frame_rate == 25


def test_decode_pass_feeds_every_analyser_every_frame(media):
    seen_a, seen_b = [], []

    class Count:
        def __init__(self, sink):
            self.sink = sink

        def update(self, frame):
            self.sink.append((frame.index, frame.time.seconds, frame.bgr.shape))

    d = run_decode_pass(SINTEL, [Count(seen_a), Count(seen_b)], analysis_width=256)
    assert seen_a == seen_b and len(seen_a) == d.frame_count == 120
    assert seen_a[0][2] == (160, 284, 3)  # 854x480 / 3, sides multiples of 4
    assert seen_a[24][1] == pytest.approx(1.0, abs=1e-6)
    assert d.duration_s == pytest.approx(5.0, abs=1 / 24)


def test_pass_scalers_give_the_pictures_pyav_gives(media):
    """The decode pass keeps one FFmpeg scaler per output size; the pictures are PyAV's own,
    byte for byte (keyframe pictures and the analysis picture of a non-4:2:0 film)."""
    from filmaster_dag.cinema.media import Reformatters

    scalers = Reformatters()
    with av.open(str(SINTEL)) as container:
        for i, frame in enumerate(container.decode(video=0)):
            if i % 20:
                continue
            for width, height, fmt in ((480, 270, "rgb24"), (284, 160, "bgr24"), (480, 270, "rgb24")):
                ours = scalers.reformat(frame, width, height, fmt)
                theirs = frame.reformat(width=width, height=height, format=fmt, interpolation="AREA").to_ndarray()
                assert ours.shape == (height, width, 3)
                np.testing.assert_array_equal(ours, theirs)


def test_opencv_works_on_the_calling_thread_only(monkeypatch):
    """The analysis runs its own threads; OpenCV's pool, set to one thread on import, stays out
    (its spinning cost 15-20 % of a film's CPU). The setting can be changed or left to OpenCV."""
    import cv2

    from filmaster_dag.cinema import media

    if "FILMASTER_OPENCV_THREADS" not in os.environ:
        assert cv2.getNumThreads() == 1
    before = cv2.getNumThreads()
    try:
        monkeypatch.setenv("FILMASTER_OPENCV_THREADS", "2")
        media._one_opencv_thread()
        assert cv2.getNumThreads() == 2
        monkeypatch.setenv("FILMASTER_OPENCV_THREADS", "default")
        media._one_opencv_thread()
        assert cv2.getNumThreads() == 2  # left as it was
    finally:
        cv2.setNumThreads(before)


def test_soundtrack_decodes_to_mono(media):
    track = load_soundtrack(BBB_60)
    assert track.sample_rate == 22050 and track.samples.ndim == 1
    assert track.duration_s == pytest.approx(60.0, abs=0.3)
    assert float(np.abs(track.samples).max()) > 0.05


def _error(path) -> str:
    with pytest.raises(FilmError) as info:
        probe(path, film="test-film")
    message = str(info.value)
    assert "\n" not in message and path.name in message and "test-film" in message
    return message


def test_zero_byte_file(tmp_path):
    p = tmp_path / "empty film.mp4"
    p.write_bytes(b"")
    assert "empty (0 bytes)" in _error(p)


@pytest.mark.parametrize("text", ["this is not a film\n" * 50, "not a film at all\n" * 100, "{}", "x"])
def test_text_file_named_mp4(tmp_path, text):
    p = tmp_path / "notes.mp4"
    p.write_text(text)
    message = _error(p)
    assert ("not a readable video container" in message or "not a video" in message) and "re-export" in message


@pytest.mark.parametrize("fraction", [0.05, 0.5])
def test_truncated_file(tmp_path, media, fraction):
    p = truncate(BBB_60, tmp_path / "bbb_truncated.mp4", fraction)
    message = _error(p)
    assert any(w in message for w in ("truncated", "not a readable", "damaged", "no decodable")), message


def test_audio_only_file(tmp_path):
    p = write_audio_only(tmp_path / "song.mp4")
    assert "audio-only" in _error(p)


def test_missing_and_unreadable(tmp_path, monkeypatch):
    dangling = tmp_path / "gone.mp4"
    dangling.symlink_to(tmp_path / "nowhere.mp4")
    assert "not found" in _error(dangling)
    p = tmp_path / "locked.mp4"
    p.write_bytes(b"\0" * 100)

    def deny(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    monkeypatch.setattr(av, "open", deny)
    assert "permission" in _error(p)


def test_inbox_lists_only_video_files(tmp_path):
    (tmp_path / "a film.mp4").write_bytes(b"x")
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "Été.webm").write_bytes(b"x")
    (tmp_path / "readme.txt").write_text("x")
    (tmp_path / ".hidden.mp4").write_bytes(b"x")
    assert [p.name for p in list_films(tmp_path)] == ["a film.mp4", "Été.webm"]


def test_1080p_and_non_ascii_name(tmp_path, media):
    frames = real_frames(SINTEL, 40, 12, size=(1920, 1080))
    p = write_video(tmp_path / "Ciné vérité 1080p.mp4", frames)
    info = probe(p)
    assert (info.width, info.height, info.frame_count) == (1920, 1080, 12)
    shapes = {f.bgr.shape for f in iter_frames(p, 256)}
    assert shapes == {(152, 272, 3)}  # 1920x1080 / 7, sides multiples of 4


def test_rotated_phone_video_is_analysed_upright(tmp_path, media):
    frames = real_frames(SINTEL, 40, 10, size=(640, 360))
    p = write_video(tmp_path / "phone.mp4", frames, rotation=-90)
    info = probe(p)
    assert info.rotation in (90, 270)
    assert (info.display_width, info.display_height) == (360, 640)
    frame = next(iter_frames(p, 180))
    assert frame.bgr.shape[:2] == (320, 180)  # portrait, as the phone showed it
    assert frame.rgb(360).shape[:2] == (640, 360)


def test_variable_frame_rate_keeps_real_times(tmp_path, media):
    frames = real_frames(SINTEL, 20, 40, size=(320, 180))
    times, t = [], 0.0
    for i in range(40):
        times.append(round(t, 3))
        t += 1 / 30 if i % 2 else 1 / 12  # alternating 30 fps and 12 fps spacing
    p = write_video(tmp_path / "vfr.mp4", frames, rate=30, frame_times_s=times)
    info = probe(p)
    assert info.variable_frame_rate
    decoded = [f.time.seconds for f in iter_frames(p)]
    assert len(decoded) == 40
    assert decoded == pytest.approx([x - times[0] for x in times], abs=0.002)


def test_anamorphic_pixels_are_unsqueezed(tmp_path, media):
    """A 320x240 picture with 4:3 pixels is shown 427x240: analysis and keyframe pictures agree."""
    from fractions import Fraction

    from filmaster_dag.cinema.render import encode_video

    frames = real_frames(SINTEL, 40, 6, size=(320, 240))
    p = tmp_path / "anamorphic.mp4"
    encode_video(p, frames, sample_aspect_ratio=Fraction(4, 3))
    info = probe(p)
    assert (info.width, info.height, info.display_width, info.display_height) == (320, 240, 427, 240)
    frame = next(iter_frames(p, 200))
    bgr_aspect = frame.bgr.shape[1] / frame.bgr.shape[0]
    rgb = frame.rgb(640)
    assert rgb.shape[:2] == (240, 427)
    assert abs(bgr_aspect - 427 / 240) < 0.05


def test_probe_record_round_trips_through_json(media):
    """The probe is stored as JSON: from_record(to_record()) gives the same probe, exact rate included."""
    info = probe(SINTEL)
    assert FilmProbe.from_record(json.loads(json.dumps(info.to_record()))) == info
    ntsc = dataclasses.replace(info, frame_rate=Fraction(24000, 1001))  # 23.976..., not a float
    back = FilmProbe.from_record(json.loads(json.dumps(ntsc.to_record())))
    assert back == ntsc and back.frame_rate == Fraction(24000, 1001) and isinstance(back.audio_streams, tuple)


def _truncation_in(message: str) -> tuple[float, float]:
    found = re.search(r"file truncated at (\d+\.\d) s of (\d+\.\d) s", message)
    assert found, message
    assert "audio" not in message and "\n" not in message and "copy the whole film again" in message
    return float(found.group(1)), float(found.group(2))


@pytest.mark.parametrize("film", [BBB_60, BBB_720_WEBM], ids=["mp4", "webm"])
def test_file_cut_off_at_99_percent_is_named_truncated(tmp_path, media, film):
    """A copy that stops 1 % short is a truncated file (not an audio problem), caught by the probe
    and named the same by the soundtrack decode, which may run on its own."""
    cut = truncate(film, tmp_path / f"cut{film.suffix}", 0.99)
    reached, total = _truncation_in(_error(cut))
    assert total == pytest.approx(probe(film).duration_s, abs=0.2) and 0.95 * total < reached < total
    with pytest.raises(FilmError) as info:
        load_soundtrack(cut, film="test-film")
    assert _truncation_in(str(info.value))[1] == total


@pytest.mark.slow
def test_damaged_gop_is_concealed_and_recorded(tmp_path, media):
    """16 KB of garbage inside one GOP at 31 s: the film is kept, the damaged stretch is recorded,
    the lost frames are left out (never invented) and the soundtrack keeps its length and sync."""
    bad = corrupt_packets(BBB_60, tmp_path / "bbb_damaged.mp4", "video", at_s=31.0, nbytes=16384)
    assert probe(bad).frame_count == 1440  # the container still lists every frame
    d = run_decode_pass(bad, [], film="test-film")
    assert 1400 <= d.frame_count < 1440
    assert d.damaged_ranges and all(30.5 <= a < b <= 32.0 for a, b in d.damaged_ranges)
    assert any("damaged" in n and "left out" in n for n in d.notes)
    seconds = np.array([t.seconds for t in d.frame_times])
    assert np.all(np.diff(seconds) > 0)
    assert np.allclose(seconds * 24, np.round(seconds * 24), atol=1e-3)  # every frame is a real 1/24 s frame
    lost = {round(x) for a, b in d.damaged_ranges for x in np.arange(a, b - 1e-6, 1 / 24) * 24}
    assert not lost & set(np.round(seconds * 24).astype(int).tolist())  # nothing decoded inside the lost stretch
    track = load_soundtrack(bad, film="test-film")
    assert track.damaged_ranges and all(30.5 <= a < b <= 32.0 for a, b in track.damaged_ranges)
    assert track.duration_s == pytest.approx(load_soundtrack(BBB_60).duration_s, abs=0.05)
    start, end = (round(x * track.sample_rate) for x in track.damaged_ranges[0])
    slack = round(0.005 * track.sample_rate)  # the resampler's delay
    assert not np.any(track.samples[start + slack : end - slack])  # the lost sound is silence, in place (5 ms)


def test_too_much_damage_rejects_the_film_and_says_how_much(tmp_path, media):
    bad = corrupt_packets(BBB_60, tmp_path / "bbb_damaged.mp4", "video", at_s=5.0, nbytes=16384)
    with pytest.raises(FilmError) as info:
        run_decode_pass(bad, [], film="test-film", max_damaged_fraction=0.001)
    message = str(info.value)
    assert "test-film" in message and "\n" not in message
    assert re.search(r"video damaged over \d+\.\d s of 60\.0 s .*more than the 0\.1 % a film may lose", message), message
    with pytest.raises(FilmError, match=r"audio damaged over .* of 60\.1 s"):
        load_soundtrack(bad, film="test-film", max_damaged_fraction=0.001)
