"""Media credits: who made the films, music, sound and voices a film was built from, under which licence.

A film cut from openly licensed media owes its sources an attribution (CC-BY asks for title, author,
source and licence with every copy). The licences live where the media does, in the media folder's
README (markdown tables with a ``file`` column and a ``license``/``licence`` column, plus paragraphs that
license a set of files named in backticks); :func:`media_licences` reads them, :func:`credits_records`
says what each used file is and owes, and :func:`credits_text` writes the end-credits file.
A file whose licence is not known is listed as such: someone must check it before the film is published.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

#: Credits sections in the order they roll, and the roles that land in each.
SECTIONS: dict[str, tuple[str, ...]] = {
    "Reference films": ("reference", "reference film", "film", "films"),
    "Music": ("music", "score", "cue"),
    "Sound effects": ("effect", "effects", "sound", "sound effect", "ambience", "event"),
    "Voices": ("voice", "voices", "speech", "dialogue", "narration"),
}
UNKNOWN = "licence unknown — check before publishing"
_LICENCE = re.compile(
    r"\b(CC[- ]?BY(?:[- ]SA|[- ]NC|[- ]ND)*[- ]?\d(?:\.\d)?|CC0|public domain|MIT|Apache[- ]2\.0|GPL[- v\d.]*)", re.IGNORECASE
)
_CC_BY = re.compile(r"CC[- ]?BY[- ]?(\d\.\d)", re.IGNORECASE)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _unquote(text: str) -> str:
    return text.replace("`", "").strip()


def _split_licence(cell: str) -> tuple[str, str]:
    """(title, licence) of a cell like ``"Vibe Ace" by Kevin MacLeod, CC-BY 3.0 (incompetech.com)``."""
    m = _LICENCE.search(cell)
    if not m:
        return "", cell
    return cell[: m.start()].rstrip(" ,;-"), cell[m.start() :].strip()


def media_licences(readme: str | os.PathLike[str]) -> dict[str, dict[str, Any]]:
    """The licence of every file a media README names: ``{file name: {"file", "title", "what", "licence", "section"}}``.

    Reads every markdown table with a ``file`` column and a ``license``/``licence`` column (backticks
    stripped; the section is the heading above the table, e.g. ``music``). Where the licence cell starts
    with the work's title (``"Vibe Ace" by Kevin MacLeod, CC-BY 3.0 ...``) the two are split; a ``what``
    or ``title`` column gives the title otherwise (its first phrase). A paragraph that licenses files named
    in backticks (``LibriSpeech clips, CC-BY 4.0: `198-209-0000` (Sense and Sensibility, ...)``) adds an
    entry per name, matched later against file names that contain it (see :func:`licence_for`).
    """
    text = Path(readme).read_text(encoding="utf-8")
    found: dict[str, dict[str, Any]] = {}
    section = ""
    header: list[str] | None = None
    paragraph: list[str] = []
    in_list = False

    def flush_paragraph() -> None:
        body = " ".join(paragraph)
        paragraph.clear()
        m = _LICENCE.search(body)
        if not m or "`" not in body:
            return
        licence = body[m.start() :].split(":")[0].strip(" ,.;")
        source = body[: m.start()].rstrip(" ,;")
        for name, what in re.findall(r"`([^`]+)`\s*(?:\(([^)]*)\))?", body):
            work = f"{what} ({source})" if what and source else what or source or name
            found.setdefault(name, {"file": name, "title": work, "what": what, "licence": licence, "section": section})

    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#"):
            flush_paragraph()
            in_list = False
            section = line.lstrip("#").split("(")[0].strip().rstrip("/")
            header = None
            continue
        if not line.startswith("|"):
            header = None
            if line.startswith(("- ", "* ")):
                flush_paragraph()  # a list names things in passing; it licenses nothing as a body
                in_list = True
            elif not line:
                flush_paragraph()
                in_list = False
            elif not in_list:
                paragraph.append(line)
            continue
        flush_paragraph()
        cells = _cells(line)
        if header is None:
            header = [c.lower() for c in cells]
            continue
        if all(set(c) <= set("-: ") for c in cells):
            continue  # the |---|---| rule under the header
        row = dict(zip(header, cells, strict=False))
        name = _unquote(row.get("file", ""))
        licence_cell = _unquote(row.get("license", row.get("licence", "")))
        if not name or not licence_cell or ("license" not in header and "licence" not in header):
            continue
        title, licence = _split_licence(licence_cell)
        what = _unquote(row.get("what", row.get("title", "")))
        found[name] = {
            "file": name,
            "title": title if title else (what.split(",")[0].strip() if what else name),
            "what": what,
            "licence": licence,
            "section": section,
        }
    flush_paragraph()
    return found


def licences_near(folders: Iterable[str | os.PathLike[str] | None]) -> dict[str, dict[str, Any]]:
    """The licence tables of the README.md beside (or one folder above) each media folder: the shared
    media's layout (``media/README.md`` over ``media/films``, ``media/music``, ``media/sound``)."""
    out: dict[str, dict[str, Any]] = {}
    for folder in folders:
        if folder is None:
            continue
        for readme in (Path(folder) / "README.md", Path(folder).parent / "README.md"):
            if readme.is_file():
                out.update(media_licences(readme))
    return out


