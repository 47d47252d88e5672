"""The reference index of measured shots and sequences over one LanceDB database.

Writes go through ``merge_insert`` keyed on the id with
``when_not_matched_by_source_delete("film = '<film>'")`` so one call replaces exactly one
film's rows in one commit (one new table version; older versions stay readable). A film whose
incoming rows equal its stored rows commits nothing (``{"unchanged": True}``), so re-ingesting
an unchanged film leaves the table version where it was.

Writers are serialised per table (:mod:`.locking`); because object stores get only the
in-process lock, every upsert also verifies the film's row count afterwards and repairs
duplicates (delete + re-add of that film) if another process raced it.
"""

from __future__ import annotations

import logging
from dataclasses import asdict, replace
from datetime import timedelta
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from .arrow import frame_to_arrow
from .locking import write_lock
from .migration import check_vectors, migrate_table, schema_drift
from .settings import IndexSettings
from .tables import (
    FTS_COLUMNS,
    KEYS,
    LOOK_DIM,
    ORDER,
    SCALAR_INDEXES,
    SEQUENCES,
    SHOTS,
    TABLES,
    VECTOR,
    VECTOR_COLUMNS,
    film_filter,
    table_schema,
)

log = logging.getLogger(__name__)


def _same_rows(stored: pa.Table, incoming: pa.Table, key: str) -> bool:
    """True when the stored rows of a film are exactly the incoming ones (any row order)."""
    if stored.num_rows != incoming.num_rows or stored.column_names != incoming.column_names:
        return False
    try:
        stored = stored.cast(incoming.schema)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return False
    return stored.sort_by(key).equals(incoming.sort_by(key))


def _unchanged(rows: int, version: int) -> dict:
    """The result of an upsert that found the film's rows already stored (nothing committed)."""
    return {"inserted": 0, "updated": 0, "deleted": 0, "rows": rows, "version": version, "unchanged": True}


