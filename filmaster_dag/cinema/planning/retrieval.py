"""Scene-level retrieval: for each scene of the script, the reference *sequences* of the library
whose look and camera language suit it, with scores and the reasons they matched.

One query per scene, not per shot (FilmMaster retrieves at scene level so the references keep their
camera-language chains). A query has two halves:

- **text**: :func:`query_text`, the scene's own words plus the description vocabulary the library
  writes (:mod:`filmaster_dag.cinema.describe`: "static wide shot, high-key, warm palette ..."), run
  through LanceDB's BM25 full-text search over the ``sequences`` and the ``shots`` descriptions (a
  shot's hit counts for its sequence), and through CLIP's text tower against the shot and sequence
  vectors when real weights are configured;
- **attributes**: :func:`scene_targets`, what the screenplay implies for the picture, scored against
  each candidate sequence's *measured* shot columns (brightness, lighting key, saturation, colour
  temperature, shot length, motion energy, movement, shot scale, faces).

``score = TEXT_WEIGHT * text_score * look + ATTRIBUTE_WEIGHT * attribute_score`` (the attribute score
already carries the look: wrong-look footage is discounted whichever way it matches); ties go to the lower
sequence id, so the same library and the same script always give the same answer. Both tables are
read at the versions recorded when the retrieval starts, and those versions are returned, so a
production can be reproduced (and a concurrent ingest cannot mix versions into one answer).

No Dagster here: the ``scene_references`` asset wraps :func:`retrieve` and :func:`reference_sheet`.
"""

from __future__ import annotations

import io
import logging
import math
import re
from collections.abc import Callable, Iterable, Mapping
from typing import Any

import numpy as np
import pandas as pd

from ..brief import Brief
from ..describe import LIGHTING_WORDS, MOVEMENT_WORDS, SCALE_WORDS, temperature_word
from ..keyframes import contact_sheet
from ..vocabulary import CameraMovement, LightingKey, ShotScale
from .models import ReferenceShot, SceneReferences, SceneRetrieval, Script, ScriptScene, SequenceMatch

log = logging.getLogger(__name__)

TEXT_WEIGHT = 0.3
ATTRIBUTE_WEIGHT = 0.7
#: A library with at most this many sequences is read whole for every query, so attribute-only
#: matching always sees every sequence (a few thousand rows read in milliseconds); a bigger one is
#: searched (full-text, vector and an attribute pre-filter) for candidates.
SMALL_LIBRARY = 4000
#: Candidates taken from each search leg of a big library.
CANDIDATES_PER_LEG = 100
SHOTS_TABLE, SEQUENCES_TABLE = "shots", "sequences"
#: A kind of target scoring at least this much is named among a match's reasons.
REASON_THRESHOLD = 0.7

#: How much each kind of target weighs in the attribute score (only the targets a scene sets count).
ATTRIBUTE_WEIGHTS = {"light": 2.0, "movement": 1.5, "scale": 1.5, "motion": 1.0, "palette": 1.0, "faces": 1.0, "pace": 0.5}
#: The film's look scales the attribute score and the text score (from LOOK_FLOOR for the wrong look to 1):
#: a colour film wants colour footage (mean saturation at least the first value,
#: nothing below the second), a black-and-white one monochrome footage (at most the first, nothing above the second).
COLOUR_SATURATION = (0.06, 0.02)
MONOCHROME_SATURATION = (0.03, 0.10)
LOOK_FLOOR = 0.4

# -- targets -------------------------------------------------------------------------------------------

#: time of day -> (brightness min, max, lighting keys, the phrase used in reasons).
#: Median luma: exteriors in daylight sit around 0.45-0.75, dusk and night below about 0.35.
LIGHT = {
    "dawn": (0.25, 0.55, ("normal", "low_key"), "dawn"),
    "morning": (0.45, 1.0, ("normal", "high_key"), "daylight"),
    "day": (0.45, 1.0, ("normal", "high_key"), "daylight"),
    "afternoon": (0.45, 1.0, ("normal", "high_key"), "daylight"),
    "dusk": (0.0, 0.35, ("low_key",), "dusk"),
    "evening": (0.0, 0.35, ("low_key",), "evening"),
    "night": (0.0, 0.25, ("low_key",), "night"),
}

#: mood -> (saturation min, max, colour temperature word or None, pace).
#: Pace is the preferred shot length: slow = long takes, fast = quick cutting.
MOOD = {
    "calm": (0.15, 0.5, None, "slow"),
    "cheerful": (0.3, 1.0, "warm", "moderate"),
    "playful": (0.3, 1.0, "warm", "moderate"),
    "comic": (0.3, 1.0, None, "moderate"),
    "tender": (0.15, 0.55, "warm", "slow"),
    "melancholy": (0.0, 0.3, "cool", "slow"),
    "tense": (0.0, 0.4, "cool", "fast"),
    "frantic": (0.2, 1.0, None, "fast"),
    "mysterious": (0.0, 0.35, "cool", "moderate"),
    "eerie": (0.0, 0.3, "cool", "slow"),
    "triumphant": (0.35, 1.0, "warm", "moderate"),
    "somber": (0.0, 0.3, "cool", "slow"),
}
#: pace -> preferred shot length range, seconds.
PACE_SECONDS = {"slow": (6.0, 20.0), "moderate": (3.0, 8.0), "fast": (0.5, 3.5)}

