"""MediaStore: where frames, tables and renders live (a local folder by default, any fsspec URL)."""

from __future__ import annotations

import io
import json
import posixpath
import uuid
from typing import Any

import dagster as dg
import fsspec
import pandas as pd
from pydantic import BaseModel, PrivateAttr


class MediaStore(dg.ConfigurableResource):
    """Files of the pipeline under one root: ``library/<film>/...``, ``productions/<production>/...``.

    ``root`` is a local directory (default ``data``) or any fsspec URL (``s3://bucket/prefix``).
    Writes are atomic on local disks (write to a temporary name, then rename), so a run killed
    midway never leaves a half-written keyframe or table behind.
    """

    root: str = "data"
    _fs: Any = PrivateAttr(default=None)
    _base: str = PrivateAttr(default="")

    def _filesystem(self):
        if self._fs is None:
            fs, base = fsspec.core.url_to_fs(self.root)
            self._fs, self._base = fs, base.rstrip("/")
        return self._fs

    def uri(self, *parts: str) -> str:
        """Full path or URL of a file under the root."""
        self._filesystem()
        return posixpath.join(self._base, *parts) if self._base else posixpath.join(*parts)

    def url(self, *parts: str) -> str:
        """Like :meth:`uri` but keeps the protocol (``s3://...``) for other libraries."""
        fs = self._filesystem()
        path = self.uri(*parts)
        proto = fs.protocol if isinstance(fs.protocol, str) else fs.protocol[0]
        return path if proto in ("file", "local") else f"{proto}://{path}"

    def exists(self, *parts: str) -> bool:
        return self._filesystem().exists(self.uri(*parts))

    def write_bytes(self, data: bytes, *parts: str) -> str:
        fs = self._filesystem()
        path = self.uri(*parts)
        fs.makedirs(posixpath.dirname(path), exist_ok=True)
        tmp = f"{path}.tmp-{uuid.uuid4().hex[:8]}"
        with fs.open(tmp, "wb") as fh:
            fh.write(data)
        fs.mv(tmp, path)
        return path

    def read_bytes(self, *parts: str) -> bytes:
        with self._filesystem().open(self.uri(*parts), "rb") as fh:
            return fh.read()

    def read_path(self, path: str) -> bytes:
        """Read a file by the full path that a write returned."""
        with self._filesystem().open(path, "rb") as fh:
            return fh.read()

    def write_json(self, obj: Any, *parts: str) -> str:
        return self.write_bytes(json.dumps(obj, indent=2, default=str, ensure_ascii=False).encode(), *parts)

    def read_json(self, *parts: str) -> Any:
        return json.loads(self.read_bytes(*parts))

    def write_table(self, df: pd.DataFrame, *parts: str) -> str:
        buf = io.BytesIO()
        df.to_parquet(buf, index=False)
        return self.write_bytes(buf.getvalue(), *parts)

    def read_table(self, *parts: str) -> pd.DataFrame:
        return pd.read_parquet(io.BytesIO(self.read_bytes(*parts)))

    def list(self, *parts: str) -> list[str]:
        fs = self._filesystem()
        path = self.uri(*parts)
        if not fs.exists(path):
            return []
        return sorted(posixpath.basename(p.rstrip("/")) for p in fs.ls(path, detail=False))

    def remove(self, *parts: str) -> None:
        fs = self._filesystem()
        path = self.uri(*parts)
        if fs.exists(path):
            fs.rm(path, recursive=True)

    def sweep_partials(self, *parts: str) -> int:
        """Delete temporary files and folders that a killed run left under a folder; returns how many."""
        fs = self._filesystem()
        base = self.uri(*parts)
        if not fs.exists(base):
            return 0
        found = fs.find(base, withdirs=True)
        stale = [p for p in found if any(m in posixpath.basename(p.rstrip("/")) for m in (".tmp-", ".old-"))]
        # a stale folder takes its files with it: remove outermost first, count each once
        removed = 0
        for p in sorted(stale, key=len):
            if fs.exists(p):
                fs.rm(p, recursive=True)
                removed += 1
        return removed

    def replace_folder(self, files: dict[str, bytes], *parts: str) -> tuple[str, ...]:
        """Make the folder hold exactly ``files`` (name -> bytes), all or nothing.

        The files are written to a staging folder which then takes the old folder's place, so a
        run killed midway leaves the previous folder intact (and a staging folder that
        :meth:`sweep_partials` removes). Returns ``parts``.
        """
        fs = self._filesystem()
        final = self.uri(*parts)
        tag = uuid.uuid4().hex[:8]
        staging, old = f"{final}.tmp-{tag}", f"{final}.old-{tag}"
        fs.makedirs(staging, exist_ok=True)
        for name, data in files.items():
            with fs.open(posixpath.join(staging, name), "wb") as fh:
                fh.write(data)
        if fs.exists(final):
            fs.mv(final, old, recursive=True)
        fs.mv(staging, final, recursive=True)
        if fs.exists(old):
            fs.rm(old, recursive=True)
        return parts


