"""Scheduled refresh of the reference library."""

import dagster as dg

from .assets.library import library_assets
from .cinema.media import file_sha256
from .jobs import library_job, library_maintenance_job
from .partitions import films
from .resources.inbox import FilmInbox
from .runs import FILMS, library_cut, reap_dead_runs


def partitions_to_refresh(instance: dg.DagsterInstance, inbox: FilmInbox) -> dict[str, str]:
    """Films whose library is failed, missing an asset, or stale (the file's sha256 changed).

    Returns {film: reason}. Films no longer in the inbox are left alone (their rows stay).
    """
    keys = instance.get_dynamic_partitions(FILMS)
    on_disk = inbox.films()
    reasons: dict[str, str] = {}
    for key in (k for asset in library_assets for k in asset.keys):  # a multi-asset has several
        name = key.to_user_string()
        status = instance.get_status_by_partition(key, keys, films) or {}
        for film in keys:
            state = status.get(film)
            needs_run = state not in (dg.AssetPartitionStatus.MATERIALIZED, dg.AssetPartitionStatus.IN_PROGRESS)
            if film in on_disk and film not in reasons and needs_run:
                reasons[film] = f"{name} {'failed' if state == dg.AssetPartitionStatus.FAILED else 'missing'}"
    for film in keys:
        if film in reasons or film not in on_disk:
            continue
        held = library_cut(instance, film)
        if held is None or not held.sha256:
            continue
        try:
            if held.same_file(on_disk[film].stat()):
                continue  # untouched since it was ingested: no need to hash it
            if held.sha256 != file_sha256(on_disk[film]):
                reasons[film] = "source file changed"
        except OSError:
            continue  # unreadable now: the next refresh looks again
    return reasons


# Maintenance is on by default: the refresh is what re-runs a film whose ingest failed or was
# killed (the sensor asks for each file content once), and it is idle when the library is fresh.
@dg.schedule(cron_schedule="0 3 * * *", job=library_job, default_status=dg.DefaultScheduleStatus.RUNNING)
def library_refresh_schedule(context: dg.ScheduleEvaluationContext, inbox: FilmInbox):
    """Nightly: re-run every film whose library assets failed, are missing, or whose file changed.
    Runs whose process died are marked failed first, so a killed ingest counts as failed."""
    reaped = reap_dead_runs(context.instance)
    if reaped:
        context.log.warning(f"marked {len(reaped)} dead run(s) failed: {', '.join(reaped)}")
    todo = partitions_to_refresh(context.instance, inbox)
    if not todo:
        return dg.SkipReason("reference library is complete and fresh")
    return [
        dg.RunRequest(
            partition_key=film,
            run_key=f"refresh:{film}:{context.scheduled_execution_time.isoformat() if context.scheduled_execution_time else ''}",
            tags={"filmaster/refresh": reason},
        )
        for film, reason in sorted(todo.items())
    ]


library_compaction_schedule = dg.ScheduleDefinition(
    name="library_compaction_schedule",
    cron_schedule="30 4 * * *",
    job=library_maintenance_job,
    description="Nightly, after the refresh: compact LanceDB and rebuild its indexes.",
    default_status=dg.DefaultScheduleStatus.RUNNING,
)
