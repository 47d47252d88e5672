"""The production's records, from the script to the generated clips, as pydantic models.

Each is stored once (JSON through the table IO manager) and read back with ``model_validate``:

- :class:`Script`: the brief expanded into scenes (:class:`ScriptScene`), each with heading,
  location, time of day, characters, action beats, dialogue or narration, mood, a narrative
  objective and the share of the film's length it gets;
- :class:`SceneReferences`: per scene, the top-K reference *sequences* retrieved from the library
  (:class:`SequenceMatch`, each with its shots as :class:`ReferenceShot`), with scores, reasons and
  the LanceDB table versions read, so a production can be reproduced;
- :class:`ShotPlan`: per scene (:class:`ScenePlan`), the ordered :class:`PlannedShot` list: prompt,
  scale, angle, movement (the vocabulary's enums), an exact frame count, dialogue or narration,
  characters, and the reference shot (and its footage window) whose technique it takes.

``Provenance`` says which writer or planner made a part and, when a language model's answer was
refused, why: language-model output is untrusted input and falls back to the rules.

Timing helpers (:func:`speaking_time_s`, :func:`reading_time_s`) are the one place that says how
long a line takes to say or a title card to read; the planner and (later) the sound design share them.
"""

from __future__ import annotations

import math
import re
from fractions import Fraction

from pydantic import BaseModel, ConfigDict, Field

from ..brief import DialogueLine, Mood, TimeOfDay
from ..vocabulary import CameraAngle, CameraMovement, ShotScale

#: Unhurried screen speech: about 150 words a minute, plus a breath either side of the line.
WORDS_PER_SECOND = 2.5
SPEECH_PAD_S = 0.5
#: Title cards: a silent-film audience reads about 3 words a second, and a card holds at least 2 s.
READING_WORDS_PER_SECOND = 3.0
MIN_CARD_S = 2.0


def _words(text: str) -> int:
    return len(re.findall(r"[\w'’-]+", text))


def speaking_time_s(text: str) -> float:
    """Seconds an actor needs to say ``text`` unhurried, with a breath before and after."""
    return round(_words(text) / WORDS_PER_SECOND + SPEECH_PAD_S, 3)


def reading_time_s(text: str) -> float:
    """Seconds a title card holding ``text`` stays on screen."""
    return round(max(MIN_CARD_S, _words(text) / READING_WORDS_PER_SECOND + 1.0), 3)


def frames_for(seconds: float, fps: Fraction) -> int:
    """Whole frames that cover at least ``seconds`` at ``fps`` (a line is never cut short by rounding)."""
    return max(1, math.ceil(round(seconds * fps, 6)))


class _Record(BaseModel):
    model_config = ConfigDict(extra="forbid", use_enum_values=False)


class Provenance(_Record):
    """Who made a part of the production, and why the rules did it when a model was configured."""

    by: str = Field(description="'rules', or the language model's identity ('openai-compatible:MODEL@URL')")
    fallback_reason: str | None = Field(default=None, description="why a configured model's answer was not used (one line)")
    attempts: int = Field(default=0, description="requests sent to the model")
    seconds: float = Field(default=0.0, description="wall time spent asking the model")


# -- script ----------------------------------------------------------------------------------------


class ScriptScene(_Record):
    """One scene of the script."""

    scene_id: str = Field(description="'s01', 's02', ... in film order; stable for a scene's position")
    heading: str = Field(min_length=1, description="'EXT. MEADOW - MORNING'")
    location: str | None = Field(default=None, description="a declared location, or the place named in the heading")
    time_of_day: TimeOfDay
    characters: list[str] = Field(default_factory=list, description="declared characters on screen (speakers included)")
    beats: list[str] = Field(min_length=1, description="action beats in order, one visual event each (present tense)")
    dialogue: list[DialogueLine] = Field(default_factory=list)
    narration: list[str] = Field(default_factory=list, description="voice-over passages or title cards, in order")
    mood: Mood
    objective: str = Field(min_length=1, description="what the scene must achieve for the story")
    duration_s: float = Field(gt=0, description="the scene's share of the film's target length, seconds")
    provenance: Provenance


class Script(_Record):
    """The brief expanded into scenes."""

    production: str
    title: str
    scenes: list[ScriptScene] = Field(min_length=1)
    target_duration_s: float

    def scene(self, scene_id: str) -> ScriptScene:
        for s in self.scenes:
            if s.scene_id == scene_id:
                return s
        raise KeyError(scene_id)


# -- scene-level references ---------------------------------------------------------------------------


