"""Runs that die: a run killed inside the `lancedb_writer` pool must not block every later ingest,
must not stay STARTED for ever, and its film must be ingested again by the refresh schedule."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
import time
from datetime import datetime, timezone
from pathlib import Path

import dagster as dg
import pytest

from filmaster_dag.cinema.media import file_sha256
from filmaster_dag.partitions import films
from filmaster_dag.resources.inbox import FilmInbox
from filmaster_dag.runs import HOST_TAG, PID_TAG, films_to_ingest, process_alive, reap_dead_runs, run_tags
from filmaster_dag.schedules import library_refresh_schedule, partitions_to_refresh

from .conftest import REPO, SINTEL

POOL = "lancedb_writer"

# A tiny stand-in for the library's `reference_index` step: same asset key, same pool; it tells
# the test its run id, then blocks inside the pool slot until it is killed.
BLOCKING_WRITER = """
import os, sys, time
import dagster as dg
from filmaster_dag.partitions import films
from filmaster_dag.runs import run_tags
home, film, marker, host = sys.argv[1:5]

@dg.asset(key="reference_index", partitions_def=films, pool="lancedb_writer")
def reference_index(context):
    with open(marker + ".tmp", "w") as fh:
        fh.write(context.run.run_id)
    os.replace(marker + ".tmp", marker)
    time.sleep(600)

tags = run_tags()
if host:
    tags["filmaster/host"] = host
with dg.DagsterInstance.from_config(home) as instance:
    dg.materialize([reference_index], partition_key=film, instance=instance, tags=tags)
"""


@dg.asset(key="reference_index", partitions_def=films, pool=POOL)
def quick_writer() -> int:
    return 1


@pytest.fixture()
def home(tmp_path) -> Path:
    """A persistent DAGSTER_HOME with the project's own dagster.yaml (pool limit 1)."""
    folder = tmp_path / "dagster_home"
    folder.mkdir()
    shutil.copy(REPO / "dagster.yaml", folder / "dagster.yaml")
    return folder


def kill_while_writing(home: Path, film: str, host: str = "") -> str:
    """Start a run of the blocking writer for ``film`` in another process, SIGKILL it while it holds
    the pool slot, and return the killed run's id."""
    marker = home.parent / f"{film}.writing"
    proc = subprocess.Popen([sys.executable, "-c", BLOCKING_WRITER, str(home), film, str(marker), host])
    try:
        deadline = time.monotonic() + 180  # a hang guard, not a timing assertion
        while not marker.exists():
            if proc.poll() is not None:
                pytest.fail(f"the writer exited ({proc.returncode}) before it reached the pool")
            if time.monotonic() > deadline:
                pytest.fail("the writer never got into the pool")
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    return marker.read_text()


def claimed(instance: dg.DagsterInstance) -> list[str]:
    return [slot.run_id for slot in instance.event_log_storage.get_concurrency_info(POOL).claimed_slots]


def failures(instance: dg.DagsterInstance, run_id: str) -> int:
    return len(instance.all_logs(run_id, of_type=dg.DagsterEventType.RUN_FAILURE))


def ingested(instance: dg.DagsterInstance, inbox: Path, film: str) -> None:
    """Record a complete earlier ingest of ``film`` as the library assets' materializations."""
    from filmaster_dag.assets.library import library_assets

    (path,) = (p for f, p in FilmInbox(folder=str(inbox)).films().items() if f == film)
    source = {"sha256": file_sha256(path), "file_size": path.stat().st_size}
    for key in (k for asset in library_assets for k in asset.keys):
        metadata = source if key.to_user_string() == "film_source" else {}
        instance.report_runless_asset_event(dg.AssetMaterialization(asset_key=key, partition=film, metadata=metadata))


def test_killed_writer_is_reaped_frees_the_pool_and_its_film_is_refreshed(home, tmp_path, media):
    inbox_dir = tmp_path / "inbox"
    inbox_dir.mkdir()
    shutil.copy(SINTEL, inbox_dir / SINTEL.name)
    inbox = FilmInbox(folder=str(inbox_dir))
    (film,) = inbox.films()
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.add_dynamic_partitions(films.name, [film, "another-reel"])
        ingested(instance, inbox_dir, film)
        assert partitions_to_refresh(instance, inbox) == {}

    dead = kill_while_writing(home, film)  # a re-ingest, killed inside reference_index

    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert instance.get_run_by_id(dead).status == dg.DagsterRunStatus.STARTED
        assert claimed(instance) == [dead]
        # Unreaped, no other writer can get the slot (a real second run spins for ever)...
        storage = instance.event_log_storage
        assert not storage.claim_concurrency_slot(POOL, "probe-run", "reference_index").is_claimed
        storage.free_concurrency_slots_for_run("probe-run")
        # ...and the film looks in progress for ever, so the refresh never re-runs it.
        assert partitions_to_refresh(instance, inbox) == {}

        # The refresh schedule's tick reaps the dead run itself and asks for the film again.
        context = dg.build_schedule_context(
            instance=instance, resources={"inbox": inbox}, scheduled_execution_time=datetime.now(timezone.utc)
        )
        requests = list(library_refresh_schedule(context))
        assert [(r.partition_key, r.tags["filmaster/refresh"]) for r in requests] == [(film, "reference_index failed")]
        assert failures(instance, dead) == 1
        assert instance.get_run_by_id(dead).status == dg.DagsterRunStatus.FAILURE
        assert claimed(instance) == []
        assert reap_dead_runs(instance) == []

        # Another film's write gets the slot and gives it back.
        result = dg.materialize([quick_writer], partition_key="another-reel", instance=instance, tags=run_tags())
        assert result.success
        assert claimed(instance) == []


