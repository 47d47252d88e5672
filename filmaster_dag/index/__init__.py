"""The LanceDB reference index of measured shots and sequences, free of Dagster.

``ShotIndex(uri, IndexSettings(...))`` opens (or creates) the ``shots`` and ``sequences``
tables, whose schemas are the records declared in :mod:`filmaster_dag.cinema.records`;
``upsert_film`` replaces one film's rows in one commit (nothing when they are unchanged), and
``search_vector`` / ``search_text`` / ``search_hybrid`` / ``filter`` query them. The Dagster
resource :class:`filmaster_dag.resources.index.ReferenceIndex` only opens one from its config;
``bench/search.py`` and scripts use this package directly.

Modules: :mod:`.settings` (IndexSettings), :mod:`.tables` (names, schemas, index plan, SQL
helpers), :mod:`.locking` (the per-table write lock), :mod:`.arrow` (DataFrame -> Arrow),
:mod:`.migration` (tables written by older versions), :mod:`.shot_index` (ShotIndex).
"""

from .arrow import frame_to_arrow, vector_array
from .migration import SchemaDrift, schema_drift
from .settings import IndexSettings, Metric, VectorIndexType
from .shot_index import ShotIndex
from .tables import (
    FTS_COLUMNS,
    KEYS,
    ORDER,
    SCALAR_INDEXES,
    SEQUENCES,
    SHOTS,
    TABLES,
    VECTOR,
    film_filter,
    sequences_schema,
    shots_schema,
    sql_literal,
    table_schema,
)

__all__ = [
    "FTS_COLUMNS",
    "KEYS",
    "ORDER",
    "SCALAR_INDEXES",
    "SEQUENCES",
    "SHOTS",
    "TABLES",
    "VECTOR",
    "IndexSettings",
    "Metric",
    "SchemaDrift",
    "ShotIndex",
    "VectorIndexType",
    "film_filter",
    "frame_to_arrow",
    "schema_drift",
    "sequences_schema",
    "shots_schema",
    "sql_literal",
    "table_schema",
    "vector_array",
]
