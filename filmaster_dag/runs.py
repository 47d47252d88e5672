"""Runs that died, and films the library already holds.

Two questions every entry point (CLI, inbox sensor, refresh schedule) asks before it starts an
ingest:

* **Is any earlier ingest dead?** A run killed with SIGKILL (out of memory, a closed laptop, a
  hostile test) never writes its end: it stays ``STARTED`` for ever, and if it died inside
  ``reference_index`` it keeps the ``lancedb_writer`` pool slot, so every later ingest of any film
  waits for a slot that is never given back. :func:`reap_dead_runs` finds such runs by the process
  that ran them, marks them failed and frees their pool slots; the refresh schedule then sees the
  film as failed and ingests it again.
* **Does the library already hold this cut of the film?** :func:`films_to_ingest` compares each
  inbox file with the library's own record (the latest ``reference_index`` materialization and
  the source hash it was built from), hashing a file only when its size or modification time
  says it may have changed, so the first ``filmaster ui`` and every ``demo`` skip the films the
  library already holds, whichever path ingested them.

Dagster's daemon-side run monitoring (``run_monitoring`` in ``dagster.yaml``) cannot see runs that
``dg.materialize`` executes in the CLI's own process, and the default run launcher cannot check a
run worker's health; this module covers both by asking the operating system about the process.
"""

from __future__ import annotations

import fcntl
import os
import socket
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path

import dagster as dg

# not re-exported by dagster; gives a reaped run its failure reason in the UI
from dagster._core.events import JobFailureData, RunFailureReason

from .cinema.media import file_sha256
from .partitions import films as films_partitions
from .resources.inbox import FilmInbox

PID_TAG = "filmaster/pid"
HOST_TAG = "filmaster/host"
SHA_TAG = "filmaster/sha256"
REASON_TAG = "filmaster/reason"

LIBRARY_RECORD = dg.AssetKey("reference_index")  # the library's own record of a film: its rows are in LanceDB
SOURCE_RECORD = dg.AssetKey("film_source")
FILMS = str(films_partitions.name)  # the library's dynamic partitions, one per film

# Runs in these states may have a live process behind them; finished runs hold nothing.
_UNFINISHED = [
    dg.DagsterRunStatus.NOT_STARTED,
    dg.DagsterRunStatus.STARTING,
    dg.DagsterRunStatus.STARTED,
    dg.DagsterRunStatus.CANCELING,
]
# A live process that started this long after its run was created is another program that was
# given the dead run's pid again. Generous, because wrongly failing a live ingest is worse than
# reaping a dead one a tick late.
_PID_REUSE_SLACK_S = 5.0
_REAPER_LOCK = threading.Lock()


# ----------------------------------------------------------------------------- processes


def run_tags() -> dict[str, str]:
    """Tags for a run executed in this process (``dg.materialize`` from the CLI): the process id
    and host that :func:`reap_dead_runs` checks to tell a live ingest from a killed one."""
    return {PID_TAG: str(os.getpid()), HOST_TAG: socket.gethostname()}


def _boot_time() -> float | None:
    try:
        for line in Path("/proc/stat").read_text().splitlines():
            if line.startswith("btime "):
                return float(line.split()[1])
    except OSError:
        pass
    return None


