"""Where the sound design finds its score and its ambience and effects.

Two folders of audio files (``FILMASTER_MUSIC``, ``FILMASTER_SOUND``); by default the shared sample
media beside the checkout (``../shared/media/music`` and ``../shared/media/sound``), whose README
carries each file's licence for the credits. A missing folder is not an error: the film is mixed
without a score (or without effects) and the sound design says so.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import dagster as dg
from pydantic import Field

from ..cinema.sound import AUDIO_SUFFIXES
from .inbox import sample_media_roots


def _sample(kind: str) -> str:
    roots = sample_media_roots()
    return str(roots[0] / kind) if roots else ""


class SoundLibrary(dg.ConfigurableResource):
    """The score candidates (``music``) and the ambience and effects (``sound``) the mixer chooses from."""

    music: str = Field(default="", description="folder of music files; empty = ../shared/media/music beside the checkout")
    sound: str = Field(default="", description="folder of ambience/effects files; empty = ../shared/media/sound beside the checkout")

    def _folder(self, configured: str, kind: str) -> Path | None:
        path = Path(configured or _sample(kind)).expanduser() if (configured or _sample(kind)) else None
        return path.resolve() if path is not None and path.is_dir() else None

    @property
    def music_folder(self) -> Path | None:
        """The music folder, or None when it does not exist."""
        return self._folder(self.music, "music")

    @property
    def sound_folder(self) -> Path | None:
        """The ambience/effects folder, or None when it does not exist."""
        return self._folder(self.sound, "sound")

    def fingerprint(self) -> str:
        """A hash of every audio file's name, size and modification time in both folders: the
        sound design is redone when a file is added, replaced or removed, and only then."""
        h = hashlib.sha256()
        for folder in (self.music_folder, self.sound_folder):
            h.update(f"[{folder}]".encode())
            if folder is None:
                continue
            for p in sorted(folder.iterdir()):
                if p.suffix.lower() in AUDIO_SUFFIXES and p.is_file():
                    st = p.stat()
                    h.update(f"{p.name}:{st.st_size}:{st.st_mtime_ns}\n".encode())
        return h.hexdigest()
