"""Plain-language descriptions of measured shots and sequences, for full-text search."""

from __future__ import annotations

import math

MOVEMENT_WORDS = {
    "static": "static",
    "pan_left": "panning left",
    "pan_right": "panning right",
    "tilt_up": "tilting up",
    "tilt_down": "tilting down",
    "push_in": "push-in",
    "pull_out": "pull-out",
    "handheld": "handheld",
    "complex": "moving (complex camera move)",
}

SCALE_WORDS = {
    "extreme_close_up": "extreme close-up",
    "close_up": "close-up",
    "medium_close_up": "medium close-up",
    "medium": "medium",
    "medium_long": "medium long",
    "wide": "wide",
    "extreme_wide": "extreme wide",
}

TRANSITION_WORDS = {
    "start": "opening the film",
    "fade_in": "fading in at the opening",
    "cut": "after a cut",
    "dissolve": "after a dissolve",
    "fade": "after a fade",
}


def temperature_word(kelvin: float | None) -> str | None:
    if kelvin is None or not math.isfinite(kelvin):
        return None
    if kelvin < 4500:
        return "warm"
    if kelvin > 7000:
        return "cool"
    return "neutral"


def _num(record: dict, key: str) -> float | None:
    value = record.get(key)
    try:
        value = float(value)
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
        parts.append(str(key).replace("_", "-"))
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