def _proc_state(pid: int) -> tuple[str, float | None] | None:
    """(state letter, start time as a Unix timestamp) from ``/proc``; None where there is no /proc."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except FileNotFoundError:
        return ("X", None)  # no such process
    except OSError:
        return None
    # the command name (field 2) is in parentheses and may itself contain spaces or parentheses
    fields = stat[stat.rindex(")") + 2 :].split()
    state, start_ticks = fields[0], int(fields[19])
    boot = _boot_time()
    started = boot + start_ticks / os.sysconf("SC_CLK_TCK") if boot is not None else None
    return state, started


def process_alive(pid: int, started_before: float | None = None) -> bool:
    """Whether process ``pid`` on this host is still the one that ran a run.

    A zombie (killed, not yet waited for) is dead. A live process that started after
    ``started_before`` (plus some slack) holds a recycled pid and is not the run's process.
    """
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # someone else's process: it exists
    state = _proc_state(pid)
    if state is None:
        return True  # no /proc (macOS): existence is all we can tell
    letter, started = state
    if letter in ("Z", "X", "x"):
        return False
    recycled = started_before is not None and started is not None and started > started_before + _PID_REUSE_SLACK_S
    return not recycled


def _storage_is_local(instance: dg.DagsterInstance) -> bool:
    """SQLite (or in-memory) storage lives on this machine, so every run recorded in it ran on this host."""
    name = type(instance.run_storage).__name__.lower()
    return "sqlite" in name or "inmemory" in name


def _run_process(instance: dg.DagsterInstance, record: dg.RunRecord) -> tuple[int, float] | None:
    """(pid, a time the process had certainly started by) of the process that executes a run on
    this host, or None when that cannot be known here.

    From our tags first (the CLI process, which created the run); else from Dagster's own engine
    event "Executing steps in process (pid: N)" / "Started process for run (pid: N)", written by
    that very process, which covers runs the daemon launched and ``dagster asset materialize``.
    """
    run = record.dagster_run
    tags = run.tags
    if HOST_TAG in tags and tags[HOST_TAG] != socket.gethostname():
        return None  # another machine's process: not ours to judge
    if PID_TAG in tags and HOST_TAG in tags:
        try:
            return int(tags[PID_TAG]), record.create_timestamp.timestamp()
        except ValueError:
            return None
    if not _storage_is_local(instance):
        return None
    logs = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ENGINE_EVENT)
    for entry in logs[:50]:
        data = entry.dagster_event.event_specific_data if entry.dagster_event else None
        metadata = getattr(data, "metadata", None) or {}
        pid = metadata.get("pid")
        if pid is not None:
            try:
                return int(getattr(pid, "value", pid)), entry.timestamp
            except (TypeError, ValueError):
                continue
    return None


@contextmanager
def _reaper_lock(instance: dg.DagsterInstance) -> Iterator[None]:
    """One reaper at a time per instance: threads of this process and other processes (the CLI,
    the sensor and the schedule may tick together), so a dead run is failed exactly once."""
    with _REAPER_LOCK, ExitStack() as stack:
        try:
            fh = stack.enter_context(open(Path(instance.root_directory) / ".filmaster-reaper.lock", "a+"))
        except OSError:
            fh = None  # read-only home: the in-process lock still serialises this process's ticks
        if fh is not None:
            fcntl.flock(fh, fcntl.LOCK_EX)
            stack.callback(fcntl.flock, fh, fcntl.LOCK_UN)
        yield


def _free_slots_of_finished_runs(instance: dg.DagsterInstance) -> None:
    """Give back pool slots and queue places still held by runs that have ended (or no longer exist).

    A run that ends normally frees its own slot; one that was killed, then marked failed by the
    code server or by us, does not. The daemon's ``free_slots_after_run_end_seconds`` does the same
    when it runs; the CLI has no daemon.
    """
    storage = instance.event_log_storage
    if not storage.supports_global_concurrency_limits:
        return
    holders = set(storage.get_concurrency_run_ids())
    keys = storage.get_concurrency_keys()
    for info in storage.get_concurrency_infos(list(keys)).values():
        holders.update(slot.run_id for slot in info.claimed_slots if slot.run_id)
    if not holders:
        return
    unfinished = [*_UNFINISHED, dg.DagsterRunStatus.QUEUED]
    alive = {r.dagster_run.run_id for r in instance.get_run_records(dg.RunsFilter(run_ids=list(holders), statuses=unfinished))}
    for run_id in sorted(holders - alive):
        storage.free_concurrency_slots_for_run(run_id)


def reap_dead_runs(instance: dg.DagsterInstance) -> list[str]:
    """Mark failed every unfinished run whose process on this host is gone, and free the pool
    slots of every ended run. Returns the ids of the runs marked failed now.

    Cheap (one query for unfinished runs, one ``kill(pid, 0)`` each) and safe to call from every
    CLI command, sensor tick and schedule tick, also at the same time: a run is failed once.
    Runs executed on another host, or whose process cannot be known, are left alone (the daemon's
    run monitoring handles start timeouts and the maximum run time).
    """
    reaped: list[str] = []
    with _reaper_lock(instance):
        for record in instance.get_run_records(dg.RunsFilter(statuses=_UNFINISHED)):
            found = _run_process(instance, record)
            if found is None:
                continue
            pid, started_by = found
            if process_alive(pid, started_by):
                continue
            run = instance.get_run_by_id(record.dagster_run.run_id)  # re-read: it may have just ended
            if run is None or run.is_finished:
                continue
            instance.report_run_failed(
                run,
                f"Run process {pid} on {socket.gethostname()} is gone (killed or crashed) while the run was "
                f"{run.status.value}; marked failed by filmaster so its pool slots are freed and the film is re-run.",
                JobFailureData(error=None, failure_reason=RunFailureReason.UNEXPECTED_TERMINATION),
            )
            reaped.append(run.run_id)
        _free_slots_of_finished_runs(instance)
    return reaped


# ----------------------------------------------------------------------------- what the library holds


@dataclass(frozen=True)
class LibraryCut:
    """The cut of a film the library holds: the source file's hash and stat when it was ingested."""

    sha256: str | None
    size: int | None  # bytes of the source file, when recorded
    mtime_ns: int | None  # the file's modification time when it was hashed, when recorded
    hashed_by: float  # a time by which the hash had been taken (the ingest run's start, or the event)
    storage_id: int  # of the reference_index materialization: changes whenever the library re-ingests

    def same_file(self, st: os.stat_result) -> bool:
        """Whether a file with this stat is, without hashing it, the one the library was built from:
        same size and mtime when the record has them; else same size and untouched since hashing."""
        if self.size is not None and st.st_size != self.size:
            return False
        if self.mtime_ns is not None:
            return st.st_mtime_ns == self.mtime_ns
        return self.size is not None and st.st_mtime < self.hashed_by


