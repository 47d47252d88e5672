"""Scheduled refresh of the reference library."""


import dagster as dg

from .cinema.media import file_sha256
from .assets.library import library_assets
from .jobs import library_job, library_maintenance_job
from .partitions import films
from .resources.inbox import FilmInbox



def partitions_to_refresh(instance: dg.DagsterInstance, inbox: FilmInbox) -> dict[str, str]:
    """Films whose library is failed, missing an asset, or stale (the file's sha256 changed).

    Returns {film: reason}. Films no longer in the inbox are left alone (their rows stay).
    """
    keys = instance.get_dynamic_partitions(films.name)
    on_disk = inbox.films()
    reasons: dict[str, str] = {}
    for asset in library_assets:
        name = asset.key.to_user_string()
        status = instance.get_status_by_partition(asset.key, keys, films) or {}
        for film in keys:
            state = status.get(film)
            if film in on_disk and film not in reasons and state != dg.AssetPartitionStatus.MATERIALIZED:
                if state != dg.AssetPartitionStatus.IN_PROGRESS:
                    reasons[film] = f"{name} {'failed' if state == dg.AssetPartitionStatus.FAILED else 'missing'}"
    for film in keys:
        if film in reasons or film not in on_disk:
            continue
        result = instance.fetch_materializations(
            dg.AssetRecordsFilter(asset_key=dg.AssetKey("film_source"), asset_partitions=[film]), limit=1
        )
        if not result.records or not result.records[0].asset_materialization:
            continue
        record = result.records[0]
        if on_disk[film].stat().st_mtime <= record.timestamp:
            continue  # untouched since it was ingested: no need to hash it
        value = record.asset_materialization.metadata.get("sha256")
        recorded = getattr(value, "value", value)
        if recorded and recorded != file_sha256(on_disk[film]):
            reasons[film] = "source file changed"
    return reasons


@dg.schedule(cron_schedule="0 3 * * *", job=library_job, default_status=dg.DefaultScheduleStatus.STOPPED)
def library_refresh_schedule(context: dg.ScheduleEvaluationContext, inbox: FilmInbox):
    """Nightly: re-run every film whose library assets failed, are missing, or whose file changed."""
    todo = partitions_to_refresh(context.instance, inbox)
    if not todo:
        return dg.SkipReason("reference library is complete and fresh")
    return [
        dg.RunRequest(partition_key=film, run_key=f"refresh:{film}:{context.scheduled_execution_time.isoformat() if context.scheduled_execution_time else ''}", tags={"filmaster/refresh": reason})
        for film, reason in sorted(todo.items())
    ]


library_compaction_schedule = dg.ScheduleDefinition(
    name="library_compaction_schedule",
    cron_schedule="30 4 * * *",
    job=library_maintenance_job,
    description="Nightly, after the refresh: compact LanceDB and rebuild its indexes.",
    default_status=dg.DefaultScheduleStatus.STOPPED,
)