class ShotIndex:
    """Reference index over a LanceDB connection (local dir or object-store URI)."""

    def __init__(
        self,
        uri: str = "data/library/lancedb",
        settings: IndexSettings | None = None,
        *,
        storage_options: dict[str, str] | None = None,
        read_consistency_interval: timedelta | None = timedelta(seconds=5),
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
        self._pinned: dict[tuple[str, int], Any] = {}

    # ------------------------------------------------------------------ tables

    def table(self, name: str = SHOTS) -> Any:
        """The LanceDB table ``name`` (created empty in the declared schema if absent; a table
        written by an older version is migrated once, see :mod:`.migration`)."""
        t = self._tables.get(name)
        if t is None:
            schema = table_schema(name, self.settings.vector_dim)
            try:
                t = self.db.open_table(name)
            except (ValueError, FileNotFoundError):
                t = self.db.create_table(name, schema=schema, exist_ok=True)
            where = f"index table {name!r} at {self.uri}"
            check_vectors(t.schema, schema, where)  # before any migration: vectors of another size cannot be converted
            if schema_drift(t.schema, schema):
                with self._write_lock(name):
                    t.checkout_latest()  # another process may have migrated it meanwhile
                    if schema_drift(t.schema, schema):
                        t = migrate_table(self.db, t, schema, where)
            self._tables[name] = t
        return t

    @property
    def shots(self) -> Any:
        return self.table(SHOTS)

    @property
    def sequences(self) -> Any:
        return self.table(SEQUENCES)

    @property
    def table_version(self) -> int:
        return self.shots.version

    def versions(self, table: str = SHOTS) -> list[dict]:
        return self.table(table).list_versions()

    def read_version(self, version: int, table: str = SHOTS, where: str | None = None) -> pd.DataFrame:
        """Time travel: the table as it was at ``version`` (a detached read-only handle)."""
        t = self.db.open_table(table)
        t.checkout(version)
        q = t.search()
        if where:
            q = q.where(where)
        return q.limit(None).select(self._columns(t, False)).to_pandas()

    def at_version(self, version: int, table: str = SHOTS) -> Any:
        """A detached read-only handle on ``table`` pinned at ``version`` (kept for reuse): reads
        through it see one version however many writes land meanwhile (a production's retrieval
        reads both tables at the versions it recorded, so a concurrent ingest cannot mix them)."""
        key = (table, int(version))
        t = self._pinned.get(key)
        if t is None:
            t = self.db.open_table(table)
            t.checkout(int(version))
            self._pinned[key] = t
        return t

    def _handle(self, table: str, version: int | None) -> Any:
        return self.table(table) if version is None else self.at_version(version, table)

    def _write_lock(self, table: str) -> Any:
        return write_lock(self.uri, table)

    # ------------------------------------------------------------------ writes

    def to_arrow(self, df: pd.DataFrame, table: str = SHOTS, film: str | None = None) -> pa.Table:
        """``df`` conformed to the table's declared schema (missing columns as nulls); ``ValueError``
        for undeclared columns, bad keys, other films' rows, words outside the vocabulary."""
        return frame_to_arrow(df, table, self.settings.vector_dim, film)

    def _merge_film(self, table: str, film: str, df: pd.DataFrame) -> dict:
        t = self.table(table)
        key = KEYS[table]
        flt = film_filter(film)
        data = self.to_arrow(df, table, film)
        with self._write_lock(table):
            t.checkout_latest()
            if data.num_rows == 0:
                if t.count_rows(flt) == 0:  # a delete of nothing would still commit a version
                    return _unchanged(0, t.version)
                res = t.delete(flt)
                out = {
                    "inserted": 0,
                    "updated": 0,
                    "deleted": None,
                    "rows": 0,
                    "version": getattr(res, "version", t.version),
                }
            else:
                stored = t.search().where(flt).select(data.column_names).limit(None).to_arrow()
                if _same_rows(stored, data, key):
                    return _unchanged(data.num_rows, t.version)
                res = (
                    t.merge_insert(key)
                    .when_matched_update_all()
                    .when_not_matched_insert_all()
                    .when_not_matched_by_source_delete(flt)
                    .execute(data, on_bad_vectors="null")
                )
                out = {
                    "inserted": res.num_inserted_rows,
                    "updated": res.num_updated_rows,
                    "deleted": res.num_deleted_rows,
                    "rows": data.num_rows,
                    "version": res.version,
                }
            # safety net against writers we could not lock out (other processes on an
            # object store): the film must hold exactly the rows we just wrote
            n = t.count_rows(flt)
            if n != data.num_rows:
                log.warning(
                    "%s: film %r has %d rows after upsert, expected %d; repairing",
                    table,
                    film,
                    n,
                    data.num_rows,
                )
                t.delete(flt)
                if data.num_rows:
                    t.add(data, on_bad_vectors="null")
                out["repaired"] = True
                out["version"] = t.version
        out["unchanged"] = False
        return out

    def upsert_film(self, film: str, shots: pd.DataFrame, sequences: pd.DataFrame | None = None) -> dict:
        """Replace exactly ``film``'s rows (stale rows of that film are deleted, other films
        untouched); idempotent, and a film whose rows are already stored commits nothing.
        ``sequences=None`` leaves the film's sequences as they are; an empty frame deletes them.

        Returns ``{"film", "shots": {...}, "sequences": {...}, "unchanged", "indexes_created",
        "table_version"}``; each per-table part has inserted/updated/deleted/rows/version/unchanged."""
        if not isinstance(film, str) or not film:
            raise ValueError("film must be a non-empty string")
        out: dict[str, Any] = {
            "film": film,
            "shots": self._merge_film(SHOTS, film, shots),
        }
        if sequences is not None:
            out["sequences"] = self._merge_film(SEQUENCES, film, sequences)
        out["unchanged"] = all(out[t]["unchanged"] for t in TABLES if t in out)
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
        for name in TABLES:
            t = self.table(name)
            with self._write_lock(name):
                if t.count_rows(film_filter(film)):
                    t.delete(film_filter(film))

    # ------------------------------------------------------------------ indexes

    @staticmethod
    def _indexed_columns(t: Any) -> dict[str, str]:
        out = {}
        for idx in t.list_indices():
            for c in idx.columns:
                out[c] = str(idx.index_type)
        return out

    def vector_index_config(self, num_rows: int | None = None) -> Any:
        """The LanceDB config of the vector index (``num_rows`` is accepted for compatibility)."""
        return self.settings.vector_index_config()

    def has_vector_index(self, table: str = SHOTS) -> bool:
        return VECTOR in self._indexed_columns(self.table(table))

    def create_vector_index(self, table: str = SHOTS, replace: bool = True) -> None:
        t = self.table(table)
        t.create_index(VECTOR, config=self.vector_index_config(), replace=replace)

    def ensure_indexes(self, tables: list[str] | None = None, vector: bool = True) -> list[str]:
        """Create missing FTS/scalar indexes (and the vector index once
        ``vector_index_min_rows`` rows have a vector).  Returns the created indexes.
        Existing indexes are not rebuilt: rows written after an index was built are still
        found (LanceDB flat-searches unindexed fragments and masks deleted rows) and
        :meth:`optimize` folds them into the indexes."""
        from lancedb.index import FTS, Bitmap, BTree

        created = []
        for name in tables or list(TABLES):
            t = self.table(name)
            have = self._indexed_columns(t)
            with self._write_lock(name):
                for col in FTS_COLUMNS[name]:
                    if col not in have:
                        t.create_index(col, config=FTS(), replace=False)
                        created.append(f"{name}.{col}:FTS")
                for col, kind in SCALAR_INDEXES[name].items():
                    if col not in have and col in t.schema.names:
                        t.create_index(
                            col,
                            config=Bitmap() if kind == "BITMAP" else BTree(),
                            replace=False,
                        )
                        created.append(f"{name}.{col}:{kind}")
                if vector and VECTOR not in have:
                    n_vec = t.count_rows(f"{VECTOR} IS NOT NULL")
                    if n_vec >= self.settings.vector_index_min_rows:
                        t.create_index(
                            VECTOR,
                            config=self.vector_index_config(n_vec),
                            replace=False,
                        )
                        created.append(f"{name}.{VECTOR}:{self.settings.vector_index_type}")
        return created

    def optimize(
        self,
        retrain_vector_index: bool = False,
        cleanup_older_than: timedelta | None = None,
    ) -> dict:
        """Compact fragments, fold new rows into all indexes, prune old versions (older
        than ``cleanup_older_than`` / settings.cleanup_older_than_days / lance's 7-day
        default) and create any missing index.  ``retrain_vector_index`` rebuilds the
        vector index from scratch (after large drift in the data distribution)."""
        if cleanup_older_than is None and self.settings.cleanup_older_than_days is not None:
            cleanup_older_than = timedelta(days=self.settings.cleanup_older_than_days)
        for name in TABLES:
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
    def _columns(t: Any, with_vector: bool) -> list[str]:
        return [n for n in t.schema.names if with_vector or n not in VECTOR_COLUMNS]

    def _query_vector(self, vector: Any, column: str = VECTOR) -> np.ndarray:
        q = np.asarray(vector, dtype=np.float32).ravel()
        dim = self.settings.vector_dim if column == VECTOR else LOOK_DIM
        if q.size != dim:
            raise ValueError(f"query vector has {q.size} dims, the {column} column holds {dim}")
        return q

    def _tune(self, b: Any, nprobes: int | None, refine_factor: int | None, ef: int | None) -> Any:
        s = self.settings
        b = b.nprobes(nprobes or s.nprobes)
        rf = refine_factor if refine_factor is not None else s.refine_factor
        if rf:
            b = b.refine_factor(rf)
        return b.ef(ef or s.ef)

    def _vector_query(
        self,
        t: Any,
        vector: Any,
        k: int,
        where: str | None,
        nprobes: int | None,
        refine_factor: int | None,
        ef: int | None,
        column: str = VECTOR,
    ) -> Any:
        b = t.search(self._query_vector(vector, column), vector_column_name=column, query_type="vector")
        b = self._tune(b.distance_type(self.settings.metric).limit(k), nprobes, refine_factor, ef)
        return b.where(where, prefilter=True) if where else b

    def search_vector(
        self,
        vector: Any,
        k: int = 10,
        where: str | None = None,
        *,
        table: str = SHOTS,
        nprobes: int | None = None,
        refine_factor: int | None = None,
        ef: int | None = None,
        exact: bool = False,
        with_vector: bool = False,
        columns: list[str] | None = None,
        version: int | None = None,
        vector_column: str = VECTOR,
    ) -> pd.DataFrame:
        """Nearest rows by cosine distance (``_distance``, ascending).  Rows with a null
        vector never match.  ``vector_column``: ``vector`` (CLIP) or ``look`` (the offline
        look descriptor, searched exactly: it has no ANN index).  ``where`` is applied as a pre-filter.  ``columns`` limits the
        columns read back (e.g. ``["shot_id", "sequence_id"]`` for retrieval): reading every
        measurement column of the hits costs more than the search itself.  ``version`` searches
        the table as it was then (:meth:`at_version`)."""
        t = self._handle(table, version)
        b = self._vector_query(t, vector, k, where, nprobes, refine_factor, ef, vector_column)
        if exact or vector_column != VECTOR:
            b = b.bypass_vector_index()
        return b.select((columns or self._columns(t, with_vector)) + ["_distance"]).to_arrow().to_pandas()

    def _ensure_fts(self, t: Any, column: str) -> None:
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

    def _text_query(self, t: Any, query: str, k: int, where: str | None, column: str) -> Any:
        self._ensure_fts(t, column)
        b = t.search(query, query_type="fts", fts_columns=column).limit(k)
        return b.where(where, prefilter=True) if where else b

    def search_text(
        self,
        query: str,
        k: int = 10,
        where: str | None = None,
        *,
        table: str = SHOTS,
        column: str = "description",
        with_vector: bool = False,
        version: int | None = None,
    ) -> pd.DataFrame:
        """BM25 full-text search (native LanceDB FTS; English stemming, stop words removed,
        case/accent folded).  Returns ``_score`` (descending).  ``version`` searches the table as
        it was then (:meth:`at_version`; the full-text index must exist at that version)."""
        if version is not None:
            self._ensure_fts(self.table(table), column)  # an index can only be made on the latest version
        t = self._handle(table, version)
        # naming _score in the projection is the non-deprecated way to get it (lance warns otherwise)
        b = self._text_query(t, query, k, where, column)
        return b.select([*self._columns(t, with_vector), "_score"]).to_arrow().to_pandas()

    def search_hybrid(
        self,
        text: str,
        vector: Any,
        k: int = 10,
        where: str | None = None,
        *,
        table: str = SHOTS,
        column: str = "description",
        reranker: Any = None,
        nprobes: int | None = None,
        refine_factor: int | None = None,
        ef: int | None = None,
        with_vector: bool = False,
    ) -> pd.DataFrame:
        """Vector + FTS fused by a reranker (default reciprocal-rank fusion).  Returns
        ``_relevance_score`` (descending).  Rows without vectors can still come from the
        text leg.

        The two legs run here rather than through LanceDB's hybrid query: in lancedb 0.40 a
        hybrid query pushes one projection to both legs, which can name neither ``_distance``
        nor ``_score``, and lance then logs a deprecation warning per leg. The reranker sees
        each leg's raw ``_distance`` / ``_score``."""
        from lancedb.rerankers import RRFReranker

        t = self.table(table)
        cols = self._columns(t, with_vector)
        vec = self._vector_query(t, vector, k, where, nprobes, refine_factor, ef)
        vec_hits = vec.with_row_id(True).select([*cols, "_distance"]).to_arrow()
        txt_hits = self._text_query(t, text, k, where, column).with_row_id(True).select([*cols, "_score"]).to_arrow()
        if vec_hits.num_rows == 0 and txt_hits.num_rows == 0:
            return pd.DataFrame(
                {
                    **{c: pd.Series(dtype=object) for c in cols},
                    "_relevance_score": pd.Series(dtype="float32"),
                }
            )
        fused = (reranker or RRFReranker()).rerank_hybrid(text, vec_hits, txt_hits).slice(0, k)
        return fused.drop_columns([c for c in ("_rowid", "_distance", "_score") if c in fused.column_names]).to_pandas()

    def filter(
        self,
        where: str | None = None,
        limit: int | None = None,
        *,
        table: str = SHOTS,
        columns: list[str] | None = None,
        with_vector: bool = False,
        version: int | None = None,
    ) -> pd.DataFrame:
        """Rows matching an SQL ``where`` (all rows when None), up to ``limit``; ``version`` reads
        the table as it was then (:meth:`at_version`)."""
        t = self._handle(table, version)
        b = t.search()
        if where:
            b = b.where(where)
        return b.limit(limit).select(columns or self._columns(t, with_vector)).to_arrow().to_pandas()

    def film_rows(self, film: str, table: str = SHOTS, with_vector: bool = False) -> pd.DataFrame:
        """One film's rows in film order."""
        df = self.filter(film_filter(film), table=table, with_vector=with_vector)
        return df.sort_values(ORDER[table], kind="stable").reset_index(drop=True) if len(df) else df

    def count(self, film: str | None = None, table: str = SHOTS, where: str | None = None) -> int:
        parts = [p for p in (film_filter(film) if film is not None else None, where) if p]
        return self.table(table).count_rows(" AND ".join(f"({p})" for p in parts) or None)

    def duplicate_shot_ids(self, table: str = SHOTS) -> pd.DataFrame:
        """Keys stored more than once (should always be empty)."""
        key = KEYS[table]
        ids = self.table(table).search().select([key]).limit(None).to_arrow()[key]
        vc = pc.value_counts(ids)
        df = pd.DataFrame(
            {
                key: vc.field("values").to_pylist(),
                "count": vc.field("counts").to_pylist(),
            }
        )
        return df[df["count"] > 1].sort_values(key).reset_index(drop=True)

    # ------------------------------------------------------------------ metadata

    def stats(self) -> dict:
        """Rows, vectors, films, versions, fragments, bytes and indexes of both tables."""
        out: dict[str, Any] = {
            "uri": self.uri,
            "settings": asdict(self.settings),
            "tables": {},
        }
        for name in TABLES:
            t = self.table(name)
            indexes = []
            for idx in t.list_indices():
                st = t.index_stats(idx.name)
                indexes.append(
                    {
                        "name": idx.name,
                        "type": str(idx.index_type),
                        "columns": list(idx.columns),
                        "indexed_rows": getattr(st, "num_indexed_rows", None),
                        "unindexed_rows": getattr(st, "num_unindexed_rows", None),
                    }
                )
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


__all__ = ["ShotIndex"]
