from __future__ import annotations

import json
import subprocess
import sys
import threading

import dagster as dg
import lancedb
import numpy as np
import pandas as pd
import pyarrow as pa
import pydantic
import pytest

from filmaster_dag.cinema import records
from filmaster_dag.cinema.vocabulary import (
    CameraMovement,
    LightingKey,
    ShotScale,
    TransitionIn,
    TransitionOut,
)
from filmaster_dag.index import IndexSettings, ShotIndex, film_filter, sql_literal
from filmaster_dag.resources.index import ReferenceIndex

DIM = 16
MOVES = [
    CameraMovement.STATIC,
    CameraMovement.PAN_RIGHT,
    CameraMovement.PAN_LEFT,
    CameraMovement.TILT_UP,
    CameraMovement.HANDHELD,
    CameraMovement.PUSH_IN,
]
SCALES = [
    ShotScale.WIDE,
    ShotScale.MEDIUM,
    ShotScale.CLOSE_UP,
    ShotScale.EXTREME_CLOSE_UP,
]
KEYS = [LightingKey.HIGH_KEY, LightingKey.LOW_KEY, LightingKey.NORMAL]


def unit(v) -> np.ndarray:
    v = np.asarray(v, dtype=np.float32)
    return v / np.linalg.norm(v)


def make_shots(
    film: str,
    n: int,
    *,
    vectors: bool = True,
    seed: int = 0,
    descriptions=None,
    sha: str = "a" * 64,
) -> pd.DataFrame:
    """A film's shot rows with the indexed columns of the shot record (as the reference_index asset hands them over)."""
    rng = np.random.default_rng(seed)
    rows = []
    t = 0.0
    for i in range(n):
        dur = float(rng.uniform(1.0, 8.0))
        mv, sc = MOVES[i % len(MOVES)], SCALES[i % len(SCALES)]
        row = {c.name: None for c in records.SHOT_COLUMNS if c.indexed}
        row.update(
            {
                "shot_id": f"{film}/{i:04d}",
                "film": film,
                "shot_index": i,
                "start_frame": int(t * 24),
                "end_frame": int((t + dur) * 24) - 1,
                "start_s": t,
                "end_s": t + dur,
                "duration_s": dur,
                "frame_rate": 24.0,
                "transition_in": str(TransitionIn.CUT if i else TransitionIn.START),
                "transition_in_confidence": 0.9,
                "transition_out": str(TransitionOut.CUT if i < n - 1 else TransitionOut.END),
                "keyframe_path": f"data/keyframes/{film}/{i:04d}.jpg",
                "movement": str(mv),
                "movement_speed": float(rng.uniform(0, 3)),
                "shot_scale": str(sc),
                "lighting_key": str(KEYS[i % 3]),
                "faces": i % 3,
                "brightness": float(rng.uniform()),
                "contrast": float(rng.uniform()),
                "saturation": float(rng.uniform()),
                "colour_temperature_k": float(rng.uniform(3000, 7000)),
                "palette": ["#112233", "#445566", "#778899"],
                "palette_weights": [0.5, 0.3, 0.2],
                "motion_energy": float(rng.uniform()),
                "sequence_id": f"{film}/seq{i // 3:03d}",
                "description": (descriptions[i] if descriptions else f"{sc.words} {mv.words} shot number {i} in daylight"),
                "source_sha256": sha,
                "vector": unit(rng.standard_normal(DIM)) if vectors else None,
            }
        )
        rows.append(row)
        t += dur
    return pd.DataFrame(rows)


def make_sequences(shots: pd.DataFrame) -> pd.DataFrame:
    film = shots["film"].iloc[0]
    out = []
    for j, (sid, g) in enumerate(shots.groupby("sequence_id", sort=True)):
        out.append(
            {
                "sequence_id": sid,
                "film": film,
                "sequence_index": j,
                "start_s": g["start_s"].min(),
                "end_s": g["end_s"].max(),
                "duration_s": g["end_s"].max() - g["start_s"].min(),
                "shot_ids": list(g["shot_id"]),
                "shot_count": len(g),
                "camera_chain": " -> ".join(f"{s} {m}" for s, m in zip(g["shot_scale"], g["movement"])),
                "break_reason": "start" if j == 0 else "new look",
                "continuity": 0.8,
                "description": f"sequence {j} of {film}",
                "source_sha256": g["source_sha256"].iloc[0],
                "vector": None,
            }
        )
    return pd.DataFrame(out)


@pytest.fixture()
def index(tmp_path) -> ShotIndex:
    return ShotIndex(str(tmp_path / "lancedb"), IndexSettings(vector_dim=DIM))


