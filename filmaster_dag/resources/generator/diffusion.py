"""The ``diffusers`` shot generator: open text-to-video and image-to-video models as a camera.

A :class:`DiffusersGenerator` loads one diffusers pipeline (LTX-Video, CogVideoX, Wan,
AnimateDiff; Stable Video Diffusion or LTX-Video image-to-video) by hub id or local folder, once
per resource instance, and turns each planned shot into a clip:

- the *prompt* is the planned shot's prompt with its camera language (shot scale, angle and
  movement, in the vocabulary's words) and the brief's style added where the planner left them out;
- *character consistency* comes from the request's seed (one per main character) seeding the
  noise, and, for image-to-video pipelines, the character's reference image (or the first generated
  keyframe) as the conditioning image;
- the model makes what it can (its native frame rate, a size and a frame count of the form it
  accepts); the generator then *conforms* those frames to the planned clip: fill-and-crop to the
  production's picture, retime to exactly ``shot.frames`` frames at the production's rate, and
  encode with PyAV.

Nothing is downloaded unless ``local_files_only`` is switched off: a hub id must already be in the
local Hugging Face cache, a folder must exist, or the generator is unavailable and says what to set.
"""

from __future__ import annotations

import json
import math
import threading
import time
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, PrivateAttr

from ...cinema.media import file_sha256
from ...cinema.planning.models import PlannedShot
from ...cinema.render import encode_video
from ...cinema.vocabulary import CameraAngle, CameraMovement, ShotScale
from . import GeneratedClip, GenerationError, ShotGenerator, ShotRequest

PipelineKind = Literal["auto", "ltx", "ltx_i2v", "cogvideox", "wan", "animatediff", "svd"]


@dataclass(frozen=True)
class KindSpec:
    """What one family of video models accepts and how it is called.

    ``size_multiple``: width and height must be multiples of it; frame counts are
    ``frame_step * k + 1`` when ``plus_one`` (causal video VAEs keep the first frame on its own)
    else ``frame_step * k``; ``native_fps``: the rate the model was trained to move at;
    ``max_frames``: the longest clip it makes in one pass (a longer shot is slowed to fit).
    """

    pipeline_class: str
    image_to_video: bool
    size_multiple: int
    frame_step: int
    plus_one: bool
    native_fps: float
    max_frames: int
    takes_prompt: bool = True


KINDS: dict[str, KindSpec] = {
    "ltx": KindSpec("LTXPipeline", False, 32, 8, True, 24.0, 257),
    "ltx_i2v": KindSpec("LTXImageToVideoPipeline", True, 32, 8, True, 24.0, 257),
    "cogvideox": KindSpec("CogVideoXPipeline", False, 16, 4, True, 8.0, 49),
    "wan": KindSpec("WanPipeline", False, 16, 4, True, 16.0, 81),
    "animatediff": KindSpec("AnimateDiffPipeline", False, 8, 1, False, 8.0, 32),
    "svd": KindSpec("StableVideoDiffusionPipeline", True, 8, 1, False, 7.0, 25, takes_prompt=False),
}

#: model_index.json ``_class_name`` -> kind (``pipeline="auto"``).
CLASS_KINDS: dict[str, str] = {spec.pipeline_class: kind for kind, spec in KINDS.items()}

#: Stable Video Diffusion has no prompt; its motion bucket is the one camera control it has.
SVD_MOTION_BUCKET = {CameraMovement.STATIC: 40, CameraMovement.HANDHELD: 180, CameraMovement.COMPLEX: 180}
SVD_DEFAULT_MOTION_BUCKET = 127


def camera_language(shot: PlannedShot) -> list[str]:
    """The shot's scale, angle and camera movement as prompt phrases (['wide shot', 'high-angle', 'camera panning left'])."""
    words: list[str] = []
    if shot.shot_scale is not ShotScale.UNKNOWN:
        words.append(f"{shot.shot_scale.words} shot")
    if shot.camera_angle is not CameraAngle.EYE_LEVEL:
        words.append(shot.camera_angle.words)
    if shot.movement is CameraMovement.STATIC:
        words.append("static camera")
    elif shot.movement is CameraMovement.HANDHELD:
        words.append("handheld camera")
    elif shot.movement is not CameraMovement.UNKNOWN:
        words.append(f"camera {shot.movement.words}")
    return words


