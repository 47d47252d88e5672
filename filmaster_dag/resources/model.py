"""What every model-backed resource says about itself (embedder, language model; generator and voice next).

Each is an interface with a real implementation (weights, a server) and an offline one, chosen by
configuration; the offline one is never a fake model: it is ``available = False`` and says why, so
the asset that uses it records the reason and takes its measured or rules-based path.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

import dagster as dg


class ModelResource(dg.ConfigurableResource, ABC):
    """``available``: a real model is configured; ``why_unavailable``: the reason recorded when not;
    ``identity``: what produced a result, for metadata and cache keys."""

    @property
    @abstractmethod
    def available(self) -> bool: ...

    @property
    @abstractmethod
    def why_unavailable(self) -> str: ...

    @property
    @abstractmethod
    def identity(self) -> str: ...
