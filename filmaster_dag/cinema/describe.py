"""Plain-language descriptions of measured shots and sequences, for full-text search.

The words are the vocabulary's phrases (:attr:`~filmaster_dag.cinema.vocabulary.Term.words`), so a
search for "push-in" or "close-up" finds what the measurements stored as ``push_in``/``close_up``.
"""

from __future__ import annotations

import math

from .vocabulary import CameraMovement, LightingKey, ShotScale, Term, TransitionIn


def _phrases(vocabulary: type[Term]) -> dict[str, str]:
    """{stored word: phrase} of a vocabulary, without "unknown" (an unmeasured quality is left unsaid)."""
    return {term.value: term.words for term in vocabulary if term.value != "unknown"}


MOVEMENT_WORDS = _phrases(CameraMovement)
SCALE_WORDS = _phrases(ShotScale)
TRANSITION_WORDS = _phrases(TransitionIn)
LIGHTING_WORDS = {term.value: term.words for term in LightingKey}


def temperature_word(kelvin: float | None) -> str | None:
    if kelvin is None or not math.isfinite(kelvin):
        return None
    if kelvin < 4500:
        return "warm"
    if kelvin > 7000:
        return "cool"
    return "neutral"


def _num(record: dict, key: str) -> float | None:
    try:
        value = float(record.get(key))  # type: ignore[arg-type]  # None and text fall to the except
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def describe_shot(record: dict) -> str:
    """E.g. ``"static wide shot, high-key, warm palette, 3.9 s, after a cut"``."""
    movement = MOVEMENT_WORDS.get(record.get("movement") or "", None)
    scale = SCALE_WORDS.get(record.get("shot_scale") or "", None)
    head = " ".join(w for w in (movement, scale, "shot") if w)
    parts = [head]
    key = record.get("lighting_key")
    if key:
        # A word outside the vocabulary (never stored: records are conformed) is spelled as before.
        parts.append(LIGHTING_WORDS.get(key) or str(key).replace("_", "-"))
    saturation = _num(record, "saturation")
    temp = temperature_word(_num(record, "colour_temperature_k"))
    if saturation is not None and saturation < 0.02:
        parts.append("black-and-white")
    elif saturation is not None and saturation < 0.08:
        parts.append(f"desaturated{f', {temp}' if temp else ''} palette")
    elif temp:
        parts.append(f"{temp} palette")
    energy = _num(record, "motion_energy")
    if energy is not None and energy > 0.08:
        parts.append("lots of action in frame")
    faces = _num(record, "faces")
    if faces:
        parts.append(f"{int(faces)} face{'s' if faces > 1 else ''} visible")
    duration = _num(record, "duration_s")
    if duration is not None:
        parts.append(f"{duration:.1f} s")
    transition = TRANSITION_WORDS.get(record.get("transition_in") or "")
    if transition:
        parts.append(transition)
    return ", ".join(parts)


def describe_sequence(shot_count: int, duration_s: float, chain: str, break_reason: str) -> str:
    opening = {"start": "opening sequence", "fade": "sequence after a fade", "new look": "sequence"}.get(break_reason, "sequence")
    return f"{opening} of {shot_count} shot{'s' if shot_count != 1 else ''}, {duration_s:.1f} s: {chain}"
