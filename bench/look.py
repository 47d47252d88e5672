"""Search-by-example benchmark for filmaster_dag.cinema.look (not a test; no Dagster needed).

    python bench/look.py            # the full run (about 10 s of decoding, then milliseconds)
    python bench/look.py --quick    # fewer timing repeats

The set, all real footage from ../shared/media/films:

* **library**: the middle frame of every shot of Big Buck Bunny 0-60 s (MP4, 640x360 H.264; 7 shots
  from the documented cuts 285/378/553/1145/1346 and the dissolve 761-800, the dissolve itself left
  out), plus distractors: 4 frames of Sintel (854x480) and 4 of the Chaplin single shot (black and white).
* **queries** (the right answer is the shot they come from):
  (a) other frames of the same shots from the same MP4, 25 % and 75 % through the shot, and a
      harder pair at 10 % and 90 %;
  (b) the WebM 720p VP8 frames of the same moments (WebM frame f = MP4 frame f + 2; the WebM
      covers 30 s, so only the first four shots), at 25 %, 50 % (the library frame itself, through
      another codec and size) and 75 %.

For each descriptor it reports top-1 and top-3 accuracy and mean reciprocal rank over the
library (distractors included), and milliseconds per frame. Descriptors: the full look vector,
each of its blocks alone, and a plain colour histogram (HSV 8x4x4, cosine) as the baseline.
"""

from __future__ import annotations

import argparse
import platform
import sys
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from filmaster_dag.cinema.look import BLOCKS, LOOK_DIM, LOOK_VERSION, describe_look
from filmaster_dag.cinema.media import iter_frames

FILMS = Path(__file__).resolve().parents[2] / "shared" / "media" / "films"
BBB = FILMS / "big_buck_bunny_0-60s.mp4"
BBB_WEBM = FILMS / "big_buck_bunny_0-30s_720p.webm"
SINTEL = FILMS / "sintel_5s.mp4"
CHAPLIN = FILMS / "chaplin_single_shot.mp4"
WEBM_OFFSET = 2  # WebM frame f is MP4 frame f + 2
WEBM_FRAMES = 720

# Shots of the MP4 as [first, end) frame ranges: hard cuts at 285/378/553/1145/1346, the dissolve
# 761-800 splits 553-1145 in two (its frames belong to neither shot).
SHOTS = [(0, 285), (285, 378), (378, 553), (553, 761), (800, 1145), (1145, 1346), (1346, 1440)]


def at(shot: tuple[int, int], fraction: float) -> int:
    first, end = shot
    return first + round(fraction * (end - 1 - first))


def grab(path: Path, wanted: set[int], max_width: int) -> dict[int, np.ndarray]:
    """RGB pictures of the wanted frames (display size, at most ``max_width`` wide), one decode pass."""
    out: dict[int, np.ndarray] = {}
    last = max(wanted)
    for frame in iter_frames(path):
        if frame.index in wanted:
            out[frame.index] = frame.rgb(max_width)
        if frame.index >= last:
            break
    return out


def colour_histogram(rgb: np.ndarray) -> np.ndarray:
    """Baseline: a plain HSV 8x4x4 histogram of the whole frame (L2-normalised, cosine)."""
    hsv = cv2.cvtColor(cv2.resize(rgb, (160, 90), interpolation=cv2.INTER_AREA), cv2.COLOR_RGB2HSV)
    h = cv2.calcHist([hsv], [0, 1, 2], None, [8, 4, 4], [0, 180, 0, 256, 0, 256]).reshape(-1)
    return (h / max(float(np.linalg.norm(h)), 1e-12)).astype(np.float32)


def ranks(lib: np.ndarray, lib_labels: list[int], queries: np.ndarray, truth: list[int]) -> list[int]:
    """Rank (1 = best) of the right shot for each query: library items scored by cosine, the best item per shot counts."""
    sims = queries @ lib.T
    out = []
    for row, want in zip(sims, truth, strict=True):
        order = np.argsort(-row, kind="stable")
        seen: list[int] = []
        for i in order:
            if lib_labels[i] not in seen:
                seen.append(lib_labels[i])
        out.append(seen.index(want) + 1)
    return out