def licence_for(path: str | os.PathLike[str], licences: Mapping[str, Mapping[str, Any]]) -> dict[str, Any] | None:
    """The licence entry for a used file: by its exact file name, else by an entry name the file's name contains
    (``librispeech-198-209-0000.ogg`` is LibriSpeech's ``198-209-0000``); None when the README does not say."""
    name = Path(path).name
    if name in licences:
        return dict(licences[name])
    hits = [k for k in licences if len(k) >= 6 and k in name]
    return dict(licences[max(hits, key=len)]) if hits else None


def _section(role: str) -> str:
    role = role.strip().lower()
    for section, roles in SECTIONS.items():
        if role in roles:
            return section
    raise ValueError(f"unknown credits role {role!r}: one of {sorted(r for rs in SECTIONS.values() for r in rs)}")


def _attribution(title: str, licence: str) -> str | None:
    """The CC-BY attribution line (title, author and source as the licensor wrote them, the licence and its deed)."""
    m = _CC_BY.search(licence)
    if not m:
        return None
    return f"{title}: {licence}. Licence: https://creativecommons.org/licenses/by/{m.group(1)}/"


def credits_records(used: Iterable[Mapping[str, Any]], licences: Mapping[str, Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One record per used file (the first use of a path wins), for JSON: ``file``, ``path``, ``role``,
    ``section`` (credits heading), ``title``, ``licence`` (or the unknown-licence warning), ``known`` and
    ``attribution`` (the CC-BY line, or None). ``used`` items: ``{"path", "role"}``, optionally ``title``
    and ``licence`` where the caller knows them (a voice model's card), which win over the README."""
    records: list[dict[str, Any]] = []
    seen: set[str] = set()
    for item in used:
        path = str(item["path"])
        if path in seen:
            continue
        seen.add(path)
        entry = licence_for(path, licences) or {}
        work = str(item.get("title") or entry.get("title") or Path(path).stem)
        licence = str(item.get("licence") or entry.get("licence") or "")
        records.append(
            {
                "file": Path(path).name,
                "path": path,
                "role": str(item["role"]),
                "section": _section(str(item["role"])),
                "title": work,
                "licence": licence or UNKNOWN,
                "known": bool(licence),
                "attribution": _attribution(work, licence) if licence else None,
            }
        )
    return records


def _fullest(rows: list[dict[str, Any]], key: str) -> str:
    """The most complete wording among copies of one work (``..., peach.blender.org`` over ``...``)."""
    return max((str(r[key]) for r in rows), key=len)


def credits_text(title: str, used: Iterable[Mapping[str, Any]], licences: Mapping[str, Mapping[str, Any]]) -> str:
    """The film's credits as plain text: its title, "made with filmaster-dag", then "Reference films",
    "Music", "Sound effects" and "Voices" (empty sections left out), each file with its title and
    licence, and the attribution lines CC-BY asks for."""
    records = credits_records(used, licences)
    lines = [title, "made with filmaster-dag", ""]
    for section in SECTIONS:
        works: dict[str, list[dict[str, Any]]] = {}  # one work in several files (an MP4 and a WebM of one film) is one credit
        for r in records:
            if r["section"] == section:
                works.setdefault(r["title"], []).append(r)
        if not works:
            continue
        lines.append(section)
        lines += [f"  {work} ({', '.join(r['file'] for r in rows)}): {_fullest(rows, 'licence')}" for work, rows in works.items()]
        lines.append("")
    by_work: dict[str, list[dict[str, Any]]] = {}
    for r in records:
        if r["attribution"]:
            by_work.setdefault(r["title"], []).append(r)
    attributions = [_fullest(rows, "attribution") for rows in by_work.values()]
    if attributions:
        lines.append("Attribution")
        lines += [f"  {a}" for a in attributions]
        lines.append("")
    return "\n".join(lines)
