"""A film's shot or sequence DataFrame -> an Arrow table in the declared schema.

The DataFrame may leave declared columns out (stored as nulls) but may not carry a column the
record does not declare: that is a ``ValueError`` naming it, because a measurement the record
does not know would otherwise be lost silently (declare it in ``cinema/records.py``).
"""

from __future__ import annotations

import logging
import math
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from .tables import KEYS, VECTOR, table_schema, vocabularies

log = logging.getLogger(__name__)


def _isna(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return v is pd.NA or v is pd.NaT


def vector_array(values: pd.Series | None, n: int, dim: int) -> pa.FixedSizeListArray:
    """Build the nullable vector column.  None/NaN/empty/all-zero/non-finite -> null.

    Raises ``ValueError`` for a vector of the wrong dimension."""
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
    return pa.FixedSizeListArray.from_arrays(pa.array(flat.reshape(-1)), dim, mask=pa.array(~valid, type=pa.bool_()))


def _list_array(values: pd.Series, typ: pa.ListType) -> pa.Array:
    item_is_str = pa.types.is_string(typ.value_type)
    out: list[list[Any] | None] = []
    for v in values:
        if isinstance(v, (list, tuple, np.ndarray)):
            items = v.tolist() if isinstance(v, np.ndarray) else list(v)
            out.append([None if _isna(x) else (str(x) if item_is_str else x) for x in items])
        elif _isna(v):
            out.append(None)
        else:  # a bare scalar -> one-element list
            out.append([str(v) if item_is_str else v])
    return pa.array(out, type=typ)


def column_array(values: pd.Series, typ: pa.DataType, name: str) -> pa.Array:
    """One DataFrame column as an Arrow array of the declared type (``ValueError`` if it cannot be)."""
    try:
        if pa.types.is_string(typ):
            try:  # text (and vocabulary enums, which are str) converts in one call
                return pa.array(values, type=pa.string(), from_pandas=True)
            except (
                pa.ArrowInvalid,
                pa.ArrowTypeError,
            ):  # numbers, paths, ...: store their text
                return pa.array([None if _isna(v) else str(v) for v in values], type=pa.string())
        if pa.types.is_list(typ):
            return _list_array(values, typ)
        arr = pa.array(values, from_pandas=True)
        if pa.types.is_dictionary(arr.type):
            arr = arr.dictionary_decode()
        return arr if arr.type == typ else arr.cast(typ)
    except (
        pa.ArrowInvalid,
        pa.ArrowTypeError,
        pa.ArrowNotImplementedError,
        TypeError,
    ) as exc:
        raise ValueError(f"column {name!r} cannot be stored as {typ}: {exc}") from exc


def frame_to_arrow(df: pd.DataFrame, table: str, vector_dim: int, film: str | None = None) -> pa.Table:
    """``df`` as an Arrow table in ``table``'s declared schema, checked.

    ``film`` (if given) must be the film of every row (rows without one get it). Raises
    ``ValueError`` for: a column the record does not declare, a missing or duplicate key, a
    row of another film, a word outside a column's vocabulary, a vector of the wrong size.
    """
    schema = table_schema(table, vector_dim)
    key = KEYS[table]
    df = df.reset_index(drop=True)
    unknown = [str(c) for c in df.columns if c not in schema.names]
    if unknown:
        raise ValueError(
            f"{table}: column(s) {unknown} are not declared in the {table} record "
            f"(filmaster_dag/cinema/records.py); declare them there or drop them before indexing"
        )
    if film is not None:
        if "film" not in df.columns:
            df = df.assign(film=film)
        bad = df["film"].astype(str) != film
        if bad.any():
            raise ValueError(
                f"{int(bad.sum())} rows of the {table} frame belong to another film "
                f"than {film!r}: {sorted(set(df.loc[bad, 'film'].astype(str)))[:3]}"
            )
    if len(df) and (key not in df.columns or df[key].isna().any()):
        raise ValueError(f"{table}: every row needs a {key!r}")
    if len(df) and ("film" not in df.columns or df["film"].isna().any()):
        raise ValueError(f"{table}: every row needs a 'film'")
    if key in df.columns and df[key].duplicated().any():
        raise ValueError(f"{table}: duplicate {key} in input: {list(df[key][df[key].duplicated()].unique()[:5])}")
    for name, words in vocabularies(table).items():
        if name in df.columns:
            bad_words = set(df[name].dropna().astype(str)) - set(words)
            if bad_words:
                raise ValueError(f"{table}.{name}: {sorted(bad_words)} not in the vocabulary {words}")

    arrays = []
    for f in schema:
        if f.name == VECTOR:
            arrays.append(vector_array(df[VECTOR] if VECTOR in df.columns else None, len(df), vector_dim))
        elif pa.types.is_fixed_size_list(f.type):  # another vector column (the look descriptor)
            arrays.append(vector_array(df[f.name] if f.name in df.columns else None, len(df), f.type.list_size))
        elif f.name in df.columns:
            arrays.append(column_array(df[f.name], f.type, f.name))
        else:
            arrays.append(pa.nulls(len(df), f.type))
    return pa.Table.from_arrays(arrays, schema=schema)
