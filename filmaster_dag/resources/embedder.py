"""open_clip image/text embedder for shots (one L2-normalised vector per keyframe).

Weights are configuration: a public pretrained tag (``laion2b_s34b_b79k``, needs internet once)
or a local checkpoint file. With no weights configured the embedder is *unavailable*: it says so
and produces nothing, because random vectors must never pass as semantic ones.
"""

from __future__ import annotations

import os
from abc import abstractmethod
from typing import Any

import numpy as np
from pydantic import Field, PrivateAttr

from .model import ModelResource


class ShotEmbedder(ModelResource):
    """The interface: image and text embeddings in one space, or a clear "unavailable".

    Implementations: :class:`OpenClipEmbedder` (real open_clip weights) and
    :class:`OfflineEmbedder` (no weights: produces no vectors and says why). Choose with
    :func:`make_embedder` from configuration.
    """

    @abstractmethod
    def embed_images(self, images: list[np.ndarray]) -> np.ndarray:
        """RGB uint8 images -> (n, dim) float32, each row L2-normalised."""

    @abstractmethod
    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """Texts -> (n, dim) float32, L2-normalised."""


class OfflineEmbedder(ShotEmbedder):
    """No CLIP weights: embeds nothing. Random vectors would look semantic and are not."""

    model_name: str = "none"

    @property
    def available(self) -> bool:
        return False

    @property
    def why_unavailable(self) -> str:
        return (
            "no CLIP weights configured (set FILMASTER_CLIP_WEIGHTS, or the embedder's `pretrained`, to an open_clip tag "
            "such as 'laion2b_s34b_b79k' or a local checkpoint): no vectors written, random vectors would not be semantic"
        )

    @property
    def identity(self) -> str:
        return "none"

    def embed_images(self, images: list[np.ndarray]) -> np.ndarray:
        raise RuntimeError(self.why_unavailable)

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        raise RuntimeError(self.why_unavailable)


def make_embedder(model_name: str = "ViT-B-32", pretrained: str = "", model_config_path: str = "") -> ShotEmbedder:
    """The real open_clip embedder when weights are configured, else the offline one."""
    if pretrained:
        return OpenClipEmbedder(model_name=model_name, pretrained=pretrained, model_config_path=model_config_path)
    return OfflineEmbedder()


class OpenClipEmbedder(ShotEmbedder):
    """open_clip embedder.

    - ``model_name``: an open_clip architecture (``ViT-B-32``) or one defined by ``model_config_path``.
    - ``pretrained``: a public open_clip tag or a local checkpoint path; empty = no real weights.
    - ``model_config_path``: optional JSON (or folder of JSONs) with custom architectures.
    """

    model_name: str = "ViT-B-32"
    pretrained: str = Field(default="", description="open_clip pretrained tag or local checkpoint path; empty disables embeddings")
    model_config_path: str = ""
    device: str = "cpu"
    batch_size: int = 32
    _model: Any = PrivateAttr(default=None)
    _preprocess: Any = PrivateAttr(default=None)
    _tokenizer: Any = PrivateAttr(default=None)

    @property
    def available(self) -> bool:
        return bool(self.pretrained)

    @property
    def why_unavailable(self) -> str:
        return (
            "no CLIP weights configured (set ShotEmbedder.pretrained to an open_clip tag such as "
            "'laion2b_s34b_b79k' or a local checkpoint): no vectors written, random vectors would not be semantic"
        )

    @property
    def identity(self) -> str:
        return f"open_clip:{self.model_name}:{os.path.basename(self.pretrained) or 'none'}"

    def _load(self):
        if self._model is not None:
            return
        if not self.available:
            raise RuntimeError(self.why_unavailable)
        import open_clip

        if self.model_config_path:
            open_clip.add_model_config(self.model_config_path)
        model, _, preprocess = open_clip.create_model_and_transforms(self.model_name, pretrained=self.pretrained, device=self.device)
        model.eval()
        self._model, self._preprocess = model, preprocess
        self._tokenizer = open_clip.get_tokenizer(self.model_name)

    @property
    def dim(self) -> int:
        self._load()
        return (
            int(self._model.text_projection.shape[1])
            if getattr(self._model, "text_projection", None) is not None
            else int(self._model.visual.output_dim)
        )

    def embed_images(self, images: list[np.ndarray]) -> np.ndarray:
        """RGB uint8 images -> (n, dim) float32, each row L2-normalised."""
        import torch
        from PIL import Image

        self._load()
        out = []
        with torch.no_grad():
            for i in range(0, len(images), self.batch_size):
                batch = torch.stack([self._preprocess(Image.fromarray(img)) for img in images[i : i + self.batch_size]])
                feats = self._model.encode_image(batch.to(self.device))
                out.append(torch.nn.functional.normalize(feats.float(), dim=-1).cpu().numpy())
        return np.concatenate(out).astype(np.float32) if out else np.zeros((0, self.dim), np.float32)

    def embed_texts(self, texts: list[str]) -> np.ndarray:
        """Texts -> (n, dim) float32, L2-normalised (for text-to-shot search)."""
        import torch

        self._load()
        with torch.no_grad():
            feats = self._model.encode_text(self._tokenizer(texts).to(self.device))
        return torch.nn.functional.normalize(feats.float(), dim=-1).cpu().numpy().astype(np.float32)
