"""Inbox sensor: a new film becomes a partition and a run; a changed film (new content hash) is re-run."""


import json

import dagster as dg

from .cinema.media import file_sha256
from .jobs import library_job
from .partitions import films
from .resources.inbox import FilmInbox


def inbox_changes(inbox: FilmInbox, cursor: dict, known_partitions: set[str]) -> tuple[list[str], list[tuple[str, str]], dict]:
    """Compare the inbox with what the sensor saw last.

    ``cursor`` maps film -> {"stat": "size:mtime_ns", "sha256": ...}. A file is hashed only when
    its size or mtime changed, so a tick over a large library stays cheap. Returns (new partition
    keys, [(film, sha256) to run], the new cursor).
    """
    new_partitions, to_run, seen = [], [], {}
    for film, path in inbox.films().items():
        try:
            st = path.stat()
        except OSError:
            continue
        stat = f"{st.st_size}:{st.st_mtime_ns}"
        before = cursor.get(film)
        if before and before.get("stat") == stat and film in known_partitions:
            seen[film] = before
            continue
        try:
            digest = file_sha256(path) if st.st_size else "empty"
        except OSError:
            continue  # unreadable now; the next tick tries again, film_source will explain
        seen[film] = {"stat": stat, "sha256": digest}
        if film not in known_partitions:
            new_partitions.append(film)
        if not before or before.get("sha256") != digest or film not in known_partitions:
            to_run.append((film, digest))
    return new_partitions, to_run, seen


@dg.sensor(job=library_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.RUNNING)
def film_inbox_sensor(context: dg.SensorEvaluationContext, inbox: FilmInbox) -> dg.SensorResult:
    """Watch the film inbox: add a `films` partition per new video file and request a library run
    for it; request a re-run when a file's content (sha256) changes."""
    cursor = json.loads(context.cursor) if context.cursor else {}
    known = set(context.instance.get_dynamic_partitions(films.name))
    new_partitions, to_run, seen = inbox_changes(inbox, cursor, known)
    if not new_partitions and not to_run:
        return dg.SensorResult(skip_reason=f"no new or changed films in {inbox.root}", cursor=json.dumps(seen))
    return dg.SensorResult(
        run_requests=[
            dg.RunRequest(partition_key=film, run_key=f"{film}:{digest[:16]}", tags={"filmaster/sha256": digest})
            for film, digest in to_run
        ],
        dynamic_partitions_requests=[films.build_add_request(new_partitions)] if new_partitions else [],
        cursor=json.dumps(seen),
    )
