"""TransNetV2 streaming inference; moved to :mod:`filmaster_dag.cinema.shots.transnet` (re-exported here)."""

from .shots.transnet import (
    CONTEXT,
    STEP,
    WINDOW,
    TransitionNetwork,
    TransNetV2Stream,
    default_threads,
    load_model,
    load_transnetv2,
)

__all__ = ["CONTEXT", "STEP", "WINDOW", "TransNetV2Stream", "TransitionNetwork", "default_threads", "load_model", "load_transnetv2"]
