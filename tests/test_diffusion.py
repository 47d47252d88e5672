"""The diffusers shot generator with tiny random-weight pipelines loaded through the real offline path.

Pipelines are built from configs (tests/tiny_pipelines.py), saved to a temporary folder and loaded
with ``from_pretrained(folder, local_files_only=True)``; nothing is downloaded. The pictures are
noise; what is checked is the film side: the clip has the planned frames, size and rate, the seed
makes it reproducible, and the cache key follows what determines it.
"""

from __future__ import annotations

import json
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import pytest
from PIL import Image

from filmaster_dag.cinema.planning.models import PlannedShot
from filmaster_dag.cinema.vocabulary import CameraAngle, CameraMovement, ShotScale
from filmaster_dag.resources.generator import GenerationError, PictureSpec, ShotRequest, cache_key
from filmaster_dag.resources.generator.diffusion import (
    KINDS,
    DiffusersGenerator,
    accepted_frames,
    accepted_size,
    compose_prompt,
    fill_crop,
    retime_generated,
)

from .tiny_pipelines import (
    build_tiny_animatediff,
    build_tiny_cogvideox,
    build_tiny_ltx,
    build_tiny_ltx_i2v,
    build_tiny_svd,
    build_tiny_wan,
)

SPEC = PictureSpec(80, 48, Fraction(24))


