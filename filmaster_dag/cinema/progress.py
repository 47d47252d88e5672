"""Progress of long steps (frames decoded, stage reached), for whoever listens.

Film-craft code reports; a front end (the CLI's progress bars) subscribes. With no listener a
report costs one function call. Listeners are process-wide and thread-safe; a listener that
raises is dropped rather than failing the film.
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """``film`` reached ``stage``; ``done`` of ``total`` units (frames) when known."""

    film: str
    stage: str
    done: int | None = None
    total: int | None = None


Listener = Callable[[Progress], None]
_listeners: list[Listener] = []
_lock = threading.Lock()


@contextlib.contextmanager
def listening(listener: Listener) -> Iterator[None]:
    """Send every progress report to ``listener`` while the block runs."""
    with _lock:
        _listeners.append(listener)
    try:
        yield
    finally:
        with _lock:
            if listener in _listeners:
                _listeners.remove(listener)


def report(film: str, stage: str, done: int | None = None, total: int | None = None) -> None:
    if not _listeners:
        return
    event = Progress(film, stage, done, total)
    for listener in list(_listeners):
        try:
            listener(event)
        except Exception:  # a broken progress bar must never fail a film
            with _lock:
                if listener in _listeners:
                    _listeners.remove(listener)


class FrameProgress:
    """Frame analyser for the decode pass: reports frames decoded every ``every`` frames."""

    def __init__(self, film: str, total: int, stage: str = "decoding", every: int = 48):
        self.film, self.total, self.stage, self.every = film, total, stage, max(1, every)

    def update(self, frame) -> None:
        if frame.index % self.every == 0:
            report(self.film, self.stage, frame.index, self.total)