_PANS = (CameraMovement.PAN_LEFT.value, CameraMovement.PAN_RIGHT.value)
#: Action words -> motion energy and the camera movements that cover such action.
ACTION_WORDS: dict[str, tuple[tuple[str, ...], list[str]]] = {
    "high": (
        tuple(
            "run runs running chase chases chasing flee flees fleeing race races sprint sprints dash dashes jump jumps leap "
            "leaps fight fights tumble tumbles crash crashes escape escapes pursue pursues scramble scrambles bolt bolts fall "
            "falls drops".split()
        ),
        [*_PANS, CameraMovement.HANDHELD.value, CameraMovement.COMPLEX.value],
    ),
    "moderate": (
        tuple(
            "walk walks walking cross crosses crossing amble ambles stroll strolls follow follows wander wanders drift "
            "drifts approach approaches ride rides climb climbs hop hops move moves enter enters leave leaves push pushes".split()
        ),
        [*_PANS, CameraMovement.PUSH_IN.value, CameraMovement.PULL_OUT.value, CameraMovement.TILT_UP.value, CameraMovement.TILT_DOWN.value],
    ),
    "low": (
        tuple(
            "watch watches watching sit sits sitting wait waits waiting still stillness stand stands rest rests sleep "
            "sleeps look looks gaze gazes stare stares lies lie quiet listen listens view".split()
        ),
        [CameraMovement.STATIC.value],
    ),
}
#: Camera words the writer may use directly -> the movement they name.
_TILTS = (CameraMovement.TILT_UP.value, CameraMovement.TILT_DOWN.value)
CAMERA_WORDS: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("pan", "pans", "panning", "tracking", "tracks", "dolly"), _PANS),
    **dict.fromkeys(("tilt", "tilts", "tilting"), _TILTS),
    **dict.fromkeys(("push-in", "zoom", "zooms"), (CameraMovement.PUSH_IN.value, CameraMovement.PULL_OUT.value)),
    **dict.fromkeys(("handheld", "shaky"), (CameraMovement.HANDHELD.value,)),
    **dict.fromkeys(("static", "locked-off", "tripod"), (CameraMovement.STATIC.value,)),
}
_WIDE = (ShotScale.WIDE.value, ShotScale.EXTREME_WIDE.value, ShotScale.MEDIUM_LONG.value)
_CLOSE = (ShotScale.CLOSE_UP.value, ShotScale.EXTREME_CLOSE_UP.value, ShotScale.MEDIUM_CLOSE_UP.value)
SCALE_WORDS_IN_TEXT: dict[str, tuple[str, ...]] = {
    **dict.fromkeys(("wide", "landscape", "establishing", "vista", "panorama", "panoramic"), _WIDE),
    **dict.fromkeys(("face", "faces", "close", "close-up", "closeup", "eyes"), _CLOSE),
    "medium": (ShotScale.MEDIUM.value, ShotScale.MEDIUM_LONG.value, ShotScale.MEDIUM_CLOSE_UP.value),
}
#: motion level -> (energy for a full score, energy for none): a mean residual difference after
#: camera-motion compensation, 0..1; animated and live footage with little action measure ~0.002-0.005.
MOTION_ENERGY = {"low": (0.004, 0.02), "moderate": (0.008, 0.0), "high": (0.015, 0.003)}


def _words(text: str) -> list[str]:
    return re.findall(r"[a-z][a-z'-]*", text.lower())


def _scene_text(scene: ScriptScene) -> str:
    return " ".join([scene.heading, scene.location or "", *scene.beats])


def scene_targets(scene: ScriptScene, brief: Brief) -> dict:
    """The picture the scene asks for, as attribute targets scored against the measured shots.

    - ``time_of_day`` -> ``brightness_min``/``brightness_max`` (median luma) and ``lighting_key``
      (dusk, evening and night: low key and dark; morning, day, afternoon: bright, normal or high
      key; dawn in between) and ``light`` (the word used in reasons);
    - ``mood`` -> palette (``saturation_min``/``saturation_max``, ``temperature`` warm/cool when
      the mood has one) and ``pace`` with its preferred shot length ``shot_length_min_s``/``_max_s``;
    - the action text -> ``motion`` (high: run, chase, flee...; moderate: walk, cross...; low:
      watch, sit, wait, still...) and ``movement`` (pans and hand-held for a chase, pans or
      push-ins for walking, static for watching; camera words in the text win);
    - two or more characters with dialogue -> ``alternating`` shots with ``faces_min`` 1;
    - ``style.color`` -> ``look``: colour footage for a colour film, monochrome for a black-and-white one;
    - ``style.color: black_and_white`` -> ``saturation_max`` 0.02 (``black_and_white``);
    - ``scale`` when the text names it (wide, landscape, establishing -> wide; face, close -> close-up).
    """
    lo, hi, keys, light = LIGHT[scene.time_of_day]
    sat_lo, sat_hi, temperature, pace = MOOD[scene.mood]
    if brief.style.pace != "moderate" and pace == "moderate":
        pace = brief.style.pace  # a neutral mood takes the film's editing pace
    targets: dict[str, Any] = {
        "time_of_day": scene.time_of_day,
        "light": light,
        "brightness_min": lo,
        "brightness_max": hi,
        "lighting_key": list(keys),
        "mood": scene.mood,
        "saturation_min": sat_lo,
        "saturation_max": sat_hi,
        "pace": pace,
        "shot_length_min_s": PACE_SECONDS[pace][0],
        "shot_length_max_s": PACE_SECONDS[pace][1],
    }
    if temperature:
        targets["temperature"] = temperature
    targets["look"] = brief.style.color
    if brief.style.color == "black_and_white":
        targets.update(black_and_white=True, saturation_min=0.0, saturation_max=0.02)
        targets.pop("temperature", None)  # a monochrome picture has no colour temperature to match
    words = _words(_scene_text(scene))
    counts = {level: sum(w in vocab for w in words) for level, (vocab, _) in ACTION_WORDS.items()}
    if any(counts.values()):
        # the busiest kind of action the text names most often; a tie goes to the more energetic
        level = max(("high", "moderate", "low"), key=lambda lv: (counts[lv], lv == "high", lv == "moderate"))
        targets["motion"] = level
        targets["movement"] = list(ACTION_WORDS[level][1])
    named = [m for w in words for m in CAMERA_WORDS.get(w, ())]
    if "push" in words and "in" in words:
        named.append(CameraMovement.PUSH_IN.value)
    if named:
        targets["movement"] = list(dict.fromkeys(named))
    scales = [s for w in words for s in SCALE_WORDS_IN_TEXT.get(w, ())]
    if scales:
        first = next(w for w in words if w in SCALE_WORDS_IN_TEXT)
        targets["scale"] = list(SCALE_WORDS_IN_TEXT[first])  # the first scale named is the one meant
    speakers = {line.speaker.casefold() for line in scene.dialogue}
    if scene.dialogue and len(speakers | {c.casefold() for c in scene.characters}) >= 2:
        targets.update(alternating=True, faces_min=1)
    return targets