def _value(metadata: Mapping[str, object], key: str) -> object:
    value = metadata.get(key)
    return getattr(value, "value", value)


def _int(value: object) -> int | None:
    try:
        return int(value) if value is not None else None  # type: ignore[call-overload]
    except (TypeError, ValueError):
        return None


def library_cut(instance: dg.DagsterInstance, film: str) -> LibraryCut | None:
    """What the library holds for ``film``: read from its latest ``reference_index`` materialization
    (``source_sha256``, ``source_size``, ``source_mtime_ns``) or, for records written before those
    keys, from the ``film_source`` materialization that fed it (``sha256``, ``file_size``)."""
    found = instance.fetch_materializations(
        dg.AssetRecordsFilter(asset_key=LIBRARY_RECORD, asset_partitions=[film]),
        limit=1,
    )
    record = found.records[0] if found.records else None
    if record is None or record.asset_materialization is None:
        return None
    meta = record.asset_materialization.metadata
    sha, size, mtime_ns = (
        _value(meta, "source_sha256"),
        _int(_value(meta, "source_size")),
        _int(_value(meta, "source_mtime_ns")),
    )
    hashed_by = record.timestamp
    if not sha or size is None:
        # the film_source the index was built from: the latest one before this materialization
        source = instance.fetch_materializations(
            dg.AssetRecordsFilter(
                asset_key=SOURCE_RECORD,
                asset_partitions=[film],
                before_storage_id=record.storage_id,
            ),
            limit=1,
        )
        if source.records and source.records[0].asset_materialization:
            src_meta = source.records[0].asset_materialization.metadata
            sha = sha or _value(src_meta, "sha256")
            size = size if size is not None else _int(_value(src_meta, "file_size"))
            hashed_by = source.records[0].timestamp
            record = source.records[0]
    # the hash was taken after the run started; an event without a run (reported) is its own bound
    run = instance.get_run_record_by_id(record.run_id) if record.run_id else None
    if run is not None and run.start_time is not None:
        hashed_by = min(hashed_by, run.start_time)
    return LibraryCut(
        sha256=str(sha) if sha else None,
        size=size,
        mtime_ns=mtime_ns,
        hashed_by=hashed_by,
        storage_id=found.records[0].storage_id,
    )


def duplicate_of(instance: dg.DagsterInstance, film: str, sha256: str) -> str | None:
    """The film ``film`` was last recorded a duplicate of, when that record was for these bytes."""
    found = instance.fetch_materializations(dg.AssetRecordsFilter(asset_key=SOURCE_RECORD, asset_partitions=[film]), limit=1)
    if not found.records or found.records[0].asset_materialization is None:
        return None
    meta = found.records[0].asset_materialization.metadata
    original = _value(meta, "duplicate_of")
    return str(original) if original and _value(meta, "sha256") == sha256 else None


def original_film(film: str, indexed_twins: Iterable[str], inbox_twins: Iterable[str], indexed: bool) -> str:
    """Which of several files with the same content is the film the library keeps (the others are
    recorded as its duplicates, not indexed again).

    A copy already in the library wins (re-ingesting never moves an indexed film); among several
    indexed copies, or when none is indexed yet, the first slug in sorted order wins. The answer
    depends only on what the library and the inbox hold, not on which file was ingested first in
    a run, so the CLI, the sensor and the UI agree, and two copies ingested at once pick the same
    original.
    """
    held = sorted({*indexed_twins, *([film] if indexed else [])})
    return held[0] if held else min([film, *inbox_twins])


