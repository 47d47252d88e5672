"""Finding shots in the reference library the way a filmmaker asks: words, measured attributes,
or "shots that look like this one".

One query (:class:`ShotQuery`, also the schema of a saved search's YAML file) combines:

* ``text``: vocabulary phrases ("low-key", "close-up", "push in", "CU") become exact filters on the
  measured columns (:mod:`filmaster_dag.cinema.query`); the remaining words are a full-text search
  of the shots' descriptions;
* ``where``: an SQL filter over the shots table's columns;
* ``like``: a shot id in the library or an image file. Shots are ranked by how alike they look:
  by CLIP image vectors when the library holds them, else by the offline look descriptor
  (:mod:`filmaster_dag.cinema.look`: colour layout, palette, edges and texture, composition)
  measured for every shot at ingest.

:func:`find_shots` runs a query against a :class:`~filmaster_dag.index.ShotIndex` and returns the
hits with a score, the film's SMPTE timecode and the keyframe; :func:`hits_sheet` draws their
contact sheet. The CLI (``filmaster search``) and the ``saved_searches`` asset both call these,
so a search gives the same hits from every path. Dagster-free.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..cinema.query import parse_query
from ..cinema.timecode import FrameTime
from .tables import LOOK, VECTOR, sql_literal

#: How the hits were ranked, as the CLI and the UI say it.
BY_WORDS, BY_LOOK, BY_CLIP, BY_FILM_ORDER = "words (BM25)", "look (offline descriptor)", "CLIP image vectors", "film order"


#: The columns of :meth:`SearchResult.table` (plus ``alike`` for a search by example).
TABLE_COLUMNS = ["rank", "score", "shot_id", "film", "timecode", "duration_s", "keyframe", "description"]


class SearchError(ValueError):
    """A query that cannot run, said in one line with what to do (bad filter, unknown example)."""


class ShotQuery(BaseModel):
    """A search of the reference library; a saved search is this, as a YAML file."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(default=None, description="words and vocabulary phrases, e.g. 'low-key close-up'")
    where: str | None = Field(default=None, description="SQL filter over the shots table, e.g. \"movement = 'pan_left'\"")
    like: str | None = Field(default=None, description="a shot id in the library or an image file: shots that look like it")
    k: int = Field(default=10, ge=1, le=500, description="most hits returned")
    title: str | None = Field(default=None, description="what the search is for (shown in the UI)")

    @model_validator(mode="after")
    def _asks_something(self) -> ShotQuery:
        if not (self.text or self.where or self.like):
            raise ValueError("a search needs text, where, like, or a combination")
        return self


@dataclass
class SearchResult:
    """Hits of a query, best first, with how they were ranked and what the words were read as."""

    query: ShotQuery
    hits: pd.DataFrame
    ranked_by: str
    read_as: str | None = None
    example: str | None = None  # the shot id or image the hits look like, as asked
    example_shot: str | None = None  # the example's shot id when it is a shot of the library
    example_picture: str | None = None  # its picture: that shot's keyframe (a MediaStore path), else the image file

    def table(self) -> pd.DataFrame:
        """One presentational row per hit: rank, score, shot, film, timecode, length, keyframe, description."""
        rows = []
        for n, r in enumerate(self.hits.itertuples(), start=1):
            score = getattr(r, "score", float("nan"))
            rows.append(
                {
                    "rank": n,
                    "score": None if score is None or not np.isfinite(score) else round(float(score), 3),
                    "shot_id": r.shot_id,
                    "film": r.film,
                    "timecode": timecode(r),
                    "duration_s": round(float(r.duration_s), 2),
                    "keyframe": str(r.keyframe_path or ""),
                    "description": r.description,
                    "alike": getattr(r, "alike", ""),
                }
            )
        return pd.DataFrame(rows, columns=[*TABLE_COLUMNS, "alike"] if "alike" in self.hits else TABLE_COLUMNS)