def compose_prompt(shot: PlannedShot, style: str = "") -> str:
    """The planned prompt, with each camera phrase and the brief's style added where the planner left them out."""
    prompt = shot.prompt.strip().rstrip(".")
    folded = prompt.casefold()
    camera = ", ".join(phrase for phrase in camera_language(shot) if phrase.casefold() not in folded)
    look = style.strip() if style.strip().casefold() not in folded else ""
    return ". ".join(part for part in (prompt, camera, look) if part)


def accepted_frames(wanted: int, spec: KindSpec) -> int:
    """The smallest frame count of the model's form (``step*k+1`` or ``step*k``) that covers ``wanted``, capped at its maximum."""
    base = 1 if spec.plus_one else 0
    k = max(1, math.ceil((wanted - base) / spec.frame_step))
    cap = (spec.max_frames - base) // spec.frame_step
    return min(k, cap) * spec.frame_step + base


def accepted_size(pixels: int, multiple: int) -> int:
    """The nearest multiple of ``multiple`` (halves up; at least one)."""
    return max(multiple, math.floor(pixels / multiple + 0.5) * multiple)


@dataclass(frozen=True)
class GenerationPlan:
    """What the pipeline is asked to make for one shot (before conforming to the planned clip)."""

    kind: str
    width: int
    height: int
    frames: int
    fps: float