@pytest.fixture(scope="module")
def tiny(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("pipelines")
    return {
        "ltx": build_tiny_ltx(root / "ltx"),
        "ltx_i2v": build_tiny_ltx_i2v(root / "ltx_i2v"),
        "svd": build_tiny_svd(root / "svd"),
    }


@pytest.fixture(scope="module")
def reference_image(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("refs") / "heroine.png"
    rng = np.random.default_rng(3)
    Image.fromarray(rng.integers(0, 255, (60, 100, 3), dtype=np.uint8)).save(path)
    return path


def _shot(prompt: str = "a girl walks across the meadow", frames: int = 12, **kw) -> PlannedShot:
    values = dict(
        shot_id="s01-01",
        scene_id="s01",
        order=0,
        prompt=prompt,
        description="A girl crosses the meadow.",
        shot_scale=ShotScale.WIDE,
        camera_angle=CameraAngle.HIGH,
        movement=CameraMovement.PAN_LEFT,
        frames=frames,
        duration_s=frames / 24,
        characters=["Ana"],
    )
    return PlannedShot(**(values | kw))


def _request(shot: PlannedShot | None = None, seed: int = 7, image: Path | None = None) -> ShotRequest:
    return ShotRequest(
        shot=shot or _shot(), spec=SPEC, seed=seed, style="pastoral animation", conditioning_image=str(image) if image else None
    )


def _decode(path: str) -> tuple[np.ndarray, Fraction]:
    with av.open(path) as container:
        stream = container.streams.video[0]
        frames = np.stack([f.to_ndarray(format="rgb24") for f in container.decode(stream)])
        return frames, Fraction(stream.average_rate)


def test_text_to_video_clip_has_the_planned_frames_size_and_rate(tiny, tmp_path):
    gen = DiffusersGenerator(model=str(tiny["ltx"]), width=64, height=64, steps=2)
    clip = gen.generate(_request(), str(tmp_path / "shot.mp4"))
    frames, rate = _decode(clip.path)
    assert frames.shape == (12, 48, 80, 3)
    assert rate == 24
    assert (clip.frames, clip.width, clip.height, clip.fps) == (12, 80, 48, "24")
    # 12 frames at 24 fps = 0.5 s at LTX's 24 fps, rounded up to 8k+1 frames; generated at the configured 64x64.
    assert clip.detail["generated_frames"] == 17
    assert clip.detail["generated_size"] == [64, 64]
    assert clip.detail["pipeline"] == "ltx"
    assert clip.detail["device"] == "cpu"
    assert "wide shot" in clip.detail["prompt"] and "camera panning left" in clip.detail["prompt"]
    assert "pastoral animation" in clip.detail["prompt"]
    assert {"load_s", "inference_s", "conform_s", "encode_s"} <= set(clip.detail)


def test_same_request_same_key_and_pixels_other_prompt_other_key(tiny, tmp_path):
    first = DiffusersGenerator(model=str(tiny["ltx"]), width=32, height=32, steps=2)
    second = DiffusersGenerator(model=str(tiny["ltx"]), width=32, height=32, steps=2)  # loads its own copy
    request = _request()
    assert cache_key(first, request) == cache_key(second, request)
    a, _ = _decode(first.generate(request, str(tmp_path / "a.mp4")).path)
    b, _ = _decode(second.generate(request, str(tmp_path / "b.mp4")).path)
    assert np.array_equal(a, b)

    assert cache_key(first, _request(_shot("an old man waits by the road"))) != cache_key(first, request)
    reseeded = _request(seed=8)
    assert cache_key(first, reseeded) != cache_key(first, request)
    c, _ = _decode(first.generate(reseeded, str(tmp_path / "c.mp4")).path)
    assert not np.array_equal(a, c)
    # Text-to-video ignores the conditioning image, so a new reference image does not regenerate its shots.
    assert cache_key(first, _request(image=Path(__file__))) == cache_key(first, request)
    # The generation settings are part of the identity.
    assert cache_key(DiffusersGenerator(model=str(tiny["ltx"]), width=32, height=32, steps=3), request) != cache_key(first, request)


def test_image_to_video_ltx_takes_the_reference_image(tiny, reference_image, tmp_path):
    gen = DiffusersGenerator(model=str(tiny["ltx_i2v"]), width=32, height=32, steps=2)
    request = _request(image=reference_image)
    clip = gen.generate(request, str(tmp_path / "i2v.mp4"))
    frames, rate = _decode(clip.path)
    assert frames.shape == (12, 48, 80, 3) and rate == 24
    assert clip.detail["conditioning_image"] == str(reference_image)

    other = tmp_path / "other.png"
    Image.fromarray(np.zeros((60, 100, 3), np.uint8)).save(other)
    assert cache_key(gen, _request(image=other)) != cache_key(gen, request)

    # The key is computable without an image (the asset keys every shot first); generating is what refuses.
    assert cache_key(gen, _request()) != cache_key(gen, request)
    with pytest.raises(GenerationError, match="needs a conditioning image"):
        gen.generate(_request(), str(tmp_path / "none.mp4"))


def test_stable_video_diffusion_conforms_a_short_clip_to_the_plan(tiny, reference_image, tmp_path):
    gen = DiffusersGenerator(model=str(tiny["svd"]), width=32, height=32, steps=2, num_frames=3)
    shot = _shot(frames=30, movement=CameraMovement.STATIC)
    clip = gen.generate(_request(shot, image=reference_image), str(tmp_path / "svd.mp4"))
    frames, rate = _decode(clip.path)
    assert frames.shape == (30, 48, 80, 3) and rate == 24
    # SVD makes 3 frames at 7 fps (0.43 s) for a 1.25 s shot: slowed evenly to fill it, each frame held.
    assert clip.detail["generated_frames"] == 3
    assert clip.detail["retime"].startswith("slowed")
    assert gen.cache_parts(_request(shot, image=reference_image))["motion_bucket"] == 40
    assert clip.detail["prompt"] is None  # SVD takes no prompt


def test_pipeline_kind_is_read_from_the_folder_and_can_be_overridden(tiny, reference_image, tmp_path):
    assert DiffusersGenerator(model=str(tiny["ltx"])).kind == "ltx"
    assert DiffusersGenerator(model=str(tiny["ltx_i2v"])).kind == "ltx_i2v"
    assert DiffusersGenerator(model=str(tiny["svd"])).kind == "svd"
    assert DiffusersGenerator(model=str(tiny["ltx"]), pipeline="ltx").identity.startswith("diffusers:ltx:")

    # The same LTX weights driven as image-to-video.
    gen = DiffusersGenerator(model=str(tiny["ltx"]), pipeline="ltx_i2v", width=32, height=32, steps=2)
    clip = gen.generate(_request(image=reference_image), str(tmp_path / "as_i2v.mp4"))
    assert type(gen.load()).__name__ == "LTXImageToVideoPipeline"
    assert clip.detail["pipeline"] == "ltx_i2v"

    odd = tmp_path / "odd"
    odd.mkdir()
    (odd / "model_index.json").write_text(json.dumps({"_class_name": "StableDiffusionPipeline"}))
    with pytest.raises(GenerationError, match="StableDiffusionPipeline"):
        _ = DiffusersGenerator(model=str(odd)).kind


def test_unavailable_configurations_say_what_to_set(tmp_path):
    empty = DiffusersGenerator()
    assert not empty.available and "set DiffusersGenerator.model" in empty.why_unavailable
    missing = DiffusersGenerator(model=str(tmp_path / "no-such-model"))
    assert not missing.available and "local_files_only" in missing.why_unavailable
    with pytest.raises(GenerationError, match="local_files_only"):
        missing.generate(_request(), str(tmp_path / "x.mp4"))
    hub = DiffusersGenerator(model="example-org/not-downloaded")
    assert not hub.available
    downloadable = DiffusersGenerator(model="example-org/not-downloaded", local_files_only=False)
    assert downloadable.available  # says so without going to the network
    assert downloadable.identity.startswith("diffusers:auto:example-org/not-downloaded:")


def test_generation_sizes_and_frame_counts_take_the_models_form():
    assert accepted_frames(30, KINDS["ltx"]) == 33  # 8k+1
    assert accepted_frames(9, KINDS["ltx"]) == 9
    assert accepted_frames(1000, KINDS["ltx"]) == 257  # one pass at most
    assert accepted_frames(30, KINDS["cogvideox"]) == 33  # 4k+1
    assert accepted_frames(100, KINDS["cogvideox"]) == 49
    assert accepted_frames(10, KINDS["svd"]) == 10
    assert accepted_size(1080, 32) == 1088 and accepted_size(1920, 32) == 1920 and accepted_size(10, 32) == 32

    gen = DiffusersGenerator(model="x", pipeline="ltx")
    plan = gen.plan(ShotRequest(shot=_shot(frames=48), spec=PictureSpec(1280, 720, Fraction(24)), seed=1))
    assert (plan.width, plan.height, plan.frames, plan.fps) == (1280, 736, 49, 24.0)


def test_retiming_plays_real_time_or_slows_a_short_clip():
    index, how = retime_generated(17, 24.0, 12, Fraction(24))
    assert how == "real time" and index.tolist() == list(range(12))
    index, how = retime_generated(4, 8.0, 24, Fraction(24))  # 0.5 s generated for a 1 s shot
    assert how == "slowed x2.00" and index.tolist() == [i // 6 for i in range(24)]


def test_prompt_gets_camera_language_once():
    shot = _shot("a girl walks, wide shot, camera panning left")
    prompt = compose_prompt(shot, "pastoral animation")
    assert prompt.count("wide shot") == 1
    assert prompt.endswith("pastoral animation")
    plain = compose_prompt(
        _shot("a dog runs", shot_scale=ShotScale.CLOSE_UP, camera_angle=CameraAngle.EYE_LEVEL, movement=CameraMovement.STATIC)
    )
    assert plain == "a dog runs. close-up shot, static camera"


def test_fill_crop_keeps_the_aspect():
    picture = np.zeros((32, 64, 3), np.uint8)
    picture[:, :16] = 255  # a white bar at the left edge is cropped away when filling a square frame
    square = fill_crop(picture, 32, 32)
    assert square.shape == (32, 32, 3)
    assert square.max() == 0
    assert fill_crop(picture, 128, 64).shape == (64, 128, 3)


@pytest.mark.parametrize(
    ("builder", "kind", "requested"),
    [
        (build_tiny_cogvideox, "cogvideox", 5),  # 0.5 s at 8 fps = 4 frames -> 4k+1
        (build_tiny_animatediff, "animatediff", 4),  # 0.5 s at 8 fps, any count
    ],
)
def test_other_text_to_video_families_make_the_planned_clip(builder, kind, requested, tmp_path):
    gen = DiffusersGenerator(model=str(builder(tmp_path / kind)), width=32, height=32, steps=2)
    assert gen.kind == kind
    clip = gen.generate(_request(), str(tmp_path / f"{kind}.mp4"))
    frames, rate = _decode(clip.path)
    assert frames.shape == (12, 48, 80, 3) and rate == 24
    assert clip.detail["requested"]["frames"] == requested
    assert clip.detail["generated_size"] == [32, 32]


def test_wan_loads_from_its_folder_and_makes_the_planned_clip(tmp_path):
    folder = build_tiny_wan(tmp_path / "wan")
    gen = DiffusersGenerator(model=str(folder), width=32, height=32, steps=2)
    assert gen.kind == "wan" and gen.available  # accelerate is a dependency: Wan loads through from_pretrained
    clip = gen.generate(_request(), str(tmp_path / "wan.mp4"))
    frames, rate = _decode(clip.path)
    assert frames.shape == (12, 48, 80, 3) and rate == 24
    assert clip.detail["requested"]["frames"] == 9  # 0.5 s at 16 fps = 8 frames -> 4k+1
