"""The project's one film-craft vocabulary: shot scale, camera movement, camera angle, lighting
key and transitions, as string enums.

Every table, description, search filter and (next) shot plan uses these values; nothing else in
the code spells them. Each member's ``value`` is the stored word (``"push_in"``) and ``words`` the
phrase a person writes (``"push-in"``), used by the shot descriptions and full-text search.

Enums subclass ``str``, so a member compares equal to its stored word and goes into pandas,
Parquet and LanceDB as plain text.
"""

from __future__ import annotations

from enum import Enum


class Term(str, Enum):
    """A vocabulary word: ``str(term)`` is its stored value; ``term.words`` its phrase."""

    def __str__(self) -> str:
        return str(self.value)

    @property
    def words(self) -> str:
        return _WORDS.get(self, str(self.value).replace("_", " "))

    @classmethod
    def values(cls) -> tuple[str, ...]:
        return tuple(m.value for m in cls)

    @classmethod
    def parse(cls, value: object, default: Term | None = None) -> Term:
        """The member for a stored word (or a member); ``default`` (else ValueError) for anything else."""
        try:
            return cls(value)
        except ValueError:
            if default is not None:
                return default
            raise ValueError(f"{value!r} is not a {cls.__name__}; expected one of {', '.join(cls.values())}") from None


class ShotScale(Term):
    """How much of the subject the frame holds, tightest first (Salt's scale, as used on set)."""

    EXTREME_CLOSE_UP = "extreme_close_up"
    CLOSE_UP = "close_up"
    MEDIUM_CLOSE_UP = "medium_close_up"
    MEDIUM = "medium"
    MEDIUM_LONG = "medium_long"
    WIDE = "wide"
    EXTREME_WIDE = "extreme_wide"
    UNKNOWN = "unknown"


class CameraMovement(Term):
    """What the camera does during a shot, as seen in the picture.

    A 2-D image model cannot tell a pan from a truck or a zoom from a dolly: those are reported
    under the pan/tilt/push/pull names.
    """

    STATIC = "static"
    PAN_LEFT = "pan_left"
    PAN_RIGHT = "pan_right"
    TILT_UP = "tilt_up"
    TILT_DOWN = "tilt_down"
    PUSH_IN = "push_in"
    PULL_OUT = "pull_out"
    HANDHELD = "handheld"
    COMPLEX = "complex"
    UNKNOWN = "unknown"


class CameraAngle(Term):
    """Vertical angle of the camera on its subject (planned shots; not yet measured from pixels)."""

    EYE_LEVEL = "eye_level"
    HIGH = "high"
    LOW = "low"
    OVERHEAD = "overhead"
    DUTCH = "dutch"
    UNKNOWN = "unknown"


class LightingKey(Term):
    """Low key (mostly dark, hard contrast), normal, high key (bright, few shadows)."""

    LOW_KEY = "low_key"
    NORMAL = "normal"
    HIGH_KEY = "high_key"
    UNKNOWN = "unknown"


class TransitionKind(Term):
    """A transition between two shots (a boundary)."""

    CUT = "cut"
    DISSOLVE = "dissolve"
    FADE = "fade"


class TransitionIn(Term):
    """How a shot begins: the film's start (or its opening fade-in), or a transition from the shot before."""

    START = "start"
    FADE_IN = "fade_in"
    CUT = "cut"
    DISSOLVE = "dissolve"
    FADE = "fade"


class TransitionOut(Term):
    """How a shot ends: a transition to the next shot, or the film's end (or its closing fade-out)."""

    CUT = "cut"
    DISSOLVE = "dissolve"
    FADE = "fade"
    END = "end"
    FADE_OUT = "fade_out"


#: Transitions that are boundaries between two shots (``start``/``fade_in`` open the film and are not).
BOUNDARY_KINDS: tuple[str, ...] = TransitionKind.values()
GRADUAL_KINDS: tuple[str, ...] = (TransitionKind.DISSOLVE.value, TransitionKind.FADE.value)

_WORDS: dict[Term, str] = {
    ShotScale.EXTREME_CLOSE_UP: "extreme close-up",
    ShotScale.CLOSE_UP: "close-up",
    ShotScale.MEDIUM_CLOSE_UP: "medium close-up",
    ShotScale.MEDIUM_LONG: "medium long",
    ShotScale.EXTREME_WIDE: "extreme wide",
    CameraMovement.PAN_LEFT: "panning left",
    CameraMovement.PAN_RIGHT: "panning right",
    CameraMovement.TILT_UP: "tilting up",
    CameraMovement.TILT_DOWN: "tilting down",
    CameraMovement.PUSH_IN: "push-in",
    CameraMovement.PULL_OUT: "pull-out",
    CameraMovement.COMPLEX: "moving (complex camera move)",
    CameraAngle.EYE_LEVEL: "eye-level",
    CameraAngle.HIGH: "high-angle",
    CameraAngle.LOW: "low-angle",
    CameraAngle.DUTCH: "dutch-angle",
    LightingKey.LOW_KEY: "low-key",
    LightingKey.HIGH_KEY: "high-key",
    TransitionIn.START: "opening the film",
    TransitionIn.FADE_IN: "fading in at the opening",
    TransitionIn.CUT: "after a cut",
    TransitionIn.DISSOLVE: "after a dissolve",
    TransitionIn.FADE: "after a fade",
    TransitionOut.END: "ending the film",
    TransitionOut.FADE_OUT: "fading out at the end",
}
