"""The briefs inbox: a folder of production briefs (YAML), each one ``productions`` partition.

Only ``*.yaml`` / ``*.yml`` files count (sub-folders included); hidden files and folders and
editors' temporary files are skipped. A brief's key is :func:`~filmaster_dag.cinema.brief.brief_slug`
of its path relative to the folder, so it never depends on other files or on listing order.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
from pydantic import Field

from ..cinema.brief import brief_slug

BRIEF_SUFFIXES = (".yaml", ".yml")


def default_briefs() -> str:
    """``examples/briefs`` in the checkout (the three example briefs)."""
    from ..definitions import project_home

    return str(project_home() / "examples" / "briefs")


class BriefInbox(dg.ConfigurableResource):
    """Where production briefs are read from (``FILMASTER_BRIEFS``; default ``examples/briefs``)."""

    folder: str = Field(default="", description="folder of brief files; empty = examples/briefs in the checkout")

    @property
    def root(self) -> Path:
        return Path(self.folder or default_briefs()).expanduser().resolve()

    def scan(self) -> dict[str, Path]:
        """Partition key -> brief file, for every brief in the folder."""
        root = self.root
        if not root.is_dir():
            return {}
        found: dict[str, Path] = {}
        for path in sorted(root.rglob("*")):
            rel = path.relative_to(root)
            if any(part.startswith((".", "~", "#")) for part in rel.parts) or path.suffix.lower() not in BRIEF_SUFFIXES:
                continue
            if path.is_file():
                found[brief_slug(path, root)] = path
        return found

    def path_for(self, production: str) -> Path:
        """The brief file of a production; a one-line error naming the folder when it is gone."""
        found = self.scan()
        if production not in found:
            raise FileNotFoundError(
                f"production '{production}': no brief with that key in {self.root}; "
                f"put the brief file back, or pick one of: {', '.join(sorted(found)) or 'none'}"
            )
        return found[production]