@dataclass(frozen=True)
class FilmPlan:
    """What to do with one inbox file. ``reason`` is None when there is nothing to do."""

    film: str
    sha256: str  # "" when the file was not hashed (its run is in progress, or it is unreadable)
    reason: str | None  # "new", "changed", "failed", "incomplete", "forced"
    stat: str  # "size:mtime_ns" of the file as seen now
    settled: bool  # False when the answer may change without the file changing (a run in progress)
    library_version: int = 0  # storage id of the library's record, 0 when it holds nothing


def _stat_key(st: os.stat_result) -> str:
    return f"{st.st_size}:{st.st_mtime_ns}"


def _partition_status(instance: dg.DagsterInstance, key: dg.AssetKey, keys: list[str]) -> Mapping[str, object]:
    if not keys:
        return {}
    return instance.get_status_by_partition(key, keys, films_partitions) or {}


def plan_ingest(
    instance: dg.DagsterInstance,
    files: Mapping[str, Path],
    *,
    force: bool = False,
    hashes: Mapping[str, tuple[str, str]] | None = None,
) -> list[FilmPlan]:
    """Decide, for each ``film -> file``, whether it needs an ingest and why.

    ``hashes`` maps film -> (stat, sha256) already known (a sensor's cursor): a file whose stat
    is unchanged is not hashed again. A film whose run is in progress is left alone (not settled:
    ask again later); one whose latest ingest failed after its last success is "failed"; one the
    library holds at the same hash is skipped unless ``force``.
    """
    hashes = hashes or {}
    partitions = set(instance.get_dynamic_partitions(FILMS))
    keys = sorted(f for f in files if f in partitions)
    status = _partition_status(instance, LIBRARY_RECORD, keys)
    source_status: Mapping[str, object] | None = None
    plans: list[FilmPlan] = []
    for film, path in sorted(files.items()):
        try:
            st = path.stat()
        except OSError:
            continue  # gone or unreadable now; the next look tries again
        stat = _stat_key(st)
        state = status.get(film)
        if state == dg.AssetPartitionStatus.IN_PROGRESS and not force:
            plans.append(FilmPlan(film, "", None, stat, settled=False))
            continue
        held = library_cut(instance, film) if film in partitions else None
        failed = state == dg.AssetPartitionStatus.FAILED
        version = held.storage_id if held else 0
        if held and held.sha256 and not failed and not force and held.same_file(st):
            plans.append(FilmPlan(film, held.sha256, None, stat, settled=True, library_version=version))
            continue
        known = hashes.get(film)
        try:
            sha = known[1] if known and known[0] == stat else (file_sha256(path) if st.st_size else "empty")
        except OSError:
            plans.append(FilmPlan(film, "", None, stat, settled=False))
            continue
        if held is None and not failed and not force and duplicate_of(instance, film, sha):
            plans.append(FilmPlan(film, sha, None, stat, settled=True))  # a copy of an indexed film: recorded, never indexed
            continue
        reason: str | None
        if held and held.sha256:
            reason = "changed" if sha != held.sha256 else ("failed" if failed else None)
        elif failed:
            reason = "failed"
        else:
            if source_status is None:
                source_status = _partition_status(instance, SOURCE_RECORD, keys)
            started = held is not None or source_status.get(film) == dg.AssetPartitionStatus.MATERIALIZED
            reason = "incomplete" if started else "new"
        if force and reason is None:
            reason = "forced"
        plans.append(FilmPlan(film, sha, reason, stat, settled=True, library_version=version))
    return plans


def films_to_ingest(
    instance: dg.DagsterInstance,
    inbox: FilmInbox,
    force: bool = False,
    *,
    reap: bool = True,
) -> list[tuple[str, str, str]]:
    """The inbox films the library does not hold as they are now: [(film, sha256, reason)], reason
    one of "new", "changed" (the file's hash differs from the one the library was built from),
    "failed" (the latest ingest failed), "incomplete" (started but no library rows), or "forced".

    A film whose ingest is running is left out. With ``reap`` (the default), runs whose process
    died are first marked failed, so a killed ingest is picked up again rather than waited for.
    """
    if reap:
        reap_dead_runs(instance)
    return [(p.film, p.sha256, p.reason) for p in plan_ingest(instance, inbox.films(), force=force) if p.reason]