@dg.op
def noop() -> None:
    pass


@dg.job
def noop_job() -> None:
    noop()


def dead_pid() -> int:
    proc = subprocess.Popen(["true"])
    proc.wait()
    return proc.pid


def test_only_runs_of_dead_processes_on_this_host_are_reaped(home):
    with dg.DagsterInstance.from_config(str(home)) as instance:
        here = instance.create_run_for_job(noop_job, tags={**run_tags(), PID_TAG: str(dead_pid())})
        elsewhere = instance.create_run_for_job(noop_job, tags={PID_TAG: str(dead_pid()), HOST_TAG: "another-machine"})
        alive = instance.create_run_for_job(noop_job, tags=run_tags())
        # The CLI, the sensor and the schedule may reap at the same moment: the run fails once.
        found: list[str] = []
        reapers = [threading.Thread(target=lambda: found.extend(reap_dead_runs(instance))) for _ in range(4)]
        for t in reapers:
            t.start()
        for t in reapers:
            t.join()
        assert found == [here.run_id]
        assert failures(instance, here.run_id) == 1
        assert instance.get_run_by_id(here.run_id).status == dg.DagsterRunStatus.FAILURE
        for run in (elsewhere, alive):
            assert instance.get_run_by_id(run.run_id).status == dg.DagsterRunStatus.NOT_STARTED


@pytest.mark.parametrize("tagged", [True, False], ids=["cli-tags", "engine-event-pid"])
def test_live_runs_are_left_alone(home, tagged):
    """A run whose process is alive (this one) is never reaped, with our tags or with only the pid
    that Dagster's engine event records."""
    seen: dict[str, object] = {}

    @dg.asset(partitions_def=films)
    def looks_around(context) -> None:  # no annotation: this module has postponed (string) annotations
        seen["reaped"] = reap_dead_runs(context.instance)
        seen["status"] = context.instance.get_run_by_id(context.run.run_id).status

    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.add_dynamic_partitions(films.name, ["reel-a"])
        result = dg.materialize([looks_around], partition_key="reel-a", instance=instance, tags=run_tags() if tagged else None)
        assert result.success
        assert seen == {"reaped": [], "status": dg.DagsterRunStatus.STARTED}


def test_process_liveness():
    assert run_tags()[PID_TAG] == str(os.getpid()) and run_tags()[HOST_TAG]
    assert process_alive(os.getpid(), started_before=time.time())
    # the same pid, but a process that started long after the run was created: a recycled pid
    assert not process_alive(os.getpid(), started_before=time.time() - 3600)
    child = subprocess.Popen(["sleep", "60"])
    assert process_alive(child.pid)
    child.kill()
    deadline = time.monotonic() + 30
    while Path(f"/proc/{child.pid}/stat").read_text().split(") ")[1][0] != "Z" and time.monotonic() < deadline:
        time.sleep(0.01)
    assert not process_alive(child.pid)  # killed, not yet waited for: a zombie is dead
    child.wait()
    assert not process_alive(child.pid)


KILLED_IN_THE_REAL_POOL = """
import os, sys, time
import dagster as dg
from filmaster_dag.assets.library import library_assets
from filmaster_dag.definitions import build_resources
from filmaster_dag.runs import run_tags
root, inbox, home, film, marker = sys.argv[1:6]
resources = build_resources(root=root, inbox=inbox)
shot_index = type(resources["reference_index"].open())

def blocked_upsert(self, *args, **kwargs):  # inside the real reference_index step, holding its pool slot
    open(marker, "w").close()
    time.sleep(600)

shot_index.upsert_film = blocked_upsert
with dg.DagsterInstance.from_config(home) as instance:
    dg.materialize(library_assets, partition_key=film, instance=instance, resources=resources, tags=run_tags())
"""


@pytest.mark.slow
def test_real_library_ingest_killed_in_reference_index_does_not_block_the_next(home, tmp_path, media):
    from filmaster_dag.assets.library import library_assets
    from filmaster_dag.checks import library_checks
    from filmaster_dag.definitions import build_resources

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    os.symlink(SINTEL, inbox / SINTEL.name)
    (film,) = FilmInbox(folder=str(inbox)).films()
    root = tmp_path / "data"
    with dg.DagsterInstance.from_config(str(home)) as instance:
        instance.add_dynamic_partitions(films.name, [film])
    marker = tmp_path / "in-reference-index"
    proc = subprocess.Popen([sys.executable, "-c", KILLED_IN_THE_REAL_POOL, str(root), str(inbox), str(home), film, str(marker)])
    try:
        deadline = time.monotonic() + 300  # hang guard
        while not marker.exists() and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert marker.exists(), "the ingest never reached the LanceDB write"

    resources = build_resources(root=str(root), inbox=str(inbox))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        (dead,) = claimed(instance)
        assert reap_dead_runs(instance) == [dead]
        assert claimed(instance) == []
        result = dg.materialize(
            [*library_assets, *library_checks], partition_key=film, instance=instance, resources=resources, tags=run_tags()
        )
        assert result.success
        # and the library now holds the film: nothing left to ingest, whichever path asks
        assert films_to_ingest(instance, FilmInbox(folder=str(inbox))) == []
    assert len(resources["reference_index"].open().film_rows(film)) >= 1
