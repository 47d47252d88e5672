"""LanceDB-backed reference index of measured shots and sequences.

The pure logic lives in :class:`ShotIndex` (no Dagster needed); :class:`ReferenceIndex`
is a thin ``dagster.ConfigurableResource`` that opens one.

Tables
------
``shots``      one row per shot, key ``shot_id`` (``"<film>/<index:04d>"``)
``sequences``  one row per sequence, key ``sequence_id`` (``"<film>/seq<index:03d>"``)

Both carry a NULLABLE ``vector`` column (``fixed_size_list<float32>[vector_dim]``): films
analysed without real CLIP weights are stored with a null vector (never zeros or noise),
so films with and without embeddings share one table and vector search simply skips them.

Writes go through ``merge_insert`` keyed on the id with
``when_not_matched_by_source_delete("film = '<film>'")`` so one call replaces exactly one
film's rows in one commit (one new table version; older versions stay readable).

Concurrency: LanceDB 0.40 does NOT detect conflicting concurrent ``merge_insert`` commits
that insert the same keys (two concurrent upserts of a film each insert their rows ->
duplicates).  Writers are therefore serialised per table with an in-process lock plus,
for local URIs, an ``fcntl`` file lock next to the tables.  Object-store URIs get only the
in-process lock, so every upsert also verifies the film's row count afterwards and
repairs duplicates (delete + re-add of that film) if another process raced it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import math
import os
import threading
from dataclasses import dataclass, field, fields, replace
from datetime import timedelta
from typing import Any, Iterator, Optional

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

import dagster as dg

log = logging.getLogger(__name__)

SHOTS = "shots"
SEQUENCES = "sequences"
VECTOR = "vector"
KEYS = {SHOTS: "shot_id", SEQUENCES: "sequence_id"}
ORDER = {SHOTS: "shot_index", SEQUENCES: "sequence_index"}

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
FTS_COLUMNS: dict[str, list[str]] = {SHOTS: ["description"], SEQUENCES: ["description", "camera_chain"]}


# ----------------------------------------------------------------------------- schemas


def vector_type(dim: int) -> pa.DataType:
    return pa.list_(pa.float32(), dim)


def shots_schema(vector_dim: int = 512) -> pa.Schema:
    return pa.schema(
        [
            pa.field("shot_id", pa.string(), nullable=False),
            pa.field("film", pa.string(), nullable=False),
            pa.field("shot_index", pa.int64()),
            pa.field("start_frame", pa.int64()),
            pa.field("end_frame", pa.int64()),
            pa.field("start_s", pa.float64()),
            pa.field("end_s", pa.float64()),
            pa.field("duration_s", pa.float64()),
            pa.field("frame_rate", pa.float64()),
            pa.field("transition_in", pa.string()),
            pa.field("transition_in_confidence", pa.float64()),
            pa.field("keyframe_path", pa.string()),
            pa.field("movement", pa.string()),
            pa.field("movement_speed", pa.float64()),
            pa.field("shot_scale", pa.string()),
            pa.field("lighting_key", pa.string()),
            pa.field("brightness", pa.float64()),
            pa.field("contrast", pa.float64()),
            pa.field("saturation", pa.float64()),
            pa.field("colour_temperature_k", pa.float64()),
            pa.field("palette", pa.list_(pa.string())),
            pa.field("motion_energy", pa.float64()),
            pa.field("sequence_id", pa.string()),
            pa.field("description", pa.string()),
            pa.field("source_sha256", pa.string()),
            pa.field(VECTOR, vector_type(vector_dim), nullable=True),
        ]
    )


def sequences_schema(vector_dim: int = 512) -> pa.Schema:
    return pa.schema(
        [
            pa.field("sequence_id", pa.string(), nullable=False),
            pa.field("film", pa.string(), nullable=False),
            pa.field("sequence_index", pa.int64()),
            pa.field("start_s", pa.float64()),
            pa.field("end_s", pa.float64()),
            pa.field("duration_s", pa.float64()),
            pa.field("shot_ids", pa.list_(pa.string())),
            pa.field("shot_count", pa.int64()),
            pa.field("camera_chain", pa.string()),
            pa.field("description", pa.string()),
            pa.field("source_sha256", pa.string()),
            pa.field(VECTOR, vector_type(vector_dim), nullable=True),
        ]
    )


SCHEMAS = {SHOTS: shots_schema, SEQUENCES: sequences_schema}


def sql_literal(value: str) -> str:
    """Quote a string for a LanceDB (DataFusion) SQL filter: ``l'été`` -> ``'l''été'``."""
    return "'" + str(value).replace("'", "''") + "'"


