"""`filmaster`: the command line over the same assets the Dagster UI shows.

    filmaster demo                 ingest the inbox films (default: the shared sample films) and print the library
    filmaster ingest [FILM ...]    ingest these film slugs (default: every film in the inbox)
    filmaster library              print what the library holds
    filmaster search TEXT [--where SQL] [-k N]   full-text search over shot descriptions
    filmaster ui                   start the Dagster UI (dagster dev) on this project
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def ensure_dagster_home() -> Path:
    """A persistent DAGSTER_HOME (dynamic partitions live there): ``$DAGSTER_HOME`` or ``.dagster_home``."""
    home = Path(os.environ.get("DAGSTER_HOME") or (Path.cwd() / ".dagster_home")).resolve()
    home.mkdir(parents=True, exist_ok=True)
    src = REPO / "dagster.yaml"
    if src.exists() and not (home / "dagster.yaml").exists():
        (home / "dagster.yaml").write_text(src.read_text())
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def _console():
    import shutil

    from rich.console import Console

    return Console(width=max(shutil.get_terminal_size((200, 40)).columns, 160))


def ingest(films_to_run: list[str] | None = None, log_level: str = "WARNING") -> dict[str, str]:
    """Materialize the reference-library group for each film (in this process). Returns film -> status."""
    import dagster as dg

    from .assets.library import library_assets
    from .checks import library_checks
    from .definitions import build_resources
    from .partitions import films

    ensure_dagster_home()
    console = _console()
    resources = build_resources()
    inbox = resources["inbox"]
    found = inbox.films()
    targets = films_to_run or sorted(found)
    unknown = [f for f in targets if f not in found]
    if unknown:
        console.print(f"[red]not in the inbox {inbox.root}: {', '.join(unknown)}[/red]; known: {', '.join(sorted(found))}")
        targets = [f for f in targets if f in found]
    statuses = {f: "FAILED: not in the inbox" for f in unknown}
    instance = dg.DagsterInstance.get()
    known = set(instance.get_dynamic_partitions(films.name))
    new = [f for f in targets if f not in known]
    if new:
        instance.add_dynamic_partitions(films.name, new)
    console.print(f"inbox: {inbox.root} ({len(found)} films); storage: {resources['store'].root}; DAGSTER_HOME: {os.environ['DAGSTER_HOME']}")
    for film in targets:
        t0 = time.perf_counter()
        result = dg.materialize(
            [*library_assets, *library_checks],
            partition_key=film,
            instance=instance,
            resources=resources,
            raise_on_error=False,
            tags={"filmaster/source": "cli"},
            run_config={"loggers": {"console": {"config": {"log_level": log_level}}}},
        )
        took = time.perf_counter() - t0
        if result.success:
            statuses[film] = f"ok ({took:.1f} s)"
            console.print(f"[green]✓[/green] {film} ({took:.1f} s)")
        else:
            failures = [e.event_specific_data.error.message.strip().splitlines()[0] for e in result.all_events if e.is_step_failure and e.event_specific_data and e.event_specific_data.error]
            message = failures[0] if failures else "failed"
            for line in failures:  # dagster prefixes the step; keep the film's own message
                if "film '" in line:
                    message = line[line.index("film '"):]
                    break
            statuses[film] = f"FAILED: {message}"
            console.print(f"[red]✗ {message}[/red]")
    return statuses


def library_table(statuses: dict[str, str] | None = None) -> None:
    """Print one row per film in the index: shots, cuts, ASL, movements, scales, sequences, vectors."""
    from rich.table import Table

    from .definitions import build_resources

    resources = build_resources()
    index = resources["reference_index"].open()
    rows = index.filter(None, None)
    seqs = index.filter(None, None, table="sequences")
    table = Table(title=f"Reference library ({resources['reference_index'].uri})")
    for col in ("film", "shots", "cuts", "gradual", "ASL s", "top movements", "top scales", "sequences", "vectors", "status"):
        table.add_column(col)
    films = sorted(set(rows["film"] if len(rows) else []) | set(statuses or {}))
    for film in films:
        r = rows[rows["film"] == film] if len(rows) else rows
        if not len(r):
            table.add_row(film, "-", "-", "-", "-", "-", "-", "-", "-", (statuses or {}).get(film, ""))
            continue
        moves = ", ".join(f"{k} {v}" for k, v in r["movement"].value_counts().head(3).items())
        scales = ", ".join(f"{k} {v}" for k, v in r["shot_scale"].value_counts().head(3).items())
        vec = index.count(film=film, where="vector IS NOT NULL")
        table.add_row(
            film,
            str(len(r)),
            str(int((r["transition_in"] == "cut").sum())),
            str(int(r["transition_in"].isin(["dissolve", "fade"]).sum())),
            f"{r['duration_s'].mean():.2f}",
            moves,
            scales,
            str(int((seqs["film"] == film).sum())) if len(seqs) else "0",
            str(vec) if vec else "0 (no weights)",
            (statuses or {}).get(film, "indexed"),
        )
    _console().print(table)


def search(text: str, where: str | None, k: int) -> int:
    from rich.table import Table

    from .definitions import build_resources

    index = build_resources()["reference_index"].open()
    try:
        hits = index.search_text(text, k=k, where=where)
    except (ValueError, RuntimeError) as err:  # LanceDB reports a bad filter as either
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        _console().print(f"[red]search failed: {first}[/red] (check the --where filter: SQL over the shots table's columns)")
        return 2
    table = Table(title=f"shots matching {text!r}" + (f" where {where}" if where else ""))
    for col in ("shot_id", "start_s", "duration_s", "description"):
        table.add_column(col)
    for r in hits.itertuples():
        table.add_row(r.shot_id, f"{r.start_s:.2f}", f"{r.duration_s:.2f}", r.description)
    _console().print(table)
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="filmaster", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="ingest the inbox films and print the library")
    p_ingest = sub.add_parser("ingest", help="ingest films (slugs) from the inbox")
    p_ingest.add_argument("films", nargs="*")
    sub.add_parser("library", help="print the library summary")
    p_search = sub.add_parser("search", help="full-text search over shot descriptions")
    p_search.add_argument("text")
    p_search.add_argument("--where", default=None, help="SQL filter, e.g. \"movement = 'static'\"")
    p_search.add_argument("-k", type=int, default=10)
    p_ui = sub.add_parser("ui", help="start the Dagster UI")
    p_ui.add_argument("--port", default="3000")
    args = parser.parse_args(argv)

    if args.command in ("demo", "ingest"):
        statuses = ingest(getattr(args, "films", None) or None)
        library_table(statuses)
        return 0 if all(s.startswith("ok") for s in statuses.values()) else 1
    if args.command == "library":
        ensure_dagster_home()
        library_table()
        return 0
    if args.command == "search":
        return search(args.text, args.where, args.k)
    if args.command == "ui":
        ensure_dagster_home()
        return subprocess.call([sys.executable, "-m", "dagster", "dev", "-m", "filmaster_dag.definitions", "-p", args.port])
    return 2


if __name__ == "__main__":
    sys.exit(main())
