"""The Dagster code location: assets, checks, resources, jobs, schedules and sensors.

Runs execute in process (one process per run, steps in order): a film's steps share the
decoded tables through the IO manager anyway, and a process per step cost 4-8x the run's
work in start-up. Films run in parallel as separate runs (``max_concurrent_runs`` in
``dagster.yaml``).
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg

from .assets.library import library_assets
from .assets.post_production import post_production_assets
from .assets.production import production_assets
from .assets.searches import saved_searches_sensor, search_assets, search_checks
from .checks import library_checks, post_production_checks, production_checks
from .jobs import library_job, library_maintenance_job, production_job, saved_searches_job
from .resources.briefs import BriefInbox
from .resources.detection import ShotDetection
from .resources.embedder import make_embedder
from .resources.generator import make_generator
from .resources.inbox import FilmInbox
from .resources.index import ReferenceIndex
from .resources.llm import LanguageModel, OpenAICompatibleModel, make_language_model
from .resources.searches import SavedSearches
from .resources.sound_library import SoundLibrary
from .resources.storage import MediaStore, TableIOManager
from .resources.voice import make_voice
from .schedules import library_compaction_schedule, library_refresh_schedule
from .sensors import brief_inbox_sensor, film_inbox_sensor
from .settings import FilmasterSettings

PACKAGE_DIR = Path(__file__).resolve().parent


def project_home() -> Path:
    """The checkout this package runs from (where ``pyproject.toml`` is), else ``~/.filmaster``."""
    checkout = PACKAGE_DIR.parent
    return checkout if (checkout / "pyproject.toml").exists() else Path.home() / ".filmaster"


def data_root(settings: FilmasterSettings | None = None) -> str:
    """Storage root, absolute: ``$FILMASTER_DATA`` (a URL such as ``s3://bucket/prefix`` is kept as
    is; a relative folder resolves against the current directory), else ``<project>/data``."""
    env = (settings or FilmasterSettings.from_env()).data
    if "://" in env:
        return env.rstrip("/")
    return str(Path(env).expanduser().resolve()) if env else str(project_home() / "data")


def build_resources(
    root: str | None = None, inbox: str | None = None, settings: FilmasterSettings | None = None, **overrides: object
) -> dict:
    """The default resources, all rooted at one storage folder (or URL), configured from ``settings``
    (default: the ``FILMASTER_*`` environment, read and checked now, when the definitions load)."""
    settings = settings or FilmasterSettings.from_env()
    root = (root or data_root(settings)).rstrip("/")
    if "://" not in root:
        root = str(Path(root).resolve())
    store = MediaStore(root=root)
    resources: dict[str, object] = {
        "store": store,
        "inbox": FilmInbox(folder=inbox or settings.inbox),
        "detection": ShotDetection(detector=settings.detector),
        "embedder": make_embedder(model_name=settings.clip_model, pretrained=settings.clip_weights, model_config_path=settings.clip_config),
        "reference_index": ReferenceIndex(uri=f"{root}/library/lancedb"),
        "io_manager": TableIOManager(store=store),
        "briefs": BriefInbox(folder=settings.briefs),
        "language_model": _language_model(settings),
        "generator": make_generator(settings.generator, settings.diffusers_model, settings.diffusers_pipeline, settings.diffusers_device),
        "voice": make_voice(settings.voice, model_path=settings.voice_model),
        "sound_library": SoundLibrary(music=settings.music, sound=settings.sound),
        "searches": SavedSearches(folder=settings.searches),
    }
    resources.update(overrides)
    if "store" in overrides and "io_manager" not in overrides:
        resources["io_manager"] = TableIOManager(store=resources["store"])  # type: ignore[arg-type]
    return resources


def _language_model(settings: FilmasterSettings) -> LanguageModel:
    """The configured language model; its key is read from the environment when a run starts, so it
    never appears in the UI's resource config."""
    model = make_language_model(settings.llm_base_url, settings.llm_model)
    if isinstance(model, OpenAICompatibleModel) and settings.llm_api_key:
        return OpenAICompatibleModel(base_url=model.base_url, model=model.model, api_key=dg.EnvVar("FILMASTER_LLM_API_KEY"))
    return model


def build_definitions(**kwargs: object) -> dg.Definitions:
    return dg.Definitions(
        assets=[*library_assets, *production_assets, *post_production_assets, *search_assets],
        asset_checks=[*library_checks, *production_checks, *post_production_checks, *search_checks],
        jobs=[library_job, library_maintenance_job, production_job, saved_searches_job],
        schedules=[library_refresh_schedule, library_compaction_schedule],
        sensors=[film_inbox_sensor, brief_inbox_sensor, saved_searches_sensor],
        resources=build_resources(**kwargs),  # type: ignore[arg-type]
        executor=dg.in_process_executor,
    )


defs = build_definitions()
