"""The shot and sequence records, defined once.

Each column is declared here with its Arrow type, the stage that measures it and a line of
documentation. The stage tables (``shots``, ``camera_language``, the rhythm's per-shot table),
the LanceDB ``shots`` / ``sequences`` schemas (every column declared up front, nothing added at
run time) and the descriptions all derive from these declarations.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa

from .look import LOOK_DIM
from .vocabulary import CameraMovement, LightingKey, ShotScale, TransitionIn, TransitionOut


@dataclass(frozen=True)
class Column:
    """One column of a record: name, Arrow type, the stage that fills it, what it means."""

    name: str
    type: pa.DataType
    stage: str
    doc: str
    nullable: bool = True
    indexed: bool = True  # stored in the LanceDB table (stage-internal columns are not)
    vocabulary: tuple[str, ...] = ()  # allowed words for a vocabulary column


_STR, _I64, _F64 = pa.string(), pa.int64(), pa.float64()
_STRS, _F64S = pa.list_(pa.string()), pa.list_(pa.float64())

# Stages, in pipeline order.
SHOTS, CAMERA, RHYTHM, INDEX = "shots", "camera_language", "rhythm", "index"

SHOT_COLUMNS: tuple[Column, ...] = (
    Column("shot_id", _STR, SHOTS, "'<film>/<shot_index:04d>', unique in the library", nullable=False),
    Column("film", _STR, SHOTS, "film partition key (slug)", nullable=False),
    Column("shot_index", _I64, SHOTS, "0-based position in the film"),
    Column("start_frame", _I64, SHOTS, "first frame of the shot"),
    Column("end_frame", _I64, SHOTS, "first frame after the shot"),
    Column("start_s", _F64, SHOTS, "start time, seconds from the first frame"),
    Column("end_s", _F64, SHOTS, "end time (start of the next shot), seconds"),
    Column("duration_s", _F64, SHOTS, "end_s - start_s"),
    Column("frame_rate", _F64, SHOTS, "frames per second"),
    Column("transition_in", _STR, SHOTS, "how the shot begins", vocabulary=TransitionIn.values()),
    Column("transition_in_confidence", _F64, SHOTS, "detector confidence of that transition, 0..1"),
    Column("transition_out", _STR, SHOTS, "how the shot ends", vocabulary=TransitionOut.values()),
    Column("usable_first_frame", _I64, SHOTS, "first frame outside any transition"),
    Column("usable_last_frame", _I64, SHOTS, "last frame outside any transition"),
    # camera language
    Column("movement", _STR, CAMERA, "camera movement", vocabulary=CameraMovement.values()),
    Column("movement_speed", _F64, CAMERA, "speed of that movement (units per movement, see cinema.camera)"),
    Column("movement_confidence", _F64, CAMERA, "0..1"),
    Column("pan_speed", _F64, CAMERA, "signed pan rate, frame widths per second (+ = right)"),
    Column("tilt_speed", _F64, CAMERA, "signed tilt rate, frame heights per second (+ = up)"),
    Column("zoom_rate", _F64, CAMERA, "signed scale change, percent per second (+ = push in)"),
    Column("roll_rate", _F64, CAMERA, "roll, degrees per second"),
    Column("camera_jitter", _F64, CAMERA, "robust frame-to-frame jitter, frame fraction per frame"),
    Column("shot_scale", _STR, CAMERA, "shot scale", vocabulary=ShotScale.values()),
    Column("shot_scale_confidence", _F64, CAMERA, "0..1"),
    Column(
        "shot_scale_evidence",
        _STR,
        CAMERA,
        "what the scale was measured from: face, person, picture (structure size and softness) or none",
        vocabulary=("face", "person", "picture", "none"),
    ),
    Column("faces", _I64, CAMERA, "most faces seen in one keyframe"),
    Column("people", _I64, CAMERA, "most people seen in one keyframe"),
    Column("face_height", _F64, CAMERA, "largest face box height / frame height"),
    Column("lighting_key", _STR, CAMERA, "lighting key", vocabulary=LightingKey.values()),
    Column("brightness", _F64, CAMERA, "median luma 0..1"),
    Column("contrast", _F64, CAMERA, "median RMS contrast 0..1"),
    Column("saturation", _F64, CAMERA, "median HSV saturation 0..1"),
    Column("colour_temperature_k", _F64, CAMERA, "McCamy correlated colour temperature, kelvin"),
    Column("palette", _STRS, CAMERA, "dominant colours (hex), heaviest first"),
    Column("palette_weights", _F64S, CAMERA, "share of each palette colour"),
    Column("motion_energy", _F64, CAMERA, "mean residual difference after camera-motion compensation, 0..1"),
    Column("frame_diff", _F64, CAMERA, "mean frame-to-frame difference, 0..1"),
    Column("sharpness", _F64, CAMERA, "mean variance of the Laplacian"),
    Column(
        "look",
        pa.list_(pa.float32(), LOOK_DIM),
        CAMERA,
        "offline look descriptor of the primary keyframe (colour layout, palette, edges and texture, composition; "
        "unit length): search by example",
    ),
    # soundtrack under the shot
    Column("onset_strength_mean", _F64, RHYTHM, "mean onset strength of the soundtrack"),
    Column("onset_strength_peak", _F64, RHYTHM, "peak onset strength"),
    Column("loudness_dbfs", _F64, RHYTHM, "RMS level, dBFS"),
    Column("loudness_lufs", _F64, RHYTHM, "integrated loudness, LUFS (null when too short or silent)"),
    Column("beats_in_shot", _I64, RHYTHM, "soundtrack beats inside the shot"),
    # library bookkeeping
    Column("keyframe_path", _STR, INDEX, "primary keyframe JPEG in the MediaStore"),
    Column("sequence_id", _STR, INDEX, "the reference sequence holding the shot"),
    Column("description", _STR, INDEX, "plain-language description (full-text searchable)"),
    Column("source_sha256", _STR, INDEX, "sha256 of the film file the shot was measured from"),
)

SEQUENCE_COLUMNS: tuple[Column, ...] = (
    Column("sequence_id", _STR, SHOTS, "'<film>/seq<sequence_index:03d>'", nullable=False),
    Column("film", _STR, SHOTS, "film partition key (slug)", nullable=False),
    Column("sequence_index", _I64, SHOTS, "0-based position in the film"),
    Column("start_s", _F64, SHOTS, "start of its first shot, seconds"),
    Column("end_s", _F64, SHOTS, "end of its last shot, seconds"),
    Column("duration_s", _F64, SHOTS, "end_s - start_s"),
    Column("shot_ids", _STRS, SHOTS, "its shots, in order"),
    Column("shot_count", _I64, SHOTS, "number of shots"),
    Column("camera_chain", _STR, SHOTS, "'wide static -> medium pan_right -> ...'"),
    Column("break_reason", _STR, SHOTS, "why the sequence starts here"),
    Column("continuity", _F64, SHOTS, "mean continuity score of consecutive shots inside it, 0..1"),
    Column("description", _STR, INDEX, "plain-language description (full-text searchable)"),
    Column("source_sha256", _STR, INDEX, "sha256 of the film file"),
)

VECTOR = "vector"
LOOK = "look"


def stage_columns(stage: str, columns: tuple[Column, ...] = SHOT_COLUMNS) -> list[str]:
    """Names of the columns a stage fills, in record order."""
    return [c.name for c in columns if c.stage == stage]


def arrow_schema(columns: tuple[Column, ...], vector_dim: int | None = None) -> pa.Schema:
    """The stored (LanceDB) schema of a record: its indexed columns, then a nullable vector."""
    fields = [pa.field(c.name, c.type, nullable=c.nullable) for c in columns if c.indexed]
    if vector_dim:
        fields.append(pa.field(VECTOR, pa.list_(pa.float32(), vector_dim), nullable=True))
    return pa.schema(fields)


def shots_schema(vector_dim: int = 512) -> pa.Schema:
    return arrow_schema(SHOT_COLUMNS, vector_dim)


def sequences_schema(vector_dim: int = 512) -> pa.Schema:
    return arrow_schema(SEQUENCE_COLUMNS, vector_dim)


def conform(
    df: pd.DataFrame, stage: str, columns: tuple[Column, ...] = SHOT_COLUMNS, keep: tuple[str, ...] = ("shot_index",)
) -> pd.DataFrame:
    """A stage table with exactly its declared columns, in record order (plus ``keep`` first).

    Raises ``ValueError`` naming any declared column the stage did not produce, or a vocabulary
    column holding a word outside the vocabulary.
    """
    names = [n for n in keep if n not in stage_columns(stage, columns)] + stage_columns(stage, columns)
    missing = [n for n in names if n not in df.columns]
    if missing:
        raise ValueError(f"{stage} table lacks declared columns {missing}")
    for c in columns:
        if c.stage == stage and c.vocabulary:
            bad = set(df[c.name].dropna().astype(str)) - set(c.vocabulary)
            if bad:
                raise ValueError(f"{stage}.{c.name}: {sorted(bad)} not in the vocabulary {c.vocabulary}")
    return df[names].reset_index(drop=True)


def column_docs(columns: tuple[Column, ...] = SHOT_COLUMNS) -> dict[str, Any]:
    """{column: doc} for UI metadata and the README."""
    return {c.name: c.doc for c in columns}
