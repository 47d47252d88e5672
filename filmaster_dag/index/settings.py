"""How the reference index is built and queried: one frozen settings object, checked when made."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, get_args

Metric = Literal["cosine", "l2", "dot"]
VectorIndexType = Literal["IVF_HNSW_SQ", "IVF_HNSW_PQ", "IVF_PQ", "IVF_SQ", "IVF_FLAT"]


@dataclass(frozen=True)
class IndexSettings:
    """Index + query defaults, tuned with bench/search.py (2-core Xeon, clustered 512-d data):

    * IVF_HNSW_SQ (cosine, m=20, ef_construction=150; lance picks 1 partition up to ~1M
      rows) queried with ef=100 and refine_factor=2: at 1M rows recall@10 0.99 (0.95 without
      the refine step, whose full-vector re-ranking lifts the scalar-quantisation ceiling) at
      p50 ~7.6 ms for an ids-only query; reading every column of the hits adds ~7 ms.
    * IVF_PQ with default PQ (dim/16 sub-vectors) was rejected: recall@10 0.08 without
      refine and 0.76 with refine_factor=20 on the same 100k data, and slower to build.
    * Below ``vector_index_min_rows`` LanceDB scans exactly (~25 ms p50 at 10k x 512 here,
      slower than the index at 100k), so the index is built from 5k vectors on.

    Raises ``ValueError`` on construction for a value LanceDB would reject later (an unknown
    index type or metric, a non-positive dimension or query parameter).
    """

    vector_dim: int = 512
    metric: Metric = "cosine"
    # vector index is built once this many rows have a non-null vector; below that a flat
    # (exact) scan is used (~25 ms p50 at 10k x 512 on 2 cores)
    vector_index_min_rows: int = 5_000
    vector_index_type: VectorIndexType = "IVF_HNSW_SQ"
    num_partitions: int | None = None  # None -> derived from target_partition_size
    target_partition_size: int | None = None  # None -> lance default per index type
    num_sub_vectors: int | None = None  # PQ only
    hnsw_m: int = 20
    hnsw_ef_construction: int = 150
    # query-time defaults
    nprobes: int = 20
    refine_factor: int | None = 2
    ef: int = 100
    # optimize(): prune versions older than this (None -> lance default, 7 days)
    cleanup_older_than_days: float | None = None
    # after each upsert create missing indexes: scalar/FTS ones (cheap) and, once
    # vector_index_min_rows rows have a vector, the vector index (a one-time cost: ~2 s at
    # 5-10k vectors; a library backfilled past 1M rows first should build it with optimize())
    auto_index: bool = True

    def __post_init__(self) -> None:
        if self.metric not in get_args(Metric):
            raise ValueError(f"metric {self.metric!r} is not one of {get_args(Metric)}")
        if self.vector_index_type not in get_args(VectorIndexType):
            raise ValueError(f"vector_index_type {self.vector_index_type!r} is not one of {get_args(VectorIndexType)}")
        positive = {
            "vector_dim": self.vector_dim,
            "vector_index_min_rows": self.vector_index_min_rows,
            "hnsw_m": self.hnsw_m,
            "hnsw_ef_construction": self.hnsw_ef_construction,
            "nprobes": self.nprobes,
            "ef": self.ef,
        }
        optional = {
            "num_partitions": self.num_partitions,
            "target_partition_size": self.target_partition_size,
            "num_sub_vectors": self.num_sub_vectors,
            "refine_factor": self.refine_factor,
            "cleanup_older_than_days": self.cleanup_older_than_days,
        }
        bad = [n for n, v in positive.items() if v <= 0] + [n for n, v in optional.items() if v is not None and v <= 0]
        if bad:
            raise ValueError(f"index settings must be positive: {', '.join(f'{n}={getattr(self, n)!r}' for n in bad)}")

    def vector_index_config(self) -> Any:
        """The LanceDB index config object for ``vector_index_type`` with these parameters."""
        from lancedb.index import HnswPq, HnswSq, IvfFlat, IvfPq, IvfSq

        common: dict[str, Any] = {
            "distance_type": self.metric,
            "num_partitions": self.num_partitions,
            "target_partition_size": self.target_partition_size,
        }
        kind = self.vector_index_type
        if kind == "IVF_HNSW_SQ":
            return HnswSq(m=self.hnsw_m, ef_construction=self.hnsw_ef_construction, **common)
        if kind == "IVF_HNSW_PQ":
            return HnswPq(
                m=self.hnsw_m,
                ef_construction=self.hnsw_ef_construction,
                num_sub_vectors=self.num_sub_vectors,
                **common,
            )
        if kind == "IVF_PQ":
            return IvfPq(num_sub_vectors=self.num_sub_vectors, **common)
        if kind == "IVF_SQ":
            return IvfSq(**common)
        return IvfFlat(**common)
