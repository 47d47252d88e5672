"""Ingest throughput: film-seconds analysed per wall-second, against decode-only and PySceneDetect.

    python bench/ingest.py [--film PATH ...] [--repeat 3]

For each film, in one run and one process, this times (median of ``--repeat``):

- ``decode``: PyAV decode of every frame, nothing else (the floor);
- ``decode+scale``: decode and scale each frame to the analysis size (what analysers see);
- ``pyscenedetect``: ``scenedetect.detect(path, AdaptiveDetector())``, its own pipeline;
- ``library``: the whole default library analysis except CLIP (probe, one decode pass feeding
  shot detection + camera signals + keyframe candidates, soundtrack rhythm in a second thread,
  keyframe choice, camera language, rhythm, sequences) - :func:`filmaster_dag.cinema.library.analyse_film`;
- ``dagster``: the same through ``dg.materialize`` of the whole library group (IO managers,
  MediaStore writes, LanceDB upsert and index maintenance, asset checks), in process: the
  ``filmaster ingest`` path;
- ``job process``: the ``reference_library_job`` as the daemon launches a sensor or UI run: a
  fresh process (``dagster job execute``) that loads the code location and runs the job with its
  executor; ``cli process``: ``filmaster ingest FILM`` in a fresh process. Both into a new library,
  timed from the outside, cold (imports, numba kernels, OpenCV cascades).

Targets (issue 5): ``dagster`` within 1.3x ``library``; ``library`` within 3x ``decode``;
``job process`` within 1.3x ``cli process``.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import av

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from filmaster_dag.cinema import library as lib
from filmaster_dag.cinema.media import decode_only_seconds, probe

FILMS = ROOT.parent / "shared" / "media" / "films"


def pure_decode_seconds(path: Path) -> float:
    t0 = time.perf_counter()
    with av.open(str(path)) as c:
        s = c.streams.video[0]
        s.thread_type = "AUTO"
        for _ in c.decode(s):
            pass
    return time.perf_counter() - t0


def scenedetect_seconds(path: Path) -> float:
    from scenedetect import AdaptiveDetector, detect

    t0 = time.perf_counter()
    detect(str(path), AdaptiveDetector())
    return time.perf_counter() - t0


def library_seconds(path: Path, film: str) -> tuple[float, dict]:
    t0 = time.perf_counter()
    info = probe(path, film)
    result = lib.analyse_film(str(path), film, info)
    return time.perf_counter() - t0, {**result["timings"], "shots": len(result["pictures"].shots)}


def dagster_seconds(path: Path, warm: Path) -> tuple[float, float]:
    """(first film into an empty library, a film into a library that already holds one) through
    ``dg.materialize`` in process, as ``filmaster ingest`` runs it. The first includes creating the
    LanceDB tables and their full-text and scalar indexes, which a library pays once."""
    import os

    import dagster as dg

    from filmaster_dag.assets.library import library_assets
    from filmaster_dag.checks import library_checks
    from filmaster_dag.definitions import build_resources
    from filmaster_dag.partitions import films

    quiet = {"loggers": {"console": {"config": {"log_level": "ERROR"}}}}
    times = []
    with tempfile.TemporaryDirectory() as tmp:
        inbox = Path(tmp) / "inbox"
        inbox.mkdir()
        Path(f"{tmp}/home").mkdir()
        with dg.instance_for_test(temp_dir=f"{tmp}/home") as instance:
            for film in (path, warm) if path != warm else (path,):
                os.symlink(film.resolve(), inbox / film.name)
                resources = build_resources(root=f"{tmp}/data", inbox=str(inbox))
                key = next(k for k, p in resources["inbox"].films().items() if p.name == film.name)
                instance.add_dynamic_partitions(films.name, [key])
                t0 = time.perf_counter()
                res = dg.materialize(
                    [*library_assets, *library_checks], partition_key=key, instance=instance, resources=resources, run_config=quiet
                )
                times.append(time.perf_counter() - t0)
                assert res.success
            # the same film again, now into a library that holds another film (its steady state)
            os.unlink(inbox / path.name)
            other = Path(tmp) / "again"
            other.mkdir()
            os.symlink(path.resolve(), other / f"again-{path.name}")
            resources = build_resources(root=f"{tmp}/data", inbox=str(other))
            key = next(iter(resources["inbox"].films()))
            instance.add_dynamic_partitions(films.name, [key])
            t0 = time.perf_counter()
            res = dg.materialize(
                [*library_assets, *library_checks], partition_key=key, instance=instance, resources=resources, run_config=quiet
            )
            assert res.success
            steady = time.perf_counter() - t0
    return times[0], steady


def process_seconds(path: Path) -> tuple[float, float]:
    """(job, cli): the film ingested by a fresh process into a new library, timed from the outside.

    ``job`` is ``reference_library_job`` run by ``dagster job execute``, as the daemon runs a
    sensor or UI run (a new process loads the code location and runs the job with its executor);
    ``cli`` is ``filmaster ingest FILM`` as a user types it. Both pay process start-up, imports and
    the first use of numba's cached kernels and OpenCV's cascades."""
    import json
    import os
    import subprocess

    import dagster as dg

    from filmaster_dag.partitions import films
    from filmaster_dag.resources.inbox import FilmInbox

    out = []
    for how in ("job", "cli"):
        with tempfile.TemporaryDirectory() as tmp:
            inbox = Path(tmp) / "inbox"
            inbox.mkdir()
            os.symlink(path.resolve(), inbox / path.name)
            key = next(iter(FilmInbox(folder=str(inbox)).films()))
            home = Path(tmp) / "home"
            home.mkdir()
            (home / "dagster.yaml").write_text((ROOT / "dagster.yaml").read_text())
            env = {**os.environ, "DAGSTER_HOME": str(home), "FILMASTER_INBOX": str(inbox), "FILMASTER_DATA": f"{tmp}/data"}
            if how == "job":
                with dg.DagsterInstance.from_config(str(home)) as instance:
                    instance.add_dynamic_partitions(films.name, [key])
                command = [sys.executable, "-m", "dagster", "job", "execute", "-m", "filmaster_dag.definitions"]
                command += ["-j", "reference_library_job", "--tags", json.dumps({"dagster/partition": key})]
            else:
                command = [sys.executable, "-m", "filmaster_dag.cli", "ingest", key]
            t0 = time.perf_counter()
            run = subprocess.run(command, env=env, capture_output=True, cwd=tmp)
            out.append(time.perf_counter() - t0)
            if run.returncode:
                raise RuntimeError(f"{how}: {run.stderr.decode()[-2000:]}")
    return out[0], out[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--film", action="append", type=Path)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--no-dagster", action="store_true")
    args = ap.parse_args()
    paths = args.film or [FILMS / "big_buck_bunny_0-60s.mp4", FILMS / "big_buck_bunny_0-30s_720p.webm", FILMS / "chaplin_single_shot.mp4"]

    # Warm-up: imports, numba's cached librosa kernels, OpenCV cascades, scenedetect.
    warm = FILMS / "sintel_5s.mp4"
    cold_t, _ = library_seconds(warm, "warmup")
    scenedetect_seconds(warm)
    print(f"(cold start of the library analysis on a 5 s film, imports and JIT loading included: {cold_t:.2f} s)\n")

    rows = []
    for path in paths:
        info = probe(path)
        dur = info.duration_s
        t = {
            "decode": [],
            "decode+scale": [],
            "pyscenedetect": [],
            "library": [],
            "dagster": [],
            "dagster, new library": [],
            "cli process": [],
            "job process": [],
        }
        detail = {}
        for _ in range(args.repeat):
            t["decode"].append(pure_decode_seconds(path))
            t["decode+scale"].append(decode_only_seconds(path, probe_info=info))
            t["pyscenedetect"].append(scenedetect_seconds(path))
            secs, detail = library_seconds(path, path.stem)
            t["library"].append(secs)
        if not args.no_dagster:
            first, steady = dagster_seconds(path, warm)
            t["dagster"].append(steady)
            t["dagster, new library"].append(first)
            job, cli = process_seconds(path)
            t["job process"].append(job)
            t["cli process"].append(cli)
        med = {k: statistics.median(v) for k, v in t.items() if v}
        rows.append((path.name, dur, info, med, detail))

    ratios = [("library / decode", "library", "decode"), ("library / pyscenedetect", "library", "pyscenedetect")]
    if not args.no_dagster:
        ratios += [("dagster / library", "dagster", "library"), ("job process / cli process", "job process", "cli process")]
    names = list(rows[0][3])
    print(f"| film | duration s | {' | '.join(f'{k} s (film-s/s)' for k in names)} | {' | '.join(r[0] for r in ratios)} |")
    print("|" + "---|" * (len(names) + 2 + len(ratios)))
    for name, dur, info, med, _detail in rows:
        cells = " | ".join(f"{v:.2f} ({dur / v:.0f})" for v in med.values())
        ratio_cells = " | ".join(f"{med[a] / med[b]:.2f}x" for _, a, b in ratios)
        print(f"| {name} ({info.width}x{info.height} {info.video_codec}) | {dur:.1f} | {cells} | {ratio_cells} |")
    print("\nlibrary stage timings of the last repeat (s):")
    for name, _, _, _, detail in rows:
        print(f"  {name}: " + ", ".join(f"{k} {v:.2f}" if isinstance(v, float) else f"{k} {v}" for k, v in detail.items()))


if __name__ == "__main__":
    main()
