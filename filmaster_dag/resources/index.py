"""The reference index as a Dagster resource: typed settings, checked when the definitions load.

The index itself (schemas, locking, Arrow conversion, upsert, search, maintenance) lives in the
Dagster-free package :mod:`filmaster_dag.index`; ``reference_index.open()`` builds a
:class:`~filmaster_dag.index.ShotIndex` from this resource's settings. The old public names are
re-exported here so ``from filmaster_dag.resources.index import ShotIndex`` keeps working.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import timedelta

import dagster as dg
from pydantic import Field, model_validator

from ..index import (
    IndexSettings,
    Metric,
    ShotIndex,
    VectorIndexType,
    film_filter,
    sequences_schema,
    shots_schema,
    sql_literal,
    vector_array,
)

_DEFAULTS = IndexSettings()


class ReferenceIndex(dg.ConfigurableResource):
    """Dagster resource: ``index = reference_index.open()`` -> :class:`ShotIndex`.

    The fields mirror :class:`IndexSettings` (see it for the tuning behind each default); a bad
    value (unknown index type, non-positive dimension) fails when the definitions load."""

    uri: str = Field(
        default="data/library/lancedb",
        description="LanceDB database: a folder or an object-store URI",
    )
    vector_dim: int = Field(
        default=_DEFAULTS.vector_dim,
        description="size of the shot vectors (CLIP embedding)",
    )
    metric: Metric = _DEFAULTS.metric
    storage_options: dict[str, str] | None = Field(default=None, description="object-store credentials/options")
    read_consistency_interval_s: float | None = Field(default=5.0, description="how stale a reader may be; None = never refresh")
    vector_index_min_rows: int = _DEFAULTS.vector_index_min_rows
    vector_index_type: VectorIndexType = _DEFAULTS.vector_index_type
    num_partitions: int | None = _DEFAULTS.num_partitions
    target_partition_size: int | None = _DEFAULTS.target_partition_size
    num_sub_vectors: int | None = _DEFAULTS.num_sub_vectors
    hnsw_m: int = _DEFAULTS.hnsw_m
    hnsw_ef_construction: int = _DEFAULTS.hnsw_ef_construction
    nprobes: int = _DEFAULTS.nprobes
    refine_factor: int | None = _DEFAULTS.refine_factor
    ef: int = _DEFAULTS.ef
    cleanup_older_than_days: float | None = _DEFAULTS.cleanup_older_than_days
    auto_index: bool = _DEFAULTS.auto_index

    @model_validator(mode="after")
    def _check_settings(self) -> ReferenceIndex:
        # values given as dg.EnvVar are only known at run time; open() checks those
        if not any(type(getattr(self, f.name)).__module__.startswith("dagster") for f in fields(IndexSettings)):
            self.settings()
        return self

    def settings(self) -> IndexSettings:
        """The index settings this resource configures (``ValueError`` if one is out of range)."""
        return IndexSettings(**{f.name: getattr(self, f.name) for f in fields(IndexSettings)})

    def open(self) -> ShotIndex:
        """Open the index (creating its tables on first use)."""
        rci = self.read_consistency_interval_s
        return ShotIndex(
            self.uri,
            self.settings(),
            storage_options=self.storage_options,
            read_consistency_interval=None if rci is None else timedelta(seconds=rci),
        )


__all__ = [
    "IndexSettings",
    "ReferenceIndex",
    "ShotIndex",
    "film_filter",
    "sequences_schema",
    "shots_schema",
    "sql_literal",
    "vector_array",
]