# Partition sets -> top-level folder of the MediaStore.
PARTITION_FOLDERS = {"films": "library", "productions": "productions"}


def _json_ready(obj: Any) -> Any:
    """Pydantic models and dataclass-like records as plain JSON data."""
    if hasattr(obj, "model_dump"):
        return obj.model_dump(mode="json")
    return obj


class TableIOManager(dg.ConfigurableIOManager):
    """Stores each asset's value once, readable by people and other tools, on the MediaStore.

    A pandas DataFrame becomes ``<folder>/<partition>/<asset>.parquet``; a dict, list or pydantic
    model becomes ``<folder>/<partition>/<asset>.json``; ``<folder>`` is ``library`` for film
    partitions and ``productions`` for productions (an unpartitioned asset lives at
    ``<group>/<asset>.<ext>``). Nothing is pickled: any other value is refused with a clear error.
    ``None`` (an asset that produced nothing) removes the stored file. Writes are atomic.
    """

    store: MediaStore

    def _parts(self, context: dg.InputContext | dg.OutputContext, partition: str | None) -> list[str]:
        name = context.asset_key.path[-1]
        if partition is None:
            return [*(context.asset_key.path[:-1] or ["assets"]), name]
        pdef = context.asset_partitions_def
        folder = PARTITION_FOLDERS.get(getattr(pdef, "name", None) or "", "partitions")
        return [folder, partition, name]

    def handle_output(self, context: dg.OutputContext, obj: Any) -> None:
        partition = context.asset_partition_key if context.has_asset_partitions else None
        *parts, name = self._parts(context, partition)
        if obj is None:
            for ext in ("parquet", "json"):
                self.store.remove(*parts, f"{name}.{ext}")
            return
        if isinstance(obj, pd.DataFrame):
            stored, stale = f"{name}.parquet", f"{name}.json"
            self.store.write_table(obj, *parts, stored)
            meta: dict[str, Any] = {"rows": len(obj), "columns": len(obj.columns)}
        elif isinstance(obj, (dict, list)) or hasattr(obj, "model_dump"):
            stored, stale = f"{name}.json", f"{name}.parquet"
            self.store.write_json(_json_ready(obj), *parts, stored)
            meta = {}
        else:
            raise TypeError(
                f"asset {context.asset_key.to_user_string()} returned a {type(obj).__name__}; the table IO manager stores "
                "DataFrames (Parquet) and dicts, lists or pydantic models (JSON) only, never pickles"
            )
        self.store.remove(*parts, stale)
        context.add_output_metadata({"stored_at": dg.MetadataValue.path(self.store.url(*parts, stored)), **meta})

    def _load_one(self, context: dg.InputContext, partition: str | None) -> Any:
        *parts, name = self._parts(context, partition)
        if self.store.exists(*parts, f"{name}.parquet"):
            return self.store.read_table(*parts, f"{name}.parquet")
        if self.store.exists(*parts, f"{name}.json"):
            return self.store.read_json(*parts, f"{name}.json")
        where = f" for partition '{partition}'" if partition else ""
        raise FileNotFoundError(
            f"{context.asset_key.to_user_string()}{where} is not stored under {self.store.uri(*parts)}; materialize it first"
        )

    def load_input(self, context: dg.InputContext) -> Any:
        model = _model_type(context)
        if not context.has_asset_partitions:
            return _as_model(model, self._load_one(context, None))
        keys = context.asset_partition_keys
        if len(keys) == 1 and context.has_partition_key and keys[0] == context.partition_key:
            return _as_model(model, self._load_one(context, keys[0]))
        return {k: _as_model(model, self._load_one(context, k)) for k in keys}


def _model_type(context: dg.InputContext) -> type[BaseModel] | None:
    """The pydantic model an input is annotated with (stored as JSON, handed back validated)."""
    try:
        typing_type = getattr(context.dagster_type, "typing_type", None)
    except dg.DagsterInvariantViolationError:  # a hand-built input context carries no type
        return None
    return typing_type if isinstance(typing_type, type) and issubclass(typing_type, BaseModel) else None


def _as_model(model: type[BaseModel] | None, value: Any) -> Any:
    return model.model_validate(value) if model is not None and isinstance(value, dict) else value
