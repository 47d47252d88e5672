from __future__ import annotations

import threading

import numpy as np
import pandas as pd
import pytest

from filmaster_dag.resources.index import (
    IndexSettings,
    ReferenceIndex,
    ShotIndex,
    film_filter,
    sql_literal,
)

DIM = 16
MOVES = ["static", "pan_right", "pan_left", "tilt_up", "handheld", "dolly_in"]
SCALES = ["wide", "medium", "close_up", "extreme_close_up"]


def unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


def make_shots(film: str, n: int, *, vectors: bool = True, seed: int = 0, descriptions=None,
               sha: str = "a" * 64) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    t = 0.0
    for i in range(n):
        dur = float(rng.uniform(1.0, 8.0))
        mv, sc = MOVES[i % len(MOVES)], SCALES[i % len(SCALES)]
        rows.append({
            "shot_id": f"{film}/{i:04d}", "film": film, "shot_index": i,
            "start_frame": int(t * 24), "end_frame": int((t + dur) * 24) - 1,
            "start_s": t, "end_s": t + dur, "duration_s": dur, "frame_rate": 24.0,
            "transition_in": "cut" if i else "start", "transition_in_confidence": 0.9,
            "keyframe_path": f"data/keyframes/{film}/{i:04d}.jpg",
            "movement": mv, "movement_speed": float(rng.uniform(0, 3)),
            "shot_scale": sc, "lighting_key": ["high", "low", "normal"][i % 3],
            "brightness": float(rng.uniform()), "contrast": float(rng.uniform()),
            "saturation": float(rng.uniform()), "colour_temperature_k": float(rng.uniform(3000, 7000)),
            "palette": ["#112233", "#445566", "#778899"], "motion_energy": float(rng.uniform()),
            "sequence_id": f"{film}/seq{i // 3:03d}",
            "description": (descriptions[i] if descriptions else f"{sc.replace('_', '-')} {mv} shot number {i} in daylight"),
            "source_sha256": sha,
            "vector": unit(rng.standard_normal(DIM)) if vectors else None,
        })
        t += dur
    return pd.DataFrame(rows)


def make_sequences(shots: pd.DataFrame) -> pd.DataFrame:
    film = shots["film"].iloc[0]
    out = []
    for j, (sid, g) in enumerate(shots.groupby("sequence_id", sort=True)):
        out.append({
            "sequence_id": sid, "film": film, "sequence_index": j,
            "start_s": g["start_s"].min(), "end_s": g["end_s"].max(),
            "duration_s": g["end_s"].max() - g["start_s"].min(),
            "shot_ids": list(g["shot_id"]), "shot_count": len(g),
            "camera_chain": " -> ".join(f"{s} {m}" for s, m in zip(g["shot_scale"], g["movement"])),
            "description": f"sequence {j} of {film}", "source_sha256": g["source_sha256"].iloc[0],
            "vector": None,
        })
    return pd.DataFrame(out)


@pytest.fixture()
def index(tmp_path) -> ShotIndex:
    return ShotIndex(str(tmp_path / "lancedb"), IndexSettings(vector_dim=DIM))


def test_upsert_replaces_exactly_one_film(index):
    a = make_shots("alpha", 12, seed=1)
    b = make_shots("beta", 8, vectors=False, seed=2)
    r1 = index.upsert_film("alpha", a, make_sequences(a))
    index.upsert_film("beta", b, make_sequences(b))
    assert r1["shots"]["inserted"] == 12
    assert index.count() == 20 and index.count("alpha") == 12 and index.count("beta") == 8
    assert index.count(table="sequences") == 4 + 3
    v_before = index.table_version
    beta_before = index.film_rows("beta")

    # re-analysis of alpha yields fewer shots and new descriptions
    a2 = make_shots("alpha", 5, seed=3, descriptions=[f"re-analysed shot {i}" for i in range(5)])
    r2 = index.upsert_film("alpha", a2, make_sequences(a2))
    assert r2["shots"]["deleted"] == 7 and r2["shots"]["updated"] == 5
    assert index.count("alpha") == 5
    assert list(index.film_rows("alpha")["shot_id"]) == [f"alpha/{i:04d}" for i in range(5)]
    assert index.count(table="sequences", film="alpha") == 2
    pd.testing.assert_frame_equal(index.film_rows("beta"), beta_before)
    assert index.duplicate_shot_ids().empty
    # versions / time travel
    assert index.table_version > v_before
    assert len(index.versions()) >= 3
    old = index.read_version(v_before, where=film_filter("alpha"))
    assert len(old) == 12
    assert index.count("alpha") == 5  # reading an old version did not move the live handle

    # idempotent: same data again -> same rows, no duplicates
    index.upsert_film("alpha", a2, make_sequences(a2))
    index.upsert_film("alpha", a2, make_sequences(a2))
    assert index.count() == 13 and index.duplicate_shot_ids().empty
    assert index.duplicate_shot_ids("sequences").empty

    # null vectors are stored as null, never zeros
    beta = index.film_rows("beta", with_vector=True)
    assert beta["vector"].isna().all()
    alpha = index.film_rows("alpha", with_vector=True)
    assert alpha["vector"].notna().all()
    np.testing.assert_allclose(np.stack(alpha["vector"]), np.stack(a2["vector"]), rtol=1e-6)
    assert alpha["palette"].iloc[0].tolist() == ["#112233", "#445566", "#778899"]

    # empty frame deletes the film; sequences=None leaves sequences untouched
    index.upsert_film("beta", b.iloc[:0])
    assert index.count("beta") == 0 and index.count("alpha") == 5
    assert index.count(table="sequences", film="beta") == 3


