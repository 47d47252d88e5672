"""The two tables of the reference index, their schemas (from :mod:`filmaster_dag.cinema.records`),
keys and index plan, and SQL filter helpers.

``shots``      one row per shot, key ``shot_id`` (``"<film>/<index:04d>"``)
``sequences``  one row per sequence, key ``sequence_id`` (``"<film>/seq<index:03d>"``)

Both carry a NULLABLE ``vector`` column (``fixed_size_list<float32>[vector_dim]``): films
analysed without real CLIP weights are stored with a null vector (never zeros or noise), so
films with and without embeddings share one table and vector search simply skips them.
"""

from __future__ import annotations

import pyarrow as pa

from ..cinema import records

SHOTS = "shots"
SEQUENCES = "sequences"
TABLES = (SHOTS, SEQUENCES)
VECTOR = records.VECTOR
#: The offline look descriptor of each shot (:mod:`filmaster_dag.cinema.look`), searched by ``--like``.
LOOK, LOOK_DIM = records.LOOK, records.LOOK_DIM
#: Columns holding vectors: left out of a read unless asked for (``with_vector``).
VECTOR_COLUMNS = (VECTOR, LOOK)
KEYS = {SHOTS: "shot_id", SEQUENCES: "sequence_id"}
ORDER = {SHOTS: "shot_index", SEQUENCES: "sequence_index"}
RECORDS: dict[str, tuple[records.Column, ...]] = {
    SHOTS: records.SHOT_COLUMNS,
    SEQUENCES: records.SEQUENCE_COLUMNS,
}

# column -> scalar index type, per table
SCALAR_INDEXES: dict[str, dict[str, str]] = {
    SHOTS: {
        "shot_id": "BTREE",  # merge_insert join key, point look-ups
        "film": "BTREE",  # cardinality grows with the library -> BTREE, not BITMAP
        "movement": "BITMAP",
        "shot_scale": "BITMAP",
        "lighting_key": "BITMAP",
    },
    SEQUENCES: {"sequence_id": "BTREE", "film": "BTREE"},
}
FTS_COLUMNS: dict[str, list[str]] = {
    SHOTS: ["description"],
    SEQUENCES: ["description", "camera_chain"],
}

shots_schema = records.shots_schema
sequences_schema = records.sequences_schema


def table_schema(table: str, vector_dim: int) -> pa.Schema:
    """The declared schema of ``table``: every record column up front, then the nullable vector."""
    if table not in RECORDS:
        raise ValueError(f"unknown index table {table!r}; expected one of {TABLES}")
    return records.arrow_schema(RECORDS[table], vector_dim)


def vocabularies(table: str) -> dict[str, tuple[str, ...]]:
    """{column: allowed words} for the vocabulary columns of ``table``."""
    return {c.name: c.vocabulary for c in RECORDS[table] if c.indexed and c.vocabulary}


def sql_literal(value: str) -> str:
    """Quote a string for a LanceDB (DataFusion) SQL filter: ``l'été`` -> ``'l''été'``."""
    return "'" + str(value).replace("'", "''") + "'"


def film_filter(film: str) -> str:
    """The SQL filter selecting one film's rows."""
    return f"film = {sql_literal(film)}"
