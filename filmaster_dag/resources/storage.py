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
from pydantic import PrivateAttr


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
        """Delete temporary files that a killed run left under a folder; returns how many."""
        fs = self._filesystem()
        base = self.uri(*parts)
        if not fs.exists(base):
            return 0
        stale = [p for p in fs.find(base) if ".tmp-" in posixpath.basename(p)]
        for p in stale:
            fs.rm(p)
        return len(stale)