def film_filter(film: str) -> str:
    return f"film = {sql_literal(film)}"


# ----------------------------------------------------------------------------- settings


@dataclass(frozen=True)
class IndexSettings:
    """Index + query defaults, tuned with bench/search.py (2-core Xeon, clustered 512-d data):

    * IVF_HNSW_SQ (cosine, m=20, ef_construction=150; lance picks 1 partition up to ~1M
      rows) queried with ef=100 and refine_factor=2: at 1M rows recall@10 0.99 (0.95 without
      the refine step, whose full-vector re-ranking lifts the scalar-quantisation ceiling) at
      p50 ~7.6 ms for an ids-only query; reading every column of the hits adds ~7 ms.
    * IVF_PQ with default PQ (dim/16 sub-vectors) was rejected: recall@10 0.08 without
      refine and 0.76 with refine_factor=20 on the same 100k data, and slower to build.
    * Below ``vector_index_min_rows`` LanceDB scans exactly (~25 ms p50 at 10k x 512 here,
      slower than the index at 100k), so the index is built from 5k vectors on.
    """

    vector_dim: int = 512
    metric: str = "cosine"
    # vector index is built once this many rows have a non-null vector; below that a flat
    # (exact) scan is used (~25 ms p50 at 10k x 512 on 2 cores)
    vector_index_min_rows: int = 5_000
    vector_index_type: str = "IVF_HNSW_SQ"  # or IVF_PQ / IVF_SQ / IVF_FLAT / IVF_HNSW_PQ
    num_partitions: Optional[int] = None  # None -> derived from target_partition_size
    target_partition_size: Optional[int] = None  # None -> lance default per index type
    num_sub_vectors: Optional[int] = None  # PQ only
    hnsw_m: int = 20
    hnsw_ef_construction: int = 150
    # query-time defaults
    nprobes: int = 20
    refine_factor: Optional[int] = 2
    ef: int = 100
    # optimize(): prune versions older than this (None -> lance default, 7 days)
    cleanup_older_than_days: Optional[float] = None
    # after each upsert create missing indexes: scalar/FTS ones (cheap) and, once
    # vector_index_min_rows rows have a vector, the vector index (a one-time cost: ~2 s at
    # 5-10k vectors; a library backfilled past 1M rows first should build it with optimize())
    auto_index: bool = True


# ----------------------------------------------------------------------------- locking

_PROCESS_LOCKS: dict[str, threading.RLock] = {}
_PROCESS_LOCKS_GUARD = threading.Lock()


def _process_lock(key: str) -> threading.RLock:
    with _PROCESS_LOCKS_GUARD:
        lock = _PROCESS_LOCKS.get(key)
        if lock is None:
            lock = _PROCESS_LOCKS[key] = threading.RLock()
        return lock


def _local_dir(uri: str) -> Optional[str]:
    if uri.startswith("file://"):
        return uri[len("file://") :]
    if "://" in uri:
        return None  # object store (s3://, gs://, az://, db:// ...)
    return uri


# ----------------------------------------------------------------------------- arrow conversion


