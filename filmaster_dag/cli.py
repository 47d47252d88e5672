"""`filmaster`: the command line over the same assets the Dagster UI shows.

filmaster demo                 ingest the inbox films (default: the shared sample films), print the library,
                               and produce every brief in the briefs inbox (default: examples/briefs)
filmaster ingest [FILM ...]    ingest these film slugs (default: every film in the inbox)
filmaster library              print what the library holds
filmaster search [TEXT] [--where SQL] [--like SHOT_OR_IMAGE] [-k N] [--sheet OUT.jpg] [--save NAME]
                               shots by words, measured attributes and/or look, with film timecode, keyframe, contact sheet
filmaster produce BRIEF.yaml [--json]          a brief to a film: script, references, shots, cut, review, sound, MP4, OTIO/FCP XML/EDL, SRT
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
    """A persistent DAGSTER_HOME (dynamic partitions and run history live there): ``$DAGSTER_HOME``,
    else ``<project>/.dagster_home`` (absolute, whatever the current directory)."""
    from .definitions import project_home

    home = Path(os.environ.get("DAGSTER_HOME") or (project_home() / ".dagster_home")).expanduser().resolve()
    home.mkdir(parents=True, exist_ok=True)
    src, dst = REPO / "dagster.yaml", home / "dagster.yaml"
    # a home set up by an earlier version gets the current settings (run monitoring, pools);
    # a dagster.yaml the user wrote (without our header) is left alone
    ours = not dst.exists() or dst.read_text().startswith(src.read_text().splitlines()[0]) if src.exists() else False
    if ours and (not dst.exists() or dst.read_text() != src.read_text()):
        dst.write_text(src.read_text())
    os.environ["DAGSTER_HOME"] = str(home)
    return home


def _console():
    import shutil

    from rich.console import Console

    return Console(width=max(shutil.get_terminal_size((200, 40)).columns, 160))


def _quiet_dagster(verbose: bool) -> None:
    """Dagster's own loggers print each step failure's trace; the CLI prints one line instead."""
    import logging
    import warnings

    level = logging.INFO if verbose else logging.CRITICAL
    for name in ("dagster", "dagster.builtin"):
        logging.getLogger(name).setLevel(level)
    if not verbose:
        import dagster as dg

        warnings.filterwarnings("ignore", category=dg.BetaWarning)
        warnings.filterwarnings("ignore", category=dg.PreviewWarning)


def _failure(result) -> tuple[str, str]:
    """(one line, full trace) of a failed run: the failed step's own description (every film step
    fails with its one line, see ``assets.library.film_errors``), else the first error's message."""
    failed = [e.event_specific_data for e in result.all_events if e.is_step_failure and e.event_specific_data]
    errors = [d.error for d in failed if d.error]
    described = [d.user_failure_data.description for d in failed if d.user_failure_data and d.user_failure_data.description]
    if described:
        return described[0].splitlines()[0], "\n".join(e.to_string() for e in errors)
    if not errors:
        return "failed", ""
    return (errors[0].message.strip().splitlines() or [errors[0].cls_name])[0], "\n".join(e.to_string() for e in errors)


def _materialize_with_progress(
    bars, task, assets: list, key: str, instance, resources: dict, verbose: bool, unit: str = "", counted_stages: bool = False
):
    """``dg.materialize`` one partition in this process, its stage reports driving ``task``'s bar.
    ``counted_stages``: a stage without a count clears the previous stage's (a production's stages each
    count their own things: shots, lines); otherwise the last count stays (a film's frames).
    The full log (traces included) is in the run's event log either way; the console shows it with ``verbose``."""
    import dagster as dg

    from .cinema import progress as stage_progress
    from .runs import run_tags

    def show(event) -> None:
        if event.film != key:
            return
        if event.total:
            bars.update(task, total=event.total, completed=event.done or 0, stage=f"{event.stage}{unit}")
        elif counted_stages:
            bars.update(task, total=None, completed=0, stage=event.stage)
        else:
            bars.update(task, stage=event.stage)

    with stage_progress.listening(show):
        return dg.materialize(
            assets,
            partition_key=key,
            instance=instance,
            resources=resources,
            raise_on_error=False,
            tags={"filmaster/source": "cli", **run_tags()},
            run_config={"loggers": {"console": {"config": {"log_level": "INFO" if verbose else "CRITICAL"}}}},
        )


