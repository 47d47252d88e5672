"""The Dagster code location: assets, checks, resources, jobs, schedules and sensors."""


import os

import dagster as dg

from .assets.library import library_assets
from .checks import library_checks
from .jobs import library_job, library_maintenance_job
from .resources.detection import ShotDetection
from .resources.embedder import ShotEmbedder
from .resources.inbox import FilmInbox
from .resources.index import ReferenceIndex
from .resources.storage import MediaStore
from .schedules import library_compaction_schedule, library_refresh_schedule
from .sensors import film_inbox_sensor


def data_root() -> str:
    """Storage root: ``$FILMASTER_DATA`` or ``./data``."""
    return os.environ.get("FILMASTER_DATA", "data")


def build_resources(root: str | None = None, inbox: str | None = None, **overrides) -> dict:
    """The default resources, all rooted at one storage folder (or URL)."""
    root = root or data_root()
    resources = {
        "store": MediaStore(root=root),
        "inbox": FilmInbox(folder=inbox or os.environ.get("FILMASTER_INBOX", "")),
        "detection": ShotDetection(detector=os.environ.get("FILMASTER_DETECTOR", "adaptive")),
        "embedder": ShotEmbedder(
            model_name=os.environ.get("FILMASTER_CLIP_MODEL", "ViT-B-32"),
            pretrained=os.environ.get("FILMASTER_CLIP_WEIGHTS", ""),
            model_config_path=os.environ.get("FILMASTER_CLIP_CONFIG", ""),
        ),
        "reference_index": ReferenceIndex(uri=f"{root.rstrip('/')}/library/lancedb"),
        "io_manager": dg.FilesystemIOManager(base_dir=f"{root.rstrip('/')}/dagster_io"),
    }
    resources.update(overrides)
    return resources


def build_definitions(**kwargs) -> dg.Definitions:
    return dg.Definitions(
        assets=library_assets,
        asset_checks=library_checks,
        jobs=[library_job, library_maintenance_job],
        schedules=[library_refresh_schedule, library_compaction_schedule],
        sensors=[film_inbox_sensor],
        resources=build_resources(**kwargs),
    )


defs = build_definitions()
