"""One writer at a time per table.

LanceDB 0.40 does NOT detect conflicting concurrent ``merge_insert`` commits that insert the
same keys (two concurrent upserts of a film each insert their rows -> duplicates). Writers are
therefore serialised per table with an in-process lock plus, for local URIs, an ``fcntl`` file
lock next to the tables. Object-store URIs get only the in-process lock (the upsert verifies
the film's row count afterwards and repairs a race).
"""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Iterator

_PROCESS_LOCKS: dict[str, threading.RLock] = {}
_PROCESS_LOCKS_GUARD = threading.Lock()


def _process_lock(key: str) -> threading.RLock:
    with _PROCESS_LOCKS_GUARD:
        lock = _PROCESS_LOCKS.get(key)
        if lock is None:
            lock = _PROCESS_LOCKS[key] = threading.RLock()
        return lock


def local_dir(uri: str) -> str | None:
    """The directory of a local LanceDB URI; None for an object store (s3://, gs://, az://, db://)."""
    if uri.startswith("file://"):
        return uri[len("file://") :]
    if "://" in uri:
        return None
    return uri


@contextlib.contextmanager
def write_lock(uri: str, table: str) -> Iterator[None]:
    """Hold the write lock of ``table`` in the database at ``uri`` (do not nest: the file lock is not re-entrant)."""
    local = local_dir(uri)
    with _process_lock(f"{os.path.abspath(local) if local is not None else uri}::{table}"):
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