def _isna(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return v is pd.NA or v is pd.NaT


def _string_array(values: pd.Series) -> pa.Array:
    return pa.array([None if _isna(v) else str(v) for v in values], type=pa.string())


def _string_list_array(values: pd.Series) -> pa.Array:
    out: list[Optional[list[Optional[str]]]] = []
    for v in values:
        if isinstance(v, (list, tuple, np.ndarray)):
            out.append([None if _isna(x) else str(x) for x in v])
        elif _isna(v):
            out.append(None)
        else:  # a bare scalar -> one-element list
            out.append([str(v)])
    return pa.array(out, type=pa.list_(pa.string()))


def vector_array(values: Optional[pd.Series], n: int, dim: int) -> pa.FixedSizeListArray:
    """Build the nullable vector column.  None/NaN/empty/all-zero/non-finite -> null."""
    flat = np.zeros((n, dim), dtype=np.float32)
    valid = np.zeros(n, dtype=bool)
    if values is not None:
        for i, v in enumerate(values):
            if v is None or (np.isscalar(v) and _isna(v)):
                continue
            arr = np.asarray(v, dtype=np.float32).ravel()
            if arr.size == 0:
                continue
            if arr.size != dim:
                raise ValueError(f"vector of row {i} has {arr.size} dims, index expects {dim}")
            if not np.all(np.isfinite(arr)) or not np.any(arr):
                log.warning("row %d: non-finite or all-zero vector stored as null", i)
                continue
            flat[i] = arr
            valid[i] = True
    return pa.FixedSizeListArray.from_arrays(
        pa.array(flat.reshape(-1)), dim, mask=pa.array(~valid, type=pa.bool_())
    )


def _array_for(values: pd.Series, typ: pa.DataType, name: str) -> pa.Array:
    if pa.types.is_string(typ) or pa.types.is_large_string(typ):
        return _string_array(values).cast(typ)
    if pa.types.is_list(typ) and pa.types.is_string(typ.value_type):
        return _string_list_array(values)
    try:
        arr = pa.array(values, from_pandas=True)
        if pa.types.is_dictionary(arr.type):
            arr = arr.dictionary_decode()
        return arr if arr.type == typ else arr.cast(typ)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError) as exc:
        raise ValueError(f"column {name!r} cannot be stored as {typ}: {exc}") from exc


def _infer_extra(values: pd.Series) -> pa.Array:
    """Arrow array for a column the schema does not know: scalars keep their type,
    nested values (lists/dicts) are stored as JSON strings, all-null -> string."""
    try:
        arr = pa.array(values, from_pandas=True)
    except (pa.ArrowInvalid, pa.ArrowTypeError):
        arr = None
    if arr is not None and pa.types.is_dictionary(arr.type):
        arr = arr.dictionary_decode()
    if arr is None or pa.types.is_nested(arr.type) or pa.types.is_binary(arr.type):
        return pa.array(
            [None if (not isinstance(v, (list, tuple, dict, np.ndarray)) and _isna(v))
             else json.dumps(v.tolist() if isinstance(v, np.ndarray) else v, default=str)
             for v in values],
            type=pa.string(),
        )
    if pa.types.is_null(arr.type):
        return pa.nulls(len(values), pa.string())
    if pa.types.is_large_string(arr.type):
        return arr.cast(pa.string())
    return arr


# ----------------------------------------------------------------------------- ShotIndex