def ingest(films_to_run: list[str] | None = None, force: bool = False, verbose: bool = False) -> dict[str, str]:
    """Materialize the reference-library group for each film, in this process, with progress bars.

    With no films named, every inbox film the library does not already hold (same file hash) is
    ingested; ``force`` re-ingests unchanged films too. Returns film -> status.
    """
    import dagster as dg
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .assets.library import library_assets
    from .checks import library_checks
    from .definitions import build_resources
    from .partitions import films
    from .runs import plan_ingest, reap_dead_runs

    ensure_dagster_home()
    _quiet_dagster(verbose)
    console = _console()
    resources = build_resources()
    inbox = resources["inbox"]
    scan = inbox.scan()
    found = scan.films
    instance = dg.DagsterInstance.get()
    reaped = reap_dead_runs(instance)
    if reaped:
        console.print(f"marked {len(reaped)} dead run(s) as failed and freed their slots: {', '.join(r[:8] for r in reaped)}")
    # one scan of the inbox, already reaped: plan against the library's record directly
    to_ingest = [] if films_to_run else [p.film for p in plan_ingest(instance, found, force=force) if p.reason]
    targets = films_to_run or sorted(to_ingest)
    unknown = [f for f in targets if f not in found]
    statuses = {f: "FAILED: not in the inbox" for f in unknown}
    if unknown:
        console.print(f"[red]not in the inbox {inbox.root}: {', '.join(unknown)}[/red]; known: {', '.join(sorted(found))}")
    targets = [f for f in targets if f in found]
    console.print(
        f"inbox: {inbox.root} ({len(found)} films); storage: {resources['store'].root}; DAGSTER_HOME: {os.environ['DAGSTER_HOME']}"
    )
    for path, why in scan.skipped:
        console.print(f"[yellow]skipped[/yellow] {path}: {why}")
    held = sorted(set(found) - set(targets) - set(unknown))
    if held and not films_to_run:
        console.print(f"{len(held)} film(s) unchanged since their last ingest (use --force to redo): {', '.join(held)}")
        statuses.update({f: "unchanged" for f in held})
    known = set(instance.get_dynamic_partitions(str(films.name)))
    new = [f for f in targets if f not in known]
    if new:
        instance.add_dynamic_partitions(str(films.name), new)
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[stage]}"), TimeElapsedColumn()]
    with Progress(*columns, console=console, transient=False, disable=not targets) as bars:
        for n, film in enumerate(targets, 1):
            task = bars.add_task(f"[{n}/{len(targets)}] {film}", total=None, stage="starting")

            t0 = time.perf_counter()
            result = _materialize_with_progress(
                bars, task, [*library_assets, *library_checks], film, instance, resources, verbose, " (frames)"
            )
            took = time.perf_counter() - t0
            twin = _duplicate_of(resources["store"], film) if result.success else None
            if twin:
                statuses[film] = f"duplicate of {twin[0]}, not indexed again"
                bars.update(task, stage="[green]duplicate[/green]")
                bars.console.print(
                    f"[green]=[/green] {film}: same content as {twin[0]} ({twin[1]}): not indexed again", highlight=False, soft_wrap=True
                )
            elif result.success:
                statuses[film] = f"ok ({took:.1f} s)"
                bars.update(task, stage=f"[green]done[/green] in {took:.1f} s")
                bars.console.print(f"[green]✓[/green] {film} ({took:.1f} s)", highlight=False)
            else:
                line, trace = _failure(result)
                statuses[film] = f"FAILED: {line}"
                bars.update(task, stage="[red]failed[/red]")
                bars.console.print(f"[red]✗ {line}[/red]", markup=True, highlight=False, soft_wrap=True)
                if verbose and trace:
                    bars.console.print(trace, markup=False, highlight=False)
    return statuses


