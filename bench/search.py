"""Search benchmark for filmaster_dag.index.ShotIndex (not a test; no Dagster needed).

    python bench/search.py                       # 10k, 100k, 1M with the ShotIndex defaults
    python bench/search.py --sizes 100000 --sweep --index-types IVF_HNSW_SQ,IVF_PQ

Synthetic shot rows with realistic scalar columns and 512-d L2-normalised vectors drawn
from a CLUSTERED distribution: ``n // 250`` (capped at 4096) gaussian cluster centres on
the unit sphere with Zipf-like cluster sizes, each point = normalise(centre + noise)
(noise norm ~0.6, i.e. cosine ~0.86 to its centre, ~0.74 between two members), like
CLIP embeddings of shots from the same film/scene.  5 % of rows have a NULL vector (films
analysed without CLIP weights).  Query vectors are held-out points from the same
distribution (never inserted) with extra perturbation.  Ground truth = exact cosine top-10
by numpy over all non-null vectors.  Latencies are end-to-end ShotIndex calls (query +
Arrow -> pandas), single-threaded client, warm cache, after 20 warm-up queries.

Data is written under bench/out/ (gitignored).
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from filmaster_dag.cinema.vocabulary import CameraMovement, LightingKey, ShotScale
from filmaster_dag.index import IndexSettings, ShotIndex, shots_schema

# the project's vocabulary (10 movements x 6 scales, as in earlier runs: 'static' + 'wide' is ~1.7 % of rows)
MOVES = np.array(CameraMovement.values())
SCALES = np.array(
    [
        s.value
        for s in (
            ShotScale.EXTREME_WIDE,
            ShotScale.WIDE,
            ShotScale.MEDIUM_LONG,
            ShotScale.MEDIUM,
            ShotScale.CLOSE_UP,
            ShotScale.EXTREME_CLOSE_UP,
        )
    ]
)
LIGHT = np.array([k.value for k in (LightingKey.HIGH_KEY, LightingKey.LOW_KEY, LightingKey.NORMAL)])
SUBJECTS = np.array(
    [
        "a woman",
        "a man",
        "two people",
        "a crowd",
        "a child",
        "a dog",
        "a car",
        "a train",
        "a horse",
        "a face",
        "hands",
        "a city street",
        "a forest",
        "the sea",
        "a kitchen",
        "a bedroom",
        "a bar",
        "a rooftop",
        "a desert road",
        "a church",
        "a market",
        "a bridge",
        "a bunny",
        "a dragon",
        "a robot",
        "a spaceship",
        "a letter",
        "a gun",
        "a clock",
        "a window",
    ]
)
VERBS = np.array(
    [
        "walking",
        "running",
        "talking",
        "waiting",
        "crying",
        "laughing",
        "fighting",
        "driving",
        "dancing",
        "sleeping",
        "reading",
        "arriving",
        "leaving",
        "looking out",
        "falling",
    ]
)
TIMES = np.array(
    [
        "at dawn",
        "in daylight",
        "at dusk",
        "at night",
        "in the rain",
        "in snow",
        "under neon light",
        "by candlelight",
        "in fog",
        "at golden hour",
    ]
)
SHOTS_PER_FILM = 500
NULL_FRACTION = 0.05


def percentile(xs, p):
    return float(np.percentile(np.asarray(xs) * 1000.0, p))


def unit_rows(x: np.ndarray) -> np.ndarray:
    return x / np.linalg.norm(x, axis=1, keepdims=True)


class Synth:
    def __init__(self, n: int, dim: int, seed: int = 0):
        self.n, self.dim = n, dim
        self.rng = np.random.default_rng(seed)
        self.n_centres = int(min(4096, max(64, n // 250)))
        self.centres = unit_rows(self.rng.standard_normal((self.n_centres, dim)).astype(np.float32))
        w = 1.0 / np.arange(1, self.n_centres + 1) ** 0.5  # Zipf-ish cluster sizes
        self.weights = w / w.sum()
        self.noise = 0.6

    def points(self, m: int, extra_noise: float = 0.0) -> np.ndarray:
        c = self.rng.choice(self.n_centres, size=m, p=self.weights)
        g = self.rng.standard_normal((m, self.dim)).astype(np.float32)
        x = self.centres[c] + (self.noise / np.sqrt(self.dim)) * g
        if extra_noise:
            x += (extra_noise / np.sqrt(self.dim)) * self.rng.standard_normal((m, self.dim)).astype(np.float32)
        return unit_rows(x).astype(np.float32)

    def batch(self, start: int, m: int, schema: pa.Schema) -> tuple[pa.Table, np.ndarray, np.ndarray]:
        rng, n = self.rng, m
        idx = np.arange(start, start + m)
        film_no, shot_no = idx // SHOTS_PER_FILM, idx % SHOTS_PER_FILM
        films = np.char.add("film", np.char.zfill(film_no.astype(str), 5))
        shot_ids = np.char.add(np.char.add(films, "/"), np.char.zfill(shot_no.astype(str), 4))
        dur = rng.uniform(0.5, 12.0, n)
        start_s = shot_no * 6.0
        mv, sc = (
            MOVES[rng.integers(0, len(MOVES), n)],
            SCALES[rng.integers(0, len(SCALES), n)],
        )
        desc = [
            f"{s.replace('_', ' ')} {m.replace('_', ' ')} shot of {a} {v} {t}"
            for s, m, a, v, t in zip(
                sc,
                mv,
                SUBJECTS[rng.integers(0, len(SUBJECTS), n)],
                VERBS[rng.integers(0, len(VERBS), n)],
                TIMES[rng.integers(0, len(TIMES), n)],
            )
        ]
        vecs = self.points(n)
        has_vec = rng.random(n) >= NULL_FRACTION
        vec_arr = pa.FixedSizeListArray.from_arrays(pa.array(vecs.reshape(-1)), self.dim, mask=pa.array(~has_vec))
        cols = {
            "shot_id": pa.array(shot_ids.tolist()),
            "film": pa.array(films.tolist()),
            "shot_index": pa.array(shot_no, pa.int64()),
            "start_frame": pa.array((start_s * 24).astype(np.int64)),
            "end_frame": pa.array(((start_s + dur) * 24).astype(np.int64)),
            "start_s": pa.array(start_s),
            "end_s": pa.array(start_s + dur),
            "duration_s": pa.array(dur),
            "frame_rate": pa.array(np.full(n, 24.0)),
            "transition_in": pa.array(np.where(rng.random(n) < 0.9, "cut", "dissolve").tolist()),
            "transition_in_confidence": pa.array(rng.uniform(0.5, 1.0, n)),
            "keyframe_path": pa.array([f"data/keyframes/{s}.jpg" for s in shot_ids.tolist()]),
            "movement": pa.array(mv.tolist()),
            "movement_speed": pa.array(rng.uniform(0, 3, n)),
            "shot_scale": pa.array(sc.tolist()),
            "lighting_key": pa.array(LIGHT[rng.integers(0, 3, n)].tolist()),
            "brightness": pa.array(rng.uniform(0, 1, n)),
            "contrast": pa.array(rng.uniform(0, 1, n)),
            "saturation": pa.array(rng.uniform(0, 1, n)),
            "colour_temperature_k": pa.array(rng.uniform(2500, 9000, n)),
            "palette": pa.array([["#101010", "#808080", "#f0f0f0"]] * n, pa.list_(pa.string())),
            "motion_energy": pa.array(rng.uniform(0, 1, n)),
            "sequence_id": pa.array([f"{f}/seq{s // 8:03d}" for f, s in zip(films.tolist(), shot_no.tolist())]),
            "description": pa.array(desc),
            "source_sha256": pa.array(["0" * 64] * n),
            "vector": vec_arr,
        }
        # record columns the benchmark does not model (camera rates, soundtrack, ...) are null
        arrays = [cols[f.name] if f.name in cols else pa.nulls(n, f.type) for f in schema]
        return pa.Table.from_arrays(arrays, schema=schema), vecs, has_vec


def exact_topk(
    base: np.ndarray,
    valid: np.ndarray,
    queries: np.ndarray,
    k: int,
    mask: np.ndarray | None = None,
):
    ok = valid if mask is None else (valid & mask)
    ids = np.flatnonzero(ok)
    out = np.empty((len(queries), k), dtype=np.int64)
    for s in range(0, len(queries), 50):
        sims = queries[s : s + 50] @ base[ids].T if len(ids) < 300_000 else None
        if sims is None:  # chunk the base to bound memory
            best_s = np.full((min(50, len(queries) - s), 0), -np.inf, np.float32)
            best_i = np.zeros_like(best_s, dtype=np.int64)
            for b in range(0, len(ids), 250_000):
                part = ids[b : b + 250_000]
                sp = queries[s : s + 50] @ base[part].T
                cand_s = np.concatenate([best_s, sp], axis=1)
                cand_i = np.concatenate([best_i, np.broadcast_to(part, sp.shape)], axis=1)
                top = np.argpartition(-cand_s, k - 1, axis=1)[:, :k]
                best_s = np.take_along_axis(cand_s, top, 1)
                best_i = np.take_along_axis(cand_i, top, 1)
            order = np.argsort(-best_s, axis=1)
            out[s : s + 50] = np.take_along_axis(best_i, order, 1)
        else:
            top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
            order = np.argsort(-np.take_along_axis(sims, top, 1), axis=1)
            out[s : s + 50] = ids[np.take_along_axis(top, order, 1)]
    return out


def row_ids(n: int) -> np.ndarray:
    i = np.arange(n)
    return np.char.add(
        np.char.add(
            np.char.add("film", np.char.zfill((i // SHOTS_PER_FILM).astype(str), 5)),
            "/",
        ),
        np.char.zfill((i % SHOTS_PER_FILM).astype(str), 4),
    )


def time_calls(fn, args_list, warmup=20):
    for a in args_list[:warmup]:
        fn(a)
    ts, outs = [], []
    for a in args_list:
        t0 = time.perf_counter()
        outs.append(fn(a))
        ts.append(time.perf_counter() - t0)
    return ts, outs


def recall(results, truth_ids, k=10):
    hits = [len(set(r["shot_id"].tolist()[:k]) & set(t[:k])) / k for r, t in zip(results, truth_ids)]
    return float(np.mean(hits))


def run_size(n: int, args, index_type: str) -> dict:
    out_dir = Path(args.out) / f"n{n}_{index_type.lower()}"
    if out_dir.exists():
        shutil.rmtree(out_dir)
    settings = IndexSettings(
        vector_dim=args.dim,
        vector_index_type=index_type,
        **_type_overrides(index_type, args),
    )
    idx = ShotIndex(str(out_dir), settings, read_consistency_interval=None)
    schema = shots_schema(args.dim)
    syn = Synth(n, args.dim, seed=args.seed)
    base = np.empty((n, args.dim), np.float32)
    valid = np.empty(n, bool)
    moves, scales = np.empty(n, object), np.empty(n, object)
    t0 = time.perf_counter()
    for s in range(0, n, args.batch):
        m = min(args.batch, n - s)
        tbl, vecs, has = syn.batch(s, m, schema)
        base[s : s + m], valid[s : s + m] = vecs, has
        moves[s : s + m] = tbl["movement"].to_numpy(zero_copy_only=False)
        scales[s : s + m] = tbl["shot_scale"].to_numpy(zero_copy_only=False)
        idx.append(tbl)
    t_write = time.perf_counter() - t0
    ids = row_ids(n)

    t0 = time.perf_counter()
    idx.ensure_indexes(vector=False)
    t_scalar = time.perf_counter() - t0
    t0 = time.perf_counter()
    created = idx.ensure_indexes(vector=True)
    t_vec = time.perf_counter() - t0
    has_vidx = any("vector" in c for c in created)

    rng = np.random.default_rng(args.seed + 1)
    queries = syn.points(args.queries, extra_noise=0.3)
    truth = exact_topk(base, valid, queries, 10)
    truth_ids = [ids[t].tolist() for t in truth]

    res = {
        "rows": n,
        "vec_rows": int(valid.sum()),
        "write_s": t_write,
        "scalar_fts_s": t_scalar,
        "vector_idx_s": t_vec if has_vidx else 0.0,
        "index": index_type if has_vidx else "flat (no ANN)",
        "n_centres": syn.n_centres,
    }
    ts, outs = time_calls(lambda q: idx.search_vector(q, k=10), list(queries))
    res.update(
        vec_p50=percentile(ts, 50),
        vec_p95=percentile(ts, 95),
        recall=recall(outs, truth_ids),
    )
    # retrieval as the planner does it: the ids of the hits, not every measurement column
    lean = ["shot_id", "film", "sequence_id"]
    ts, outs = time_calls(lambda q: idx.search_vector(q, k=10, columns=lean), list(queries))
    res.update(
        ids_p50=percentile(ts, 50),
        ids_p95=percentile(ts, 95),
        ids_recall=recall(outs, truth_ids),
    )

    if args.sweep and has_vidx:
        res["sweep"] = sweep(idx, queries, truth_ids, index_type)

    # filtered vector search (prefilter): movement = 'static' AND shot_scale = 'wide' (~1.7 % of rows)
    where = "movement = 'static' AND shot_scale = 'wide'"
    fq = queries[: max(50, args.queries // 2)]
    mask = (moves == "static") & (scales == "wide")
    ftruth = [ids[t].tolist() for t in exact_topk(base, valid, fq, 10, mask)]
    ts, outs = time_calls(lambda q: idx.search_vector(q, k=10, where=where), list(fq))
    res.update(
        fvec_p50=percentile(ts, 50),
        fvec_p95=percentile(ts, 95),
        frecall=recall(outs, ftruth),
    )

    words = np.concatenate([SUBJECTS, VERBS, MOVES, TIMES])
    texts = [" ".join(str(w).replace("_", " ") for w in rng.choice(words, 3, replace=False)) for _ in range(args.queries)]
    ts, _ = time_calls(lambda q: idx.search_text(q, k=10), texts)
    res.update(fts_p50=percentile(ts, 50), fts_p95=percentile(ts, 95))

    n_films = (n + SHOTS_PER_FILM - 1) // SHOTS_PER_FILM
    filters = [f"film = 'film{rng.integers(0, n_films):05d}' AND movement = 'static'" for _ in range(args.queries // 2)]
    filters += [
        f"shot_scale = '{SCALES[rng.integers(0, len(SCALES))]}' AND movement = '{MOVES[rng.integers(0, len(MOVES))]}' AND duration_s > 5"
        for _ in range(args.queries // 2)
    ]
    ts, _ = time_calls(lambda w: idx.filter(w, limit=100), filters)
    res.update(attr_p50=percentile(ts, 50), attr_p95=percentile(ts, 95))

    # one film re-analysed: merge_insert of 500 rows into the full table
    film0 = ids[:SHOTS_PER_FILM]
    df = idx.filter("film = 'film00000'", with_vector=True)
    df["description"] = df["description"] + " (re-analysed)"
    t0 = time.perf_counter()
    idx.upsert_film("film00000", df)
    res["upsert_s"] = time.perf_counter() - t0
    # the same film again: compared with its stored rows and skipped, no commit
    version = idx.table_version
    t0 = time.perf_counter()
    unchanged = idx.upsert_film("film00000", df)
    res["noop_upsert_s"] = time.perf_counter() - t0
    assert unchanged["unchanged"] and idx.table_version == version
    assert idx.count("film00000") == len(film0) and idx.count() == n
    res["disk_gb"] = sum(f.stat().st_size for f in out_dir.rglob("*") if f.is_file()) / 1e9
    if not args.keep:
        shutil.rmtree(out_dir, ignore_errors=True)
    return res


def _type_overrides(index_type: str, args) -> dict:
    o = {}
    if args.num_partitions:
        o["num_partitions"] = args.num_partitions
    if args.nprobes:
        o["nprobes"] = args.nprobes
    if args.ef:
        o["ef"] = args.ef
    if args.refine_factor is not None:
        o["refine_factor"] = args.refine_factor or None
    if args.min_rows is not None:
        o["vector_index_min_rows"] = args.min_rows
    return o


def sweep(idx: ShotIndex, queries, truth_ids, index_type: str) -> list[dict]:
    grid = []
    if "HNSW" in index_type:
        # LanceDB builds one IVF partition up to ~1M rows, so nprobes changes nothing here;
        # ef trades speed for recall, refine_factor re-ranks with the full vectors (lifts the SQ ceiling)
        for ef in (64, 100, 150, 200):
            for rf in (None, 2, 5):
                grid.append({"nprobes": None, "ef": ef, "refine_factor": rf})
    else:
        for nprobes in (10, 20, 40, 80):
            for rf in (None, 5, 10, 20):
                grid.append({"nprobes": nprobes, "refine_factor": rf, "ef": None})
    rows = []
    for g in grid:
        ts, outs = time_calls(
            lambda q, g=g: idx.search_vector(q, k=10, columns=["shot_id", "film", "sequence_id"], **g),
            list(queries),
            warmup=10,
        )
        rows.append(
            {
                **g,
                "p50": percentile(ts, 50),
                "p95": percentile(ts, 95),
                "recall": recall(outs, truth_ids),
            }
        )
    return rows


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    import lance
    import lancedb

    return (
        f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB RAM, local disk; Python {platform.python_version()}, "
        f"lancedb {lancedb.__version__}, pylance {lance.__version__}"
    )


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sizes", default="10000,100000,1000000")
    ap.add_argument("--dim", type=int, default=512)
    ap.add_argument("--queries", type=int, default=200)
    ap.add_argument("--batch", type=int, default=50_000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--index-types", default=IndexSettings.vector_index_type)
    ap.add_argument("--num-partitions", type=int, default=None)
    ap.add_argument("--nprobes", type=int, default=None)
    ap.add_argument("--ef", type=int, default=None)
    ap.add_argument("--refine-factor", type=int, default=None, help="0 = none")
    ap.add_argument("--min-rows", type=int, default=None, help="vector_index_min_rows override")
    ap.add_argument("--sweep", action="store_true", help="also sweep query-time params")
    ap.add_argument("--keep", action="store_true", help="keep the tables under --out")
    ap.add_argument("--out", default=str(Path(__file__).resolve().parent / "out"))
    args = ap.parse_args(argv)
    sizes = [int(float(s)) for s in args.sizes.split(",")]
    d = IndexSettings()
    print(f"machine: {machine()}")
    print(
        f"vectors: {args.dim}-d, clustered (min(4096, n/250) gaussian centres on the unit sphere, Zipf sizes, "
        f"noise norm 0.6, L2-normalised), {NULL_FRACTION:.0%} NULL; queries: {args.queries} held-out points "
        f"+ extra noise 0.3; truth: exact numpy cosine top-10"
    )
    print(
        f"defaults: index={d.vector_index_type} m={d.hnsw_m} ef_construction={d.hnsw_ef_construction} "
        f"nprobes={d.nprobes} ef={d.ef} refine_factor={d.refine_factor} min_rows={d.vector_index_min_rows}\n"
    )
    results = []
    for it in args.index_types.split(","):
        for n in sizes:
            t0 = time.perf_counter()
            r = run_size(n, args, it)
            r["total_s"] = time.perf_counter() - t0
            results.append(r)
            print(
                f"# done n={n} {it} in {r['total_s']:.0f}s: p50={r['vec_p50']:.2f}ms recall={r['recall']:.3f}",
                file=sys.stderr,
                flush=True,
            )
            for s in r.get("sweep", []):
                print(f"#   sweep {s}", file=sys.stderr, flush=True)
    hdr = (
        "| rows | rows w/ vector | write s | scalar+FTS idx s | vector idx s | vector index | vec p50 ms | vec p95 ms "
        "| recall@10 | vec ids-only p50 ms | vec ids-only p95 ms | filtered vec p50 ms | filtered recall@10 "
        "| FTS p50 ms | attr filter p50 ms "
        "| upsert 1 film (500) s | no-op upsert s | disk GB |"
    )
    print(hdr)
    print("|" + "|".join(["---"] * (hdr.count("|") - 1)) + "|")
    for r in results:
        print(
            f"| {r['rows']:,} | {r['vec_rows']:,} | {r['write_s']:.1f} | {r['scalar_fts_s']:.1f} | "
            f"{r['vector_idx_s']:.1f} | {r['index']} | {r['vec_p50']:.2f} | {r['vec_p95']:.2f} | {r['recall']:.3f} | "
            f"{r['ids_p50']:.2f} | {r['ids_p95']:.2f} | "
            f"{r['fvec_p50']:.2f} | {r['frecall']:.3f} | {r['fts_p50']:.2f} | {r['attr_p50']:.2f} | "
            f"{r['upsert_s']:.2f} | {r['noop_upsert_s']:.2f} | {r['disk_gb']:.2f} |"
        )
    sw = [(r, s) for r in results for s in r.get("sweep", [])]
    if sw:
        print("\n| rows | index | nprobes | ef | refine_factor | p50 ms | p95 ms | recall@10 |")
        print("|---|---|---|---|---|---|---|---|")
        for r, s in sw:
            print(
                f"| {r['rows']:,} | {r['index']} | {s['nprobes']} | {s['ef']} | {s['refine_factor']} | "
                f"{s['p50']:.2f} | {s['p95']:.2f} | {s['recall']:.3f} |"
            )


if __name__ == "__main__":
    main()
