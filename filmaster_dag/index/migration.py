"""Bring a table written by an older filmaster-dag up to the declared schema.

Before the record was declared in one place, the ``shots`` table started with 26 columns and
gained the rest at run time (in whatever order the first film produced them), with list-valued
measurements such as ``palette_weights`` stored as JSON strings. Such a table is rebuilt once,
under the write lock, as a new table version (older versions stay readable for time travel):
declared columns it lacks are added as nulls, JSON strings and castable types are converted to
the declared type, and columns the record no longer declares are dropped with a log line. A
column that cannot be converted, or vectors of another dimension, stop with a one-line message
saying what to do. A table whose columns only come in another order is left as it is (writes
match columns by name).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from .tables import LOOK, VECTOR

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SchemaDrift:
    """How a stored table's columns differ from the declared ones (names, then types)."""

    missing: list[str] = field(default_factory=list)  # declared, not stored
    extra: list[str] = field(default_factory=list)  # stored, not declared
    retyped: list[tuple[str, pa.DataType, pa.DataType]] = field(default_factory=list)  # (name, stored, declared)

    def __bool__(self) -> bool:
        return bool(self.missing or self.extra or self.retyped)

    def describe(self) -> str:
        parts = []
        if self.missing:
            parts.append(f"adds {self.missing}")
        if self.extra:
            parts.append(f"drops undeclared {self.extra}")
        if self.retyped:
            parts.append("converts " + ", ".join(f"{n} ({a} -> {b})" for n, a, b in self.retyped))
        return "; ".join(parts) or "nothing to change"


def schema_drift(stored: pa.Schema, declared: pa.Schema) -> SchemaDrift:
    """Compare by name and type; column order and nullability are not drift."""
    have = {f.name: f.type for f in stored}
    want = {f.name: f.type for f in declared}
    return SchemaDrift(
        missing=[n for n in want if n not in have],
        extra=[n for n in have if n not in want],
        retyped=[(n, have[n], want[n]) for n in want if n in have and have[n] != want[n]],
    )


def _from_json(values: pa.Array, typ: pa.DataType) -> pa.Array:
    out: list[Any] = []
    for s in values.to_pylist():
        out.append(None if s is None or s == "" else json.loads(s))
    return pa.array(out, type=typ)


def convert_column(values: pa.Array | pa.ChunkedArray, typ: pa.DataType) -> pa.Array:
    """A stored column as ``typ``: JSON text -> lists/structs, otherwise a safe Arrow cast."""
    arr = values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values
    if (pa.types.is_string(arr.type) or pa.types.is_large_string(arr.type)) and pa.types.is_nested(typ):
        return _from_json(arr, typ)
    return pc.cast(arr, typ, safe=True)


def check_vectors(stored: pa.Schema, declared: pa.Schema, where: str) -> None:
    """Refuse a table whose vectors have another size than the settings (vectors cannot be converted)."""
    if VECTOR in stored.names and stored.field(VECTOR).type != declared.field(VECTOR).type:
        raise ValueError(
            f"{where} stores vectors as {stored.field(VECTOR).type}, the settings expect {declared.field(VECTOR).type}: "
            f"set vector_dim to the stored size, or delete the table folder and re-ingest the films (filmaster ingest)"
        )


def conform_stored(data: pa.Table, declared: pa.Schema, where: str) -> pa.Table:
    """Stored rows in the declared schema. Raises ``ValueError`` (one line, naming ``where``) when
    a column cannot be converted."""
    check_vectors(data.schema, declared, where)
    arrays = []
    for f in declared:
        if f.name not in data.column_names:
            arrays.append(pa.nulls(data.num_rows, f.type))
            continue
        col = data[f.name]
        if col.type == f.type:
            arrays.append(col.combine_chunks())
            continue
        if f.name == LOOK:  # a look descriptor of another version cannot be converted: measured again at the next ingest
            log.warning("%s: look descriptors stored as %s, now %s: dropped; re-ingest to search by example", where, col.type, f.type)
            arrays.append(pa.nulls(data.num_rows, f.type))
            continue
        try:
            arrays.append(convert_column(col, f.type))
        except (
            pa.ArrowInvalid,
            pa.ArrowTypeError,
            pa.ArrowNotImplementedError,
            ValueError,
            TypeError,
        ) as exc:
            raise ValueError(
                f"{where}: column {f.name!r} stored as {col.type} cannot become {f.type} "
                f"({(str(exc).splitlines() or [type(exc).__name__])[0]}); "
                "delete the table folder and re-ingest the films (filmaster ingest)"
            ) from exc
    return pa.Table.from_arrays(arrays, schema=declared)


def migrate_table(db: Any, table: Any, declared: pa.Schema, where: str) -> Any:
    """Rewrite ``table`` in the declared schema (one new version) and return the new handle.

    The caller holds the table's write lock. Reads the whole table into memory: fine for a
    reference library (1M shots x 512-d vectors is ~2 GB); larger ones should re-ingest."""
    drift = schema_drift(table.schema, declared)
    rows = table.to_arrow()
    new = conform_stored(rows, declared, where)
    log.warning(
        "%s was written by an older filmaster-dag: rebuilding it in the declared schema (%s rows; %s)",
        where,
        new.num_rows,
        drift.describe(),
    )
    name = table.name
    if new.num_rows:
        return db.create_table(name, data=new, schema=declared, mode="overwrite", on_bad_vectors="null")
    return db.create_table(name, schema=declared, mode="overwrite")
