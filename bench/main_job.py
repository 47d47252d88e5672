"""The main job, brief to film, as a new user runs it: ``filmaster demo`` from a warm set-up.

    python bench/main_job.py [--keep DIR]

Runs ``filmaster demo`` (what ``./scripts/demo.sh`` runs once the virtual environment exists) in a
fresh process with a fresh storage root and ``DAGSTER_HOME``: the sample films are ingested, every
example brief is produced end to end (script, references, shots, cut, review, sound, film,
deliverables, evaluation). Then a second ``demo`` with nothing changed. Prints:

- wall time of each demo (target for the first: under 3 minutes on 2 cores);
- the share of the first demo's step time spent in each asset (from the Dagster run records);
- per production: the film's length, the render's speed in output-seconds per wall-second
  (``final_film`` step) and the whole production's output-seconds per wall-second.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tabulate import tabulate


def _demo(env: dict) -> float:
    t0 = time.perf_counter()
    out = subprocess.run([str(ROOT / ".venv" / "bin" / "filmaster"), "demo"], env=env, capture_output=True, text=True)
    took = time.perf_counter() - t0
    if out.returncode != 0:
        sys.exit(f"filmaster demo failed ({out.returncode}):\n{out.stdout[-3000:]}\n{out.stderr[-3000:]}")
    return took


def _step_times(home: Path) -> tuple[dict[str, float], dict[str, dict[str, float]]]:
    """(asset -> seconds, partition -> asset -> seconds) over each partition's first run (the first demo's
    work; the second demo's runs are cache hits) from the instance's run records."""
    import dagster as dg

    os.environ["DAGSTER_HOME"] = str(home)
    instance = dg.DagsterInstance.get()
    total: dict[str, float] = defaultdict(float)
    per_production: dict[str, dict[str, float]] = defaultdict(dict)
    seen: set[str] = set()
    for run in reversed(instance.get_runs()):  # oldest first
        partition = run.tags.get("dagster/partition", "")
        if partition in seen:
            continue
        seen.add(partition)
        for stat in instance.get_run_step_stats(run.run_id):
            if stat.start_time is None or stat.end_time is None:
                continue
            seconds = stat.end_time - stat.start_time
            total[stat.step_key] += seconds
            per_production[partition][stat.step_key] = seconds
    return total, per_production


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--keep", help="use (and keep) this folder instead of a temporary one")
    args = parser.parse_args()
    work = Path(args.keep or tempfile.mkdtemp(prefix="filmaster-main-job-"))
    work.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "FILMASTER_DATA": str(work / "data"), "DAGSTER_HOME": str(work / "home")}
    (work / "home").mkdir(exist_ok=True)
    first = _demo(env)
    second = _demo(env)
    total, per_production = _step_times(work / "home")
    steps = sum(total.values())
    print(
        f"\nfilmaster demo, fresh storage, warm set-up — {platform.processor() or platform.machine()}, "
        f"{os.cpu_count()} cores, {time.strftime('%Y-%m-%d')}"
    )
    print(
        tabulate(
            [["first demo (ingest 4 films + every brief to film)", f"{first:.1f}"], ["second demo (nothing changed)", f"{second:.1f}"]],
            headers=["run", "wall s"],
            tablefmt="github",
        )
    )
    rows = sorted(total.items(), key=lambda kv: -kv[1])
    print("\nshare of the first demo's step time per asset (summed over films and productions)")
    print(tabulate([[k, f"{v:.1f}", f"{100 * v / steps:.1f} %"] for k, v in rows], headers=["asset", "s", "share"], tablefmt="github"))
    prows = []
    for production, stats in sorted(per_production.items()):
        film_json = work / "data" / "productions" / production / "final_film.json"
        if not production or not film_json.is_file():
            continue
        film = json.loads(film_json.read_text())
        length = float(film["duration_s"])
        post = sum(v for k, v in stats.items())
        prows.append([production, f"{length:.1f}", f"{film.get('realtime') or 0:.2f}", f"{length / post:.2f}" if post else "-"])
    print("\nper production (first demo's run where the film was rendered)")
    print(tabulate(prows, headers=["production", "film s", "render out-s/wall-s", "whole production out-s/wall-s"], tablefmt="github"))


if __name__ == "__main__":
    main()
