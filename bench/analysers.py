"""What each frame analyser of the decode pass costs: CPU milliseconds per frame.

    python bench/analysers.py [--film PATH ...] [--repeat 3]

One decode pass per film and repeat (no soundtrack thread beside it), feeding the library's
analysers in the library's order (shot detector, camera signals, keyframe candidates). Each
analyser row is the CPU time of the pass's own thread (``time.thread_time``) spent in that step,
divided by frames, the median over repeats: the decoder's frame threads decode ahead on the
other core meanwhile, and a process clock would charge their work to whichever analyser runs.
CPU time, not wall time, because the machine is shared: it does not move with another
process's load. (OpenCV runs these small pictures on the calling thread.)

- ``decode``: the process's CPU time over the whole pass (``time.process_time``: the decoder's
  threads included) less the analyser rows: PyAV demux + decode and the pass's bookkeeping;
- ``view: bgr`` / ``view: gray``: the shared analysis pictures (:class:`DecodedFrame`), made once
  a frame and then free for every analyser, so timed apart;
- one row per analyser: its ``update`` with the views already made;
- ``after the pass``: the library's steps on the pass's results (boundaries, keyframe choice,
  camera language, sequences), in seconds, from :func:`filmaster_dag.cinema.library.analyse_film`'s
  stages but timed in CPU seconds here.

The per-analyser rows time the work in line (``background=False``). The library runs camera
signals and keyframe candidates in worker threads beside the pass's thread; a second table,
``threads``, is that pass as the library runs it: wall seconds, process CPU seconds, and the CPU
seconds of the pass's thread, of each worker, and the rest (FFmpeg's decoding threads and
OpenCV's pool). CPU seconds over wall seconds is the number of cores the pass keeps busy.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from filmaster_dag.cinema import camera
from filmaster_dag.cinema import keyframes as kf
from filmaster_dag.cinema import library as lib
from filmaster_dag.cinema.media import FilmProbe, FrameAnalyser, iter_frames, probe, run_decode_pass
from filmaster_dag.cinema.shots import ShotBoundaryDetector, ShotDetectionConfig, segment_shots

FILMS = ROOT.parent / "shared" / "media" / "films"


def one_pass(path: Path, info: FilmProbe) -> tuple[dict[str, float], int]:
    """CPU seconds per step for one decode pass, and the frames seen."""
    detector = ShotBoundaryDetector(ShotDetectionConfig(), info.frame_rate)
    analysers: dict[str, FrameAnalyser] = {
        "shot detector": detector,
        "camera signals": camera.CameraSignals(background=False),
        "keyframe candidates": kf.KeyframeCandidates(float(info.frame_rate), background=False),  # its cost, timed in line
    }
    cpu = dict.fromkeys(["decode", "view: bgr", "view: gray", *analysers], 0.0)
    clock = time.thread_time
    n = 0
    start = time.process_time()
    for frame in iter_frames(path, 256, probe_info=info):
        t0 = clock()
        _ = frame.bgr
        t1 = clock()
        _ = frame.gray
        t2 = clock()
        cpu["view: bgr"] += t1 - t0
        cpu["view: gray"] += t2 - t1
        for name, analyser in analysers.items():
            a = clock()
            analyser.update(frame)
            cpu[name] += clock() - a
        n += 1
    total = time.process_time() - start
    cpu["decode"] = total - sum(v for k, v in cpu.items() if k != "decode")
    return cpu, n


def threaded_pass(path: Path, info: FilmProbe) -> dict[str, float]:
    """The library's decode pass (workers on): wall and CPU seconds, split by thread."""
    signals = camera.CameraSignals()
    candidates = kf.KeyframeCandidates(float(info.frame_rate))
    detector = ShotBoundaryDetector(ShotDetectionConfig(), info.frame_rate)
    wall, cpu, main = time.perf_counter(), time.process_time(), time.thread_time()
    run_decode_pass(path, [detector, signals, candidates], 256, path.stem, info)
    signals.table(), candidates.candidates  # wait for the workers
    out = {"wall": time.perf_counter() - wall, "process CPU": time.process_time() - cpu, "pass thread": time.thread_time() - main}
    out["camera signals worker"] = signals._worker.cpu_seconds if signals._worker else 0.0
    out["keyframe candidates worker"] = candidates._worker.cpu_seconds if candidates._worker else 0.0
    out["decoder and OpenCV threads"] = out["process CPU"] - sum(v for k, v in out.items() if k not in ("wall", "process CPU"))
    return out


def after_pass(path: Path, info: FilmProbe) -> dict[str, float]:
    """CPU seconds of the library's steps after the decode pass (one run, soundtrack excluded)."""
    clock = time.process_time
    pictures = lib.analyse_pictures(str(path), path.stem, info)
    out = {}
    t = clock()
    det = ShotBoundaryDetector(ShotDetectionConfig(), info.frame_rate)
    del det  # constructing the detector is part of the pass; nothing to time here
    keyframes, _ = lib.choose_keyframes(pictures.shots, pictures.candidates, path=str(path), film=path.stem, probe=info)
    out["keyframe choice"] = clock() - t
    t = clock()
    cam = lib.measure_camera_language(pictures.shots, pictures.signals, keyframes)
    out["camera language"] = clock() - t
    t = clock()
    lib.build_sequences(path.stem, pictures.shots, cam, keyframes)
    out["sequences"] = clock() - t
    return out


def boundaries_cpu(path: Path, info: FilmProbe) -> float:
    """CPU seconds of ``ShotBoundaryDetector.finish`` + segmentation (after the frames are fed)."""
    det = ShotBoundaryDetector(ShotDetectionConfig(), info.frame_rate)
    times = []
    for frame in iter_frames(path, 256, probe_info=info):
        det.update(frame)
        times.append(frame.time)
    t = time.process_time()
    bounds = det.finish(times)
    segment_shots(bounds, times, times[-1].seconds, det.opening, det.closing)
    return time.process_time() - t


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--film", action="append", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    paths = args.film or [FILMS / "big_buck_bunny_0-60s.mp4", FILMS / "big_buck_bunny_0-30s_720p.webm", FILMS / "chaplin_single_shot.mp4"]
    one_pass(FILMS / "sintel_5s.mp4", probe(FILMS / "sintel_5s.mp4"))  # warm-up: imports, OpenCV's thread pool
    for path in paths:
        info = probe(path)
        runs = [one_pass(path, info) for _ in range(args.repeat)]
        n = runs[0][1]
        ms = {k: statistics.median(r[0][k] for r in runs) * 1000 / n for k in runs[0][0]}
        print(f"\n{path.name} ({info.width}x{info.height} {info.video_codec}, {n} frames), CPU ms/frame, median of {args.repeat}:")
        print("| step | CPU ms/frame | share of the pass |")
        print("|---|---|---|")
        total = sum(ms.values())
        for k, v in ms.items():
            print(f"| {k} | {v:.3f} | {100 * v / total:.0f} % |")
        print(f"| **pass total** | {total:.3f} | 100 % |")
        threads = [threaded_pass(path, info) for _ in range(args.repeat)]
        print(
            "threads (the library's pass, workers on), seconds, median: "
            + ", ".join(f"{k} {statistics.median(t[k] for t in threads):.2f}" for k in threads[0])
        )
        post = {"shot boundaries": boundaries_cpu(path, info), **after_pass(path, info)}
        print("after the pass, CPU s: " + ", ".join(f"{k} {v:.3f}" for k, v in post.items()))


if __name__ == "__main__":
    main()