def test_upsert_replaces_exactly_one_film(index):
    a = make_shots("alpha", 12, seed=1)
    b = make_shots("beta", 8, vectors=False, seed=2)
    r1 = index.upsert_film("alpha", a, make_sequences(a))
    index.upsert_film("beta", b, make_sequences(b))
    assert r1["shots"]["inserted"] == 12 and r1["unchanged"] is False
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
    assert index.count() == 13 and index.duplicate_shot_ids().empty
    assert index.duplicate_shot_ids("sequences").empty

    # null vectors are stored as null, never zeros
    beta = index.film_rows("beta", with_vector=True)
    assert beta["vector"].isna().all()
    alpha = index.film_rows("alpha", with_vector=True)
    assert alpha["vector"].notna().all()
    np.testing.assert_allclose(np.stack(alpha["vector"]), np.stack(a2["vector"]), rtol=1e-6)
    assert alpha["palette"].iloc[0].tolist() == ["#112233", "#445566", "#778899"]
    assert alpha["palette_weights"].iloc[0].tolist() == [0.5, 0.3, 0.2]

    # empty frame deletes the film; sequences=None leaves sequences untouched
    index.upsert_film("beta", b.iloc[:0])
    assert index.count("beta") == 0 and index.count("alpha") == 5
    assert index.count(table="sequences", film="beta") == 3


def test_unchanged_film_commits_nothing(index):
    a, b = make_shots("alpha", 9, seed=1), make_shots("beta", 4, vectors=False, seed=2)
    index.upsert_film("alpha", a, make_sequences(a))
    index.upsert_film("beta", b, make_sequences(b))
    shots_v, seqs_v = index.table_version, index.sequences.version

    # the same rows again, in another row order, from a fresh connection: no new version of either table
    again = ShotIndex(index.uri, index.settings).upsert_film("alpha", a.iloc[::-1], make_sequences(a))
    assert again["unchanged"] is True and again["shots"]["unchanged"] and again["sequences"]["unchanged"]
    assert again["table_version"] == shots_v
    index.shots.checkout_latest()
    index.sequences.checkout_latest()
    assert (index.table_version, index.sequences.version) == (shots_v, seqs_v)
    # deleting a film that has no rows commits nothing either
    assert index.upsert_film("gamma", make_shots("gamma", 0))["unchanged"] is True
    assert index.table_version == shots_v

    # one changed value: a new version, and only that row of that film differs
    alpha_before, beta_before = (
        index.film_rows("alpha", with_vector=True),
        index.film_rows("beta", with_vector=True),
    )
    changed = a.copy()
    changed.loc[4, "shot_scale"] = str(ShotScale.MEDIUM_LONG)
    res = index.upsert_film("alpha", changed, make_sequences(a))
    assert res["unchanged"] is False and res["shots"]["unchanged"] is False and res["sequences"]["unchanged"] is True
    assert index.table_version > shots_v and index.sequences.version == seqs_v
    pd.testing.assert_frame_equal(index.film_rows("beta", with_vector=True), beta_before)
    alpha_after = index.film_rows("alpha", with_vector=True)
    diff = [c for c in alpha_after.columns if not alpha_after[c].astype(str).equals(alpha_before[c].astype(str))]
    assert diff == ["shot_scale"]
    assert alpha_after["shot_scale"].tolist() != alpha_before["shot_scale"].tolist()
    assert (alpha_after["shot_scale"] != alpha_before["shot_scale"]).sum() == 1


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
    # a column the shot record does not declare is refused by name, not added to the table
    with pytest.raises(ValueError, match="clip_model"):
        index.upsert_film("alpha", a.assign(clip_model="ViT-B-32"))
    # words outside the vocabulary are refused (dolly_in is not a CameraMovement)
    with pytest.raises(ValueError, match="dolly_in"):
        index.upsert_film("alpha", a.assign(movement=["static", "dolly_in", "static"]))
    assert index.count() == 0 and "clip_model" not in index.shots.schema.names

    # NaN / zero vectors become null; a declared column may be left out (stored as null)
    a["vector"] = [
        np.full(DIM, np.nan, np.float32),
        np.zeros(DIM, np.float32),
        unit(np.ones(DIM)),
    ]
    a["faces"] = [1, 2, None]
    index.upsert_film("alpha", a.drop(columns=["loudness_lufs"]))
    rows = index.film_rows("alpha", with_vector=True)
    assert rows["vector"].isna().tolist() == [True, True, False]
    assert index.count(where="faces = 2") == 1 and rows["faces"].isna().tolist() == [
        False,
        False,
        True,
    ]
    assert rows["loudness_lufs"].isna().all()
    assert index.shots.schema == records.shots_schema(DIM)


