"""Search-by-example benchmark for filmaster_dag.cinema.look (not a test; no Dagster needed).

    python bench/look.py            # the full run (a few seconds of decoding, then milliseconds)
    python bench/look.py --quick    # fewer timing repeats

The set, all real footage from ../shared/media/films:

* **library**: the middle frame of every shot of Big Buck Bunny 0-60 s (MP4, 640x360 H.264; 7 shots
  from the documented cuts 285/378/553/1145/1346 and the dissolve 761-800, the dissolve itself left
  out), plus distractors: 4 frames of Sintel (854x480, letterboxed) and 4 of the Chaplin single
  shot (black and white).
* **queries** (the right answer is the shot they come from):
  (a) other frames of the same shots from the same MP4, 25 % and 75 % through the shot, and a
      harder pair at 10 % and 90 % (shot 1 opens with a fade from black and tilts from sky to meadow);
  (b) the WebM 720p VP8 frames of the same moments (WebM frame f = MP4 frame f + 2; the WebM
      covers 30 s, so only the first four shots), at 25 %, 50 % (the library frame itself, through
      another codec and size) and 75 %;
  (d) the (a) frames as a user's still: cropped to the centre 80 %, matted into 2.39:1 (letterbox),
      4:3 pillarbox, brightened (gamma 0.8), 240 px JPEG at quality 30.
* **pool** (c): a frame every 0.5 s of the BBB MP4, the WebM (offset by 0.25 s), Sintel and Chaplin
  (208 frames, dissolve frames left out); each frame in turn queries all the others, relevant =
  same shot (MP4 and WebM share shots): mean average precision and precision at 1.

For each descriptor it reports top-1 and top-3 accuracy and mean reciprocal rank (ranking shots by
their best library frame, distractors included), and milliseconds per frame. Descriptors: the full
look vector, each of its blocks alone, and a plain colour histogram (HSV 8x4x4, cosine) as the baseline.
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


def mean_average_precision(vectors: np.ndarray, labels: np.ndarray) -> tuple[float, float]:
    """Leave-one-out over a pool: each frame queries all others; relevant = same label. (mAP, precision at 1)."""
    sims = vectors @ vectors.T
    np.fill_diagonal(sims, -np.inf)
    aps, hits = [], []
    for i, row in enumerate(sims):
        order = np.argsort(-row, kind="stable")[:-1]
        rel = labels[order] == labels[i]
        if not rel.any():
            continue
        precision = np.cumsum(rel) / np.arange(1, rel.size + 1)
        aps.append(float((precision * rel).sum() / rel.sum()))
        hits.append(bool(rel[0]))
    return float(np.mean(aps)), float(np.mean(hits))


def shot_of(frame: int) -> int | None:
    return next((i for i, (first, end) in enumerate(SHOTS) if first <= frame < end), None)


def pool(step: int = 12) -> tuple[list[np.ndarray], np.ndarray]:
    """A frame every ``step`` frames of each film, labelled by shot (Sintel 100, Chaplin 200: one shot each)."""
    pics: list[np.ndarray] = []
    labels: list[int] = []
    for path, offset, width, label in (
        (BBB, 0, 640, shot_of),
        (BBB_WEBM, step // 2, 1280, lambda f: shot_of(f + WEBM_OFFSET)),
        (SINTEL, 0, 854, lambda f: 100),
        (CHAPLIN, 0, 640, lambda f: 200),
    ):
        for frame in iter_frames(path):
            if frame.index % step == offset and (lab := label(frame.index)) is not None:
                pics.append(frame.rgb(width))
                labels.append(lab)
    return pics, np.array(labels)


def as_still(kind: str, rgb: np.ndarray) -> np.ndarray:
    """The frame as a user might hand it over: cropped, matted, regraded or recompressed."""
    h, w = rgb.shape[:2]
    if kind == "crop to centre 80 %":
        return rgb[h // 10 : h - h // 10, w // 10 : w - w // 10]
    if kind == "letterbox 2.39:1":
        inner = round(w / 2.39)
        out = np.zeros_like(rgb)
        top = (h - inner) // 2
        out[top : top + inner] = rgb[top : top + inner]  # a scope extraction, matted
        return out
    if kind == "pillarbox 4:3":
        inner = round(h * 4 / 3)
        out = np.zeros_like(rgb)
        left = (w - inner) // 2
        out[:, left : left + inner] = cv2.resize(rgb, (inner, h), interpolation=cv2.INTER_AREA)
        return out
    if kind == "gamma 0.8":
        return (255.0 * (rgb / 255.0) ** 0.8).astype(np.uint8)
    if kind == "240 px JPEG q30":
        small = cv2.resize(rgb, (240, round(240 * h / w)), interpolation=cv2.INTER_AREA)
        _ok, buf = cv2.imencode(".jpg", small, [cv2.IMWRITE_JPEG_QUALITY, 30])
        return cv2.imdecode(buf, cv2.IMREAD_UNCHANGED)
    raise ValueError(kind)


STILLS = ["crop to centre 80 %", "letterbox 2.39:1", "pillarbox 4:3", "gamma 0.8", "240 px JPEG q30"]


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
    pool_pics, pool_labels = pool()
    decode_s = time.perf_counter() - t0

    # Library: BBB middle frames (label = shot number) + distractors (labels 100+, 200+: never the answer).
    lib_pics = [mp4[f] for f in mid] + list(sintel.values()) + list(chaplin.values())
    lib_labels = list(range(len(SHOTS))) + [100 + i for i in range(len(sintel))] + [200 + i for i in range(len(chaplin))]
    near_queries = [(mp4[f], i) for i, fs in near.items() for f in fs]
    sets = {
        "(a) MP4 25/75 %": near_queries,
        "(a') MP4 10/90 %": [(mp4[f], i) for i, fs in far.items() for f in fs],
        "(b) WebM 720p 25/50/75 %": [(webm[f - WEBM_OFFSET], i) for i, fs in webm_moments.items() for f in fs],
        "(d) stills": [(as_still(kind, p), i) for kind in STILLS for p, i in near_queries],
    }

    # Every picture is described once; a block alone is its slice of the look, made unit length again.
    looks: dict[int, np.ndarray] = {}
    hists: dict[int, np.ndarray] = {}

    def look_of(rgb: np.ndarray) -> np.ndarray:
        if id(rgb) not in looks:
            looks[id(rgb)] = describe_look(rgb)
        return looks[id(rgb)]

    def hist_of(rgb: np.ndarray) -> np.ndarray:
        if id(rgb) not in hists:
            hists[id(rgb)] = colour_histogram(rgb)
        return hists[id(rgb)]

    def block(name: str):
        start, stop = BLOCKS[name]

        def fn(rgb: np.ndarray) -> np.ndarray:
            v = look_of(rgb)[start:stop]
            return v / max(float(np.linalg.norm(v)), 1e-12)

        return fn

    descriptors = {
        "look (full)": look_of,
        **{f"{name} only": block(name) for name in BLOCKS},
        "baseline: HSV histogram": hist_of,
    }

    extra = len(lib_pics) - len(SHOTS)
    print(f"look {LOOK_VERSION}, LOOK_DIM={LOOK_DIM}; library {len(lib_pics)} frames ({len(SHOTS)} BBB shots + {extra} distractors)")
    print(
        "queries: " + ", ".join(f"{k}: {len(v)}" for k, v in sets.items()) + f"; (c) pool {len(pool_pics)} frames; decode {decode_s:.1f} s"
    )
    print(f"machine: {platform.machine()} {platform.processor() or ''} {platform.python_version()}\n")
    print("| descriptor | " + " | ".join(f"{k} top-1 / top-3 / MRR" for k in sets) + " | (c) pool mAP / P@1 |")
    print("|" + " --- |" * (len(sets) + 2))
    for name, fn in descriptors.items():
        lib = np.stack([fn(p) for p in lib_pics])
        cells = []
        for qs in sets.values():
            t1, t3, mrr = scores(ranks(lib, lib_labels, np.stack([fn(p) for p, _ in qs]), [t for _, t in qs]))
            cells.append(f"{t1:.2f} / {t3:.2f} / {mrr:.2f}")
        m_ap, p_at_1 = mean_average_precision(np.stack([fn(p) for p in pool_pics]), pool_labels)
        print(f"| {name} | " + " | ".join(cells) + f" | {m_ap:.3f} / {p_at_1:.3f} |")

    # The similarity the index will report for the same moment seen another way.
    print("\n| same moment, seen another way | mean similarity | min |")
    print("| --- | --- | --- |")
    same = [float(look_of(mp4[f]) @ look_of(webm[f - WEBM_OFFSET])) for fs in webm_moments.values() for f in fs]
    print(f"| WebM 720p VP8 vs MP4 360p H.264 | {np.mean(same):.3f} | {min(same):.3f} |")
    for kind in STILLS:
        sims = [float(look_of(p) @ describe_look(as_still(kind, p))) for p, _ in near_queries]
        print(f"| {kind} | {np.mean(sims):.3f} | {min(sims):.3f} |")
    lib_vecs = np.stack([look_of(p) for p in lib_pics])
    other = [float(lib_vecs[i] @ lib_vecs[j]) for i in range(len(SHOTS)) for j in range(len(lib_pics)) if j != i]
    print(f"| (for scale) a BBB middle frame vs the other library frames | {np.mean(other):.3f} | max {max(other):.3f} |")

    # Wall time is at the mercy of whatever else the machine runs; CPU time (all threads) less so.
    repeats = 20 if args.quick else 100
    print()
    for label, pic in (("640x360", mp4[mid[0]]), ("1280x720", webm[mid[0] - WEBM_OFFSET])):
        for name, fn in (("look", describe_look), ("baseline histogram", colour_histogram)):
            fn(pic)
            wall, cpu = time.perf_counter(), time.process_time()
            for _ in range(repeats):
                fn(pic)
            wall_ms = (time.perf_counter() - wall) / repeats * 1000
            cpu_ms = (time.process_time() - cpu) / repeats * 1000
            print(f"ms per frame, {label} RGB in, {name}: {wall_ms:.2f} ms wall, {cpu_ms:.2f} ms CPU")


if __name__ == "__main__":
    main()