def _target_phrases(targets: Mapping[str, Any]) -> list[str]:
    """The targets in the words the library's descriptions use (describe.py), for full-text search."""
    scales = [SCALE_WORDS[s] for s in targets.get("scale", []) if s in SCALE_WORDS][:1]
    moves = [MOVEMENT_WORDS[m] for m in targets.get("movement", []) if m in MOVEMENT_WORDS]
    phrases = [" ".join([*dict.fromkeys(moves), *scales, "shot"])]
    phrases += [LIGHTING_WORDS[k] for k in targets.get("lighting_key", []) if k in LIGHTING_WORDS]
    if targets.get("black_and_white"):
        phrases.append("black-and-white")
    elif targets.get("temperature"):
        phrases.append(f"{targets['temperature']} palette")
    if targets.get("motion") == "high":
        phrases.append("lots of action in frame")
    if targets.get("faces_min"):
        phrases.append("faces visible")
    return phrases


def query_text(scene: ScriptScene, brief: Brief) -> str:
    """The scene's one text query: the description vocabulary its targets imply ("static wide shot,
    high-key, normal, warm palette") followed by its own words (heading, location, action, mood),
    so BM25 over the library's measured descriptions finds the look, and CLIP's text tower (when
    configured, reading the first 77 tokens) gets the look first and the content after."""
    targets = scene_targets(scene, brief)
    return "; ".join([", ".join(_target_phrases(targets)), _scene_text(scene), f"{scene.mood} mood"])


# -- scoring ---------------------------------------------------------------------------------------------


def _num(value: Any) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return v if math.isfinite(v) else None


def _column(shots: pd.DataFrame, name: str) -> np.ndarray:
    """A measured column as floats, NaN where unmeasured."""
    return pd.to_numeric(shots[name], errors="coerce").to_numpy(dtype=float, na_value=np.nan)


def _in_range(values: np.ndarray, lo: float, hi: float, falloff: float) -> np.ndarray:
    """1 inside [lo, hi], falling linearly to 0 at ``falloff`` outside it; NaN stays NaN (unmeasured)."""
    gap = np.where(values < lo, lo - values, np.where(values > hi, values - hi, 0.0))
    return np.where(np.isnan(values), np.nan, np.maximum(0.0, 1.0 - gap / falloff))


def _ramp(values: np.ndarray, full: float, none: float) -> np.ndarray:
    """1 at ``full``, 0 at ``none`` (either direction), linear between; NaN stays NaN."""
    return np.clip((values - none) / (full - none), 0.0, 1.0)


def _temperature_score(kelvin: np.ndarray, wanted: str) -> np.ndarray:
    words = np.where(kelvin < 4500, "warm", np.where(kelvin > 7000, "cool", "neutral"))  # as describe.temperature_word
    return np.where(np.isnan(kelvin), 0.5, np.where(words == wanted, 1.0, np.where(words == "neutral", 0.5, 0.0)))


class _Groups:
    """Per-sequence sums over a shots frame (one pass of ``np.bincount`` per column, not a loop per sequence)."""

    def __init__(self, shots: pd.DataFrame) -> None:
        codes, self.ids = pd.factorize(shots["sequence_id"])
        self.codes, self.m = codes, len(self.ids)
        self.duration = _column(shots, "duration_s")
        self.weight = np.maximum(np.nan_to_num(self.duration, nan=0.0), 1e-3)
        self.n = self.sum(np.ones(len(shots)))

    def sum(self, values: np.ndarray) -> np.ndarray:
        return np.bincount(self.codes, weights=values, minlength=self.m)

    def share(self, hits: np.ndarray) -> np.ndarray:
        return self.sum(hits.astype(float)) / self.n

    def score(self, per_shot: np.ndarray) -> np.ndarray:
        """Duration-weighted mean of per-shot scores; an unmeasured shot counts 0.5, neither for nor against."""
        return self.sum(np.where(np.isnan(per_shot), 0.5, per_shot) * self.weight) / self.sum(self.weight)

    def mean(self, values: np.ndarray) -> np.ndarray:
        """Duration-weighted mean of the measured values (NaN when none is measured)."""
        ok = ~np.isnan(values)
        total = self.sum(self.weight * ok)
        return np.where(total > 0, self.sum(np.where(ok, values, 0.0) * self.weight) / np.where(total > 0, total, 1.0), np.nan)