def test_filter_text_vector_hybrid(index, capfd):
    descs = [
        "wide static establishing shot of a city street at dawn",
        "medium pan right following a cyclist in daylight",
        "handheld close-up of a face at night, neon light",
        "extreme close-up static insert of a clock",
        "wide aerial drone shot over the sea",
        "medium push-in on two people talking in a kitchen",
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
    assert hyb["shot_id"].iloc[0] == "alpha/0002" and len(hyb) == 5
    assert "_relevance_score" in hyb.columns and hyb["_relevance_score"].is_monotonic_decreasing
    hyb_f = index.search_hybrid("daylight", np.stack(a["vector"])[2], k=5, where="film = 'beta'")
    assert len(hyb_f) and hyb_f["film"].eq("beta").all()  # beta has no vectors: text leg only
    assert index.search_hybrid("zeppelin", np.stack(a["vector"])[2], k=5, where="film = 'nobody'").empty
    # lance's scoring-column deprecation warning is avoided by naming _score/_distance, not filtered
    assert "Deprecation warning" not in capfd.readouterr().err

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
    vec = next(i for i in out["tables"]["shots"]["indexes"] if i["columns"] == ["vector"])
    assert vec["unindexed_rows"] == 0
    assert set(idx.search_vector(-q, k=3)["film"]) == {"late"}
    assert idx.count() == 363 and idx.duplicate_shot_ids().empty


def test_awkward_film_ids(index):
    films = [
        "l'été à Paris",
        'The "Big" One (1999)',
        "Ōkami  — 狼",
        "o'brien's o''clock",
    ]
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
    errors, results = [], []

    def worker():
        try:  # separate connections, as separate Dagster ops would have
            results.append(ShotIndex(uri, IndexSettings(vector_dim=DIM)).upsert_film("alpha", data))
        except Exception as exc:
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
    # one writer inserted the film; the others, serialised behind it, found it unchanged
    assert sorted(r["unchanged"] for r in results) == [False, True, True, True]


# ----------------------------------------------------------------------------- tables written by older versions

# The shots schema of the pre-record code, in its order, followed by the columns it added at
# run time as the first film produced them (lists of numbers as JSON text, plus a column the
# record does not declare).
OLD_SHOT_FIELDS = [
    ("shot_id", pa.string()),
    ("film", pa.string()),
    ("shot_index", pa.int64()),
    ("start_frame", pa.int64()),
    ("end_frame", pa.int64()),
    ("start_s", pa.float64()),
    ("end_s", pa.float64()),
    ("duration_s", pa.float64()),
    ("frame_rate", pa.float64()),
    ("transition_in", pa.string()),
    ("transition_in_confidence", pa.float64()),
    ("keyframe_path", pa.string()),
    ("movement", pa.string()),
    ("movement_speed", pa.float64()),
    ("shot_scale", pa.string()),
    ("lighting_key", pa.string()),
    ("brightness", pa.float64()),
    ("contrast", pa.float64()),
    ("saturation", pa.float64()),
    ("colour_temperature_k", pa.float64()),
    ("palette", pa.list_(pa.string())),
    ("motion_energy", pa.float64()),
    ("sequence_id", pa.string()),
    ("description", pa.string()),
    ("source_sha256", pa.string()),
    ("vector", pa.list_(pa.float32(), DIM)),
    # added at run time
    ("transition_out", pa.string()),
    ("faces", pa.int64()),
    ("palette_weights", pa.string()),
    ("clip_model", pa.string()),
]
OLD_SEQUENCE_FIELDS = [
    ("sequence_id", pa.string()),
    ("film", pa.string()),
    ("sequence_index", pa.int64()),
    ("start_s", pa.float64()),
    ("end_s", pa.float64()),
    ("duration_s", pa.float64()),
    ("shot_ids", pa.list_(pa.string())),
    ("shot_count", pa.int64()),
    ("camera_chain", pa.string()),
    ("description", pa.string()),
    ("source_sha256", pa.string()),
    ("vector", pa.list_(pa.float32(), DIM)),
]


def _old_schema(spec) -> pa.Schema:
    return pa.schema([pa.field(n, t, nullable=n not in ("shot_id", "sequence_id", "film")) for n, t in spec])


def write_old_library(uri: str, shots: pd.DataFrame, palette_weights_json: list[str]) -> None:
    """Tables as the old code left them: its column order, run-time columns, JSON palette weights."""
    db = lancedb.connect(uri)
    old = shots.assign(palette_weights=palette_weights_json, clip_model="ViT-B-32")
    schema = _old_schema(OLD_SHOT_FIELDS)
    arrays = []
    for f in schema:
        if f.name == "vector":
            arrays.append(pa.array([None if v is None else list(v) for v in old["vector"]], type=f.type))
        else:
            arrays.append(pa.array(old[f.name], type=f.type, from_pandas=True))
    t = db.create_table("shots", data=pa.Table.from_arrays(arrays, schema=schema), on_bad_vectors="null")
    t.create_index("description", config=lancedb.index.FTS())
    seqs = make_sequences(shots).drop(columns=["break_reason", "continuity"])
    seq_schema = _old_schema(OLD_SEQUENCE_FIELDS)
    db.create_table(
        "sequences",
        data=pa.Table.from_pandas(seqs[seq_schema.names], schema=seq_schema, preserve_index=False),
        on_bad_vectors="null",
    )


def test_old_table_is_migrated_once(tmp_path, caplog):
    uri = str(tmp_path / "old")
    shots = make_shots("alpha", 4, seed=3)
    write_old_library(uri, shots, [json.dumps([0.5, 0.3, 0.2])] * 3 + [None])
    old_version = lancedb.connect(uri).open_table("shots").version

    with caplog.at_level("WARNING", logger="filmaster_dag.index.migration"):
        idx = ShotIndex(uri, IndexSettings(vector_dim=DIM))
        assert idx.shots.schema == records.shots_schema(DIM)
        assert idx.sequences.schema == records.sequences_schema(DIM)
    assert "older filmaster-dag" in caplog.text and "clip_model" in caplog.text
    rows = idx.film_rows("alpha", with_vector=True)
    assert rows["palette_weights"].iloc[0].tolist() == [0.5, 0.3, 0.2] and rows["palette_weights"].iloc[3] is None
    assert rows["transition_out"].tolist() == shots["transition_out"].tolist()
    assert rows["faces"].tolist() == shots["faces"].tolist()
    assert rows["loudness_dbfs"].isna().all()  # declared, never measured by the old code
    assert rows["look"].isna().all() and "look" not in idx.film_rows("alpha").columns  # a vector column: read on request only
    np.testing.assert_allclose(np.stack(rows["vector"]), np.stack(shots["vector"]), rtol=1e-6)
    assert idx.count(table="sequences") == 2
    # the old table stays readable by time travel
    assert "clip_model" in idx.read_version(old_version).columns

    # a second open does not migrate again; the film's own rows are then an unchanged upsert
    again = ShotIndex(uri, IndexSettings(vector_dim=DIM))
    assert again.ensure_indexes()  # the rebuilt table gets its indexes from the next upsert or ensure_indexes()
    version = again.table_version
    stored = shots.copy()
    stored.at[3, "palette_weights"] = None  # as the old table held it
    assert again.upsert_film("alpha", stored)["shots"]["unchanged"] is True
    assert again.table_version == version
    # the indexes are rebuilt on the new table: text search and scalar filters work
    assert again.search_text("tilting up", k=1)["shot_id"].tolist() == ["alpha/0003"]
    assert {"description", "film", "shot_id"} <= {c for i in again.shots.list_indices() for c in i.columns}


def test_old_table_that_cannot_be_converted_is_refused_in_one_line(tmp_path):
    uri = str(tmp_path / "old")
    write_old_library(uri, make_shots("alpha", 2), ["[0.5, 0.5]", "not json"])
    with pytest.raises(
        ValueError,
        match=r"column 'palette_weights' stored as string cannot become list<item: double>.*re-ingest",
    ) as err:
        ShotIndex(uri, IndexSettings(vector_dim=DIM)).table("shots")
    assert "\n" not in str(err.value)
    ShotIndex(str(tmp_path / "other"), IndexSettings(vector_dim=DIM)).upsert_film("a", make_shots("a", 1))
    with pytest.raises(
        ValueError,
        match=f"stores vectors as fixed_size_list<item: float>\\[{DIM}\\].*set vector_dim",
    ):
        ShotIndex(str(tmp_path / "other"), IndexSettings(vector_dim=DIM * 2)).table("shots")


# ----------------------------------------------------------------------------- Dagster resource and package boundary


def test_dagster_resource(tmp_path):
    res = ReferenceIndex(uri=str(tmp_path / "db"), vector_dim=DIM, vector_index_min_rows=5)
    dg.Definitions.validate_loadable(dg.Definitions(resources={"reference_index": res}))
    idx = res.open()
    assert isinstance(idx, ShotIndex)
    assert idx.settings == IndexSettings(vector_dim=DIM, vector_index_min_rows=5)
    idx.upsert_film("alpha", make_shots("alpha", 2))
    assert res.open().count() == 2
    # bad settings fail when the definitions load, naming the field
    with pytest.raises(pydantic.ValidationError, match="vector_index_type"):
        ReferenceIndex(uri="x", vector_index_type="HNSW")
    with pytest.raises(pydantic.ValidationError, match="vector_dim=0"):
        ReferenceIndex(uri="x", vector_dim=0)


def test_index_package_does_not_import_dagster():
    code = "import sys, filmaster_dag.index; print(sorted(m for m in sys.modules if m.split('.')[0] == 'dagster'))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    # the old import path still works and is the same class
    from filmaster_dag.resources import index as resource_module

    assert resource_module.ShotIndex is ShotIndex and resource_module.IndexSettings is IndexSettings