def test_validation(index):
    a = make_shots("alpha", 3)
    with pytest.raises(ValueError, match="another film"):
        index.upsert_film("gamma", a)
    with pytest.raises(ValueError, match="duplicate"):
        index.upsert_film("alpha", pd.concat([a, a.iloc[:1]]))
    bad = a.copy()
    bad["vector"] = [np.ones(DIM + 1, np.float32)] * 3
    with pytest.raises(ValueError, match="dims"):
        index.upsert_film("alpha", bad)
    # NaN / zero vectors become null, extra columns are stored
    a["vector"] = [np.full(DIM, np.nan, np.float32), np.zeros(DIM, np.float32), unit(np.ones(DIM))]
    a["clip_model"] = "ViT-B-32"
    a["faces"] = [1, 2, None]
    index.upsert_film("alpha", a)
    rows = index.film_rows("alpha", with_vector=True)
    assert rows["vector"].isna().tolist() == [True, True, False]
    assert rows["clip_model"].tolist() == ["ViT-B-32"] * 3
    assert index.count(where="faces = 2") == 1
    # a later film without the extra columns still fits
    index.upsert_film("beta", make_shots("beta", 2))
    assert index.filter("film = 'beta'")["clip_model"].isna().all()


def test_filter_text_vector_hybrid(index):
    descs = [
        "wide static establishing shot of a city street at dawn",
        "medium pan right following a cyclist in daylight",
        "handheld close-up of a face at night, neon light",
        "extreme close-up static insert of a clock",
        "wide aerial drone shot over the sea",
        "medium dolly in on two people talking in a kitchen",
    ]
    a = make_shots("alpha", 6, descriptions=descs, seed=4)
    b = make_shots("beta", 6, vectors=False, seed=5)
    index.upsert_film("alpha", a)
    index.upsert_film("beta", b)

    df = index.filter("movement = 'static' AND shot_scale = 'wide'")
    assert set(df["shot_id"]) == {"alpha/0000", "beta/0000"}
    assert "vector" not in df.columns
    assert len(index.filter(film_filter("beta"), limit=2)) == 2

    hits = index.search_text("handheld close-up night", k=3)
    assert hits["shot_id"].iloc[0] == "alpha/0002"
    assert (hits["_score"].diff().dropna() <= 0).all()
    assert index.search_text("handheld close-up night", k=5, where="film = 'beta'")["film"].eq("beta").all()

    # text index stays correct after upserts (new rows findable, replaced text gone)
    a_new = a.copy()
    a_new.loc[2, "description"] = "slow crane shot rising above a rooftop garden"
    index.upsert_film("alpha", a_new)
    assert index.search_text("crane rooftop", k=1)["shot_id"].iloc[0] == "alpha/0002"
    assert "alpha/0002" not in set(index.search_text("neon", k=5)["shot_id"])

    # vector search: nulls never returned, nearest first
    target = np.stack(a["vector"])[3]
    q = unit(target + 0.05 * np.random.default_rng(0).standard_normal(DIM))
    res = index.search_vector(q, k=20)
    assert len(res) == 6 and set(res["film"]) == {"alpha"}
    assert res["shot_id"].iloc[0] == "alpha/0003"
    assert res["_distance"].is_monotonic_increasing
    exp = 1 - np.stack(a["vector"]) @ q
    np.testing.assert_allclose(res["_distance"].to_numpy(), np.sort(exp), atol=1e-4)
    res_f = index.search_vector(q, k=5, where="shot_scale = 'wide'")
    assert set(res_f["shot_id"]) == {"alpha/0000", "alpha/0004"}

    hyb = index.search_hybrid("crane over a rooftop", np.stack(a["vector"])[2], k=5)
    assert hyb["shot_id"].iloc[0] == "alpha/0002"
    assert "_relevance_score" in hyb.columns
    hyb_f = index.search_hybrid("daylight", np.stack(a["vector"])[2], k=5, where="film = 'beta'")
    assert len(hyb_f) and hyb_f["film"].eq("beta").all()  # beta has no vectors: text leg only

    index.ensure_indexes()
    cols = {c for i in index.shots.list_indices() for c in i.columns}
    assert {"description", "film", "movement", "shot_scale", "shot_id"} <= cols
    assert "vector" not in cols  # below vector_index_min_rows
    st = index.stats()
    assert st["tables"]["shots"]["rows"] == 12 and st["tables"]["shots"]["rows_with_vector"] == 6