class ShotIndex:
    """Reference index over a LanceDB connection (local dir or object-store URI)."""

    def __init__(
        self,
        uri: str = "data/library/lancedb",
        settings: Optional[IndexSettings] = None,
        *,
        storage_options: Optional[dict[str, str]] = None,
        read_consistency_interval: Optional[timedelta] = timedelta(seconds=5),
        db: Any = None,
        **overrides: Any,
    ) -> None:
        import lancedb

        self.uri = str(uri)
        self.settings = replace(settings or IndexSettings(), **overrides)
        self.db = db or lancedb.connect(
            self.uri,
            storage_options=storage_options or None,
            read_consistency_interval=read_consistency_interval,
        )
        self._tables: dict[str, Any] = {}
        self._fts_ready: set[tuple[str, str]] = set()

    # ------------------------------------------------------------------ tables

    def table(self, name: str = SHOTS):
        t = self._tables.get(name)
        if t is None:
            schema = SCHEMAS[name](self.settings.vector_dim)
            try:  # an existing table may have gained extra measurement columns since
                t = self.db.open_table(name)
            except (ValueError, FileNotFoundError):
                t = self.db.create_table(name, schema=schema, exist_ok=True)
            got = t.schema.field(VECTOR).type
            if got != schema.field(VECTOR).type:
                raise ValueError(f"table {name!r} has vector type {got}, settings expect "
                                 f"{schema.field(VECTOR).type} (vector_dim={self.settings.vector_dim})")
            self._tables[name] = t
        return t

    @property
    def shots(self):
        return self.table(SHOTS)

    @property
    def sequences(self):
        return self.table(SEQUENCES)

    @property
    def table_version(self) -> int:
        return self.shots.version

    def versions(self, table: str = SHOTS) -> list[dict]:
        return self.table(table).list_versions()

    def read_version(self, version: int, table: str = SHOTS, where: Optional[str] = None) -> pd.DataFrame:
        """Time travel: the table as it was at ``version`` (a detached read-only handle)."""
        t = self.db.open_table(table)
        t.checkout(version)
        q = t.search()
        if where:
            q = q.where(where)
        return q.limit(None).select(self._columns(t, False)).to_pandas()

    @contextlib.contextmanager
    def _write_lock(self, table: str) -> Iterator[None]:
        with _process_lock(f"{os.path.abspath(self.uri) if _local_dir(self.uri) else self.uri}::{table}"):
            local = _local_dir(self.uri)
            if local is None:
                yield
                return
            try:
                import fcntl
            except ImportError:  # pragma: no cover - windows
                yield
                return
            os.makedirs(local, exist_ok=True)
            with open(os.path.join(local, f".{table}.write.lock"), "a+") as fh:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
                try:
                    yield
                finally:
                    fcntl.flock(fh.fileno(), fcntl.LOCK_UN)

    # ------------------------------------------------------------------ writes

    def to_arrow(self, df: pd.DataFrame, table: str = SHOTS, film: Optional[str] = None) -> pa.Table:
        """Conform a DataFrame to the table schema (adds unknown scalar columns to the
        table as nullable columns, fills missing ones with nulls)."""
        t = self.table(table)
        key = KEYS[table]
        df = df.reset_index(drop=True)
        if film is not None:
            if "film" not in df.columns:
                df = df.assign(film=film)
            bad = df["film"].astype(str) != film
            if bad.any():
                raise ValueError(f"{int(bad.sum())} rows of the {table} frame belong to another film "
                                 f"than {film!r}: {sorted(set(df.loc[bad, 'film'].astype(str)))[:3]}")
        if key not in df.columns or df[key].isna().any():
            raise ValueError(f"{table}: every row needs a {key!r}")
        if "film" not in df.columns or df["film"].isna().any():
            raise ValueError(f"{table}: every row needs a 'film'")
        dups = df[key][df[key].duplicated()]
        if len(dups):
            raise ValueError(f"{table}: duplicate {key} in input: {list(dups.unique()[:5])}")

        schema = t.schema
        extras = {c: _infer_extra(df[c]) for c in df.columns if c not in schema.names}
        if extras:
            log.info("adding columns %s to %s", list(extras), table)
            t.add_columns([pa.field(c, a.type, nullable=True) for c, a in extras.items()])
            schema = t.schema
        arrays = []
        for f in schema:
            if f.name == VECTOR:
                arrays.append(vector_array(df[VECTOR] if VECTOR in df.columns else None, len(df),
                                           self.settings.vector_dim))
            elif f.name in extras and extras[f.name].type == f.type:
                arrays.append(extras[f.name])
            elif f.name in df.columns:
                arrays.append(_array_for(df[f.name], f.type, f.name))
            else:
                arrays.append(pa.nulls(len(df), f.type))
        return pa.Table.from_arrays(arrays, schema=schema)

    def _merge_film(self, table: str, film: str, df: pd.DataFrame) -> dict:
        t = self.table(table)
        key = KEYS[table]
        flt = film_filter(film)
        with self._write_lock(table):
            t.checkout_latest()
            # conform inside the lock: to_arrow may add columns, and must see the latest schema
            data = self.to_arrow(df, table, film)
            if data.num_rows == 0:
                res = t.delete(flt)
                out = {"inserted": 0, "updated": 0, "deleted": None, "rows": 0,
                       "version": getattr(res, "version", t.version)}
            else:
                res = (
                    t.merge_insert(key)
                    .when_matched_update_all()
                    .when_not_matched_insert_all()
                    .when_not_matched_by_source_delete(flt)
                    .execute(data, on_bad_vectors="null")
                )
                out = {"inserted": res.num_inserted_rows, "updated": res.num_updated_rows,
                       "deleted": res.num_deleted_rows, "rows": data.num_rows, "version": res.version}
            # safety net against writers we could not lock out (other processes on an
            # object store): the film must hold exactly the rows we just wrote
            n = t.count_rows(flt)
            if n != data.num_rows:
                log.warning("%s: film %r has %d rows after upsert, expected %d; repairing",
                            table, film, n, data.num_rows)
                t.delete(flt)
                if data.num_rows:
                    t.add(data, on_bad_vectors="null")
                out["repaired"] = True
                out["version"] = t.version
        return out

    def upsert_film(self, film: str, shots: pd.DataFrame, sequences: Optional[pd.DataFrame] = None) -> dict:
        """Replace exactly ``film``'s rows (stale rows of that film are deleted, other films
        untouched); idempotent.  ``sequences=None`` leaves the film's sequences as they are;
        an empty frame deletes them."""
        if not isinstance(film, str) or not film:
            raise ValueError("film must be a non-empty string")
        out: dict[str, Any] = {"film": film, "shots": self._merge_film(SHOTS, film, shots)}
        if sequences is not None:
            out["sequences"] = self._merge_film(SEQUENCES, film, sequences)
        if self.settings.auto_index:
            out["indexes_created"] = self.ensure_indexes()
        out["table_version"] = self.shots.version
        return out

    def append(self, df: pd.DataFrame | pa.Table, table: str = SHOTS) -> int:
        """Bulk append WITHOUT de-duplication (backfills / benchmarks into fresh tables).
        Returns the new table version."""
        data = df if isinstance(df, pa.Table) else self.to_arrow(df, table)
        t = self.table(table)
        with self._write_lock(table):
            t.add(data, on_bad_vectors="null")
            return t.version

    def delete_film(self, film: str) -> None:
        for name in (SHOTS, SEQUENCES):
            with self._write_lock(name):
                self.table(name).delete(film_filter(film))

    # ------------------------------------------------------------------ indexes

    @staticmethod
    def _indexed_columns(t) -> dict[str, str]:
        out = {}
        for idx in t.list_indices():
            for c in idx.columns:
                out[c] = str(idx.index_type)
        return out

    def vector_index_config(self, num_rows: Optional[int] = None):
        from lancedb.index import HnswPq, HnswSq, IvfFlat, IvfPq, IvfSq

        s = self.settings
        common = dict(distance_type=s.metric, num_partitions=s.num_partitions,
                      target_partition_size=s.target_partition_size)
        kind = s.vector_index_type.upper()
        if kind == "IVF_HNSW_SQ":
            return HnswSq(m=s.hnsw_m, ef_construction=s.hnsw_ef_construction, **common)
        if kind == "IVF_HNSW_PQ":
            return HnswPq(m=s.hnsw_m, ef_construction=s.hnsw_ef_construction,
                          num_sub_vectors=s.num_sub_vectors, **common)
        if kind == "IVF_PQ":
            return IvfPq(num_sub_vectors=s.num_sub_vectors, **common)
        if kind == "IVF_SQ":
            return IvfSq(**common)
        if kind == "IVF_FLAT":
            return IvfFlat(**common)
        raise ValueError(f"unknown vector_index_type {s.vector_index_type!r}")

    def has_vector_index(self, table: str = SHOTS) -> bool:
        return VECTOR in self._indexed_columns(self.table(table))

    def create_vector_index(self, table: str = SHOTS, replace: bool = True) -> None:
        t = self.table(table)
        t.create_index(VECTOR, config=self.vector_index_config(), replace=replace)

    def ensure_indexes(self, tables: Optional[list[str]] = None, vector: bool = True) -> list[str]:
        """Create missing FTS/scalar indexes (and the vector index once
        ``vector_index_min_rows`` rows have a vector).  Returns the created indexes.
        Existing indexes are not rebuilt: rows written after an index was built are still
        found (LanceDB flat-searches unindexed fragments and masks deleted rows) and
        :meth:`optimize` folds them into the indexes."""
        from lancedb.index import FTS, Bitmap, BTree

        created = []
        for name in tables or [SHOTS, SEQUENCES]:
            t = self.table(name)
            have = self._indexed_columns(t)
            with self._write_lock(name):
                for col in FTS_COLUMNS[name]:
                    if col not in have:
                        t.create_index(col, config=FTS(), replace=False)
                        created.append(f"{name}.{col}:FTS")
                for col, kind in SCALAR_INDEXES[name].items():
                    if col not in have and col in t.schema.names:
                        t.create_index(col, config=Bitmap() if kind == "BITMAP" else BTree(), replace=False)
                        created.append(f"{name}.{col}:{kind}")
                if vector and VECTOR not in have:
                    n_vec = t.count_rows(f"{VECTOR} IS NOT NULL")
                    if n_vec >= self.settings.vector_index_min_rows:
                        t.create_index(VECTOR, config=self.vector_index_config(n_vec), replace=False)
                        created.append(f"{name}.{VECTOR}:{self.settings.vector_index_type}")
        return created

    def optimize(self, retrain_vector_index: bool = False,
                 cleanup_older_than: Optional[timedelta] = None) -> dict:
        """Compact fragments, fold new rows into all indexes, prune old versions (older
        than ``cleanup_older_than`` / settings.cleanup_older_than_days / lance's 7-day
        default) and create any missing index.  ``retrain_vector_index`` rebuilds the
        vector index from scratch (after large drift in the data distribution)."""
        if cleanup_older_than is None and self.settings.cleanup_older_than_days is not None:
            cleanup_older_than = timedelta(days=self.settings.cleanup_older_than_days)
        for name in (SHOTS, SEQUENCES):
            t = self.table(name)
            with self._write_lock(name):
                t.checkout_latest()
                t.optimize(cleanup_older_than=cleanup_older_than)
                if retrain_vector_index and VECTOR in self._indexed_columns(t):
                    self.create_vector_index(name, replace=True)
        created = self.ensure_indexes()
        return {"created": created, **self.stats()}

    # ------------------------------------------------------------------ queries

    @staticmethod
    def _columns(t, with_vector: bool) -> list[str]:
        return [n for n in t.schema.names if with_vector or n != VECTOR]

    def _query_vector(self, vector) -> np.ndarray:
        q = np.asarray(vector, dtype=np.float32).ravel()
        if q.size != self.settings.vector_dim:
            raise ValueError(f"query vector has {q.size} dims, index expects {self.settings.vector_dim}")
        return q

    def _tune(self, b, nprobes, refine_factor, ef):
        s = self.settings
        b = b.nprobes(nprobes or s.nprobes)
        rf = refine_factor if refine_factor is not None else s.refine_factor
        if rf:
            b = b.refine_factor(rf)
        return b.ef(ef or s.ef)

    def search_vector(self, vector, k: int = 10, where: Optional[str] = None, *, table: str = SHOTS,
                      nprobes: Optional[int] = None, refine_factor: Optional[int] = None,
                      ef: Optional[int] = None, exact: bool = False, with_vector: bool = False,
                      columns: Optional[list[str]] = None) -> pd.DataFrame:
        """Nearest rows by cosine distance (``_distance``, ascending).  Rows with a null
        vector never match.  ``where`` is applied as a pre-filter.  ``columns`` limits the
        columns read back (e.g. ``["shot_id", "sequence_id"]`` for retrieval): reading every
        measurement column of the hits costs more than the search itself."""
        t = self.table(table)
        b = t.search(self._query_vector(vector), vector_column_name=VECTOR, query_type="vector")
        b = b.distance_type(self.settings.metric).limit(k)
        b = self._tune(b, nprobes, refine_factor, ef)
        if exact:
            b = b.bypass_vector_index()
        if where:
            b = b.where(where, prefilter=True)
        return b.select((columns or self._columns(t, with_vector)) + ["_distance"]).to_arrow().to_pandas()

    def _ensure_fts(self, t, column: str) -> None:
        """Make sure a full-text index exists before a text search (normally made by the upsert).

        Known indexes are remembered per handle, so a search does not list the indexes each time;
        a missing one is created under the table's write lock, re-checked inside it."""
        key = (t.name, column)
        if key in self._fts_ready:
            return
        if column not in self._indexed_columns(t):
            from lancedb.index import FTS

            with self._write_lock(t.name):
                t.checkout_latest()
                if column not in self._indexed_columns(t):
                    t.create_index(column, config=FTS(), replace=False)
        self._fts_ready.add(key)

    def search_text(self, query: str, k: int = 10, where: Optional[str] = None, *, table: str = SHOTS,
                    column: str = "description", with_vector: bool = False) -> pd.DataFrame:
        """BM25 full-text search (native LanceDB FTS; English stemming, stop words removed,
        case/accent folded).  Returns ``_score`` (descending)."""
        t = self.table(table)
        self._ensure_fts(t, column)
        b = t.search(query, query_type="fts", fts_columns=column).limit(k)
        if where:
            b = b.where(where, prefilter=True)
        return b.select(self._columns(t, with_vector)).to_arrow().to_pandas()

    def search_hybrid(self, text: str, vector, k: int = 10, where: Optional[str] = None, *,
                      table: str = SHOTS, column: str = "description", reranker=None,
                      nprobes: Optional[int] = None, refine_factor: Optional[int] = None,
                      ef: Optional[int] = None, with_vector: bool = False) -> pd.DataFrame:
        """Vector + FTS fused by a reranker (default reciprocal-rank fusion).  Returns
        ``_relevance_score`` (descending).  Rows without vectors can still come from the
        text leg."""
        from lancedb.rerankers import RRFReranker

        t = self.table(table)
        self._ensure_fts(t, column)
        b = t.search(query_type="hybrid", vector_column_name=VECTOR, fts_columns=column)
        b = b.vector(self._query_vector(vector)).text(text).distance_type(self.settings.metric)
        b = self._tune(b, nprobes, refine_factor, ef)
        if where:
            b = b.where(where, prefilter=True)
        b = b.rerank(reranker or RRFReranker()).limit(k)
        return b.select(self._columns(t, with_vector)).to_arrow().to_pandas()

    def filter(self, where: Optional[str] = None, limit: Optional[int] = None, *, table: str = SHOTS,
               columns: Optional[list[str]] = None, with_vector: bool = False) -> pd.DataFrame:
        t = self.table(table)
        b = t.search()
        if where:
            b = b.where(where)
        return b.limit(limit).select(columns or self._columns(t, with_vector)).to_arrow().to_pandas()

    def film_rows(self, film: str, table: str = SHOTS, with_vector: bool = False) -> pd.DataFrame:
        df = self.filter(film_filter(film), table=table, with_vector=with_vector)
        return df.sort_values(ORDER[table], kind="stable").reset_index(drop=True) if len(df) else df

    def count(self, film: Optional[str] = None, table: str = SHOTS, where: Optional[str] = None) -> int:
        parts = [p for p in (film_filter(film) if film is not None else None, where) if p]
        return self.table(table).count_rows(" AND ".join(f"({p})" for p in parts) or None)

    def duplicate_shot_ids(self, table: str = SHOTS) -> pd.DataFrame:
        """Keys stored more than once (should always be empty)."""
        key = KEYS[table]
        ids = self.table(table).search().select([key]).limit(None).to_arrow()[key]
        vc = pc.value_counts(ids)
        df = pd.DataFrame({key: vc.field("values").to_pylist(), "count": vc.field("counts").to_pylist()})
        return df[df["count"] > 1].sort_values(key).reset_index(drop=True)

    # ------------------------------------------------------------------ metadata

    def stats(self) -> dict:
        out: dict[str, Any] = {"uri": self.uri, "settings": {f.name: getattr(self.settings, f.name)
                                                           for f in fields(self.settings)}, "tables": {}}
        for name in (SHOTS, SEQUENCES):
            t = self.table(name)
            indexes = []
            for idx in t.list_indices():
                st = t.index_stats(idx.name)
                indexes.append({"name": idx.name, "type": str(idx.index_type), "columns": list(idx.columns),
                                "indexed_rows": getattr(st, "num_indexed_rows", None),
                                "unindexed_rows": getattr(st, "num_unindexed_rows", None)})
            ts = t.stats()
            out["tables"][name] = {
                "rows": t.count_rows(),
                "rows_with_vector": t.count_rows(f"{VECTOR} IS NOT NULL"),
                "films": len(set(t.search().select(["film"]).limit(None).to_arrow()["film"].to_pylist())),
                "version": t.version,
                "num_versions": len(t.list_versions()),
                "fragments": getattr(getattr(ts, "fragment_stats", None), "num_fragments", None),
                "bytes": getattr(ts, "total_bytes", None),
                "indexes": indexes,
            }
        return out