def _duplicate_of(store, film: str) -> tuple[str, str] | None:
    """(original film, its path) when ``film``'s file was last recorded as a copy of another film."""
    from .assets.library import film_source_record

    record = film_source_record(store, film)
    return (record["duplicate_of"], record.get("duplicate_of_path", "")) if record.get("duplicate_of") else None


def library_table(statuses: dict[str, str] | None = None) -> None:
    """Print one row per film in the index: shots, cuts, ASL, movements, scales, sequences, vectors."""
    from rich.table import Table

    from .cinema.vocabulary import GRADUAL_KINDS
    from .definitions import build_resources

    resources = build_resources()
    index = resources["reference_index"].open()
    rows = index.filter(None, None)
    seqs = index.filter(None, None, table="sequences")
    _console().print(f"library: {resources['reference_index'].uri}", soft_wrap=True, highlight=False)
    table = Table(title="Reference library")
    for col in ("film", "shots", "cuts", "gradual", "ASL s", "top movements", "top scales", "sequences", "vectors", "status"):
        table.add_column(col)
    indexed = set(rows["film"] if len(rows) else [])
    copies = {f: twin for f in resources["store"].list("library") if f not in indexed and (twin := _duplicate_of(resources["store"], f))}
    films = sorted(indexed | set(statuses or {}) | set(copies))
    for film in films:
        r = rows[rows["film"] == film] if len(rows) else rows
        if not len(r):
            status = f"duplicate of {copies[film][0]}" if film in copies else ""
            table.add_row(film, "-", "-", "-", "-", "-", "-", "-", "-", (statuses or {}).get(film, status))
            continue
        moves = ", ".join(f"{k} {v}" for k, v in r["movement"].value_counts().head(3).items())
        scales = ", ".join(f"{k} {v}" for k, v in r["shot_scale"].value_counts().head(3).items())
        vec = index.count(film=film, where="vector IS NOT NULL")
        table.add_row(
            film,
            str(len(r)),
            str(int((r["transition_in"] == "cut").sum())),
            str(int(r["transition_in"].isin(GRADUAL_KINDS).sum())),
            f"{r['duration_s'].mean():.2f}",
            moves,
            scales,
            str(int((seqs["film"] == film).sum())) if len(seqs) else "0",
            str(vec) if vec else "0 (no weights)",
            (statuses or {}).get(film, "indexed"),
        )
    _console().print(table)