def scores(r: list[int]) -> tuple[float, float, float]:
    a = np.array(r)
    return float((a == 1).mean()), float((a <= 3).mean()), float((1.0 / a).mean())


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer timing repeats")
    args = ap.parse_args()

    t0 = time.perf_counter()
    mid = [at(s, 0.5) for s in SHOTS]
    near = {i: [at(s, 0.25), at(s, 0.75)] for i, s in enumerate(SHOTS)}
    far = {i: [at(s, 0.10), at(s, 0.90)] for i, s in enumerate(SHOTS)}
    mp4_wanted = set(mid) | {f for v in near.values() for f in v} | {f for v in far.values() for f in v}
    mp4 = grab(BBB, mp4_wanted, 640)
    webm_moments = {i: [f for f in [at(s, 0.25), at(s, 0.5), at(s, 0.75)] if f - WEBM_OFFSET < WEBM_FRAMES] for i, s in enumerate(SHOTS)}
    webm = grab(BBB_WEBM, {f - WEBM_OFFSET for v in webm_moments.values() for f in v}, 1280)
    sintel = grab(SINTEL, {15, 45, 75, 105}, 854)
    chaplin = grab(CHAPLIN, {20, 80, 140, 200}, 640)
    decode_s = time.perf_counter() - t0

    # Library: BBB middle frames (label = shot number) + distractors (labels 100+, 200+: never the answer).
    lib_pics = [mp4[f] for f in mid] + list(sintel.values()) + list(chaplin.values())
    lib_labels = list(range(len(SHOTS))) + [100 + i for i in range(len(sintel))] + [200 + i for i in range(len(chaplin))]
    sets = {
        "(a) MP4 25/75 %": [(mp4[f], i) for i, fs in near.items() for f in fs],
        "(a') MP4 10/90 %": [(mp4[f], i) for i, fs in far.items() for f in fs],
        "(b) WebM 720p 25/50/75 %": [(webm[f - WEBM_OFFSET], i) for i, fs in webm_moments.items() for f in fs],
    }

    def block(name: str):
        start, stop = BLOCKS[name]

        def fn(rgb: np.ndarray) -> np.ndarray:
            v = describe_look(rgb)[start:stop]
            return v / max(float(np.linalg.norm(v)), 1e-12)

        return fn

    descriptors = {
        "look (full)": describe_look,
        **{f"  {name} only": block(name) for name in BLOCKS},
        "baseline: HSV histogram": colour_histogram,
    }

    extra = len(lib_pics) - len(SHOTS)
    print(f"look {LOOK_VERSION}, LOOK_DIM={LOOK_DIM}; library {len(lib_pics)} frames ({len(SHOTS)} BBB shots + {extra} distractors)")
    print("queries: " + ", ".join(f"{k}: {len(v)}" for k, v in sets.items()) + f"; decode {decode_s:.1f} s")
    print(f"machine: {platform.machine()} {platform.processor() or ''} {platform.python_version()}\n")
    head = "| descriptor | " + " | ".join(f"{k} top-1 / top-3 / MRR" for k in sets) + " | all: top-1 / MRR |"
    print(head)
    print("|" + " --- |" * (len(sets) + 2))
    for name, fn in descriptors.items():
        lib = np.stack([fn(p) for p in lib_pics])
        cells = []
        every: list[int] = []
        for qs in sets.values():
            r = ranks(lib, lib_labels, np.stack([fn(p) for p, _ in qs]), [t for _, t in qs])
            every += r
            t1, t3, mrr = scores(r)
            cells.append(f"{t1:.2f} / {t3:.2f} / {mrr:.2f}")
        t1, _, mrr = scores(every)
        print(f"| {name} | " + " | ".join(cells) + f" | {t1:.2f} / {mrr:.2f} |")

    # Same frame through two codecs and sizes: the similarity the index will see.
    same = [float(describe_look(mp4[f]) @ describe_look(webm[f - WEBM_OFFSET])) for fs in webm_moments.values() for f in fs]
    lib_vecs = np.stack([describe_look(p) for p in lib_pics])
    off = lib_vecs[: len(SHOTS)] @ lib_vecs.T
    other = [off[i, j] for i in range(len(SHOTS)) for j in range(len(lib_pics)) if j != i]
    print(f"\ncosine, same moment WebM 720p vs MP4 360p: min {min(same):.3f}, mean {np.mean(same):.3f}")
    print(f"cosine, BBB middle frame vs other library frames: max {max(other):.3f}, mean {np.mean(other):.3f}")

    repeats = 20 if args.quick else 100
    for label, pic in (("640x360", mp4[mid[0]]), ("1280x720", webm[mid[0] - WEBM_OFFSET])):
        describe_look(pic)
        t = time.perf_counter()
        for _ in range(repeats):
            describe_look(pic)
        ms = (time.perf_counter() - t) / repeats * 1000
        t = time.perf_counter()
        for _ in range(repeats):
            colour_histogram(pic)
        base = (time.perf_counter() - t) / repeats * 1000
        print(f"ms per frame, {label} RGB in: look {ms:.2f} ms, baseline histogram {base:.2f} ms")


if __name__ == "__main__":
    main()