def score_sequences(targets: Mapping[str, Any], shots: pd.DataFrame) -> pd.DataFrame:
    """Every sequence's 0..1 attribute score against ``targets`` from its shots' measured columns.

    One row per ``sequence_id`` in ``shots`` (in order of first appearance): ``attribute_score``,
    each kind of target's own 0..1 score (``light``, ``palette``, ``pace``, and ``movement``,
    ``motion``, ``scale``, ``faces`` when the scene sets them) and the measured values the reasons
    quote (``brightness``, ``saturation``, ``kelvin``, ``shot_length_s``, ``energy``, ``shots``,
    ``movement_hits``, ``scale_hits``, ``faces_hits``). Per-shot kinds are duration-weighted over
    the shots; the score is the kinds' weighted mean (:data:`ATTRIBUTE_WEIGHTS`)."""
    g = _Groups(shots)
    out: dict[str, np.ndarray] = {"shots": g.n}
    bright = _column(shots, "brightness")
    keys = list(targets.get("lighting_key", []))
    # normal key sits between low and high key: half marks when the scene wants one of those
    near = [] if LightingKey.NORMAL.value in keys else [LightingKey.NORMAL.value]
    key_hits = shots["lighting_key"].isin(keys).to_numpy() + 0.5 * shots["lighting_key"].isin(near).to_numpy()
    out["brightness"] = g.mean(bright)
    out["light"] = 0.65 * g.score(_in_range(bright, targets["brightness_min"], targets["brightness_max"], 0.25)) + 0.35 * g.share(key_hits)

    saturation = _column(shots, "saturation")
    out["saturation"] = g.mean(saturation)
    out["kelvin"] = g.mean(_column(shots, "colour_temperature_k"))
    out["palette"] = g.score(_in_range(saturation, targets["saturation_min"], targets["saturation_max"], 0.2))
    if targets.get("temperature"):
        out["palette"] = 0.6 * out["palette"] + 0.4 * _temperature_score(out["kelvin"], targets["temperature"])
    if targets.get("look"):  # colour or black-and-white footage: the first thing a viewer sees of a reference
        full, none = MONOCHROME_SATURATION if targets["look"] == "black_and_white" else COLOUR_SATURATION
        out["look"] = np.nan_to_num(_ramp(out["saturation"], full, none), nan=0.5)

    lo, hi = targets["shot_length_min_s"], targets["shot_length_max_s"]
    out["shot_length_s"] = g.sum(np.nan_to_num(g.duration, nan=0.0)) / g.n
    out["pace"] = _in_range(out["shot_length_s"], lo, hi, max(2.0, 0.6 * lo))

    if "movement" in targets:
        out["movement_hits"] = g.sum(shots["movement"].isin(list(targets["movement"])).to_numpy(float))
        out["movement"] = out["movement_hits"] / g.n
    if "motion" in targets:
        energy = _column(shots, "motion_energy")
        if targets["motion"] == "moderate":
            per_shot = _in_range(energy, 0.005, 0.012, 0.008)
        else:
            per_shot = _ramp(energy, *MOTION_ENERGY[targets["motion"]])
        out["energy"] = g.mean(energy)
        out["motion"] = g.score(per_shot)
    if "scale" in targets:
        out["scale_hits"] = g.sum(shots["shot_scale"].isin(list(targets["scale"])).to_numpy(float))
        unknown = g.sum((shots["shot_scale"] == ShotScale.UNKNOWN.value).to_numpy(float))
        out["scale"] = (out["scale_hits"] + 0.25 * unknown) / g.n  # an unmeasured scale may still be right
    if targets.get("faces_min"):
        out["faces_hits"] = g.sum((np.nan_to_num(_column(shots, "faces"), nan=0.0) >= targets["faces_min"]).astype(float))
        out["faces"] = out["faces_hits"] / g.n
        if targets.get("alternating"):
            out["faces"] = out["faces"] * np.where(g.n >= 2, 1.0, 0.6)  # shot/reverse-shot needs two shots to alternate

    kinds = [k for k in ATTRIBUTE_WEIGHTS if k in out]
    total = sum(ATTRIBUTE_WEIGHTS[k] for k in kinds)
    out["attribute_score"] = np.asarray(sum(ATTRIBUTE_WEIGHTS[k] * out[k] for k in kinds)) / total
    if "look" in out:  # footage of the wrong look matches nothing else well enough to make up for it
        out["attribute_score"] = out["attribute_score"] * (LOOK_FLOOR + (1 - LOOK_FLOOR) * out["look"])
    return pd.DataFrame(out, index=pd.Index(g.ids, name="sequence_id"))


def _words_of(values: Iterable[str], words: Mapping[str, str]) -> str:
    return "/".join(dict.fromkeys(words.get(v, v.replace("_", " ")) for v in values))


