"""Inbox sensor: a new film becomes a partition and a run; a changed film (new content hash) is re-run.

A film the library already holds at the same hash is not requested again, whichever path
ingested it (the CLI, the UI, an earlier sensor), so the first ``filmaster ui`` after a CLI
``demo`` starts nothing.
"""

import json
from pathlib import Path

import dagster as dg

from .cinema.brief import brief_digest
from .jobs import library_job, production_job
from .partitions import films, productions
from .resources.briefs import BriefInbox
from .resources.inbox import FilmInbox
from .runs import FILMS, REASON_TAG, SHA_TAG, FilmPlan, plan_ingest, reap_dead_runs


def inbox_changes(
    instance: dg.DagsterInstance, files: dict[str, Path], cursor: dict, known_partitions: set[str]
) -> tuple[list[str], list[FilmPlan], dict]:
    """Compare the inbox with what the sensor saw last and with what the library holds.

    ``cursor`` maps film -> {"stat": "size:mtime_ns", "sha256": ..., "settled": bool}. A film whose
    stat is unchanged and whose answer was settled costs nothing (no hashing, no queries); the
    others are planned against the library's record (:func:`filmaster_dag.runs.plan_ingest`),
    hashing only files whose stat changed. Returns (new partition keys, plans with a reason to
    run, the new cursor).
    """
    seen: dict[str, dict] = {}
    to_plan: dict[str, Path] = {}
    hashes: dict[str, tuple[str, str]] = {}
    for film, path in files.items():
        before = cursor.get(film) or {}
        if before.get("sha256"):
            hashes[film] = (before.get("stat", ""), before["sha256"])
        try:
            st = path.stat()
        except OSError:
            continue
        if before.get("stat") == f"{st.st_size}:{st.st_mtime_ns}" and before.get("settled", True) and film in known_partitions:
            seen[film] = before
            continue
        to_plan[film] = path
    plans = plan_ingest(instance, to_plan, hashes=hashes)
    for plan in plans:
        sha = plan.sha256 or hashes.get(plan.film, ("", ""))[1]
        seen[plan.film] = {"stat": plan.stat, "sha256": sha, "settled": plan.settled}
    new_partitions = sorted(f for f in files if f not in known_partitions)
    return new_partitions, [p for p in plans if p.reason], seen


SKIPPED_TAG = "filmaster/inbox_skipped"


def skipped_lines(skipped: list[tuple[Path, str]], root: Path, names_per_line: int = 5) -> list[str]:
    """What the inbox scan left out, one line per reason with the files it applies to:
    ``unsupported file type ('.gif' is not a video container): poster.gif, trailer.gif``."""
    by_reason: dict[str, list[str]] = {}
    for path, reason in skipped:
        try:
            name = path.relative_to(root).as_posix()
        except ValueError:
            name = str(path)
        by_reason.setdefault(reason, []).append(name)
    lines = []
    for reason, names in sorted(by_reason.items()):
        more = f" (+{len(names) - names_per_line} more)" if len(names) > names_per_line else ""
        lines.append(f"{reason}: {', '.join(names[:names_per_line])}{more}")
    return lines


@dg.sensor(job=library_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def film_inbox_sensor(context: dg.SensorEvaluationContext, inbox: FilmInbox) -> dg.SensorResult:
    """Watch the film inbox: add a `films` partition per new video file and request a library run
    for it; request a re-run when a file's content (sha256) differs from what the library holds.
    Runs whose process died are marked failed first, freeing their pool slots."""
    reaped = reap_dead_runs(context.instance)
    if reaped:
        context.log.warning(f"marked {len(reaped)} dead run(s) failed: {', '.join(reaped)}")
    cursor = json.loads(context.cursor) if context.cursor else {}
    known = set(context.instance.get_dynamic_partitions(FILMS))
    scan = inbox.scan()
    new_partitions, to_run, seen = inbox_changes(context.instance, scan.films, cursor, known)
    skipped = skipped_lines(scan.skipped, scan.root)
    if not new_partitions and not to_run:
        why = f"no new or changed films in {scan.root}"
        if skipped:
            why += f"; {len(scan.skipped)} file(s) skipped:\n" + "\n".join(skipped)
        return dg.SensorResult(skip_reason=why, cursor=json.dumps(seen))
    if skipped:
        context.log.warning(f"{len(scan.skipped)} file(s) in the inbox skipped:\n" + "\n".join(skipped))
    extra_tags = {SKIPPED_TAG: "\n".join(skipped)[:2000]} if skipped else {}
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(
                partition_key=plan.film,
                # one run per content hash and library state: a film changed back to a cut the
                # library no longer holds is asked for again, a failed cut is not retried here
                # (the refresh schedule does that)
                run_key=f"{plan.film}:{plan.sha256[:16]}:{plan.library_version}",
                tags={SHA_TAG: plan.sha256, REASON_TAG: plan.reason or "", **extra_tags},
            )
            for plan in to_run
        ],
        dynamic_partitions_requests=[films.build_add_request(new_partitions)] if new_partitions else [],
        cursor=json.dumps(seen),
    )


def brief_changes(
    files: dict[str, Path], cursor: dict[str, str], known_partitions: set[str]
) -> tuple[list[str], dict[str, str], dict[str, str]]:
    """(new partition keys, production -> sha256 of briefs new or changed since ``cursor``, the new cursor)."""
    seen: dict[str, str] = {}
    changed: dict[str, str] = {}
    for production, path in files.items():
        try:
            digest = brief_digest(path)
        except OSError:
            continue  # being written or removed right now: the next tick sees it
        seen[production] = digest
        if cursor.get(production) != digest or production not in known_partitions:
            changed[production] = digest
    return sorted(set(files) - known_partitions), changed, seen


@dg.sensor(job=production_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def brief_inbox_sensor(context: dg.SensorEvaluationContext, briefs: BriefInbox) -> dg.SensorResult:
    """Watch the briefs inbox: add a `productions` partition per brief and request a production run
    when a brief is new or its content (sha256) changed. A bad brief gets its run too: it fails its
    own partition with the line and field to fix, and the other productions go on."""
    cursor = json.loads(context.cursor) if context.cursor else {}
    known = set(context.instance.get_dynamic_partitions(str(productions.name)))
    files = briefs.scan()
    new_partitions, changed, seen = brief_changes(files, cursor, known)
    if not changed:
        return dg.SensorResult(skip_reason=f"no new or changed briefs in {briefs.root}", cursor=json.dumps(seen))
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(partition_key=production, run_key=f"{production}:{digest[:16]}", tags={"filmaster/brief_sha256": digest})
            for production, digest in sorted(changed.items())
        ],
        dynamic_partitions_requests=[productions.build_add_request(new_partitions)] if new_partitions else [],
        cursor=json.dumps(seen),
    )
