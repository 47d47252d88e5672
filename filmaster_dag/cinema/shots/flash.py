"""The flash filter: a picture that jumps and comes straight back is a flash, not a cut.

Muzzle flashes, lightning, a photographer's flash gun, a blink to black: for a few frames the
picture changes as much as at a cut, then returns to what it was. A cut detector sees two cuts;
an editor sees one shot.
"""

from __future__ import annotations

import numpy as np

from .signatures import mad


class FlashFilter:
    """Tells flashes and blinks inside a shot from real transitions.

    Args:
        max_frames: a picture that returns to the pre-jump picture within this many frames is a
            flash (0 turns the filter off).
        return_ratio: "returns" means it differs from the pre-jump picture by less than this
            fraction of the jump.
    """

    def __init__(self, max_frames: int = 6, return_ratio: float = 0.4):
        self.max_frames = max_frames
        self.return_ratio = return_ratio

    def is_flash(self, flat: np.ndarray, cut: int) -> bool:
        """Whether the jump into frame ``cut`` (signatures ``flat``) is the start or end of a flash."""
        if cut < 1 or self.max_frames <= 0:
            return False
        n = len(flat)
        pre, new = flat[cut - 1], flat[cut]
        jump = mad(pre, new)
        if jump <= 1e-6:
            return True  # nothing changed: no cut to keep
        limit = self.return_ratio * jump
        for m in range(1, self.max_frames + 1):
            # onset: the picture comes back to the pre-cut picture
            if cut + m < n and mad(pre, flat[cut + m]) < limit:
                return True
            # end of a flash: the new picture is the one from before the flash
            if cut - 1 - m >= 0 and mad(new, flat[cut - 1 - m]) < limit:
                return True
        return False

    def is_blink(self, flat: np.ndarray, out_start: int, first: int, last: int, in_end: int) -> bool:
        """Whether a dip to black/white is a blink inside one shot rather than a fade.

        ``first``..``last`` are the black (white) frames, ``out_start``/``in_end`` the ends of the
        ramps around them. A blink is short, has (almost) no ramps, and the picture after it is
        much closer to the one before than either is to the black.
        """
        if last - first + 1 > self.max_frames or first - out_start > 2 or in_end - last > 2:
            return False
        n = len(flat)
        pre, post = flat[max(0, out_start - 1)], flat[min(n - 1, in_end + 1)]
        jump = max(mad(pre, flat[first]), mad(post, flat[last]))
        return mad(pre, post) < self.return_ratio * jump