def timecode(row: Any) -> str:
    """The shot's start as SMPTE HH:MM:SS:FF at its film's rate (seconds when the rate is unknown)."""
    rate = getattr(row, "frame_rate", None)
    if rate and np.isfinite(rate):
        return FrameTime.from_frame(int(row.start_frame), float(rate)).smpte
    return f"{float(row.start_s):.2f} s"


def _example(index: Any, like: str, embedder: Any) -> tuple[np.ndarray | None, np.ndarray | None, str | None, str]:
    """(look vector, CLIP vector, shot id, picture) of the example: a shot in the library (its
    keyframe), else an image file."""
    from ..cinema.look import describe_look, read_image

    rows = index.filter(f"shot_id = {sql_literal(like)}", limit=1, columns=["shot_id", "keyframe_path", LOOK, VECTOR])
    if len(rows):
        r = rows.iloc[0]
        look = None if r[LOOK] is None else np.asarray(r[LOOK], dtype=np.float32)
        clip = None if r[VECTOR] is None else np.asarray(r[VECTOR], dtype=np.float32)
        if look is None and clip is None:
            raise SearchError(
                f"--like {like}: that shot has no look descriptor (ingested before search by example existed); "
                "re-ingest its film with `filmaster ingest --force`"
            )
        return look, clip, like, str(r["keyframe_path"] or "")
    path = Path(os.path.expanduser(like))
    if not path.is_file():
        raise SearchError(
            f"--like {like}: neither a shot id in the library (like 'big-buck-bunny-0-60s/0003', see `filmaster search --where ...`) "
            "nor an image file"
        )
    try:
        rgb = read_image(path)
    except ValueError as err:
        raise SearchError(f"--like {like}: {err}") from err
    clip = None
    if embedder is not None and embedder.available:
        clip = np.asarray(embedder.embed_images([rgb])[0], dtype=np.float32)
    return describe_look(rgb), clip, None, str(path)


def find_shots(index: Any, query: ShotQuery, embedder: Any = None) -> SearchResult:
    """Run ``query`` against the library's shots table; hits carry ``score`` (higher is better;
    NaN for an attribute-only search, whose hits come in film order).

    Raises :class:`SearchError` (one line, with what to do) for a filter LanceDB refuses or an
    example that is neither a shot id nor a readable image.
    """
    parsed = parse_query(query.text or "")
    words, where = parsed.words or None, parsed.where(query.where)
    read_as = None
    if parsed.read:
        read_as = (parsed.where() or "") + (f"; words: {words!r}" if words else "")
    example: str | None = None
    shot_id: str | None = None
    picture: str | None = None
    try:
        if query.like:
            look, clip, shot_id, picture = _example(index, query.like, embedder)
            hits, ranked_by = _like(index, look, clip, words, where, query.k, shot_id)
            example = query.like
        else:
            if words:
                hits = index.search_text(words, k=query.k, where=where)
                hits = hits.assign(score=hits["_score"].astype(float)) if len(hits) else hits.assign(score=pd.Series(dtype=float))
                ranked_by = BY_WORDS
            else:
                hits = index.filter(where, limit=query.k)
                hits = hits.sort_values(["film", "start_frame"], kind="stable").assign(score=np.nan)
                ranked_by = BY_FILM_ORDER
    except SearchError:
        raise
    except (ValueError, RuntimeError) as err:  # LanceDB reports a bad filter as either
        first = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
        raise SearchError(f"search failed: {first} (check the --where filter: SQL over the shots table's columns)") from err
    hits = hits.drop(columns=[c for c in ("_score", "_distance", "_relevance_score", LOOK, VECTOR) if c in hits.columns])
    return SearchResult(query, hits.reset_index(drop=True), ranked_by, read_as, example, shot_id, picture)


