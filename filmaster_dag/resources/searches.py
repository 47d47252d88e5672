"""Saved searches: a folder of YAML files, each a :class:`~filmaster_dag.index.search.ShotQuery`
(``text``, ``where``, ``like``, ``k``, ``title``) that the ``saved_searches`` asset runs against the
library, showing each one's hits and contact sheet in the UI.

``filmaster search ... --save NAME`` writes one; a filmmaker may also write them by hand.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import yaml
from pydantic import Field, ValidationError

from ..cinema import naming
from ..index.search import ShotQuery

SEARCH_SUFFIXES = (".yaml", ".yml")


def default_searches() -> str:
    """``examples/searches`` in the checkout (example searches of the sample library)."""
    from ..definitions import project_home

    return str(project_home() / "examples" / "searches")


class SavedSearchError(ValueError):
    """A saved-search file that cannot be read as a search (one line: file, problem, fix)."""


def load_search(path: Path) -> ShotQuery:
    """The search a file holds; :class:`SavedSearchError` naming the file and what is wrong."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        return ShotQuery.model_validate(data or {})
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise SavedSearchError(f"saved search {path}: cannot be read ({type(err).__name__}); fix or remove the file") from err
    except ValidationError as err:
        first = err.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "the file"
        raise SavedSearchError(f"saved search {path}: {where}: {first['msg']}; fix or remove the file") from err


def save_search(folder: Path, name: str, query: ShotQuery) -> Path:
    """Write ``query`` as ``<folder>/<slug of name>.yaml`` (replacing a search of that name)."""
    slug = naming.slugify(name) or "search"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{slug}.yaml"
    body = query.model_dump(exclude_none=True, exclude_defaults=False)
    tmp = path.with_suffix(".yaml.tmp")
    tmp.write_text(yaml.safe_dump(body, sort_keys=False, allow_unicode=True), encoding="utf-8")
    tmp.replace(path)  # a reader never sees half a file
    return path


class SavedSearches(dg.ConfigurableResource):
    """Where saved searches live (``FILMASTER_SEARCHES``; default ``examples/searches``)."""

    folder: str = Field(default="", description="folder of saved-search files; empty = examples/searches in the checkout")

    @property
    def root(self) -> Path:
        return Path(self.folder or default_searches()).expanduser().resolve()

    def scan(self) -> dict[str, Path]:
        """Search name (the file's stem) -> file, for every ``*.yaml``/``*.yml`` directly in the folder."""
        root = self.root
        if not root.is_dir():
            return {}
        return {
            p.stem: p for p in sorted(root.iterdir()) if p.suffix.lower() in SEARCH_SUFFIXES and p.is_file() and not p.name.startswith(".")
        }
