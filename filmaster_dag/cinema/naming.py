"""Readable, stable keys for files: the slug rule films and briefs share."""

from __future__ import annotations

import re
import unicodedata


def slugify(text: str) -> str:
    """ASCII, lowercase, dash-separated: ``"Été à Paris (1962)"`` -> ``"ete-a-paris-1962"`` ('' if nothing is left)."""
    text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")