class ReferenceShot(_Record):
    """A library shot inside a matched sequence, with what the planner and the ripomatic need of it."""

    shot_id: str
    film: str
    source_path: str | None = Field(default=None, description="the film file the footage is cut from")
    start_s: float
    end_s: float
    duration_s: float
    frame_rate: float
    usable_start_s: float = Field(description="first time outside any transition into the shot")
    usable_end_s: float = Field(description="end of the last frame outside any transition out of it")
    shot_scale: ShotScale
    movement: CameraMovement
    pan_speed: float | None = None
    tilt_speed: float | None = None
    zoom_rate: float | None = None
    camera_jitter: float | None = None
    faces: int | None = None
    brightness: float | None = None
    lighting_key: str | None = None
    motion_energy: float | None = None
    keyframe_path: str | None = None
    description: str = ""


class SequenceMatch(_Record):
    """One retrieved reference sequence for a scene."""

    rank: int = Field(description="1 = best")
    sequence_id: str
    film: str
    score: float = Field(description="combined score, higher is better (comparable within one scene)")
    text_score: float = Field(description="0..1 share from the text query (full-text, and CLIP when configured)")
    attribute_score: float = Field(description="0..1 share from the scene's attribute targets")
    reasons: list[str] = Field(description="why it matched, one short phrase each ('dusk: low key, brightness 0.18')")
    camera_chain: str
    shots: list[ReferenceShot] = Field(min_length=1)


class SceneRetrieval(_Record):
    """The one query made for a scene and what it returned."""

    scene_id: str
    query_text: str
    targets: dict[str, str | float | int | bool | list[str]] = Field(description="attribute targets derived from the scene")
    matches: list[SequenceMatch]


class SceneReferences(_Record):
    """Scene-level retrieval for a whole production, reproducible from the recorded table versions."""

    production: str
    k: int
    table_versions: dict[str, int] = Field(description="LanceDB table -> version read ('shots', 'sequences')")
    text_search: str = Field(description="'full-text' or 'full-text+clip'")
    scenes: list[SceneRetrieval]

    def for_scene(self, scene_id: str) -> SceneRetrieval:
        for s in self.scenes:
            if s.scene_id == scene_id:
                return s
        raise KeyError(scene_id)


# -- shot plan -------------------------------------------------------------------------------------------


class FootageWindow(_Record):
    """The stretch of a reference shot's footage a ripomatic clip is cut from (seconds in the source film)."""

    shot_id: str
    film: str
    source_path: str | None
    in_s: float
    out_s: float
    reference_scale: ShotScale | None = Field(default=None, description="the reference shot's measured scale (reframing starts from it)")
    reference_movement: CameraMovement | None = Field(
        default=None, description="the reference shot's measured camera move (the ripomatic adds the planned one when it differs)"
    )


class PlannedShot(_Record):
    """One shot of the plan."""

    shot_id: str = Field(description="'s01-02': scene s01, its second shot; stable while the scene's plan is")
    scene_id: str
    order: int = Field(description="0-based position in the film")
    prompt: str = Field(min_length=1, description="the generation prompt: subject, action, setting, style and camera language")
    description: str = Field(description="what the audience sees, one sentence")
    shot_scale: ShotScale
    camera_angle: CameraAngle
    movement: CameraMovement
    frames: int = Field(gt=0, description="exact length in frames at the production's frame rate")
    duration_s: float = Field(gt=0, description="frames / frame rate")
    dialogue: list[DialogueLine] = Field(default_factory=list)
    narration: list[str] = Field(default_factory=list)
    characters: list[str] = Field(default_factory=list)
    reference_shot_id: str | None = Field(default=None, description="the library shot whose technique this shot takes")
    reference_sequence_id: str | None = None
    footage: FootageWindow | None = Field(default=None, description="for the ripomatic: the reference footage to cut from")
    repeat_footage: bool = Field(default=False, description="the plan asks for the previous shot's footage again (a deliberate repeat)")


class ScenePlan(_Record):
    """A scene's shots, planned together so the camera language forms a chain."""

    scene_id: str
    duration_s: float
    shots: list[PlannedShot] = Field(min_length=1)
    provenance: Provenance


class ShotPlan(_Record):
    """The coordinated plan of the whole production."""

    production: str
    frame_rate: str = Field(description="exact, as a fraction string ('24', '24000/1001')")
    width: int
    height: int
    target_duration_s: float
    scenes: list[ScenePlan] = Field(min_length=1)

    @property
    def fps(self) -> Fraction:
        return Fraction(self.frame_rate)

    @property
    def shots(self) -> list[PlannedShot]:
        """Every shot in film order."""
        return [shot for scene in self.scenes for shot in scene.shots]

    @property
    def duration_s(self) -> float:
        return float(sum(s.frames for s in self.shots) / self.fps)