def test_vector_index_with_nulls(tmp_path):
    idx = ShotIndex(str(tmp_path / "db"), IndexSettings(vector_dim=DIM, vector_index_min_rows=200))
    rng = np.random.default_rng(7)
    centres = np.stack([unit(rng.standard_normal(DIM)) for _ in range(8)])
    frames, created = [], []
    for f in range(6):
        df = make_shots(f"film{f}", 60, seed=f, vectors=f % 3 != 0)
        if f % 3:
            df["vector"] = [unit(centres[i % 8] + 0.2 * rng.standard_normal(DIM)) for i in range(60)]
        frames.append(df)
        created.append(idx.upsert_film(f"film{f}", df)["indexes_created"])
    # the upsert that brings the vectors past vector_index_min_rows (film5: 240 vectors) builds it
    assert ["shots.vector:IVF_HNSW_SQ" in c for c in created] == [False] * 5 + [True]
    assert idx.has_vector_index() and idx.ensure_indexes() == []
    q = np.stack(frames[1]["vector"])[5]
    res = idx.search_vector(q, k=30, with_vector=True)
    assert res["vector"].notna().all() and len(res) == 30
    assert res["shot_id"].iloc[0] == "film1/0005"
    exact = idx.search_vector(q, k=30, exact=True)
    assert len(set(res["shot_id"]) & set(exact["shot_id"])) >= 27
    # rows written after the index are still found, then folded in by optimize()
    late = make_shots("late", 3, seed=99)
    late["vector"] = [unit(-q + 0.01 * rng.standard_normal(DIM)) for _ in range(3)]
    idx.upsert_film("late", late)
    assert set(idx.search_vector(-q, k=3)["film"]) == {"late"}
    out = idx.optimize()
    vec = [i for i in out["tables"]["shots"]["indexes"] if i["columns"] == ["vector"]][0]
    assert vec["unindexed_rows"] == 0
    assert set(idx.search_vector(-q, k=3)["film"]) == {"late"}
    assert idx.count() == 363 and idx.duplicate_shot_ids().empty


def test_awkward_film_ids(index):
    films = ["l'été à Paris", 'The "Big" One (1999)', "Ōkami  — 狼", "o'brien's o''clock"]
    for i, film in enumerate(films):
        index.upsert_film(film, make_shots(film, 3 + i, seed=i), None)
    for i, film in enumerate(films):
        assert index.count(film) == 3 + i
        assert set(index.film_rows(film)["film"]) == {film}
    index.upsert_film(films[0], make_shots(films[0], 1))
    assert index.count(films[0]) == 1 and index.count(films[1]) == 4
    assert sql_literal("l'été") == "'l''été'"
    assert index.search_text("Paris", k=50).empty  # film ids are not in descriptions
    assert index.filter(f"film = {sql_literal(films[3])}")["shot_id"].str.startswith("o'brien").all()


def test_concurrent_upserts_are_serialised(tmp_path):
    uri = str(tmp_path / "db")
    data = make_shots("alpha", 40)
    other = make_shots("beta", 10)
    ShotIndex(uri, IndexSettings(vector_dim=DIM)).upsert_film("beta", other)
    errors = []

    def worker():
        try:  # separate connections, as separate Dagster ops would have
            ShotIndex(uri, IndexSettings(vector_dim=DIM)).upsert_film("alpha", data)
        except Exception as exc:  # pragma: no cover
            errors.append(exc)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    idx = ShotIndex(uri, IndexSettings(vector_dim=DIM))
    assert idx.count("alpha") == 40 and idx.count("beta") == 10
    assert idx.duplicate_shot_ids().empty


def test_dagster_resource(tmp_path):
    res = ReferenceIndex(uri=str(tmp_path / "db"), vector_dim=DIM, vector_index_min_rows=5)
    idx = res.open()
    assert isinstance(idx, ShotIndex)
    assert idx.settings.vector_dim == DIM and idx.settings.vector_index_min_rows == 5
    idx.upsert_film("alpha", make_shots("alpha", 2))
    assert res.open().count() == 2