def search(text: str | None, where: str | None, k: int, sheet: str | None = None, like: str | None = None, save: str | None = None) -> int:
    """Print the shots matching ``text`` (vocabulary phrases as filters, other words full-text),
    ``where`` (SQL over the shots table) and/or looking ``like`` a shot id or an image file: score,
    film, SMPTE timecode at the film's rate, length, keyframe path, description. ``sheet``: also
    write a contact sheet (JPEG) of the hits' keyframes, labelled, in hit order; ``save``: keep the
    search as ``NAME.yaml`` in the saved-searches folder, where the ``saved_searches`` asset runs it."""
    from pydantic import ValidationError
    from rich.table import Table

    from .definitions import build_resources
    from .index.search import BY_WORDS, SearchError, ShotQuery, find_shots, hits_sheet

    try:
        query = ShotQuery(text=text, where=where, like=like, k=k)
    except ValidationError:
        _console().print(
            "[red]search needs TEXT, --where FILTER, --like SHOT_OR_IMAGE, or a combination[/red] "
            "(e.g. filmaster search --where \"movement = 'pan_left'\")"
        )
        return 2
    resources = build_resources()
    try:
        result = find_shots(resources["reference_index"].open(), query, resources["embedder"])
    except SearchError as err:
        _console().print(f"[red]{err}[/red]", soft_wrap=True)
        return 2
    if result.read_as:  # what the vocabulary made of the words, so a surprising hit can be understood
        _console().print(f"[dim]read as: {result.read_as}[/dim]", soft_wrap=True)
    if result.ranked_by == BY_WORDS and not resources["embedder"].available:  # said once, where it matters: words
        _console().print(
            "[dim]words match the shots' measured descriptions (camera, light, colour, length), not what is in the picture: "
            "content search ('a rabbit') needs CLIP weights, e.g. FILMASTER_CLIP_WEIGHTS=laion2b_s34b_b79k "
            "(downloaded once) or a local checkpoint, then re-ingest; --like IMAGE finds shots that look like a picture offline[/dim]",
            soft_wrap=True,
        )
    asked = [f"like {result.example}" if result.example else "", f"matching {text!r}" if text else "", f"where {where}" if where else ""]
    table = Table(title=" ".join(["shots", *(p for p in asked if p)]) + f" (ranked by {result.ranked_by})")
    rows = result.table()
    last = "alike" if "alike" in rows else "description"  # by example: what looks alike, block by block
    for col in ("score", "shot_id", "film", "timecode", "duration_s", "keyframe", last):
        table.add_column(col, overflow="fold")  # a path folds onto more lines rather than losing its end
    for r in rows.itertuples():
        score = "-" if r.score is None or r.score != r.score else f"{r.score:.2f}"
        table.add_row(score, r.shot_id, r.film, r.timecode, f"{r.duration_s:.2f}", r.keyframe, getattr(r, last))
    _console().print(table, soft_wrap=True)
    if sheet and len(rows):
        jpeg = hits_sheet(result, resources["store"].read_path)
        if jpeg is None:
            _console().print(f"[yellow]no keyframe of these hits could be read: {sheet} not written[/yellow]")
        else:
            out = Path(sheet).expanduser()
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_bytes(jpeg)
            _console().print(f"contact sheet of {len(rows)} hits: {out}", soft_wrap=True)
    if not len(rows):
        _console().print("no shot matches" + (": try fewer words, or an attribute filter with --where" if text else ""))
    if save:
        from .resources.searches import save_search

        saved = save_search(resources["searches"].root, save, query)
        _console().print(f"saved as {saved}", soft_wrap=True)
        return _run_saved_searches(resources)
    return 0


def _run_saved_searches(resources: dict) -> int:
    """Materialize the ``saved_searches`` asset in the persistent instance, so the UI shows the new search now."""
    import dagster as dg

    from .assets.searches import search_assets, search_checks

    ensure_dagster_home()
    _quiet_dagster(False)
    with dg.DagsterInstance.get() as instance:
        result = dg.materialize([*search_assets, *search_checks], instance=instance, resources=resources, raise_on_error=False)
    if not result.success:
        line, _ = _failure(result)
        _console().print(f"[red]saved_searches failed: {line}[/red]", soft_wrap=True)
        return 1
    table = result.output_for_node("saved_searches")
    counts = table[table["error"] == ""].groupby("search").size()
    done = ", ".join(f"{name} ({n} hits)" for name, n in counts.items())
    _console().print(f"saved_searches materialized: {done or 'no hits'}; open the asset in the UI for each contact sheet", soft_wrap=True)
    return 0


def _production_key(brief: Path, briefs_folder: Path) -> tuple[str, Path]:
    """(partition key, briefs folder) of a brief file: keyed inside the briefs inbox when it lies
    there (so the sensor and the CLI agree), else inside its own folder."""
    from .cinema.brief import brief_slug

    brief = brief.resolve()
    folder = briefs_folder if brief.is_relative_to(briefs_folder) else brief.parent
    return brief_slug(brief, folder), folder


