"""Production throughput: planning and ripomatic generation per minute of planned film, and the cache.

    python bench/production.py [--brief examples/briefs/dusk.yaml ...] [--repeat 3]

Builds a reference library from the sample films (``../shared/media/films``: Big Buck Bunny 60 s,
Sintel, Chaplin) in a temporary folder through the real library assets, then for each brief
(default: the three examples) times, in one process:

- ``plan``: the rules writer, scene-level retrieval and the rules planner (pure functions, median
  of ``--repeat``), per minute of planned film;
- ``ripomatic``: every planned shot rendered by the ripomatic (wall and CPU), per minute of film;
- ``dagster first`` / ``dagster re-run``: the whole ``production`` group through ``dg.materialize``
  (IO manager, checks, clip cache) into a fresh production, then again unchanged: every clip is a
  cache hit, and the ratio is the cache's speed-up.

The diffusers pipeline overhead is measured by ``bench/diffusion_overhead.py``.
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

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import dagster as dg
from tabulate import tabulate

from filmaster_dag.assets.library import library_assets
from filmaster_dag.assets.production import production_assets, source_paths
from filmaster_dag.checks import production_checks
from filmaster_dag.cinema.brief import brief_slug, load_brief
from filmaster_dag.cinema.planning.retrieval import retrieve
from filmaster_dag.cinema.planning.script import rules_script
from filmaster_dag.cinema.planning.shots import plan_shots
from filmaster_dag.definitions import build_resources
from filmaster_dag.resources.briefs import BriefInbox
from filmaster_dag.resources.generator import PictureSpec, ShotRequest, shot_seed
from filmaster_dag.resources.generator.ripomatic import RipomaticGenerator

FILMS = ROOT.parent / "shared" / "media" / "films"
QUIET = {"loggers": {"console": {"config": {"log_level": "CRITICAL"}}}}  # the table is the output
SAMPLES = ["big_buck_bunny_0-60s.mp4", "sintel_5s.mp4", "chaplin_single_shot.mp4"]
EXAMPLES = sorted((ROOT / "examples" / "briefs").glob("*.yaml"))


def build_library(root: Path, instance: dg.DagsterInstance) -> dict:
    inbox = root / "inbox"
    inbox.mkdir(parents=True)
    for name in SAMPLES:
        os.symlink(FILMS / name, inbox / name)
    resources = build_resources(root=str(root / "data"), inbox=str(inbox))
    films = sorted(resources["inbox"].scan().films)
    instance.add_dynamic_partitions("films", films)
    for film in films:
        dg.materialize(library_assets, partition_key=film, instance=instance, resources=resources, run_config=QUIET)
    return resources


def cpu_s() -> float:
    t = os.times()
    return t.user + t.system


def bench_brief(path: Path, resources: dict, instance: dg.DagsterInstance, repeat: int, tmp: Path) -> dict:
    brief = load_brief(path)
    production = brief_slug(path)
    index = resources["reference_index"].open()
    sources = source_paths(resources["store"])
    timings = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        script = rules_script(brief, production)
        refs = retrieve(script, brief, index, k=3, source_paths=sources)
        plan = plan_shots(script, refs, brief, None)
        timings.append(time.perf_counter() - t0)
    minutes = plan.duration_s / 60
    generator = RipomaticGenerator()
    spec = PictureSpec(plan.width, plan.height, Fraction(plan.frame_rate))
    wall0, cpu0 = time.perf_counter(), cpu_s()
    for shot in plan.shots:
        request = ShotRequest(shot=shot, spec=spec, seed=shot_seed(production, shot))
        generator.generate(request, str(tmp / f"{production}-{shot.shot_id}.mp4"))
    wall, cpu = time.perf_counter() - wall0, cpu_s() - cpu0
    # through Dagster, a fresh production each time the benchmark runs
    briefs = tmp / f"briefs-{production}"
    briefs.mkdir()
    (briefs / path.name).write_text(path.read_text())
    run_resources = {**resources, "briefs": BriefInbox(folder=str(briefs))}
    instance.add_dynamic_partitions("productions", [production])
    runs = []
    for _ in range(2):
        t0 = time.perf_counter()
        result = dg.materialize(
            [*production_assets, *production_checks], partition_key=production, instance=instance, resources=run_resources, run_config=QUIET
        )
        runs.append(time.perf_counter() - t0)
        assert result.success
    return {
        "brief": path.name,
        "picture": f"{plan.width}x{plan.height}@{plan.frame_rate}",
        "film s": round(plan.duration_s, 2),
        "shots": len(plan.shots),
        "plan s": round(statistics.median(timings), 3),
        "plan s/min": round(statistics.median(timings) / minutes, 3),
        "ripomatic s": round(wall, 1),
        "ripomatic wall s/min": round(wall / minutes, 1),
        "ripomatic CPU s/min": round(cpu / minutes, 1),
        "dagster first s": round(runs[0], 1),
        "dagster re-run s": round(runs[1], 2),
        "cache speed-up": f"{runs[0] / runs[1]:.1f}x",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--brief", action="append", type=Path, help="brief file(s); default the three examples")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    briefs = args.brief or EXAMPLES
    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, python {platform.python_version()}")
    with tempfile.TemporaryDirectory(prefix="filmaster-bench-") as tmp, dg.instance_for_test(temp_dir=tmp) as instance:
        t0 = time.perf_counter()
        resources = build_library(Path(tmp) / "lib", instance)
        print(f"library of {len(SAMPLES)} sample films built in {time.perf_counter() - t0:.1f} s")
        rows = [bench_brief(path, resources, instance, args.repeat, Path(tmp)) for path in briefs]
    print(tabulate(rows, headers="keys", tablefmt="github"))


if __name__ == "__main__":
    main()