def _matched_words(shots: pd.DataFrame, column: str, allowed: list[str], words: Mapping[str, str]) -> str:
    """The measured values of ``column`` that the target allows, in the words people use (else the first allowed)."""
    found = [v for v in shots[column] if v in allowed]
    return _words_of(found or allowed[:1], words)


def _fmt(value: float, spec: str, unmeasured: str = "unmeasured") -> str:
    return format(value, spec) if value is not None and math.isfinite(value) else unmeasured


def attribute_reasons(targets: Mapping[str, Any], scores: Mapping[str, Any], shots: pd.DataFrame) -> list[tuple[float, str]]:
    """Per kind of target, its score and a short phrase with the measured values, for one sequence
    (``scores`` its row of :func:`score_sequences`, ``shots`` its shots)."""
    n = int(scores["shots"])
    measured_keys = [k for k in shots["lighting_key"].dropna() if k != LightingKey.UNKNOWN.value]
    key_words = _words_of(dict.fromkeys(measured_keys), {**LIGHTING_WORDS, "normal": "normal key"}) or "key unknown"
    parts = {"light": f"{targets['light']}: brightness {_fmt(scores['brightness'], '.2f')}, {key_words}"}
    palette = f"saturation {_fmt(scores['saturation'], '.2f')}"
    if targets.get("temperature"):
        kelvin = scores["kelvin"]
        palette += f", {temperature_word(kelvin)} ({kelvin:.0f} K)" if math.isfinite(kelvin) else ", temperature unmeasured"
    parts["palette"] = f"{'black-and-white' if targets.get('black_and_white') else targets['mood'] + ' palette'}: {palette}"
    parts["pace"] = f"{targets['pace']} pace: shots {scores['shot_length_s']:.1f} s on average"
    if targets.get("look"):
        seen = "monochrome" if scores["look"] < 0.5 and targets["look"] == "color" else "colour"
        if targets["look"] == "black_and_white":
            seen = "monochrome" if scores["look"] >= 0.5 else "colour"
        parts["look"] = f"{seen} footage (saturation {_fmt(scores['saturation'], '.2f')}) for a {targets['look'].replace('_', ' ')} film"
    if "movement" in targets:
        words = _matched_words(shots, "movement", list(targets["movement"]), MOVEMENT_WORDS)
        parts["movement"] = f"{words} {int(scores['movement_hits'])}/{n} shots"
    if "motion" in targets:
        parts["motion"] = f"{targets['motion']} motion: energy {_fmt(scores['energy'], '.3f')}"
    if "scale" in targets:
        parts["scale"] = f"{_matched_words(shots, 'shot_scale', list(targets['scale']), SCALE_WORDS)} {int(scores['scale_hits'])}/{n} shots"
    if targets.get("faces_min"):
        parts["faces"] = f"faces in {int(scores['faces_hits'])}/{n} shots"
    return [(float(scores[k]), parts[k]) for k in ("look", *ATTRIBUTE_WEIGHTS) if k in parts]


# -- reading the library -----------------------------------------------------------------------------

SHOT_READ_COLUMNS = [
    "shot_id", "film", "shot_index", "start_s", "end_s", "duration_s", "frame_rate", "movement", "pan_speed", "tilt_speed",
    "zoom_rate", "camera_jitter", "shot_scale", "faces", "lighting_key", "brightness", "saturation", "colour_temperature_k",
    "motion_energy", "keyframe_path", "sequence_id", "description", "usable_first_frame", "usable_last_frame",
]  # fmt: skip
SEQUENCE_READ_COLUMNS = ["sequence_id", "film", "sequence_index", "shot_ids", "shot_count", "camera_chain", "description"]


def _sql_list(values: Iterable[str]) -> str:
    return ", ".join("'" + str(v).replace("'", "''") + "'" for v in values)