def produce(brief_file: str, verbose: bool = False) -> tuple[int, dict]:
    """Materialize the production group for one brief, in this process, with progress; ingest the
    inbox films first when the library is empty. Returns (exit status, what was made)."""
    import dagster as dg
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from .assets.post_production import post_production_assets
    from .assets.production import PRODUCTIONS, production_assets
    from .checks import post_production_checks, production_checks
    from .definitions import build_resources
    from .partitions import productions
    from .resources.briefs import BriefInbox
    from .runs import reap_dead_runs

    ensure_dagster_home()
    _quiet_dagster(verbose)
    console = _console()
    path = Path(brief_file).expanduser()
    if not path.is_file():
        console.print(f"[red]{path}: no such brief file; give the path of a brief (.yaml), e.g. examples/briefs/dusk.yaml[/red]")
        return 2, {}
    resources = build_resources()
    production, folder = _production_key(path, resources["briefs"].root)
    resources["briefs"] = BriefInbox(folder=str(folder))
    instance = dg.DagsterInstance.get()
    reap_dead_runs(instance)
    if resources["reference_index"].open().count() == 0:
        console.print("the reference library is empty: ingesting the inbox films first")
        ingest(verbose=verbose)
    if production not in instance.get_dynamic_partitions(str(productions.name)):
        instance.add_dynamic_partitions(str(productions.name), [production])
    console.print(f"production: {production} ({path}); storage: {resources['store'].root}", highlight=False, soft_wrap=True)
    columns = [TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TextColumn("{task.fields[stage]}"), TimeElapsedColumn()]
    t0 = time.perf_counter()
    with Progress(*columns, console=console, transient=False) as bars:
        task = bars.add_task(production, total=None, stage="starting")

        graph = [*production_assets, *post_production_assets, *production_checks, *post_production_checks]
        result = _materialize_with_progress(bars, task, graph, production, instance, resources, verbose, counted_stages=True)
        finished = "[green]done[/green]" if result.success else "[red]failed[/red]"
        bars.update(task, total=1, completed=1 if result.success else 0, stage=finished)
    if not result.success:
        line, trace = _failure(result)
        console.print(f"[red]✗ {line}[/red]", highlight=False, soft_wrap=True)
        if verbose and trace:
            console.print(trace, markup=False, highlight=False)
        return 1, {"production": production, "error": line}
    store = resources["store"]
    manifest = store.read_table(PRODUCTIONS, production, "generated_shots.parquet")
    delivered = store.read_json(PRODUCTIONS, production, "deliverables.json")
    evaluation = store.uri(PRODUCTIONS, production, "film_evaluation.json")
    made = {
        "production": production,
        "script": store.uri(PRODUCTIONS, production, "script.json"),
        "shot_plan": store.uri(PRODUCTIONS, production, "shot_plan.json"),
        "clips": [
            {
                "shot_id": r.shot_id,
                "scene": r.scene_id,
                "path": r.path,
                "duration_s": round(float(r.duration_s), 6),
                "generator": r.generator,
            }
            for r in manifest.itertuples()
        ],
        **{key: delivered[key] for key in ("film", "otio", "fcp_xml", "fcpx_xml", "edl", "srt", "credits")},
        "stems": delivered["stems"] | {"mix": delivered["mix"]},
        "evaluation": evaluation,
        "duration_s": store.read_json(PRODUCTIONS, production, "final_film.json")["duration_s"],
    }
    hits = int(manifest["cached"].sum())
    shown = [("film", made["film"]), ("OTIO", made["otio"]), ("FCP XML", made["fcp_xml"]), ("FCP X XML", made["fcpx_xml"])]
    shown += [("EDL", made["edl"]), ("subtitles", made["srt"]), ("credits", made["credits"]), ("evaluation", evaluation)]
    shown += [("stems", store.uri(PRODUCTIONS, production, "sound")), ("clips", store.uri(PRODUCTIONS, production, "clips"))]
    console.print(
        f"[green]✓[/green] {production}: {len(manifest)} shots ({hits} from the cache), film made in {time.perf_counter() - t0:.1f} s\n"
        + "\n".join(f"  {label + ':':<11} {where}" for label, where in shown),
        highlight=False,
        soft_wrap=True,
    )
    return 0, made


