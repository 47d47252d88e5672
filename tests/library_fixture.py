"""A real reference library, built once per test session from the shared sample films.

``reference_library`` runs the real Dagster library assets (``dg.materialize`` with
:func:`~filmaster_dag.definitions.build_resources`, one ``films`` partition per film) over an inbox
of links to Big Buck Bunny (60 s, 7 shots), Sintel (5 s) and the Chaplin single shot, into a
temporary storage root. Tests that need measured shots and sequences (retrieval, planning, the
production group) share it instead of ingesting again; it costs a minute or two once.

Use it read-only: a test that writes to the library (a new film, a re-ingest) must build its own.
Tests using it are slow: mark them ``@pytest.mark.slow``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
import pytest

from filmaster_dag.assets.library import library_assets
from filmaster_dag.definitions import build_resources
from filmaster_dag.index import ShotIndex
from filmaster_dag.partitions import films as films_partitions
from filmaster_dag.resources.storage import MediaStore

from . import conftest  # its constants are read when the library is built (conftest imports this module)


def library_films() -> dict[str, Path]:
    """slug -> sample film: the partition keys the inbox gives these files."""
    return {"big-buck-bunny-0-60s": conftest.BBB_60, "sintel-5s": conftest.SINTEL, "chaplin-single-shot": conftest.CHAPLIN}


@dataclass
class ReferenceLibrary:
    """What a test needs of the built library."""

    root: Path  # the storage root (``library/<film>/...`` tables and media, ``library/lancedb``)
    inbox: Path  # the folder of links to the films
    store: MediaStore
    index: ShotIndex
    resources: dict  # build_resources(root=..., inbox=...): pass to further dg.materialize calls
    instance: dg.DagsterInstance  # the instance the library was materialized in (films partitions added)
    films: dict[str, str] = field(default_factory=dict)  # slug -> source file path
    results: dict[str, dg.ExecuteInProcessResult] = field(default_factory=dict)  # slug -> its library run


def build_reference_library(root: Path, instance: dg.DagsterInstance, sources: dict[str, Path] | None = None) -> ReferenceLibrary:
    """Ingest ``sources`` (slug -> film file; default the three sample films) into ``root`` through
    the real library assets; fails loudly (the film's one-line message) if a film does not ingest."""
    sources = sources or library_films()
    inbox = root / "inbox"
    inbox.mkdir(parents=True, exist_ok=True)
    for path in sources.values():
        link = inbox / path.name
        if not link.exists():
            os.symlink(path, link)
    resources = build_resources(root=str(root / "data"), inbox=str(inbox))
    instance.add_dynamic_partitions(
        films_partitions.name, [s for s in sources if s not in instance.get_dynamic_partitions(films_partitions.name)]
    )
    results = {}
    for slug in sources:
        result = dg.materialize(library_assets, partition_key=slug, instance=instance, resources=resources, raise_on_error=False)
        if not result.success:
            failures = [e.event_specific_data.error.message for e in result.all_events if e.is_step_failure]  # type: ignore[union-attr]
            pytest.fail(f"reference library: film {slug!r} did not ingest: {failures}")
        results[slug] = result
    return ReferenceLibrary(
        root=root / "data",
        inbox=inbox,
        store=resources["store"],
        index=resources["reference_index"].open(),
        resources=resources,
        instance=instance,
        films={slug: str(path) for slug, path in sources.items()},
        results=results,
    )


@pytest.fixture(scope="session")
def reference_library(tmp_path_factory: pytest.TempPathFactory, media: Path) -> Iterator[ReferenceLibrary]:
    """The sample films ingested once per session (read-only for the tests that share it)."""
    root = tmp_path_factory.mktemp("reference_library")
    home = root / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as instance:
        yield build_reference_library(root, instance)