def _like(
    index: Any, look: np.ndarray | None, clip: np.ndarray | None, words: str | None, where: str | None, k: int, shot_id: str | None
) -> tuple[pd.DataFrame, str]:
    """Shots nearest the example, by CLIP vectors when both sides have them, else by look."""
    not_itself = f"shot_id != {sql_literal(shot_id)}" if shot_id else None
    where = " AND ".join(f"({p})" for p in (where, not_itself) if p) or None
    use_clip = clip is not None and index.count(where=f"{VECTOR} IS NOT NULL") > 0
    column, vector, ranked_by = (VECTOR, clip, BY_CLIP) if use_clip else (LOOK, look, BY_LOOK)
    if vector is None:
        raise SearchError("--like: the example has no look descriptor; re-ingest its film with `filmaster ingest --force`")
    if column == LOOK and not index.count(where=f"{LOOK} IS NOT NULL"):
        raise SearchError(
            "--like: no shot in the library has a look descriptor yet (its films were ingested before search by example): "
            "run `filmaster ingest --force` once"
        )
    if words:  # words narrow the candidates; the look ranks them
        ids = index.search_text(words, k=max(k * 20, 200), where=where)["shot_id"].tolist()
        if not ids:
            return index.filter("shot_id = ''", limit=0).assign(score=pd.Series(dtype=float)), ranked_by
        in_ids = f"shot_id IN ({', '.join(sql_literal(i) for i in ids)})"
        where = f"({where}) AND {in_ids}" if where else in_ids
    hits = index.search_vector(vector, k=k, where=where, vector_column=column, exact=True, with_vector=True)
    # cosine distance -> cosine similarity, clipped to 0..1: the scale of cinema.look.look_similarity
    hits = hits.assign(score=(1.0 - hits["_distance"].astype(float)).clip(0.0, 1.0))
    return hits.assign(alike=[alike(look, h) for h in hits[LOOK]] if len(hits) else []), ranked_by


def alike(example: np.ndarray | None, hit: Any) -> str:
    """Why a hit looks like the example, block by block: ``colour 0.93, palette 0.88, texture 0.71, composition 0.90``."""
    from ..cinema.look import explain_look

    if example is None or hit is None:
        return ""
    parts = explain_look(example, np.asarray(hit, dtype=np.float32))
    return ", ".join(f"{name.replace('_layout', '')} {value:.2f}" for name, value in parts.items())


def short_name(film: str, width: int = 22) -> str:
    """A film's slug cut to fit under a thumbnail, keeping its end (``big-buck-b…s-720p-webm``
    and ``big-buck-bunny-0-60s`` stay apart)."""
    return film if len(film) <= width else f"{film[: width // 2 - 1]}…{film[-(width - width // 2) :]}"


def hits_sheet(result: SearchResult, read_bytes: Callable[[str], bytes], columns: int = 5, thumb_width: int = 240) -> bytes | None:
    """A JPEG contact sheet of the hits' primary keyframes in hit order, each tile labelled
    ``#rank score film timecode``, after the example's own picture (``like: ...``) for a search
    by example; None when no keyframe could be read."""
    from ..cinema.keyframes import contact_sheet

    hits = []
    for r in result.table().itertuples():  # the rows the CLI prints: the same rank, rounded score and timecode
        if not r.keyframe:  # a shot without a keyframe has no tile
            continue
        try:
            data = read_bytes(r.keyframe)
        except (FileNotFoundError, OSError, ValueError):
            continue
        shown = "" if r.score is None or r.score != r.score else f" {r.score:.2f}"
        hits.append((f"#{r.rank}{shown} {short_name(r.film)} {r.timecode}", data))
    if not hits:
        return None
    tiles = []
    if result.example_picture:
        try:  # a shot's keyframe is in the store, an image is the user's file
            shot = result.example_shot
            picture = read_bytes(result.example_picture) if shot else Path(result.example_picture).read_bytes()
            tiles.append((f"like: {shot or Path(result.example_picture).name}", picture))
        except (FileNotFoundError, OSError, ValueError):
            pass  # the hits still make a sheet
    tiles += hits
    return contact_sheet(tiles, columns=min(columns, len(tiles)), thumb_width=thumb_width)