class _Library:
    """The library as one retrieval reads it: both tables pinned at the versions found at the start."""

    def __init__(self, index: Any, versions: Mapping[str, int] | None = None) -> None:
        self.index = index
        if versions:  # reproduce an earlier retrieval: read the library as it was then
            missing = {SHOTS_TABLE, SEQUENCES_TABLE} - set(versions)
            if missing:
                raise ValueError(f"pinned versions must name both tables; {sorted(missing)} missing")
            self.versions = {name: int(versions[name]) for name in (SHOTS_TABLE, SEQUENCES_TABLE)}
        else:
            filled = [name for name in (SHOTS_TABLE, SEQUENCES_TABLE) if index.table(name).count_rows()]
            if filled:
                # the full-text indexes are made by the ingest; one made now commits a version, so before pinning
                index.ensure_indexes(filled, vector=False)
            self.versions = {name: int(index.table(name).version) for name in (SHOTS_TABLE, SEQUENCES_TABLE)}
        seq_table = index.at_version(self.versions[SEQUENCES_TABLE], SEQUENCES_TABLE)
        shot_table = index.at_version(self.versions[SHOTS_TABLE], SHOTS_TABLE)
        self.sequence_count = int(seq_table.count_rows())
        self.shot_columns = [c for c in SHOT_READ_COLUMNS if c in shot_table.schema.names]
        self.seq_columns = [c for c in SEQUENCE_READ_COLUMNS if c in seq_table.schema.names]
        self.has_vectors = {name: "vector" in t.schema.names for name, t in ((SHOTS_TABLE, shot_table), (SEQUENCES_TABLE, seq_table))}
        self.small = self.sequence_count <= SMALL_LIBRARY
        self._sequences: pd.DataFrame | None = None
        self._shots: pd.DataFrame | None = None
        if self.small and self.sequence_count:
            self._sequences = self.read(SEQUENCES_TABLE, None)
            self._shots = self.read(SHOTS_TABLE, "sequence_id IS NOT NULL")

    def read(self, table: str, where: str | None) -> pd.DataFrame:
        columns = self.seq_columns if table == SEQUENCES_TABLE else self.shot_columns
        return self.index.filter(where, table=table, columns=columns, version=self.versions[table])

    def sequences(self, ids: list[str] | None) -> pd.DataFrame:
        if self._sequences is not None:
            return self._sequences if ids is None else self._sequences[self._sequences["sequence_id"].isin(ids)]
        return self.read(SEQUENCES_TABLE, f"sequence_id IN ({_sql_list(ids or [])})") if ids else self._empty(SEQUENCES_TABLE)

    def shots(self, sequence_ids: list[str]) -> pd.DataFrame:
        if self._shots is not None:
            return self._shots[self._shots["sequence_id"].isin(sequence_ids)]
        return self.read(SHOTS_TABLE, f"sequence_id IN ({_sql_list(sequence_ids)})") if sequence_ids else self._empty(SHOTS_TABLE)

    def _empty(self, table: str) -> pd.DataFrame:
        return pd.DataFrame(columns=self.seq_columns if table == SEQUENCES_TABLE else self.shot_columns)

    def text_hits(self, text: str) -> dict[str, float]:
        """sequence_id -> BM25 score, normalised 0..1 within this query (max of the sequence's own
        description/camera-chain hits and its shots' description hits)."""
        if not self.sequence_count or not text.strip():
            return {}
        k = max(self.sequence_count, 1) if self.small else CANDIDATES_PER_LEG
        legs: list[dict[str, float]] = []
        for table, column in ((SEQUENCES_TABLE, "description"), (SEQUENCES_TABLE, "camera_chain"), (SHOTS_TABLE, "description")):
            try:
                hits = self.index.search_text(text, k=k, table=table, column=column, version=self.versions[table])
            except Exception as err:  # a version without the index (written by hand): the other legs still count
                log.warning("full-text search of %s.%s at version %s failed: %s", table, column, self.versions[table], err)
                continue
            if hits.empty:
                continue
            top = float(hits["_score"].max()) or 1.0
            leg: dict[str, float] = {}
            for sid, score in zip(hits["sequence_id"], hits["_score"]):
                if isinstance(sid, str):
                    leg[sid] = max(leg.get(sid, 0.0), float(score) / top)
            legs.append(leg)
        return {sid: max(leg.get(sid, 0.0) for leg in legs) for sid in set().union(*legs)} if legs else {}

    def vector_hits(self, vector: np.ndarray) -> dict[str, float]:
        """sequence_id -> cosine similarity 0..1 of the best-matching vector (its own or a shot's)."""
        out: dict[str, float] = {}
        if not self.sequence_count:
            return out
        for table in (SEQUENCES_TABLE, SHOTS_TABLE):
            if not self.has_vectors[table]:
                continue
            try:
                hits = self.index.search_vector(
                    vector, k=CANDIDATES_PER_LEG, table=table, columns=["sequence_id"], version=self.versions[table], exact=self.small
                )
            except ValueError as err:  # a vector of another size than the index's
                log.warning("vector search of %s skipped: %s", table, err)
                continue
            for sid, distance in zip(hits["sequence_id"], hits["_distance"]):
                if isinstance(sid, str):
                    out[sid] = max(out.get(sid, 0.0), float(np.clip(1.0 - float(distance), 0.0, 1.0)))
        return out

    def attribute_candidates(self, targets: Mapping[str, Any]) -> set[str]:
        """Big libraries only: sequences holding a shot inside the target's light and movement (a pre-filter)."""
        where = [f"brightness BETWEEN {targets['brightness_min']} AND {targets['brightness_max']}"]
        if targets.get("movement"):
            where.append(f"movement IN ({_sql_list(targets['movement'])})")
        if targets.get("scale"):
            where.append(f"shot_scale IN ({_sql_list(targets['scale'])})")
        rows = self.index.filter(
            " AND ".join(where),
            limit=CANDIDATES_PER_LEG * 4,
            table=SHOTS_TABLE,
            columns=["sequence_id"],
            version=self.versions[SHOTS_TABLE],
        )
        return {s for s in rows["sequence_id"] if isinstance(s, str)}


