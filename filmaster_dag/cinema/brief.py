"""The production brief: what a producer hands the film-makers, as one YAML file.

A brief names the film (title, logline and/or synopsis), the audience it is made for (a persona
the audience review uses later), its style, length, picture format (resolution and an exact
frame rate), its characters with optional reference images, and optionally its locations and
scenes. When scenes are given the writer keeps them; otherwise it splits the synopsis into beats.

:class:`Brief` is the pydantic schema (unknown fields are refused, so a misspelt key never goes
unnoticed). :func:`load_brief` reads a file safely and turns every problem into one
:class:`BriefError` whose message is a single line a person can act on::

    dusk.yaml:44: scenes[0].dialogue[1].speaker: found 'Stranger' (text); expected one of the declared
    characters ('Lena', 'Old Tomas'); fix: add 'Stranger' under characters, or use a declared name

(one line in reality). Reference image paths resolve inside the brief's folder only: no ``..``,
no absolute path or symbolic link leading out of it, and the file must exist.

:func:`brief_slug` gives the brief's ``productions`` partition key and :func:`brief_digest` the
hash of its content (a sensor requests a run when it changes).

No Dagster here: the assets and the sensor wrap these functions.
"""

from __future__ import annotations

import difflib
import hashlib
import os
import re
from collections.abc import Iterator
from fractions import Fraction
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    ValidationError,
    ValidationInfo,
    model_validator,
)
from pydantic_core import PydanticCustomError

from .naming import slugify

# -- the brief's own small vocabularies --------------------------------------------------------

#: Screenplay times of day, in the order the sun keeps them. Each implies a brightness and a
#: lighting key for retrieval (dusk and night low key, morning and day normal to high key).
TimeOfDay = Literal["dawn", "morning", "day", "afternoon", "dusk", "evening", "night"]
#: The mood of a scene: drives palette and pace when references are retrieved and shots planned.
Mood = Literal[
    "calm", "cheerful", "playful", "comic", "tender", "melancholy", "tense", "frantic", "mysterious", "eerie", "triumphant", "somber"
]
#: How long the audience stays with a shot before wanting something new (the review checks pacing against it).
AttentionSpan = Literal["short", "medium", "long"]
Pace = Literal["slow", "moderate", "fast"]
ColorMode = Literal["color", "black_and_white"]
#: How narration reaches the audience: a voice over the picture, or title cards between shots (silent film).
NarrationMode = Literal["voice_over", "title_cards"]

#: Longest film one brief may ask for: a production plans one short; a longer work is several briefs.
MAX_DURATION_S = 1800
MAX_FRAME_RATE = 120
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".webp", ".bmp", ".tif", ".tiff")
#: NTSC rates written as decimals (23.976, 29.97, ...) mean n*1000/1001, as every editing tool reads them.
_NTSC = {round(n * 1000 / 1001, 3): Fraction(n * 1000, 1001) for n in (24, 30, 48, 60, 120)}
_MAX_FILE_BYTES = 1 << 20
_MAX_NODES = 100_000  # YAML aliases can expand a small file enormously ("billion laughs")


def _lower(value: object) -> object:
    """Vocabulary words are matched case-insensitively (``DUSK`` as in a scene heading is ``dusk``)."""
    return value.strip().lower().replace(" ", "_").replace("-", "_") if isinstance(value, str) else value


def _as_list(value: object) -> object:
    """One text where a list is expected is a list of one: ``narration: "..."`` is one card."""
    return [value] if isinstance(value, str) else value