def demo_productions(verbose: bool = False) -> bool:
    """Produce every brief in the briefs inbox (default: the three examples); clips come from the
    cache when nothing changed. True when all of them produced."""
    from rich.table import Table

    from .definitions import build_resources

    briefs = build_resources()["briefs"].scan()
    made = {production: produce(str(path), verbose=verbose) for production, path in sorted(briefs.items())}
    table = Table(title="Productions")
    for col in ("production", "shots", "planned s", "film s", "generators", "film", "status"):
        table.add_column(col)
    for production, (status, out) in made.items():
        clips = out.get("clips", [])
        planned = sum(c["duration_s"] for c in clips)
        cut = f"{out['duration_s']:.1f}" if "duration_s" in out else "-"
        generators = ", ".join(sorted({c["generator"] for c in clips}))
        film = out.get("film", "")
        status_text = "ok" if status == 0 else out.get("error", "failed")
        table.add_row(production, str(len(clips)), f"{planned:.1f}", cut, generators, film, status_text)
    _console().print(table)
    return all(status == 0 for status, _ in made.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="filmaster", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="ingest the inbox films, print the library, produce every brief in the briefs inbox")
    p_demo = sub.choices["demo"]
    p_ingest = sub.add_parser("ingest", help="ingest films (slugs) from the inbox")
    p_ingest.add_argument("films", nargs="*", help="film slugs (default: every inbox film the library does not hold yet)")
    for p in (p_demo, p_ingest):
        p.add_argument("--force", action="store_true", help="re-ingest films whose file is unchanged")
        p.add_argument("-v", "--verbose", action="store_true", help="Dagster's log and full traces of failures")
    sub.add_parser("library", help="print the library summary")
    p_search = sub.add_parser("search", help="find shots: full-text over descriptions and/or an SQL filter on measured attributes")
    p_search.add_argument("text", nargs="?", default=None, help="words to find in shot descriptions (optional with --where)")
    p_search.add_argument("--where", default=None, help="SQL filter, e.g. \"movement = 'static'\"")
    p_search.add_argument("-k", type=int, default=10)
    p_search.add_argument("--sheet", default=None, metavar="OUT.jpg", help="also write a contact sheet of the hits' keyframes")
    p_search.add_argument(
        "--like", default=None, metavar="SHOT_OR_IMAGE", help="shots that look like a shot id (film/0003) or an image file, offline"
    )
    p_search.add_argument("--save", default=None, metavar="NAME", help="keep this search as a saved search (an asset with its sheet)")
    p_produce = sub.add_parser(
        "produce",
        help="produce a brief end to end: script, references, shot plan, shots, rough cut, review, fine cut, sound, film, deliverables",
    )
    p_produce.add_argument("brief", help="the brief file (YAML), e.g. examples/briefs/dusk.yaml")
    p_produce.add_argument("--json", action="store_true", help="print one JSON object (paths) on stdout; progress goes to stderr")
    p_produce.add_argument("-v", "--verbose", action="store_true", help="Dagster's log and full traces of failures")
    p_ui = sub.add_parser("ui", help="start the Dagster UI")
    p_ui.add_argument("--port", default="3000")
    args = parser.parse_args(argv)
    from .settings import FilmasterSettings, SettingsError

    try:
        FilmasterSettings.from_env()
    except SettingsError as err:  # a bad FILMASTER_* value: one line, before anything starts
        _console().print(f"[red]{err}[/red]", highlight=False, soft_wrap=True)
        return 2
    return _run(args)


def _run(args: argparse.Namespace) -> int:
    if args.command in ("demo", "ingest"):
        statuses = ingest(getattr(args, "films", None) or None, force=args.force, verbose=args.verbose)
        library_table(statuses)
        ok = all(s.startswith("ok") or s == "unchanged" for s in statuses.values())
        if args.command == "demo":
            ok = demo_productions(verbose=args.verbose) and ok
        return 0 if ok else 1
    if args.command == "library":
        ensure_dagster_home()
        library_table()
        return 0
    if args.command == "search":
        return search(args.text, args.where, args.k, args.sheet, args.like, args.save)
    if args.command == "produce":
        if not args.json:
            return produce(args.brief, verbose=args.verbose)[0]
        import contextlib
        import json

        with contextlib.redirect_stdout(sys.stderr):  # progress and messages on stderr; stdout holds the JSON only
            status, made = produce(args.brief, verbose=args.verbose)
        print(json.dumps(made))
        return status
    if args.command == "ui":
        ensure_dagster_home()
        return subprocess.call([sys.executable, "-m", "dagster", "dev", "-m", "filmaster_dag.definitions", "-p", args.port])
    return 2


if __name__ == "__main__":
    sys.exit(main())
