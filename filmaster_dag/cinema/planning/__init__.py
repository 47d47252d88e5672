"""Pre-production: the script (scene breakdown), scene-level reference retrieval and the
coordinated shot plan. Records in :mod:`.models`; no Dagster here."""

from .models import (
    FootageWindow,
    PlannedShot,
    Provenance,
    ReferenceShot,
    ScenePlan,
    SceneReferences,
    SceneRetrieval,
    Script,
    ScriptScene,
    SequenceMatch,
    ShotPlan,
    frames_for,
    reading_time_s,
    speaking_time_s,
)

__all__ = [
    "FootageWindow",
    "PlannedShot",
    "Provenance",
    "ReferenceShot",
    "ScenePlan",
    "SceneReferences",
    "SceneRetrieval",
    "Script",
    "ScriptScene",
    "SequenceMatch",
    "ShotPlan",
    "frames_for",
    "reading_time_s",
    "speaking_time_s",
]
