"""What the diffusers shot generator costs over a bare pipeline call (not a test).

    python bench/diffusion_overhead.py                      # tiny random LTX-Video, CPU, 64x64
    python bench/diffusion_overhead.py --repeats 30 --production 640x360
    python bench/diffusion_overhead.py --realistic --device cuda --size 768x512 --frames 121 --steps 30
    python bench/diffusion_overhead.py --model /path/to/pipeline --size 768x512 --frames 121

The same loaded pipeline is called two ways, interleaved, after warm-up calls:

- *bare*: ``pipe(prompt=..., negative_prompt=..., height, width, num_frames, steps, guidance,
  generator, output_type="np")``, what a person would type, frames left in memory;
- *generator*: ``DiffusersGenerator.generate(request, path)``: the same call plus building the
  prompt and the call, converting the frames, retiming and fill-cropping them to the production
  picture, and (reported separately) encoding the clip with PyAV.

Overhead = median(generate - encode) / median(bare) - 1, and with encode; also the generator's own
work measured directly (setup + frame conversion/conform, from its timings) over the inference
time. Pictures are random-weight noise; the pipelines' arithmetic is the real one, so
``seconds per generated second`` at a realistic size (``--realistic``: LTX-Video 2B's transformer
and VAE with random weights) is what the real weights would cost on that device.

Pipelines are built under bench/out/ (gitignored); nothing is downloaded.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from fractions import Fraction
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from filmaster_dag.cinema.planning.models import PlannedShot
from filmaster_dag.cinema.vocabulary import CameraAngle, CameraMovement, ShotScale
from filmaster_dag.resources.generator import PictureSpec, ShotRequest
from filmaster_dag.resources.generator.diffusion import KINDS, DiffusersGenerator, compose_prompt
from tests.tiny_pipelines import build_random_ltx_2b, build_tiny_ltx

OUT = Path(__file__).resolve().parent / "out" / "diffusion"


def machine(device: str) -> str:
    import diffusers
    import torch

    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), cpu)
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    gpu = torch.cuda.get_device_name(0) if torch.cuda.is_available() else "no GPU"
    return (
        f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, torch threads {torch.get_num_threads()}; {gpu}; run on {device}; "
        f"Python {platform.python_version()}, torch {torch.__version__}, diffusers {diffusers.__version__}"
    )


def _size(text: str) -> tuple[int, int]:
    w, h = text.lower().split("x")
    return int(w), int(h)


def _request(frames: int, fps: Fraction, production: tuple[int, int]) -> ShotRequest:
    shot = PlannedShot(
        shot_id="s01-01",
        scene_id="s01",
        order=0,
        prompt="a girl walks across the meadow at dawn",
        description="A girl crosses the meadow.",
        shot_scale=ShotScale.WIDE,
        camera_angle=CameraAngle.HIGH,
        movement=CameraMovement.PAN_LEFT,
        frames=frames,
        duration_s=float(frames / fps),
        characters=["Ana"],
    )
    return ShotRequest(shot=shot, spec=PictureSpec(*production, fps), seed=7, style="pastoral animation")


def _bare_call(pipe, gen: DiffusersGenerator, request: ShotRequest, kind: str, width: int, height: int, frames: int) -> float:
    """One bare pipeline call with the same prompt, size, frames, steps and seed; seconds."""
    import torch

    kwargs = {
        "prompt": compose_prompt(request.shot, request.style),
        "negative_prompt": gen.negative_prompt,
        "height": height,
        "width": width,
        "num_frames": frames,
        "num_inference_steps": gen.steps,
        "guidance_scale": gen.guidance_scale,
        "generator": torch.Generator("cpu").manual_seed(request.seed),
        "output_type": "np",
    }
    if kind.startswith("ltx"):
        kwargs["frame_rate"] = round(KINDS[kind].native_fps)
    _sync()
    start = time.perf_counter()
    pipe(**kwargs)
    _sync()
    return time.perf_counter() - start


def _sync() -> None:
    import torch

    if torch.cuda.is_available():
        torch.cuda.synchronize()


def run(gen: DiffusersGenerator, request: ShotRequest, repeats: int, warmup: int) -> dict[str, list[float]]:
    """Interleaved bare and generator calls: seconds per call for each measure."""
    pipe = gen.load()
    plan = gen.plan(request)
    m: dict[str, list[float]] = {k: [] for k in ("bare", "total", "no_encode", "inference", "outside", "encode")}
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(warmup + repeats):
            # Alternate which goes first, so neither gets the warmer caches (or the quieter machine) every time.
            if i % 2:
                clip = gen.generate(request, os.path.join(tmp, f"clip{i}.mp4"))
                bare = _bare_call(pipe, gen, request, plan.kind, plan.width, plan.height, plan.frames)
            else:
                bare = _bare_call(pipe, gen, request, plan.kind, plan.width, plan.height, plan.frames)
                clip = gen.generate(request, os.path.join(tmp, f"clip{i}.mp4"))
            if i < warmup:
                continue
            d = clip.detail
            m["bare"].append(bare)
            m["total"].append(clip.seconds)
            m["no_encode"].append(clip.seconds - d["encode_s"])
            m["inference"].append(d["inference_s"])
            m["encode"].append(d["encode_s"])
            # Everything generate() does besides the pipeline call and the encode, timed inside the same call.
            m["outside"].append(clip.seconds - d["inference_s"] - d["encode_s"])
    return m


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", default="", help="a pipeline folder or cached hub id (default: build a tiny random LTX-Video)")
    ap.add_argument("--realistic", action="store_true", help="build LTX-Video 2B's transformer and VAE with random weights")
    ap.add_argument("--size", default="64x64", help="generation size WxH")
    ap.add_argument("--frames", type=int, default=17, help="generated frames (LTX: 8k+1)")
    ap.add_argument("--production", default="", help="production picture WxH (default: the generation size, so conform is a copy)")
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--repeats", type=int, default=15)
    ap.add_argument("--warmup", type=int, default=2)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--dtype", default="float32")
    args = ap.parse_args(argv)

    width, height = _size(args.size)
    production = _size(args.production) if args.production else (width, height)
    if args.model:
        model = args.model
    else:
        OUT.mkdir(parents=True, exist_ok=True)
        folder = OUT / ("ltx_2b_random" if args.realistic else "tiny_ltx")
        if not (folder / "model_index.json").is_file():
            if args.realistic:
                import torch

                build_random_ltx_2b(folder, device="cuda" if torch.cuda.is_available() else "cpu", dtype=args.dtype)
            else:
                build_tiny_ltx(folder)
        model = str(folder)

    gen = DiffusersGenerator(
        model=model, width=width, height=height, num_frames=args.frames, steps=args.steps, device=args.device, dtype=args.dtype
    )
    fps = Fraction(round(KINDS[gen.kind].native_fps))
    # The planned shot is as long as the generated clip, so retiming is one-to-one.
    request = _request(args.frames, fps, production)
    start = time.perf_counter()
    gen.load()
    load_s = time.perf_counter() - start
    m = run(gen, request, args.repeats, args.warmup)
    med = {k: statistics.median(v) for k, v in m.items()}
    low = {k: min(v) for k, v in m.items()}
    plan = gen.plan(request)

    print(f"machine: {machine(gen._device())}")
    print(f"model: {gen.identity}; load {load_s:.2f} s; {args.repeats} interleaved pairs after {args.warmup} warm-up")
    print(
        f"generated {plan.width}x{plan.height} x {plan.frames} frames at {plan.fps:g} fps, {args.steps} steps "
        f"-> production {production[0]}x{production[1]}"
    )
    print()
    print("| measure | median | min |")
    print("|---|---|---|")
    for label, key in (
        ("bare pipeline call", "bare"),
        ("generate(): its pipeline call", "inference"),
        ("generate() without encode", "no_encode"),
        ("generate() with PyAV encode", "total"),
        ("generate() outside its pipeline call (prompt, frames, conform; no encode)", "outside"),
        ("PyAV encode", "encode"),
    ):
        print(f"| {label} | {med[key] * 1000:.2f} ms | {low[key] * 1000:.2f} ms |")
    print()

    def pct(a: float, b: float) -> str:
        return f"{(a / b - 1) * 100:+.2f} %"

    print("| overhead over the pipeline call | value |")
    print("|---|---|")
    print(f"| direct, without encode: outside / call, within one generate() | {med['outside'] / med['inference'] * 100:.2f} % |")
    print(f"| direct, with encode: (outside + encode) / call | {(med['outside'] + med['encode']) / med['inference'] * 100:.2f} % |")
    paired = f"{pct(med['no_encode'], med['bare'])}; {pct(low['no_encode'], low['bare'])}"
    print(f"| paired, without encode: generate() / bare call - 1 (medians; mins) | {paired} |")
    print(f"| paired, with encode (medians; mins) | {pct(med['total'], med['bare'])}; {pct(low['total'], low['bare'])} |")
    print(f"| noise floor: the same call inside generate() vs bare (medians) | {pct(med['inference'], med['bare'])} |")
    print(f"| seconds per generated second (bare median) | {med['bare'] / (plan.frames / plan.fps):.2f} |")


if __name__ == "__main__":
    main()