def _reference_shot(row: Mapping[str, Any], source_paths: Mapping[str, str]) -> ReferenceShot:
    start, end = float(row["start_s"]), float(row["end_s"])
    fps = _num(row.get("frame_rate")) or 0.0
    first, last = _num(row.get("usable_first_frame")), _num(row.get("usable_last_frame"))
    # the usable frames are stage columns the index may not carry: then the whole shot is usable
    usable_start = first / fps if first is not None and fps else start
    usable_end = (last + 1) / fps if last is not None and fps else end
    # frame times and the stored (rounded) shot times agree within a microsecond: keep the window inside the shot
    usable_start, usable_end = min(max(usable_start, start), end), max(min(usable_end, end), start)

    def opt(key: str) -> Any:
        value = row.get(key)
        return None if value is None or (isinstance(value, float) and not math.isfinite(value)) else value

    faces = _num(row.get("faces"))
    return ReferenceShot(
        shot_id=str(row["shot_id"]),
        film=str(row["film"]),
        source_path=source_paths.get(str(row["film"])),
        start_s=start,
        end_s=end,
        duration_s=float(row["duration_s"]),
        frame_rate=fps,
        usable_start_s=usable_start,
        usable_end_s=usable_end,
        shot_scale=ShotScale(ShotScale.parse(row.get("shot_scale"), ShotScale.UNKNOWN)),
        movement=CameraMovement(CameraMovement.parse(row.get("movement"), CameraMovement.UNKNOWN)),
        pan_speed=_num(row.get("pan_speed")),
        tilt_speed=_num(row.get("tilt_speed")),
        zoom_rate=_num(row.get("zoom_rate")),
        camera_jitter=_num(row.get("camera_jitter")),
        faces=None if faces is None else int(faces),
        brightness=_num(row.get("brightness")),
        lighting_key=opt("lighting_key"),
        motion_energy=_num(row.get("motion_energy")),
        keyframe_path=opt("keyframe_path"),
        description=str(row.get("description") or ""),
    )


#: Words too common in scenes and descriptions to say why a sequence matched.
_NOT_A_REASON = frozenset(
    "the and with into from over under their they his her its that this then shot shots palette sequence after opening film "
    "mood ext int".split()
)


def _query_tokens(text: str) -> set[str]:
    return {w for w in _words(text) if len(w) > 2 and w not in _NOT_A_REASON}


def _text_reason(query: set[str], descriptions: Iterable[str]) -> str | None:
    found = sorted(query & set().union(*(_query_tokens(d) for d in descriptions)))
    return f"full-text: {', '.join(found[:6])}" if found else None


def _footprint(shots: pd.DataFrame) -> list[tuple[float, float, float, str]]:
    """What a sequence's footage looks like, shot by shot: start, brightness, saturation, movement."""
    return [
        (float(r.start_s), float(r.brightness), float(r.saturation), str(r.movement))
        for r in shots[["start_s", "brightness", "saturation", "movement"]].fillna(-1.0).itertuples()
    ]


def _same_footage(a: list[tuple[float, float, float, str]], b: list[tuple[float, float, float, str]]) -> bool:
    """Two sequences that are copies of one footage (the film in another file or cut: the same
    shots starting within a quarter second, with the same light, colour and movement)."""
    return len(a) == len(b) and all(
        abs(x[0] - y[0]) <= 0.25 and abs(x[1] - y[1]) <= 0.03 and abs(x[2] - y[2]) <= 0.03 and x[3] == y[3] for x, y in zip(a, b)
    )


def _distinct(ranked: list[str], shots: pd.DataFrame, k: int) -> list[str]:
    """The best ``k`` of ``ranked`` sequence ids, skipping copies of footage already chosen, so
    the K references a scene gets are K different pieces of film."""
    chosen: list[str] = []
    prints: list[list[tuple[float, float, float, str]]] = []
    for sid in ranked:
        footprint = _footprint(shots[shots["sequence_id"] == sid].sort_values("start_s"))
        if any(_same_footage(footprint, p) for p in prints):
            continue
        chosen.append(sid)
        prints.append(footprint)
        if len(chosen) == k:
            break
    return chosen


def _retrieve_scene(
    library: _Library,
    scene: ScriptScene,
    brief: Brief,
    k: int,
    embed_text: Callable[[str], np.ndarray | None] | None,
    source_paths: Mapping[str, str],
) -> tuple[SceneRetrieval, bool]:
    targets = scene_targets(scene, brief)
    text = query_text(scene, brief)
    if not library.sequence_count:
        return SceneRetrieval(scene_id=scene.scene_id, query_text=text, targets=targets, matches=[]), False
    fts = library.text_hits(text)
    vector = embed_text(text) if embed_text is not None else None
    clip = library.vector_hits(np.asarray(vector, np.float32)) if vector is not None else {}
    if library.small:
        candidates = library.sequences(None)
    else:
        ids = sorted(set(fts) | set(clip) | library.attribute_candidates(targets))
        candidates = library.sequences(ids)
    shots = library.shots(list(candidates["sequence_id"]))
    if shots.empty:
        return SceneRetrieval(scene_id=scene.scene_id, query_text=text, targets=targets, matches=[]), bool(clip)
    # a sequence whose shots are not in the pinned shots version cannot be planned from: only scored sequences rank
    table = score_sequences(targets, shots)
    # CLIP counts only when the library has vectors to compare with (films ingested with real weights)
    fts_score = table.index.map(lambda sid: fts.get(sid, 0.0)).to_numpy(float)
    clip_score = table.index.map(lambda sid: clip.get(sid, 0.0)).to_numpy(float)
    table["text_score"] = (0.5 * fts_score + 0.5 * clip_score if clip else fts_score).round(6)
    table["attribute_score"] = table["attribute_score"].round(6)
    # the wrong look weighs on the words as on the measurements (score_sequences scaled those):
    # "static, normal" said of black-and-white footage is no better for a colour film
    look = LOOK_FLOOR + (1 - LOOK_FLOOR) * table["look"].fillna(1.0) if "look" in table else 1.0
    table["score"] = (TEXT_WEIGHT * table["text_score"] * look + ATTRIBUTE_WEIGHT * table["attribute_score"]).round(6)
    ranked = table.reset_index().sort_values(["score", "sequence_id"], ascending=[False, True], kind="stable")
    best = ranked[ranked["sequence_id"].isin(_distinct(list(ranked["sequence_id"]), shots, k))]
    sequences = candidates.set_index("sequence_id")
    query = _query_tokens(text)
    matches = []
    for rank, row in enumerate(best.to_dict("records"), start=1):
        sid = row["sequence_id"]
        seq = sequences.loc[sid]
        order = {s: i for i, s in enumerate(seq.get("shot_ids") if seq.get("shot_ids") is not None else [])}
        members = shots[shots["sequence_id"] == sid]
        members = members.assign(_order=[order.get(s, len(order)) for s in members["shot_id"]])
        members = members.sort_values(["_order", "shot_id"], kind="stable").drop(columns="_order")
        parts = attribute_reasons(targets, row, members)
        reasons = [phrase for s, phrase in parts if s >= REASON_THRESHOLD]
        if not reasons:  # nothing matched well: say what is nearest, with its measured values
            reasons = [f"nearest: {max(parts, key=lambda p: p[0])[1]}"]
        said = _text_reason(query, [seq.get("description") or "", *members["description"].fillna("")]) if fts.get(sid) else None
        if said:
            reasons.append(said)
        if sid in clip:
            reasons.append(f"clip: similarity {clip[sid]:.2f}")
        matches.append(
            SequenceMatch(
                rank=rank,
                sequence_id=sid,
                film=str(seq["film"]),
                score=float(row["score"]),
                text_score=float(row["text_score"]),
                attribute_score=float(row["attribute_score"]),
                reasons=reasons,
                camera_chain=str(seq.get("camera_chain") or ""),
                shots=[_reference_shot(r, source_paths) for r in members.to_dict("records")],
            )
        )
    return SceneRetrieval(scene_id=scene.scene_id, query_text=text, targets=targets, matches=matches), bool(clip)


