"""A search as a filmmaker types it: vocabulary phrases become exact attribute filters, the rest
stays words for full-text search.

Full-text search splits "low-key" into "low" and "key", so it found high-key shots; and nobody
types ``push_in``. :func:`parse_query` reads the phrases of the vocabulary (``close-up``,
``push in``, ``low-key``), their usual shorthand and synonyms on set (``CU``, ``dolly in``,
``hand-held``) as filters on the measured columns (``shot_scale``, ``movement``,
``lighting_key``), longest phrase first, whole words only; what is left is searched as words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from .vocabulary import CameraMovement, LightingKey, ShotScale, Term

#: Shorthand and synonyms used on set and in scripts, beyond each term's own phrase and stored word.
SYNONYMS: dict[Term, tuple[str, ...]] = {
    ShotScale.EXTREME_CLOSE_UP: ("ecu", "xcu", "bcu", "extreme closeup", "big close up", "extreme close shot"),
    ShotScale.CLOSE_UP: ("cu", "closeup", "close shot", "tight shot"),
    ShotScale.MEDIUM_CLOSE_UP: ("mcu", "medium closeup", "head and shoulders"),
    ShotScale.MEDIUM: ("ms", "mid shot", "medium shot", "waist shot"),
    ShotScale.MEDIUM_LONG: ("mls", "medium long shot", "medium wide", "cowboy shot", "american shot", "knee shot"),
    ShotScale.WIDE: ("ws", "ls", "wide shot", "long shot", "full shot"),
    ShotScale.EXTREME_WIDE: ("ews", "els", "xls", "extreme long shot", "extreme wide shot", "establishing shot"),
    CameraMovement.STATIC: ("locked off", "locked down", "fixed camera", "still camera"),
    CameraMovement.PAN_LEFT: ("pan left", "pans left"),
    CameraMovement.PAN_RIGHT: ("pan right", "pans right"),
    CameraMovement.TILT_UP: ("tilt up", "tilts up"),
    CameraMovement.TILT_DOWN: ("tilt down", "tilts down"),
    CameraMovement.PUSH_IN: ("push in", "pushes in", "dolly in", "track in", "truck in", "zoom in", "creep in"),
    CameraMovement.PULL_OUT: ("pull out", "pulls out", "pull back", "dolly out", "track out", "truck out", "zoom out"),
    CameraMovement.HANDHELD: ("hand held", "shaky cam", "shakycam"),
    LightingKey.LOW_KEY: ("low key", "lowkey", "chiaroscuro"),
    LightingKey.HIGH_KEY: ("high key", "highkey"),
}
#: The measured column each vocabulary holds.
COLUMNS: dict[type[Term], str] = {ShotScale: "shot_scale", CameraMovement: "movement", LightingKey: "lighting_key"}


def _normal(text: str) -> str:
    """Lower case, hyphens and underscores as spaces, one space between words."""
    return " ".join(re.sub(r"[-_/]+", " ", text.lower()).split())


def _phrases() -> list[tuple[str, str, str]]:
    """(normalized phrase, column, stored value), longest phrase first."""
    out: dict[str, tuple[str, str]] = {}
    for vocabulary, column in COLUMNS.items():
        for term in vocabulary:
            if term.value == "unknown":
                continue
            words = term.words.split("(")[0]  # "moving (complex camera move)" reads as "moving"
            for phrase in (term.value, words, *SYNONYMS.get(term, ())):
                out.setdefault(_normal(phrase), (column, term.value))
    return sorted(((p, c, v) for p, (c, v) in out.items()), key=lambda x: (-len(x[0].split()), -len(x[0]), x[0]))


_PHRASES = _phrases()


@dataclass
class ParsedQuery:
    """What a search means: ``words`` for full-text search (may be empty), ``filters`` column ->
    stored values (any of them), and ``read`` the phrases recognised, as ``(phrase, column, value)``."""

    words: str
    filters: dict[str, list[str]] = field(default_factory=dict)
    read: list[tuple[str, str, str]] = field(default_factory=list)

    def where(self, extra: str | None = None) -> str | None:
        """The filters as SQL, AND-ed with ``extra`` (a user's own filter), or None when there is none."""
        parts = []
        for col, vals in self.filters.items():
            parts.append(f"{col} = '{vals[0]}'" if len(vals) == 1 else f"{col} IN ({', '.join(repr(v) for v in vals)})")
        if extra:
            parts.append(f"({extra})")
        return " AND ".join(parts) or None


def parse_query(text: str) -> ParsedQuery:
    """Read vocabulary phrases out of ``text`` as filters (whole words, longest first); the rest is words.

    ``"low-key close-up of a face"`` -> ``lighting_key = 'low_key' AND shot_scale = 'close_up'``, words
    ``"of a face"``; ``"CU or MS"`` -> ``shot_scale IN ('close_up', 'medium')`` (two values of one
    column are alternatives), words ``"or"``.
    """
    rest = f" {_normal(text)} "
    parsed = ParsedQuery(words="")
    for phrase, column, value in _PHRASES:
        needle = f" {phrase} "
        while needle in rest:
            rest = rest.replace(needle, " ", 1)
            if value not in parsed.filters.setdefault(column, []):
                parsed.filters[column].append(value)
            parsed.read.append((phrase, column, value))
    parsed.words = " ".join(rest.split())
    return parsed


def vocabulary_table() -> list[tuple[str, str, list[str]]]:
    """(column, stored value, phrases a search understands for it): the documented vocabulary."""
    rows: dict[tuple[str, str], list[str]] = {}
    for phrase, column, value in sorted(_PHRASES, key=lambda x: (x[1], x[2], x[0])):
        rows.setdefault((column, value), []).append(phrase)
    return [(c, v, p) for (c, v), p in rows.items()]
