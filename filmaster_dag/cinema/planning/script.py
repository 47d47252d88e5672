"""The script writer: a brief expanded into scenes, by rules or by a language model held to the brief.

Two writers, one result (:class:`~.models.Script`):

- :func:`rules_script`, deterministic and the default. When the brief gives scenes it keeps each one
  (heading, location, time of day, dialogue, narration, mood) and adds what a script needs on top:
  action beats (the action split into one visual event each), the characters on screen (declared
  names the action mentions, plus every speaker) and a narrative objective from the scene's place in
  the story (setup, development, climax, resolution). Without scenes it splits the synopsis (or the
  logline) into beats and groups them into scenes of about :data:`SECONDS_PER_SCENE` each, cutting
  where the text moves to another declared location; time of day, mood and location are read from
  the words of each scene's text (defaults below).
- :func:`write_script` asks a language model for the whole script as JSON (:class:`ScriptDraft`, whose
  schema already names the declared characters and locations), checks the answer against the brief,
  and falls back to the rules script, saying why, when anything is wrong.

Either way each scene's ``duration_s`` comes from :func:`scene_durations`: the target length shared in
proportion to a scene's content (its beats, and the time its lines take to say or to read), never
below the time its lines need, summing exactly to the target.

Defaults when the words say nothing: time of day ``day`` for the first scene (then the previous
scene's), mood the story's own (read from the logline and synopsis) or else ``calm``, location the
previous scene's (else the first declared one), exterior unless the text says inside.

No Dagster here; a model is anything shaped like :class:`JsonModel` (the ``LanguageModel`` resource is).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Sequence
from itertools import pairwise
from typing import Any, Literal, Protocol, TypeVar, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from ...llm.client import describe_validation_error
from ..brief import Brief, DialogueLine, Mood, TimeOfDay
from .models import Provenance, Script, ScriptScene, reading_time_s, speaking_time_s

__all__ = [
    "JsonAnswer",
    "JsonModel",
    "LineDraft",
    "SceneDraft",
    "ScriptDraft",
    "ask_for_draft",
    "line_seconds",
    "mentions",
    "rules_script",
    "scene_durations",
    "share",
    "time_phrase",
    "timing_problem",
    "write_script",
]

#: A scene of a synopsis-only brief covers about this much screen time (one scene per 10-20 s).
SECONDS_PER_SCENE = 15.0
#: Screen time a beat is worth when the target length is shared between scenes (a weight, not a length).
BEAT_WEIGHT_S = 4.0
#: A model's script may not hold more scenes than one per this many seconds of film.
MIN_SECONDS_PER_SCENE = 3.0

D = TypeVar("D", bound=BaseModel)


# -- the language model, as this module sees it ----------------------------------------------------


class JsonAnswer(Protocol):
    """What ``complete_json`` returns (``filmaster_dag.llm.JsonResult`` is one)."""

    @property
    def value(self) -> BaseModel | None: ...
    @property
    def error(self) -> str | None: ...
    @property
    def attempts(self) -> int: ...
    @property
    def seconds(self) -> float: ...


class JsonModel(Protocol):
    """A language model that answers JSON matching a pydantic schema (the ``LanguageModel`` resource's shape)."""

    @property
    def available(self) -> bool: ...
    @property
    def identity(self) -> str: ...
    def complete_json(
        self, messages: list[dict[str, Any]], schema: type[BaseModel], *, temperature: float = 0.2, seed: int | None = None
    ) -> JsonAnswer: ...


# -- timing -------------------------------------------------------------------------------------


def line_seconds(text: str, brief: Brief) -> float:
    """Screen time a line of dialogue or narration needs: spoken, or read as a title card in a silent film."""
    return reading_time_s(text) if brief.style.narration == "title_cards" else speaking_time_s(text)


def share(total: float, weights: Sequence[float], minimums: Sequence[float]) -> list[float]:
    """``total`` shared in proportion to ``weights``, each part at least its minimum, the parts summing to ``total``.

    Parts whose proportional share falls below their minimum are held at it and the rest is shared
    again among the others. When the minimums alone exceed ``total`` they cannot all be honoured:
    the parts are then proportional to the minimums (the shortfall is spread evenly, and reported
    by the plan's checks rather than hidden).
    """
    n = len(weights)
    if n == 0:
        return []
    need = sum(minimums)
    if need >= total:
        return [total * m / need for m in minimums] if need > 0 else [total / n] * n
    fixed: set[int] = set()
    parts = [0.0] * n
    while True:
        free = [i for i in range(n) if i not in fixed]
        rest = total - sum(minimums[i] for i in fixed)
        weight = sum(max(weights[i], 0.0) for i in free)
        for i in free:
            parts[i] = rest * (max(weights[i], 0.0) / weight if weight > 0 else 1 / len(free))
        short = [i for i in free if parts[i] < minimums[i]]
        if not short:
            break
        for i in short:
            fixed.add(i)
            parts[i] = minimums[i]
    return parts


def _scene_lines(dialogue: Sequence[DialogueLine | LineDraft], narration: Sequence[str]) -> list[str]:
    return [line.text for line in dialogue] + list(narration)


def scene_durations(scenes: Sequence[SceneDraft | ScriptScene], brief: Brief) -> list[float]:
    """Each scene's share of ``brief.target_duration_s`` (seconds, to the millisecond, summing exactly to it).

    A scene weighs :data:`BEAT_WEIGHT_S` per beat plus the time its dialogue and narration take
    (:func:`line_seconds`); it never gets less than its lines need, unless the lines of the whole
    film need more than the target (then every scene is short in proportion).
    """
    need = [sum(line_seconds(t, brief) for t in _scene_lines(s.dialogue, s.narration)) for s in scenes]
    weights = [len(s.beats) * BEAT_WEIGHT_S + n for s, n in zip(scenes, need, strict=True)]
    parts = share(brief.target_duration_s, weights, need)
    # millisecond values, the rounding error given to the longest scene, so the sum is the target
    out = [round(p, 3) for p in parts]
    longest = max(range(len(out)), key=lambda i: out[i])
    out[longest] = round(brief.target_duration_s - sum(out[:longest]) - sum(out[longest + 1 :]), 3)
    return out


def timing_problem(brief: Brief) -> str | None:
    """Why the brief's own lines cannot fit its length (one line, with the fix), or ``None`` when they can.

    Every plan of such a brief cuts some line short, so the production should refuse the brief
    rather than plan it."""
    need = sum(line_seconds(t, brief) for s in brief.scenes for t in _scene_lines(s.dialogue, s.narration))
    if need <= brief.target_duration_s:
        return None
    how = "read as title cards" if brief.style.narration == "title_cards" else "spoken"
    return (
        f"target_duration_s: the dialogue and narration need {need:.1f} s {how}, more than the film's {brief.target_duration_s:g} s; "
        f"fix: raise target_duration_s to at least {math.ceil(need)} or cut lines"
    )


# -- reading the words ----------------------------------------------------------------------------

#: Words that set a time of day, checked in this order (the first time named wins).
_TIME_WORDS: tuple[tuple[TimeOfDay, tuple[str, ...]], ...] = (
    ("dawn", ("dawn", "sunrise", "daybreak", "first light")),
    ("morning", ("morning", "breakfast")),
    ("afternoon", ("afternoon",)),
    ("dusk", ("dusk", "sunset", "twilight", "last light", "nightfall")),
    ("evening", ("evening",)),
    ("night", ("night", "midnight", "moonlight", "moon", "darkness", "stars")),
    ("day", ("noon", "midday", "daylight", "sunshine")),
)

#: Words that suggest a mood (regular expressions matched as whole words: ``\w*`` marks a stem);
#: the mood with the most hits wins (ties: earlier in this list).
_MOOD_WORDS: tuple[tuple[Mood, tuple[str, ...]], ...] = (
    (
        "frantic",
        (r"chas\w*", r"run(s|ning)?", r"flee\w*", r"rac(e|es|ing)", r"dash\w*", r"scrambl\w*", r"hurr\w*", r"panic\w*", r"blunder\w*"),
    ),
    ("comic", (r"collid\w*", r"skid\w*", "stuck", "pops", r"tumbl\w*", r"trip(s|ping|ped)?", "slapstick", "bows", "ceremony", r"yawn\w*")),
    ("tense", (r"corner(ed)?", r"threat\w*", r"danger\w*", r"trap(s|ped)?", r"creep\w*", "waits", r"sneak\w*")),
    ("triumphant", (r"triumph\w*", r"victor\w*", r"win(s|ning|ner)?", r"cheer(s|ing)?", r"celebrat\w*", r"hero(es|ic)?")),
    ("melancholy", ("alone", "last light", "fades", "lonely", "loss", "goodbye", "tired", "nearly gone")),
    ("tender", ("gentle", "gently", "careful", "carefully", r"friends?", "helps", r"hug\w*", "kind", "together")),
    ("eerie", (r"ghost\w*", "strange", r"shadows?", "silent", r"fog(gy)?")),
    ("mysterious", (r"myster\w*", r"secret\w*", r"vanish\w*", "hidden", "unknown")),
    ("playful", (r"play(s|ing|ful)?", r"hop(s|ping|ped)?", r"games?", r"teas(e|es|ing)", r"bounc\w*", r"twirl\w*")),
    ("cheerful", ("sun comes out", "sunny", "bright", r"sparkl\w*", "happy", r"laugh\w*", r"delight\w*")),
    ("calm", ("mist", "quiet", "slowly", "still", r"peace\w*", "breathes")),
    ("somber", (r"funeral\w*", "grave", r"mourn\w*", r"grie(f|ve)\w*")),
)

_INSIDE = ("inside", "indoors", "room", "kitchen", "hall", "cellar", "interior")
#: Words of a name that do not identify anyone ('The Tramp' is found by 'tramp', 'Old Tomas' by 'tomas').
_NAME_NOISE = frozenset({"the", "a", "an", "old", "young", "little", "big", "mr", "mrs", "miss", "dr", "of", "and", "sir", "lady"})


def _has(text: str, phrase: str) -> bool:
    """``phrase`` in ``text`` as whole words ('Pip' is not in 'pipe')."""
    return re.search(r"(?<![\w'])" + re.escape(phrase.strip()) + r"(?!\w)", text, re.IGNORECASE) is not None


def _infer_time(text: str, default: TimeOfDay) -> TimeOfDay:
    hits = [(m.start(), tod) for tod, words in _TIME_WORDS for w in words if (m := re.search(rf"\b{re.escape(w)}\b", text, re.I))]
    return min(hits)[1] if hits else default


def _infer_mood(text: str, default: Mood) -> Mood:
    def hits(words: tuple[str, ...]) -> int:
        return sum(len(re.findall(rf"(?<![\w'])(?:{w})(?!\w)", text, re.IGNORECASE)) for w in words)

    counts = [(hits(words), -k, mood) for k, (mood, words) in enumerate(_MOOD_WORDS)]
    best = max(counts)
    return best[2] if best[0] > 0 else default


def _name_words(name: str) -> list[str]:
    words = [w for w in re.findall(r"[\w'-]+", name.casefold()) if w not in _NAME_NOISE and len(w) > 2]
    return words or [name.casefold()]


def mentions(text: str, name: str) -> bool:
    """Whether ``text`` names the character ``name`` (whole name, or a telling word of it: 'tramp' for 'The Tramp')."""
    return _has(text, name) or any(re.search(rf"\b{re.escape(w)}\b", text, re.I) for w in _name_words(name))


def _characters_in(text: str, brief: Brief) -> list[str]:
    return [c.name for c in brief.characters if mentions(text, c.name)]


def _location_in(text: str, brief: Brief) -> str | None:
    """The declared location the text names (whole name first, then a telling word of it: 'park' for 'Park')."""
    for loc in brief.locations:
        if _has(text, loc.name):
            return loc.name
    for loc in brief.locations:
        if any(re.search(rf"\b{re.escape(w)}\b", text, re.I) for w in _name_words(loc.name)):
            return loc.name
    return None


_SENTENCE = re.compile(r"(?<=[.!?])[\"'”’)]?\s+(?=[A-Z\"'“‘(])")
_CLAUSE = re.compile(r"\s*;\s*|\s*,?\s+(?:and then|then)\s+|\s*[—–]\s*")


_NOT_VERBS = frozenset(
    {"as", "is", "was", "has", "its", "his", "hers", "this", "thus", "us", "yes", "across", "towards", "always", "perhaps"}
    | {"sometimes", "unless", "less", "grass", "glass", "moss", "dress", "class", "its", "theirs", "ours", "yours"}
)


def _verb(word: str) -> bool:
    """A present-tense verb after a singular subject, as screen action is written ('runs', 'ducks', 'flaps')."""
    return re.fullmatch(r"[a-z]{2,}s", word) is not None and word not in _NOT_VERBS


def _split_actions(sentence: str) -> list[str]:
    """'The tramp runs, skids round corners, ducks behind a lamp-post.' -> one beat per verb, each with its subject.

    Only a short subject (four words at most, before the first verb) is repeated; anything more
    tangled stays one beat rather than being cut in the wrong place.
    """
    words = sentence.split()
    first = next((i for i, w in enumerate(words) if _verb(w.strip(",;."))), None)
    if first is None or not 0 < first <= 4 or any(w.endswith(",") for w in words[:first]):
        return [sentence]
    subject = " ".join(words[:first])
    parts = re.split(r",\s+(?:and\s+)?(?=([a-z]+)\b)", sentence)
    # re.split with a group interleaves the captured word: keep only the text pieces
    pieces = [parts[0]] + [parts[k + 1] for k in range(1, len(parts) - 1, 2)]
    heads = [None] + [parts[k] for k in range(1, len(parts) - 1, 2)]
    beats: list[str] = []
    for piece, head in zip(pieces, heads, strict=True):
        if head is not None and _verb(head) and beats:
            beats.append(f"{subject} {piece}")
        elif beats:
            beats[-1] = f"{beats[-1]}, {piece}"
        else:
            beats.append(piece)
    return beats


def split_beats(text: str) -> list[str]:
    """Action text as beats, one visual event each: sentences, split again at semicolons, dashes, 'then',
    and between the verbs of one subject ('Buck bends down, sets the bird upright' is two beats)."""
    beats: list[str] = []
    for sentence in _SENTENCE.split(" ".join(text.split())):
        for clause in _CLAUSE.split(sentence):
            for action in _split_actions(clause.strip(" ,;")):
                action = action.strip(" ,;")
                if len(re.findall(r"\w+", action)) < 2:
                    if beats and action:
                        beats[-1] = beats[-1].rstrip(".") + " " + action
                    continue
                action = action[0].upper() + action[1:]
                beats.append(action if action[-1] in ".!?" else action + ".")
    return beats


_FUNCTION_WORDS = frozenset(
    {"the", "a", "an", "he", "she", "it", "they", "his", "her", "its", "their", "on", "at", "in", "neither", "every"}
)


def _clause(beat: str) -> str:
    """A beat as a clause inside a sentence: no full stop, a lower-case start unless it starts with a name."""
    text = beat.rstrip(".!? ")
    head = text.split(" ", 1)[0]
    return text[0].lower() + text[1:] if head.lower() in _FUNCTION_WORDS else text


_WHEN: dict[str, str] = {
    "dawn": "at dawn",
    "morning": "in the morning",
    "day": "by day",
    "afternoon": "in the afternoon",
    "dusk": "at dusk",
    "evening": "in the evening",
    "night": "at night",
}


def time_phrase(time_of_day: TimeOfDay) -> str:
    """'at dusk', 'in the morning', 'by day': a time of day as a sentence says it."""
    return _WHEN[time_of_day]


def _objective(index: int, count: int, draft: SceneDraft) -> str:
    """The scene's job in the story, from its place in it: setup, development, climax or resolution."""
    who = ", ".join(draft.characters) or "the world of the film"
    where = draft.location or draft.heading
    event = _clause(draft.beats[0])
    if count == 1:
        return f"Tell the whole story in one movement: establish {who} at {where}, then {event}, in a {draft.mood} tone."
    if index == 0:
        return f"Setup: establish {where} {time_phrase(draft.time_of_day)} and introduce {who}, setting a {draft.mood} tone."
    if index == count - 1:
        return f"Resolution: bring the story to rest as {_clause(draft.beats[-1])}; leave the audience {draft.mood}."
    if count >= 4 and index == count - 2:
        return f"Climax: the turning point, as {event}."
    return f"Development: move the story on as {event}."


# -- drafts: what a writer produces before durations are shared -------------------------------------


class _Draft(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LineDraft(_Draft):
    """A spoken line in a model's answer."""

    speaker: str = Field(min_length=1)
    text: str = Field(min_length=1)


class SceneDraft(_Draft):
    """A scene as a writer (the rules, or a model) proposes it; :func:`scene_durations` adds its length."""

    heading: str = Field(min_length=1, description="screenplay heading, 'EXT. MEADOW - MORNING'")
    location: str | None = Field(description="a declared location's name, or null")
    time_of_day: TimeOfDay
    characters: list[str] = Field(description="declared characters on screen, speakers included")
    beats: list[str] = Field(min_length=1, description="action beats in order, present tense, one visual event each")
    dialogue: list[LineDraft] = Field(description="spoken lines in order")
    narration: list[str] = Field(description="voice-over passages or title cards, in order")
    mood: Mood
    objective: str = Field(min_length=1, description="what the scene must achieve for the story")


class ScriptDraft(_Draft):
    """A whole script as a model answers it."""

    scenes: list[SceneDraft] = Field(min_length=1)


def _draft_schema(brief: Brief) -> type[ScriptDraft]:
    """:class:`ScriptDraft` with the declared names as the only allowed characters, speakers and locations.

    Putting them in the schema lets a server constrain its decoding to them, and lets the client feed
    a wrong name back to the model as a validation error before giving up.
    """
    names = tuple(c.name for c in brief.characters)
    who: Any = Literal.__getitem__(names)
    line = create_model("LineDraft", __base__=LineDraft, speaker=(who, Field(description="a declared character")))
    fields: dict[str, Any] = {
        "characters": (list[who], Field(description="declared characters on screen, speakers included")),
        "dialogue": (list[line], Field(description="spoken lines in order")),  # type: ignore[valid-type]
    }
    if brief.locations:
        place: Any = Literal.__getitem__(tuple(loc.name for loc in brief.locations))
        fields["location"] = (place | None, Field(description="a declared location's name, or null"))
    scene = create_model("SceneDraft", __base__=SceneDraft, **fields)
    return create_model("ScriptDraft", __base__=ScriptDraft, scenes=(list[scene], Field(min_length=1)))  # type: ignore[valid-type]


# -- the rules writer ---------------------------------------------------------------------------------


def _story_mood(brief: Brief) -> Mood:
    return _infer_mood(" ".join(t for t in (brief.logline, brief.synopsis) if t), "calm")


def _kept_scenes(brief: Brief) -> list[SceneDraft]:
    """The brief's own scenes, kept, with beats, characters and (below) an objective added."""
    drafts = []
    for scene in brief.scenes:
        speakers = [brief.character(line.speaker).name for line in scene.dialogue]
        named = [brief.character(n).name for n in scene.characters]
        mentioned = _characters_in(scene.action, brief)
        characters = list(dict.fromkeys(named + mentioned + speakers))
        drafts.append(
            SceneDraft(
                heading=scene.heading,
                location=scene.location,
                time_of_day=scene.time_of_day,
                characters=characters,
                beats=split_beats(scene.action) or [scene.action],
                dialogue=[LineDraft(speaker=brief.character(d.speaker).name, text=d.text) for d in scene.dialogue],
                narration=list(scene.narration),
                mood=scene.mood,
                objective="-",
            )
        )
    return drafts


def _scene_count(brief: Brief, beats: int) -> int:
    return max(1, min(beats, round(brief.target_duration_s / SECONDS_PER_SCENE)))


def _group(beats: list[str], count: int, brief: Brief) -> list[list[str]]:
    """Beats in ``count`` runs of about equal size, each cut moved to a nearby beat that changes location."""
    n = len(beats)
    places = [_location_in(b, brief) for b in beats]
    cuts: list[int] = []
    for k in range(1, count):
        ideal = round(k * n / count)
        low = (cuts[-1] + 1) if cuts else 1
        options = [c for c in (ideal, ideal - 1, ideal + 1) if low <= c <= n - (count - k)]
        moves = [c for c in options if places[c] is not None and places[c] != _last_place(places, c)]
        cuts.append(moves[0] if moves else max(low, min(ideal, n - (count - k))))
    bounds = [0, *cuts, n]
    return [beats[a:b] for a, b in pairwise(bounds)]


def _last_place(places: list[str | None], before: int) -> str | None:
    return next((p for p in reversed(places[:before]) if p is not None), None)


def _split_story(brief: Brief) -> list[SceneDraft]:
    """A synopsis-only brief: its sentences as beats, grouped into scenes, each read for time, place and mood."""
    beats = split_beats(brief.synopsis or brief.logline or "")
    if not beats:
        beats = [brief.title]
    default_mood = _story_mood(brief)
    time: TimeOfDay = "day"
    place = brief.locations[0].name if brief.locations else None
    drafts = []
    for group in _group(beats, _scene_count(brief, len(beats)), brief):
        text = " ".join(group)
        time = _infer_time(text, time)
        place = _location_in(text, brief) or place
        inside = any(_has(text, w) for w in _INSIDE)
        label = (place or _first_noun(text)).upper()
        tod = time.upper()
        drafts.append(
            SceneDraft(
                heading=f"{'INT' if inside else 'EXT'}. {label} - {tod}",
                location=place,
                time_of_day=time,
                characters=_characters_in(text, brief),
                beats=group,
                dialogue=[],
                narration=[],
                mood=_infer_mood(text, default_mood),
                objective="-",
            )
        )
    return drafts


def _first_noun(text: str) -> str:
    """A place for a heading when no location is declared: the noun after the first 'on/in/at/into the ...'."""
    m = re.search(r"\b(?:on|in|at|into|across|through)\s+(?:a|an|the)\s+(?:\w+\s+)?(\w+)", text, re.I)
    return m.group(1) if m else "SOMEWHERE"


def _finish(drafts: list[SceneDraft], brief: Brief, production: str, provenance: Provenance) -> Script:
    durations = scene_durations(drafts, brief)
    scenes = [
        ScriptScene(
            scene_id=f"s{i + 1:02d}",
            heading=d.heading,
            location=d.location,
            time_of_day=d.time_of_day,
            characters=d.characters,
            beats=d.beats,
            dialogue=[DialogueLine(speaker=line.speaker, text=line.text) for line in d.dialogue],
            narration=d.narration,
            mood=d.mood,
            objective=d.objective,
            duration_s=seconds,
            provenance=provenance,
        )
        for i, (d, seconds) in enumerate(zip(drafts, durations, strict=True))
    ]
    return Script(production=production, title=brief.title, scenes=scenes, target_duration_s=brief.target_duration_s)


def _rules_drafts(brief: Brief) -> list[SceneDraft]:
    drafts = _kept_scenes(brief) if brief.scenes else _split_story(brief)
    return [d.model_copy(update={"objective": _objective(i, len(drafts), d)}) for i, d in enumerate(drafts)]


def rules_script(brief: Brief, production: str) -> Script:
    """The deterministic script: the brief's scenes kept (or its synopsis split), with beats, objectives and durations."""
    return _finish(_rules_drafts(brief), brief, production, Provenance(by="rules"))


# -- the language-model writer -----------------------------------------------------------------------

_SYSTEM = (
    "You are a screenwriter breaking a producer's brief into a shooting script for a short film. "
    "Write action beats in the present tense, one visual event each, as a camera would see them. "
    "Use only the characters and locations the brief declares, spelled exactly as declared. "
    "When the brief gives scenes, keep every one of them, in order, with exactly its dialogue lines "
    "(same speakers, same words) and narration; add beats, characters on screen and an objective. "
    "Otherwise write about one scene per 10 to 20 seconds of the target length."
)


def _brief_for_model(brief: Brief) -> str:
    data = brief.model_dump(mode="json", exclude={"resolution", "frame_rate"})
    for c in data["characters"]:
        c.pop("reference_images", None)
    return json.dumps(data, ensure_ascii=False, indent=1)


def _messages(brief: Brief) -> list[dict[str, Any]]:
    times = ", ".join(get_args(TimeOfDay))
    moods = ", ".join(get_args(Mood))
    user = (
        f"The brief:\n{_brief_for_model(brief)}\n\n"
        f"Write the script for this {brief.target_duration_s:g}-second film. time_of_day is one of: {times}. "
        f"mood is one of: {moods}. The objective says in one sentence what the scene must achieve for the story."
    )
    return [{"role": "system", "content": _SYSTEM}, {"role": "user", "content": user}]


def _same_line(a: LineDraft, b: DialogueLine) -> bool:
    return a.speaker.casefold() == b.speaker.casefold() and " ".join(a.text.split()) == " ".join(b.text.split())


def script_problems(draft: ScriptDraft, brief: Brief) -> list[str]:
    """Why a model's script cannot be used for this brief (empty when it can); one short line each."""
    problems: list[str] = []
    names = {c.name.casefold() for c in brief.characters}
    places = {loc.name.casefold() for loc in brief.locations}
    for i, scene in enumerate(draft.scenes):
        for who in [*scene.characters, *(line.speaker for line in scene.dialogue)]:
            if who.casefold() not in names:
                problems.append(f"scene {i + 1} names {who!r}, who is not a declared character")
        if places and scene.location is not None and scene.location.casefold() not in places:
            problems.append(f"scene {i + 1} is set at {scene.location!r}, which is not a declared location")
        if not all(b.strip() for b in scene.beats):
            problems.append(f"scene {i + 1} has an empty beat")
    if brief.scenes:
        if len(draft.scenes) != len(brief.scenes):
            problems.append(f"the brief gives {len(brief.scenes)} scenes; the answer has {len(draft.scenes)}")
        else:
            for i, (mine, given) in enumerate(zip(draft.scenes, brief.scenes, strict=True)):
                if len(mine.dialogue) != len(given.dialogue) or not all(map(_same_line, mine.dialogue, given.dialogue)):
                    problems.append(f"scene {i + 1} does not keep the brief's dialogue (same speakers and words, in order)")
                if [" ".join(t.split()) for t in mine.narration] != [" ".join(t.split()) for t in given.narration]:
                    problems.append(f"scene {i + 1} does not keep the brief's narration")
    elif len(draft.scenes) > max(1, int(brief.target_duration_s // MIN_SECONDS_PER_SCENE)):
        problems.append(f"{len(draft.scenes)} scenes are too many for {brief.target_duration_s:g} s")
    need = sum(line_seconds(t, brief) for s in draft.scenes for t in _scene_lines(s.dialogue, s.narration))
    if need > brief.target_duration_s:
        problems.append(f"its lines need {need:.1f} s, more than the film's {brief.target_duration_s:g} s")
    return problems


def _held_to_brief(draft: ScriptDraft, brief: Brief) -> list[SceneDraft]:
    """The model's scenes with the brief's own facts restored where it gave them (the brief is the authority):
    heading, location, time of day, mood, dialogue and narration of each given scene; declared spellings of
    names; every speaker on screen."""
    out = []
    for i, scene in enumerate(draft.scenes):
        given = brief.scenes[i] if brief.scenes else None
        lines = given.dialogue if given else scene.dialogue
        dialogue = [LineDraft(speaker=brief.character(d.speaker).name, text=d.text) for d in lines]
        named = [brief.character(n).name for n in (given.characters if given else ())]
        named += [brief.character(n).name for n in scene.characters] + [d.speaker for d in dialogue]
        update: dict[str, Any] = {"characters": list(dict.fromkeys(named)), "dialogue": dialogue}
        update["beats"] = [" ".join(b.split()) for b in scene.beats]
        if given:
            update |= {"heading": given.heading, "location": given.location, "time_of_day": given.time_of_day, "mood": given.mood}
            update["narration"] = list(given.narration)
        elif brief.locations and scene.location is not None:
            update["location"] = next(loc.name for loc in brief.locations if loc.name.casefold() == scene.location.casefold())
        out.append(scene.model_copy(update=update))
    return out


def ask_for_draft(
    model: JsonModel,
    messages: list[dict[str, Any]],
    schema: type[BaseModel],
    draft_type: type[D],
    problems_of: Callable[[D], list[str]],
) -> tuple[D | None, Provenance]:
    """Ask ``model`` for JSON matching ``schema``, read it as ``draft_type`` and check it with ``problems_of``.

    Returns the draft and the model's provenance, or ``None`` and the rules' provenance with the one-line
    reason the answer was refused (the client's error, or the first problems found)."""
    answer = model.complete_json(messages, schema, temperature=0.2, seed=0)
    reason = answer.error or "the model gave no answer"
    seconds = round(answer.seconds, 3)
    if answer.value is not None:
        try:
            draft = draft_type.model_validate(answer.value.model_dump())
        except ValidationError as err:
            problems = [describe_validation_error(err, draft_type)]
        else:
            problems = problems_of(draft)
            if not problems:
                return draft, Provenance(by=model.identity, attempts=answer.attempts, seconds=seconds)
        reason = "; ".join(problems[:3]) + (f"; and {len(problems) - 3} more" if len(problems) > 3 else "")
    return None, Provenance(by="rules", fallback_reason=" ".join(reason.split()), attempts=answer.attempts, seconds=seconds)


def write_script(brief: Brief, production: str, model: JsonModel | None) -> Script:
    """The script by the language model when one is available and its answer holds up, else by the rules.

    The answer must match :class:`ScriptDraft` (declared names only, the vocabulary's times and
    moods) and :func:`script_problems` must find nothing; otherwise the rules script is returned with
    ``Provenance(by="rules", fallback_reason=...)`` on every scene. Durations come from
    :func:`scene_durations` either way: a model never decides the film's length.
    """
    if model is None or not model.available:
        return rules_script(brief, production)
    draft, provenance = ask_for_draft(model, _messages(brief), _draft_schema(brief), ScriptDraft, lambda d: script_problems(d, brief))
    drafts = _held_to_brief(draft, brief) if draft is not None else _rules_drafts(brief)
    return _finish(drafts, brief, production, provenance)