def retrieve(
    script: Script,
    brief: Brief,
    index: Any,
    *,
    k: int = 3,
    embed_text: Callable[[str], np.ndarray | None] | None = None,
    source_paths: Mapping[str, str] | None = None,
    versions: Mapping[str, int] | None = None,
) -> SceneReferences:
    """The top-``k`` reference sequences for every scene of ``script``, one query per scene.

    ``index`` is a :class:`~filmaster_dag.index.ShotIndex`; both of its tables are read at the
    versions current when this starts (recorded in ``table_versions``). ``embed_text`` turns the
    query text into a CLIP text vector (None, or a function returning None, when no real weights
    are configured: then the text half is full-text search alone). ``source_paths`` maps a film
    slug to its file, for the ripomatic. ``versions`` (a recorded ``table_versions``) reads the
    library as it was then, to reproduce a production. An empty library gives every scene no matches."""
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    library = _Library(index, versions)
    scenes, clip_used = [], False
    for scene in script.scenes:
        retrieval, used = _retrieve_scene(library, scene, brief, k, embed_text, source_paths or {})
        scenes.append(retrieval)
        clip_used = clip_used or used
    return SceneReferences(
        production=script.production,
        k=k,
        table_versions=dict(library.versions),
        text_search="full-text+clip" if clip_used else "full-text",
        scenes=scenes,
    )


# -- contact sheet -------------------------------------------------------------------------------------


def _blank_jpeg(width: int, height: int, shade: int = 40) -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (width, height), (shade, shade, shade)).save(buf, format="JPEG", quality=70)
    return buf.getvalue()


def reference_sheet(retrieval: SceneRetrieval, read_jpeg: Callable[[str], bytes | None], thumb_width: int = 160) -> bytes | None:
    """A contact sheet (JPEG) of a scene's chosen sequences: one row per match, its shots' primary
    keyframes left to right, the first tile labelled with rank, score and sequence id. A keyframe
    that cannot be read shows as a grey tile; None when the scene has no match or no keyframe at all."""
    if not retrieval.matches:
        return None
    columns = min(6, max(len(m.shots) for m in retrieval.matches))
    width = max(8, thumb_width // 6)  # characters of PIL's default font that fit under a tile
    tiles: list[tuple[str, bytes | None]] = []
    for match in retrieval.matches:
        row: list[tuple[str, bytes | None]] = []
        for i, shot in enumerate(match.shots[:columns]):
            label = _fit(f"#{match.rank} {match.score:.2f} {match.sequence_id}", width) if i == 0 else _fit(str(shot.movement), width)
            row.append((label, read_jpeg(shot.keyframe_path) if shot.keyframe_path else None))
        row += [("", None)] * (columns - len(row))  # keep one match per row
        tiles += row
    if not any(data for _, data in tiles):
        return None
    size = next(_jpeg_size(data) for _, data in tiles if data)
    blank = _blank_jpeg(*size)
    return contact_sheet([(label, data or blank) for label, data in tiles], columns=columns, thumb_width=thumb_width)


def _fit(label: str, width: int) -> str:
    """A label cut to ``width`` characters, keeping its head (rank, score) and its tail (the sequence number)."""
    if len(label) <= width:
        return label
    head = label.split(" ")[0] + " " + label.split(" ")[1] + " " if label.startswith("#") else ""
    return head + "…" + label[-(width - len(head) - 1) :]


def _jpeg_size(data: bytes) -> tuple[int, int]:
    from PIL import Image

    with Image.open(io.BytesIO(data)) as img:
        return img.size


__all__ = ["attribute_reasons", "query_text", "reference_sheet", "retrieve", "scene_targets", "score_sequences"]