# ----------------------------------------------------------------------------- Dagster resource


class ReferenceIndex(dg.ConfigurableResource):
    """Dagster resource: ``index = reference_index.open()`` -> :class:`ShotIndex`."""

    uri: str = "data/library/lancedb"
    vector_dim: int = 512
    storage_options: Optional[dict[str, str]] = None
    read_consistency_interval_s: Optional[float] = 5.0
    vector_index_min_rows: int = IndexSettings.vector_index_min_rows
    vector_index_type: str = IndexSettings.vector_index_type
    num_partitions: Optional[int] = None
    hnsw_m: int = IndexSettings.hnsw_m
    hnsw_ef_construction: int = IndexSettings.hnsw_ef_construction
    nprobes: int = IndexSettings.nprobes
    refine_factor: Optional[int] = IndexSettings.refine_factor
    ef: int = IndexSettings.ef
    cleanup_older_than_days: Optional[float] = None
    auto_index: bool = True

    def settings(self) -> IndexSettings:
        return IndexSettings(
            vector_dim=self.vector_dim, vector_index_min_rows=self.vector_index_min_rows,
            vector_index_type=self.vector_index_type, num_partitions=self.num_partitions,
            hnsw_m=self.hnsw_m, hnsw_ef_construction=self.hnsw_ef_construction, nprobes=self.nprobes,
            refine_factor=self.refine_factor, ef=self.ef,
            cleanup_older_than_days=self.cleanup_older_than_days, auto_index=self.auto_index,
        )

    def open(self) -> ShotIndex:
        rci = self.read_consistency_interval_s
        return ShotIndex(
            self.uri, self.settings(), storage_options=self.storage_options,
            read_consistency_interval=None if rci is None else timedelta(seconds=rci),
        )


__all__ = [
    "IndexSettings", "ReferenceIndex", "ShotIndex", "film_filter", "sequences_schema",
    "shots_schema", "sql_literal", "vector_array",
]