def _frame_rate(value: object) -> object:
    """A frame rate as an exact fraction string: ``24`` -> ``"24"``, ``"24000/1001"``, ``29.97`` -> ``"30000/1001"``."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return value  # the str type check then reports it
    try:
        rate = Fraction(str(value).strip())
    except (ValueError, ZeroDivisionError):
        raise PydanticCustomError(
            "frame_rate", "a frame rate such as 24, 25, 30 or '24000/1001'", {"fix": "write frame_rate: 24 (or '24000/1001')"}
        ) from None
    if "." in str(value):
        rate = _NTSC.get(round(float(rate), 3), rate)
    if not 0 < rate <= MAX_FRAME_RATE:
        raise PydanticCustomError(
            "frame_rate", "a frame rate above 0 and at most {max}", {"max": MAX_FRAME_RATE, "fix": "write frame_rate: 24"}
        )
    return str(rate)


def _resolution(value: object) -> object:
    """``"1280x720"`` is shorthand for ``{width: 1280, height: 720}``."""
    if isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+)\s*[xX×]\s*(\d+)\s*", value)
        if not m:
            raise PydanticCustomError(
                "resolution", "a resolution such as 1280x720 (or width: 1280, height: 720)", {"fix": "write resolution: 1280x720"}
            )
        return {"width": int(m[1]), "height": int(m[2])}
    return value


def _even(value: int) -> int:
    # Video encoders (H.264 4:2:0) need even picture dimensions.
    if value % 2:
        raise PydanticCustomError("even", "an even number of pixels", {"fix": f"write {value + 1} or {value - 1}"})
    return value


def _reference_path(value: str, info: ValidationInfo) -> str:
    """A reference image path, confined to the brief's folder (checked fully when the folder is known)."""
    p = Path(value)
    if ".." in p.parts:
        raise PydanticCustomError(
            "reference_outside", "a path inside the brief's folder, without '..'", {"fix": "move the image into the brief's folder"}
        )
    folder = (info.context or {}).get("folder")
    if folder is None:
        if p.is_absolute():
            raise PydanticCustomError(
                "reference_outside", "a path relative to the brief's folder", {"fix": "write the path relative to the brief's folder"}
            )
        return value
    root = Path(folder).resolve()
    target = (root / p).resolve()  # symbolic links resolved: a link leading out of the folder is refused too
    if not target.is_relative_to(root):
        raise PydanticCustomError(
            "reference_outside",
            "a path inside the brief's folder ({folder})",
            {"folder": str(root), "fix": "copy the image into the brief's folder and name it relative to it"},
        )
    if not target.is_file():
        raise PydanticCustomError(
            "reference_missing",
            "an existing image file (looked for {target})",
            {"target": str(target), "fix": "check the file name, or add the image beside the brief"},
        )
    if target.suffix.lower() not in IMAGE_SUFFIXES:
        raise PydanticCustomError(
            "reference_type", "an image file ({suffixes})", {"suffixes": ", ".join(IMAGE_SUFFIXES), "fix": "give a still image"}
        )
    return value


Text = Annotated[str, Field(min_length=1)]
Name = Annotated[str, Field(min_length=1, max_length=80)]
ReferenceImage = Annotated[str, Field(min_length=1), AfterValidator(_reference_path)]
Dimension = Annotated[int, Field(ge=16, le=7680), AfterValidator(_even)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)


