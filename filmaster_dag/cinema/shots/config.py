"""How shots are found: every detector's named parameters, with their benchmarked defaults."""

from __future__ import annotations

from fractions import Fraction
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class ShotDetectionConfig(BaseModel):
    """How shots are found. Defaults are the benchmarked ones (see ``bench/shot_detection.py``).

    Grey levels are 0-255; differences are mean absolute differences of 16x9 colour signatures.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    detector: Literal["adaptive", "content", "transnetv2", "hybrid"] = Field(
        default="adaptive",
        description="adaptive: PySceneDetect AdaptiveDetector cuts + our fade/dissolve detection (fast, default); "
        "content: ContentDetector cuts + our fade/dissolve detection; transnetv2: TransNetV2 alone (slow on CPU); "
        "hybrid: the default + the gradual transitions TransNetV2's many-hot head finds where the default found nothing.",
    )
    # --- hard cuts (PySceneDetect) ---
    adaptive_threshold: float = Field(
        default=3.0, description="AdaptiveDetector: frame score / mean of neighbours' scores needed for a cut"
    )
    adaptive_window: int = Field(default=2, ge=1, description="AdaptiveDetector: frames either side in the rolling average")
    adaptive_min_content: float = Field(default=15.0, description="AdaptiveDetector: minimum HSV content score for a cut")
    content_threshold: float = Field(default=27.0, description="ContentDetector: HSV content score threshold for a cut")
    cut_width: int = Field(default=160, ge=16, description="width (px) at most of the picture PySceneDetect scores for cuts")
    luma_only: bool = Field(default=False, description="score cuts on luminance only (black-and-white films)")
    min_shot_s: float = Field(default=0.5, ge=0, description="no shot shorter than this; the weaker boundary is dropped")
    cut_min_change: float = Field(
        default=5.0, description="min mean change of the 16x9 signature at a cut (drops codec glitches the HSV score flags)"
    )
    # --- flashes ---
    flash_max_frames: int = Field(
        default=6, ge=0, description="a picture that returns to the pre-cut picture within this many frames is a flash, not a cut"
    )
    flash_return_ratio: float = Field(
        default=0.4, description="'returns' = differs from the pre-cut picture by less than this fraction of the jump"
    )
    # --- fades (to/from black or white) ---
    fade_black_level: float = Field(default=20.0, description="mean grey at or below which a flat frame is black")
    fade_white_level: float = Field(default=235.0, description="mean grey at or above which a flat frame is white")
    fade_flat_std: float = Field(default=10.0, description="max grey std-dev of a black/white frame")
    fade_grey_level: float = Field(
        default=80.0, description="mean grey at or below which a flat frame is the bottom of a fade to dark grey (no black reached)"
    )
    fade_max_s: float = Field(
        default=4.0, gt=0, description="longest fade ramp (seconds) followed on either side of the black/white frames"
    )
    fade_min_change: float = Field(
        default=10.0, description="pictures before and after the black must differ by this much to be a transition"
    )
    # --- dissolves ---
    dissolve_scales: tuple[int, ...] = Field(
        default=(3, 6, 10, 14, 18, 24), description="half-window sizes k (frames) for the 'frame t = mean(t-k, t+k)' test"
    )
    dissolve_min_diff: float = Field(default=16.0, description="min difference between frames t-k and t+k")
    dissolve_max_residual: float = Field(default=0.22, description="max |f_t - (f_t-k + f_t+k)/2| as a fraction of |f_t+k - f_t-k|")
    dissolve_max_step: float = Field(
        default=0.4, description="max single-frame step inside the window as a fraction of the window's change (else it is a cut)"
    )
    dissolve_min_gain_free: float = Field(
        default=0.5, description="min share of the window's change not explained by a brightness gain (else it is a fade ramp)"
    )
    dissolve_max_context: float = Field(
        default=0.35,
        description="max change over the k frames before/after the window as a fraction of the window's change (a steady pan fails this)",
    )
    dissolve_cell_change: float = Field(default=12.0, description="a signature cell 'changes' when it differs by more than this")
    dissolve_min_coverage: float = Field(
        default=0.5, description="min share of signature cells that change across a dissolve (titles/overlays change less)"
    )
    dissolve_min_frames: int = Field(default=4, ge=2, description="shortest dissolve span reported")
    dissolve_max_dip: float = Field(
        default=0.8,
        description="moving shots: max fine detail mid-window as a fraction of the detail at its ends (a mix of two pictures loses detail)",
    )
    dissolve_dip_max_residual: float = Field(
        default=0.4, description="moving shots: max residual from the straight line (middle, quarter points) as a fraction of the change"
    )
    dissolve_dip_min_gain_free: float = Field(
        default=0.65, description="moving shots: min share of the change not explained by a brightness gain"
    )
    dissolve_straight_max_residual: float = Field(
        default=0.2, description="moving shots, nearly straight path: max residual from the line as a fraction of the change"
    )
    dissolve_straight_max_dip: float = Field(default=0.9, description="moving shots, nearly straight path: max mid-window detail share")
    dissolve_straight_min_gain_free: float = Field(
        default=0.25, description="moving shots, nearly straight path: min share of the change not explained by a brightness gain"
    )
    dissolve_dip_min_diff: float = Field(default=12.0, description="moving shots: min difference between frames t-k and t+k")
    dissolve_dip_max_path: float = Field(
        default=3.0, description="moving shots: max sum of frame steps in the window / the window's change"
    )
    # --- TransNetV2 ---
    transnet_threshold: float = Field(default=0.5, description="TransNetV2 one-hot probability for a transition frame")
    transnet_gradual_threshold: float = Field(
        default=0.5, description="TransNetV2 many-hot probability marking frames inside a gradual transition"
    )
    hybrid_min_frames: int = Field(
        default=5, ge=2, description="hybrid: least frames of many-hot above the gradual threshold that become a transition we missed"
    )
    transnet_threads: int = Field(default=0, ge=0, description="torch CPU threads for TransNetV2 (0 = min(4, cpu count))")
    # --- internals ---
    signature_size: tuple[int, int] = Field(default=(16, 9), description="(w, h) of the per-frame colour signature")

    def min_frames(self, rate: Fraction | float) -> int:
        """``min_shot_s`` in whole frames at ``rate`` (at least 1): the shortest shot, and the
        stretch at either end of the film where black frames open or close it rather than cut."""
        return max(1, round(self.min_shot_s * float(Fraction(rate).limit_denominator(100000))))


DEFAULTS = ShotDetectionConfig()
"""The benchmarked settings; each detector's named parameters default to these."""