def fill_crop(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """Scale a picture to cover ``width`` x ``height`` keeping its aspect, then crop the centre (no letterbox, no squash)."""
    import cv2

    h, w = rgb.shape[:2]
    if (w, h) == (width, height):
        return rgb
    scale = max(width / w, height / h)
    sw, sh = max(width, round(w * scale)), max(height, round(h * scale))
    interp = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    scaled = cv2.resize(rgb, (sw, sh), interpolation=interp)
    x, y = (sw - width) // 2, (sh - height) // 2
    return np.ascontiguousarray(scaled[y : y + height, x : x + width])


def retime_generated(count: int, native_fps: float, frames: int, fps: Fraction) -> tuple[np.ndarray, str]:
    """Which generated frame each of the planned ``frames`` shows.

    The model's clip plays at its native rate and its tail is left out when it is long enough
    (frame counts are rounded up to the model's form); a clip shorter than the shot (the model's
    maximum length) is slowed evenly to fill it.
    """
    generated_s, shot_s = count / native_fps, frames / float(fps)
    times = np.arange(frames) / float(fps)
    if generated_s + 1e-9 >= shot_s:
        return np.minimum(np.floor(times * native_fps + 1e-6).astype(int), count - 1), "real time"
    return np.minimum(np.floor(np.arange(frames) * count / frames).astype(int), count - 1), f"slowed x{shot_s / generated_s:.2f}"


def to_uint8_frames(output: Any) -> np.ndarray:
    """A pipeline's ``.frames`` for one video (numpy, torch or PIL) -> (n, h, w, 3) uint8 RGB."""
    video = output[0] if isinstance(output, (list, tuple)) or getattr(output, "ndim", 0) == 5 else output
    if isinstance(video, (list, tuple)):  # PIL images
        return np.stack([np.asarray(img.convert("RGB")) for img in video])
    if hasattr(video, "detach"):  # torch (n, c, h, w) in 0..1
        video = video.detach().float().cpu().permute(0, 2, 3, 1).numpy()
    video = np.asarray(video)
    if video.dtype != np.uint8:
        video = np.clip(np.round(video * 255.0), 0, 255).astype(np.uint8)
    return video


class DiffusersGenerator(ShotGenerator):
    """Open video diffusion models as the camera (``diffusers``).

    - ``model``: a hub id ('Lightricks/LTX-Video') or a local pipeline folder (with model_index.json);
    - ``pipeline``: the model family, or ``auto`` to read model_index.json's ``_class_name``;
      ``ltx_i2v`` loads LTX-Video weights as the image-to-video pipeline;
    - ``local_files_only``: never download (default); a hub id must be in the local cache;
    - ``device`` / ``dtype``: where and in what precision the model runs (``auto`` = CUDA when present);
    - ``steps`` / ``guidance_scale``: denoising steps and classifier-free guidance;
    - ``width`` / ``height``: generation size, 0 = the production's size rounded to the model's multiple;
    - ``num_frames``: generated frames, 0 = the planned duration at ``model_fps`` rounded up to the model's form;
    - ``model_fps``: the rate the model moves at, 0 = the family's native rate (LTX 24, CogVideoX 8, Wan 16, SVD 7);
    - ``negative_prompt``: what the picture must not show.
    """

    model: str = Field(default="", description="hub id or local pipeline folder; empty = not configured")
    pipeline: PipelineKind = "auto"
    local_files_only: bool = True
    device: Literal["auto", "cpu", "cuda"] = "auto"
    dtype: Literal["float32", "float16", "bfloat16"] = "float32"
    steps: int = Field(default=30, gt=0)
    guidance_scale: float = 3.0
    width: int = Field(default=0, ge=0)
    height: int = Field(default=0, ge=0)
    num_frames: int = Field(default=0, ge=0)
    model_fps: float = Field(default=0.0, ge=0)
    negative_prompt: str = "worst quality, inconsistent motion, blurry, jittery, distorted"
    _pipe: Any = PrivateAttr(default=None)
    _lock: Any = PrivateAttr(default_factory=threading.Lock)
    _kind: str | None = PrivateAttr(default=None)

    # -- what it is -------------------------------------------------------------------------------

    def _folder(self) -> Path | None:
        """The pipeline's folder on this machine: the configured folder, or the hub id's cached snapshot."""
        if not self.model:
            return None
        path = Path(self.model).expanduser()
        if path.is_dir():
            return path
        try:
            from huggingface_hub import try_to_load_from_cache

            cached = try_to_load_from_cache(self.model, "model_index.json")
        except Exception:  # not a valid repo id: a folder that does not exist
            return None
        return Path(cached).parent if isinstance(cached, str) else None

    @property
    def available(self) -> bool:
        return bool(self.model) and (self._folder() is not None or not self.local_files_only) and not self._missing_package()

    def _missing_package(self) -> str:
        """A package the configured pipeline cannot load without, or ''."""
        import importlib.util

        try:
            kind = self.kind if self.pipeline != "auto" or self._folder() is not None else "auto"  # never a download here
        except GenerationError:
            return ""
        # diffusers keeps some of Wan's modules in float32 and does that only through accelerate's loader.
        if kind == "wan" and importlib.util.find_spec("accelerate") is None:
            return "accelerate"
        return ""

    @property
    def why_unavailable(self) -> str:
        if not self.model:
            return (
                "no diffusers model configured: set DiffusersGenerator.model to a local pipeline folder "
                "(with model_index.json) or a hub id such as 'Lightricks/LTX-Video'"
            )
        if self._missing_package():
            return f"the {self.kind} pipeline needs the `{self._missing_package()}` package to load its weights: install it"
        if not self.available:
            return (
                f"diffusers model {self.model!r} is neither a folder on this machine nor in the Hugging Face cache, "
                "and local_files_only is set: point `model` at a downloaded folder, or set local_files_only=False to allow a download"
            )
        return ""

    @property
    def kind(self) -> str:
        """The model family: configured, or read from model_index.json (without loading weights); 'auto' while unknown."""
        if self.pipeline != "auto":
            return self.pipeline
        if self._kind is None:
            index = self._model_index()
            if index is None:
                return "auto"
            name = index.get("_class_name", "")
            if name not in CLASS_KINDS:
                raise GenerationError(
                    f"{self.model}: pipeline class {name!r} is not one this generator drives; "
                    f"expected one of {', '.join(sorted(CLASS_KINDS))}, or set `pipeline`"
                )
            self._kind = CLASS_KINDS[name]
        return self._kind

    def _model_index(self) -> dict[str, Any] | None:
        """model_index.json: from the folder or the cache, or (only when downloads are allowed) from the hub."""
        folder = self._folder()
        if folder is not None:
            index = folder / "model_index.json"
            if not index.is_file():
                raise GenerationError(f"{self.model}: no model_index.json, so the pipeline kind cannot be read; set `pipeline`")
            return json.loads(index.read_text())
        if self.model and not self.local_files_only:
            from huggingface_hub import hf_hub_download

            return json.loads(Path(hf_hub_download(self.model, "model_index.json")).read_text())
        return None

    @property
    def identity(self) -> str:
        # The configured pipeline, not the one read from the folder: the identity is known before any download.
        size = f"{self.width or 'production'}x{self.height or 'production'}"
        frames = str(self.num_frames) if self.num_frames else "auto"
        return (
            f"diffusers:{self.pipeline}:{self.model}:steps={self.steps}:cfg={self.guidance_scale:g}:size={size}:"
            f"frames={frames}:fps={self.model_fps or 'native'}:{self.dtype}"
        )

    # -- per shot ---------------------------------------------------------------------------------

    def plan(self, request: ShotRequest) -> GenerationPlan:
        """The size, frame count and rate the pipeline is asked for, from the config and the planned shot."""
        kind = self.kind
        if kind not in KINDS:
            raise GenerationError(f"{self.model}: the pipeline kind cannot be read without the model; set `pipeline`")
        spec = KINDS[kind]
        fps = self.model_fps or spec.native_fps
        width = accepted_size(self.width or request.spec.width, spec.size_multiple)
        height = accepted_size(self.height or request.spec.height, spec.size_multiple)
        wanted = self.num_frames or math.ceil(round(request.shot.frames / float(request.spec.fps) * fps, 6))
        return GenerationPlan(kind, width, height, accepted_frames(wanted, spec), fps)

    def _conditioning(self, request: ShotRequest, kind: str) -> str | None:
        """The conditioning image's path for an image-to-video pipeline (text-to-video ignores it)."""
        if not KINDS[kind].image_to_video:
            return None
        image = request.conditioning_image
        if not image:
            raise GenerationError(
                f"shot {request.shot.shot_id}: the {kind} pipeline is image-to-video and needs a conditioning image "
                "(a character's reference image or the first generated keyframe); none was given"
            )
        if not Path(image).is_file():
            raise GenerationError(f"shot {request.shot.shot_id}: conditioning image {image} does not exist")
        return image

    def cache_parts(self, request: ShotRequest) -> dict[str, Any]:
        plan = self.plan(request)
        # Never raises for a missing image: generate() does, and the shot falls back with the reason recorded.
        image = request.conditioning_image if KINDS[plan.kind].image_to_video else None
        return {
            "pipeline": plan.kind,
            "prompt": compose_prompt(request.shot, request.style) if KINDS[plan.kind].takes_prompt else None,
            "negative_prompt": self.negative_prompt if KINDS[plan.kind].takes_prompt else None,
            "motion_bucket": self._motion_bucket(request.shot) if plan.kind == "svd" else None,
            "seed": request.seed,
            "conditioning_image_sha256": file_sha256(image) if image and Path(image).is_file() else None,
            "frames": request.shot.frames,
            "fps": str(request.spec.fps),
            "size": [request.spec.width, request.spec.height],
            "generation": [plan.width, plan.height, plan.frames, plan.fps],
        }

    @staticmethod
    def _motion_bucket(shot: PlannedShot) -> int:
        return SVD_MOTION_BUCKET.get(shot.movement, SVD_DEFAULT_MOTION_BUCKET)

    def pipeline_kwargs(self, request: ShotRequest, plan: GenerationPlan) -> dict[str, Any]:
        """The keyword arguments of the pipeline call for this shot (the benchmark calls the bare pipeline with them)."""
        import torch

        spec = KINDS[plan.kind]
        kwargs: dict[str, Any] = {
            "height": plan.height,
            "width": plan.width,
            "num_frames": plan.frames,
            "num_inference_steps": self.steps,
            # A CPU generator gives the same noise on every device: a character looks the same on a laptop and a GPU.
            "generator": torch.Generator("cpu").manual_seed(request.seed),
            "output_type": "np",
        }
        if spec.takes_prompt:
            kwargs |= {"prompt": compose_prompt(request.shot, request.style), "negative_prompt": self.negative_prompt}
            kwargs["guidance_scale"] = self.guidance_scale
        if plan.kind in ("ltx", "ltx_i2v"):
            kwargs["frame_rate"] = round(plan.fps)
        if plan.kind == "svd":
            kwargs |= {
                "fps": round(plan.fps),
                "motion_bucket_id": self._motion_bucket(request.shot),
                "min_guidance_scale": 1.0,
                "max_guidance_scale": self.guidance_scale,
                "decode_chunk_size": plan.frames,
            }
        image = self._conditioning(request, plan.kind)
        if image:
            from PIL import Image

            with Image.open(image) as img:
                # Framed to the generation size first, so the pipeline's own resize cannot squash the character.
                kwargs["image"] = Image.fromarray(fill_crop(np.asarray(img.convert("RGB")), plan.width, plan.height))
        return kwargs

    # -- the model ----------------------------------------------------------------------------------

    def _device(self) -> str:
        if self.device != "auto":
            return self.device
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"

    def load(self) -> Any:
        """The pipeline, loaded on first use and kept for this resource instance."""
        with self._lock:
            if self._pipe is None:
                if not self.available:
                    raise GenerationError(self.why_unavailable)
                import diffusers
                import torch

                cls = getattr(diffusers, KINDS[self.pipeline].pipeline_class) if self.pipeline != "auto" else diffusers.DiffusionPipeline
                source = str(self._folder() or self.model)
                pipe = cls.from_pretrained(source, dtype=getattr(torch, self.dtype), local_files_only=self.local_files_only)
                pipe.to(self._device())
                pipe.set_progress_bar_config(disable=True)
                self._pipe = pipe
        return self._pipe

    def generate(self, request: ShotRequest, path: str) -> GeneratedClip:
        """Make the shot with the model, conform it to the planned clip and encode it to ``path``."""
        start = time.perf_counter()
        shot, spec = request.shot, request.spec
        pipe = self.load()
        loaded = time.perf_counter()
        plan = self.plan(request)
        image = self._conditioning(request, plan.kind)
        kwargs = self.pipeline_kwargs(request, plan)
        try:
            with self._lock:  # a pipeline's scheduler keeps per-call state: one shot at a time per instance
                t0 = time.perf_counter()
                output = pipe(**kwargs)
                inference_s = time.perf_counter() - t0
        except Exception as exc:
            raise GenerationError(f"shot {shot.shot_id}: the {plan.kind} pipeline failed: {type(exc).__name__}: {exc}") from exc
        t1 = time.perf_counter()
        generated = to_uint8_frames(output.frames)
        index, timing = retime_generated(len(generated), plan.fps, shot.frames, spec.fps)
        fill_s = [0.0]  # fill-crop time spent inside the encode loop

        def conformed():
            # One production-size picture at a time: a long 1080p shot never sits in memory whole.
            for i in index:
                t = time.perf_counter()
                picture = fill_crop(generated[i], spec.width, spec.height)
                fill_s[0] += time.perf_counter() - t
                yield picture

        t2 = time.perf_counter()
        encode_video(path, conformed(), rate=spec.fps)
        t3 = time.perf_counter()
        return self.made(
            request,
            path,
            t3 - start,
            {
                "pipeline": plan.kind,
                "device": self._device(),
                "dtype": self.dtype,
                "prompt": kwargs.get("prompt"),
                "conditioning_image": image,
                "generated_frames": len(generated),
                "generated_size": [int(generated.shape[2]), int(generated.shape[1])],
                "requested": {"width": plan.width, "height": plan.height, "frames": plan.frames, "fps": plan.fps},
                "retime": timing,
                "load_s": round(loaded - start, 4),
                "setup_s": round(t0 - loaded, 4),
                "inference_s": round(inference_s, 4),
                "conform_s": round(t2 - t1 + fill_s[0], 4),
                "encode_s": round(t3 - t2 - fill_s[0], 4),
            },
        )