class Audience(_Model):
    """The persona the film is made for; the audience review later watches the cut as this person."""

    who: Text = Field(description="Who they are: age, situation, how they will watch (e.g. 'children 6-10 watching with a parent').")
    likes: list[Text] = Field(default_factory=list, description="What they enjoy in films (genres, moments, kinds of humour).")
    dislikes: list[Text] = Field(default_factory=list, description="What loses them (gore, long dialogue, slow openings...).")
    attention_span: AttentionSpan = Field(
        description="short: something new every few seconds; medium: a shot or two per beat; long: happy with long takes."
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthands(cls, data: object) -> object:
        return _listify(data, ("likes", "dislikes"))


def _listify(data: object, keys: tuple[str, ...]) -> object:
    if isinstance(data, dict):
        return {k: _as_list(v) if k in keys else v for k, v in data.items()}
    return data


class Style(_Model):
    """The look and rhythm of the film. ``style: "a pastoral watercolour"`` is shorthand for the description alone."""

    description: Text = Field(description="The look in a sentence or two: medium, references, palette, lenses.")
    color: ColorMode = Field(default="color", description="color, or black_and_white.")
    pace: Pace = Field(default="moderate", description="Editing pace: slow (long takes), moderate, fast (quick cutting).")
    narration: NarrationMode = Field(
        default="voice_over", description="How narration (and, in a silent film, dialogue) reaches the audience: voice_over or title_cards."
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthands(cls, data: object) -> object:
        return _lower_keys(data, ("color", "pace", "narration"))


def _lower_keys(data: object, keys: tuple[str, ...]) -> object:
    if isinstance(data, dict):
        return {k: _lower(v) if k in keys else v for k, v in data.items()}
    return data


class Resolution(_Model):
    """Picture size of the generated shots, in pixels (even numbers, as video encoders need)."""

    width: Dimension = Field(description="Width in pixels, even, 16..7680.")
    height: Annotated[int, Field(ge=16, le=4320), AfterValidator(_even)] = Field(description="Height in pixels, even, 16..4320.")

    def __str__(self) -> str:
        return f"{self.width}x{self.height}"


class Character(_Model):
    """Someone (or something) on screen, with optional reference images for a consistent look."""

    name: Name = Field(description="The name used in dialogue lines (speaker) and scene character lists.")
    description: Text = Field(description="How they look and behave, for the prompts: age, build, costume, manner.")
    reference_images: list[ReferenceImage] = Field(
        default_factory=list, description="Still images of the character, paths relative to the brief's folder (inside it only)."
    )


class Location(_Model):
    """A place where scenes happen."""

    name: Name = Field(description="The location's name, as a scene's `location` refers to it.")
    description: Text = Field(description="What it looks like: landscape or set, scale, light, weather.")


class DialogueLine(_Model):
    """One spoken line."""

    speaker: Name = Field(description="A declared character's name (case-insensitive).")
    text: Text = Field(description="What they say.")


class Scene(_Model):
    """A scene as the brief's author sees it: the writer keeps it and adds beats and an objective."""

    heading: Text = Field(description="The scene heading, screenplay style: 'EXT. MEADOW - MORNING'.")
    location: Name | None = Field(default=None, description="A declared location's name, when locations are given.")
    time_of_day: TimeOfDay = Field(description="dawn, morning, day, afternoon, dusk, evening or night.")
    characters: list[Name] = Field(default_factory=list, description="Declared characters on screen (speakers are added).")
    action: Text = Field(description="What happens, in present tense, as a screenplay's action lines.")
    dialogue: list[DialogueLine] = Field(default_factory=list, description="Spoken lines, in order.")
    narration: list[Text] = Field(
        default_factory=list, description="Narration passages or title cards, in order (one text is a list of one)."
    )
    mood: Mood = Field(
        description="calm, cheerful, playful, comic, tender, melancholy, tense, frantic, mysterious, eerie, triumphant or somber."
    )

    @model_validator(mode="before")
    @classmethod
    def _shorthands(cls, data: object) -> object:
        return _listify(_lower_keys(data, ("time_of_day", "mood")), ("narration", "characters"))


def _bad(field: tuple[str | int, ...], expected: str, fix: str, found: object) -> PydanticCustomError:
    """A cross-field problem: its field path travels in ``ctx`` (a model validator's own loc is the model)."""
    return PydanticCustomError("brief", expected, {"field": field, "fix": fix, "found": found})


class Brief(_Model):
    """A production brief: everything the writer, planner and generator start from."""

    title: Annotated[str, Field(min_length=1, max_length=200)] = Field(description="The film's title.")
    logline: Text | None = Field(default=None, description="The story in one sentence. A logline, a synopsis or both.")
    synopsis: Text | None = Field(default=None, description="The story in a paragraph or more; split into beats when no scenes are given.")
    audience: Audience = Field(description="The persona the film is made for.")
    style: Style = Field(description="Look and rhythm; a plain text is the description alone.")
    target_duration_s: float = Field(
        gt=0, le=MAX_DURATION_S, description=f"Length of the finished film in seconds (up to {MAX_DURATION_S})."
    )
    resolution: Annotated[Resolution, BeforeValidator(_resolution)] = Field(
        description="Picture size: {width, height} or 'WIDTHxHEIGHT', even numbers."
    )
    frame_rate: Annotated[str, BeforeValidator(_frame_rate)] = Field(
        description="Frames per second, exact: 24, 25, 30, '24000/1001' (decimals 23.976, 29.97 read as NTSC).",
        json_schema_extra={"examples": [24, "24000/1001"]},
    )
    characters: list[Character] = Field(min_length=1, description="Who appears on screen.")
    locations: list[Location] = Field(default_factory=list, description="Optional places the scenes use.")
    scenes: list[Scene] = Field(default_factory=list, description="Optional scenes; when absent the writer splits the synopsis.")

    _folder: Path | None = PrivateAttr(default=None)

    @model_validator(mode="before")
    @classmethod
    def _style_shorthand(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("style"), str):
            return {**data, "style": {"description": data["style"]}}
        return data

    @model_validator(mode="after")
    def _consistent(self, info: ValidationInfo) -> Brief:
        if not (self.logline or self.synopsis):
            raise _bad(("logline",), "a logline or a synopsis (at least one)", "add `logline: <the story in one sentence>`", None)
        names: dict[str, str] = {}
        for i, c in enumerate(self.characters):
            if c.name.casefold() in names:
                raise _bad(("characters", i, "name"), "a name no other character has", "rename one of them", c.name)
            names[c.name.casefold()] = c.name
        places = {loc.name.casefold() for loc in self.locations}
        declared = ", ".join(repr(n) for n in names.values())
        for s, scene in enumerate(self.scenes):
            if scene.location is not None and scene.location.casefold() not in places:
                where = ", ".join(repr(loc.name) for loc in self.locations) or "none declared"
                raise _bad(
                    ("scenes", s, "location"),
                    f"one of the declared locations ({where})",
                    f"add {scene.location!r} under locations, or use a declared name",
                    scene.location,
                )
            people = [("characters", k, who) for k, who in enumerate(scene.characters)]
            people += [("dialogue", k, line.speaker) for k, line in enumerate(scene.dialogue)]
            for key, k, who in people:
                if who.casefold() not in names:
                    field: tuple[str | int, ...] = ("scenes", s, key, k) + (("speaker",) if key == "dialogue" else ())
                    raise _bad(
                        field, f"one of the declared characters ({declared})", f"add {who!r} under characters, or use a declared name", who
                    )
        folder = (info.context or {}).get("folder")
        self._folder = Path(folder).resolve() if folder is not None else None
        return self

    @property
    def fps(self) -> Fraction:
        """The frame rate, exact."""
        return Fraction(self.frame_rate)

    @property
    def folder(self) -> Path | None:
        """The brief's folder (resolved) when it was loaded from a file; reference images live in it."""
        return self._folder

    def character(self, name: str) -> Character:
        """The declared character called ``name`` (case-insensitive), as a speaker names them."""
        for c in self.characters:
            if c.name.casefold() == name.casefold():
                return c
        raise KeyError(name)

    def reference_paths(self) -> dict[str, list[Path]]:
        """Character name -> absolute, resolved paths of its reference images (all inside :attr:`folder`)."""
        refs = {c.name: list(c.reference_images) for c in self.characters}
        if self._folder is None:
            if any(refs.values()):
                raise ValueError("this brief was not loaded from a file: its reference images have no folder to resolve in")
            return {name: [] for name in refs}
        return {name: [(self._folder / p).resolve() for p in paths] for name, paths in refs.items()}


# -- loading, with one-line errors ---------------------------------------------------------------


class BriefError(ValueError):
    """A brief that cannot be used, said in one line: ``file:line: field: found ...; expected ...; fix: ...``.

    ``problems`` holds every problem found (the message names the first, in document order, and counts the rest).
    """

    def __init__(self, file: str | os.PathLike[str], field: str, line: int | None, found: str, expected: str, fix: str, more: int = 0):
        self.file, self.field, self.line = str(file), field, line
        self.found, self.expected, self.fix, self.more = found, expected, fix, more
        self.problems: list[BriefError] = [self]
        where = f"{self.file}:{line}" if line else self.file
        tail = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        super().__init__(f"{where}: {field}: found {found}; expected {expected}; fix: {fix}{tail}")


def load_brief(path: str | os.PathLike[str]) -> Brief:
    """Read and validate a brief file; reference images are resolved inside its folder.

    Raises :class:`BriefError` (one line: file, YAML line, field path, what was found, what is
    expected, the fix) for a missing or unreadable file, an empty file, a YAML syntax error, a
    document that is not a mapping, and every schema problem.
    """
    p = Path(path)
    text = _read(p)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        if root is not None:
            _check_structure(p, root)
        # briefs are small: parsing again is simpler than constructing from the nodes (and refuses python tags)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as err:
        mark = err.problem_mark or err.context_mark
        problem = f"a syntax error: {(err.problem or str(err)).strip()}"
        if err.context and err.context_mark and mark and err.context_mark.line != mark.line:
            problem += f" ({err.context.strip()} that began on line {err.context_mark.line + 1})"
        raise BriefError(
            p,
            "(YAML syntax)",
            mark.line + 1 if mark else None,
            problem,
            "valid YAML",
            "remove the '!!' tag: a brief holds plain text, numbers and lists"
            if isinstance(err, yaml.constructor.ConstructorError)
            else "check the indentation there, and quote text that holds ': ', ' #' or starts with a symbol",
        ) from None
    except (yaml.YAMLError, RecursionError) as err:
        raise BriefError(p, "(YAML syntax)", None, str(err).splitlines()[0], "valid YAML", "save the file as plain YAML text") from None
    if root is None:
        raise BriefError(p, "(document)", 1, "an empty file", "a mapping of brief fields (title, logline, ...)", _START)
    if not isinstance(root, yaml.MappingNode):
        found = "a list" if isinstance(root, yaml.SequenceNode) else f"a single value {_short(root.value)}"
        raise BriefError(p, "(document)", root.start_mark.line + 1, found, "a mapping of brief fields (title: ..., logline: ...)", _START)
    try:
        return Brief.model_validate(data, context={"folder": p.resolve().parent})
    except ValidationError as err:
        problems = [_problem(p, root, e) for e in err.errors()]
        problems.sort(key=lambda b: b.line or 0)
        first = problems[0]
        error = BriefError(p, first.field, first.line, first.found, first.expected, first.fix, more=len(problems) - 1)
        error.problems = problems
        raise error from None


_START = "start from one of the examples in examples/briefs/"


def _read(p: Path) -> str:
    try:
        data = p.read_bytes()
    except FileNotFoundError:
        raise BriefError(p, "(file)", None, "no such file", "a brief file (.yaml)", "check the path") from None
    except OSError as err:
        raise BriefError(p, "(file)", None, f"a file that cannot be read ({err.strerror or err})", "a readable file", "check it") from None
    if len(data) > _MAX_FILE_BYTES:
        raise BriefError(p, "(file)", None, f"{len(data)} bytes", f"a brief under {_MAX_FILE_BYTES} bytes", "shorten it") from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise BriefError(p, "(file)", line, "bytes that are not UTF-8", "UTF-8 text", "save the file as UTF-8") from None


def _check_structure(p: Path, root: yaml.Node) -> None:
    """Duplicate keys (YAML keeps the last one silently) and alias bombs, caught before validation."""
    count = 0
    for node in _walk(root):
        count += 1
        if count > _MAX_NODES:
            raise BriefError(p, "(document)", None, f"more than {_MAX_NODES} values (anchors/aliases?)", "a small brief", "remove aliases")
        if isinstance(node, yaml.MappingNode):
            seen: dict[object, int] = {}
            for key, _ in node.value:
                k = key.value if isinstance(key, yaml.ScalarNode) else id(key)
                if k in seen:
                    raise BriefError(
                        p,
                        str(k),
                        key.start_mark.line + 1,
                        f"a second {k!r} (the first is on line {seen[k]})",
                        "each key once",
                        "merge them",
                    )
                seen[k] = key.start_mark.line + 1


def _walk(node: yaml.Node) -> Iterator[yaml.Node]:
    yield node
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            yield from _walk(key)
            yield from _walk(value)
    elif isinstance(node, yaml.SequenceNode):
        for item in node.value:
            yield from _walk(item)


def field_path(loc: tuple[str | int, ...]) -> str:
    """``("scenes", 2, "dialogue", 0, "speaker")`` -> ``"scenes[2].dialogue[0].speaker"``."""
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(brief)"


def _locate(root: yaml.Node, loc: tuple[str | int, ...], key_line: bool = False) -> int:
    """1-based line of the YAML value at ``loc``; for a missing value, the line of its nearest parent."""
    node, line = root, root.start_mark.line
    for part in loc:
        child = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.value == part:
                    child, line = value, key.start_mark.line
                    break
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            child = node.value[part]
            line = child.start_mark.line
        if child is None:
            return line + 1
        node = child
    return (line if key_line else node.start_mark.line) + 1


def _short(value: object, width: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= width else text[: width - 4] + "...'"


def _found(value: object) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing (an empty value)"
    if isinstance(value, bool):
        return f"{str(value).lower()} (yes/no)"
    if isinstance(value, str):
        return f"{_short(value)} (text)"
    if isinstance(value, (int, float)):
        return f"{value} (a number)"
    return f"{_short(str(value))} ({type(value).__name__})"


_EXPECTED = {
    "string_type": "text",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "list_type": "a list (lines starting with '- ')",
    "dict_type": "a mapping (key: value lines)",
    "model_type": "a mapping (key: value lines)",
    "model_attributes_type": "a mapping (key: value lines)",
    "bool_type": "yes or no",
}


def _problem(p: Path, root: yaml.Node, e: Any) -> BriefError:
    """One pydantic error as a BriefError, its field path mapped to the YAML line."""
    ctx = e.get("ctx") or {}
    loc = tuple(ctx.get("field", e["loc"]))
    kind = e["type"]
    field = field_path(loc)
    name = loc[-1] if loc else "brief"
    line = _locate(root, loc, key_line=kind == "extra_forbidden")
    if kind == "missing" or (kind == "brief" and ctx.get("found") is None):
        parent = field_path(loc[:-1]) if len(loc) > 1 else "the top level"
        expected = e["msg"] if kind == "brief" else "a value: this field is required"
        fix = ctx.get("fix") or f"add `{name}: ...` under {parent} (see examples/briefs/README.md)"
        return BriefError(p, field, line, "nothing", expected, fix)
    found = _found(ctx["found"] if "found" in ctx else e.get("input"))
    if kind == "extra_forbidden":
        known = _known_fields(loc[:-1])
        close = difflib.get_close_matches(str(name), known, n=1)
        fix = f"did you mean `{close[0]}`? " if close else ""
        fix += "remove it or rename it (unknown fields are refused so that a misspelling is never ignored)"
        return BriefError(p, field, line, f"an unknown field {name!r}", f"one of {', '.join(known)}", fix)
    if kind in ("literal_error", "enum"):
        return BriefError(p, field, line, found, f"one of {ctx.get('expected', '')}", f"write one of those words for {name}")
    expected = e["msg"] if kind == "brief" else _EXPECTED.get(kind) or e["msg"][0].lower() + e["msg"][1:]
    if kind.startswith(("greater_than", "less_than", "too_short", "too_long", "string_too")):
        expected = e["msg"].replace("Input should be ", "").replace("Input should have ", "").replace("String should have ", "text with ")
        expected = expected.replace("List should have ", "a list with ")
    fix = ctx.get("fix") or f"write {expected} for {name}"
    return BriefError(p, field, line, found, expected, fix)


def _known_fields(loc: tuple[str | int, ...]) -> list[str]:
    """Field names allowed at ``loc`` (for the unknown-field message)."""
    model: Any = Brief
    for part in loc:
        if isinstance(part, int):
            continue
        annotation = model.model_fields[part].annotation
        args = getattr(annotation, "__args__", ())
        model = next((a for a in (annotation, *args) if isinstance(a, type) and issubclass(a, BaseModel)), None)
        if model is None:
            return []
    return list(model.model_fields)


# -- partition key and content hash ----------------------------------------------------------------


def brief_slug(path: str | os.PathLike[str], root: str | os.PathLike[str] | None = None) -> str:
    """The brief's ``productions`` partition key: readable, ASCII, stable, unique per file.

    ``dusk.yaml`` -> ``dusk``. A file whose name does not spell its key exactly (``My Dusk.yaml``,
    ``dusk.yml``, ``Été.yaml``) gets a short hash of its name after a double dash
    (``my-dusk--1c0f3a2b``); slugified names never hold a double dash, so such a key can meet no
    plain one and two files never share a key. ``root`` (the briefs inbox) adds sub-folders to the
    key (``series/ep1.yaml`` -> ``series-ep1``); without it only the file name counts, so moving the
    inbox keeps every key. Depends on nothing but the name: never on other files or listing order.
    """
    p = Path(path)
    rel = p.relative_to(root) if root is not None else Path(p.name)
    stem = rel.with_suffix("").as_posix()
    slug = "-".join(s for s in (slugify(part) for part in stem.split("/")) if s)
    if not slug or rel.as_posix() != f"{slug}.yaml":  # sub-folders, other suffixes, capitals, accents...
        digest = hashlib.sha256(rel.as_posix().encode()).hexdigest()[:8]
        slug = f"{slug}--{digest}" if slug else f"brief--{digest}"
    return slug


def brief_digest(path: str | os.PathLike[str]) -> str:
    """sha256 (hex) of the brief file's bytes: a new run is due when it changes."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
