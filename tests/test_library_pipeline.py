"""The reference-library asset group through Dagster on real films: materialize, index, query,
bad input isolation, re-runs without duplicates, the inbox sensor and the refresh schedule."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import dagster as dg
import numpy as np
import pandas as pd
import pytest

from filmaster_dag.assets.library import library_assets
from filmaster_dag.checks import library_checks
from filmaster_dag.cinema.records import stage_columns
from filmaster_dag.definitions import build_definitions, build_resources, defs
from filmaster_dag.partitions import films
from filmaster_dag.resources.inbox import FilmInbox, film_slug
from filmaster_dag.schedules import partitions_to_refresh
from filmaster_dag.sensors import film_inbox_sensor

from .conftest import CHAPLIN, SINTEL

SINTEL_KEY, CHAPLIN_KEY = "sintel-5s", "chaplin-single-shot"


@pytest.fixture()
def inbox(tmp_path, media) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    os.symlink(SINTEL, folder / SINTEL.name)
    os.symlink(CHAPLIN, folder / CHAPLIN.name)
    return folder


@pytest.fixture()
def instance(tmp_path):
    home = tmp_path / "dagster_home"
    home.mkdir()
    with dg.instance_for_test(temp_dir=str(home)) as inst:
        yield inst


def run_film(instance, resources, film: str) -> dg.ExecuteInProcessResult:
    if film not in instance.get_dynamic_partitions(films.name):
        instance.add_dynamic_partitions(films.name, [film])
    return dg.materialize(
        [*library_assets, *library_checks], partition_key=film, instance=instance, resources=resources, raise_on_error=False
    )


def failure_messages(result: dg.ExecuteInProcessResult) -> list[str]:
    """Each failed step's own description (the film's one line), else its error message."""
    out = []
    for e in result.all_events:
        if e.is_step_failure:
            data = e.event_specific_data
            described = getattr(getattr(data, "user_failure_data", None), "description", None)
            out.append(described or data.error.message)
    return out


def test_definitions_load():
    dg.Definitions.validate_loadable(defs)
    names = {k.to_user_string() for k in defs.resolve_asset_graph().get_all_asset_keys()}
    assert {
        "film_source",
        "shots",
        "keyframes",
        "camera_language",
        "film_rhythm",
        "reference_sequences",
        "shot_embeddings",
        "reference_index",
    } <= names


def test_slugs_are_stable_and_readable(tmp_path):
    assert film_slug(tmp_path / "big_buck_bunny_0-60s.mp4", tmp_path) == "big-buck-bunny-0-60s"
    assert film_slug(tmp_path / "big_buck_bunny_0-30s_720p.webm", tmp_path) == "big-buck-bunny-0-30s-720p-webm"
    a = film_slug(tmp_path / "Été à Paris.mp4", tmp_path)
    b = film_slug(tmp_path / "Ete a Paris.mp4", tmp_path)
    assert a.startswith("ete-a-paris-") and b == "ete-a-paris" and a != b
    assert film_slug(tmp_path / "Été à Paris.mp4", tmp_path) == a


@pytest.mark.slow
def test_two_films_materialize_index_and_query(tmp_path, inbox, instance):
    resources = build_resources(root=str(tmp_path / "data"), inbox=str(inbox))
    results = {film: run_film(instance, resources, film) for film in (SINTEL_KEY, CHAPLIN_KEY)}
    for _film, result in results.items():
        assert result.success, failure_messages(result)
        checks = result.get_asset_check_evaluations()
        assert checks and all(c.passed for c in checks), [(c.check_name, c.metadata) for c in checks if not c.passed]

    index = resources["reference_index"].open()
    chaplin_rows = index.film_rows(CHAPLIN_KEY)
    sintel_rows = index.film_rows(SINTEL_KEY)
    assert len(chaplin_rows) == 1 and len(sintel_rows) >= 1  # Chaplin: one shot, no cut
    assert index.duplicate_shot_ids().empty
    # Attribute filter: the black-and-white film is the only one with near-zero saturation.
    bw = index.filter("saturation < 0.02", limit=100)
    assert set(bw["film"]) == {CHAPLIN_KEY}
    # Text search over the generated descriptions finds Chaplin's shot first.
    hits = index.search_text("black-and-white", k=5)
    assert hits.iloc[0]["shot_id"] == f"{CHAPLIN_KEY}/0000"
    # Keyframes, contact sheet and per-frame signals are in the media store.
    store = resources["store"]
    assert store.exists("library", CHAPLIN_KEY, "contact_sheet.jpg")
    assert store.list("library", CHAPLIN_KEY, "keyframes")
    # Without CLIP weights: no vectors at all, and the asset says why.
    assert index.film_rows(CHAPLIN_KEY, with_vector=True)["vector"].isna().all()
    mat = next(m for m in results[CHAPLIN_KEY].get_asset_materialization_events() if m.asset_key.to_user_string() == "shot_embeddings")
    assert mat.materialization.metadata["status"].value == "no vectors"

    # Each table is stored once, as Parquet/JSON at library/<film>/<asset>, readable without Dagster; nothing pickled.
    folder = tmp_path / "data" / "library" / CHAPLIN_KEY
    for name in (
        "film_source.json",
        "shots.parquet",
        "frame_signals.parquet",
        "keyframe_candidates.parquet",
        "keyframes.parquet",
        "camera_language.parquet",
        "film_rhythm.json",
        "reference_sequences.parquet",
        "shot_embeddings.parquet",
        "reference_index.json",
    ):
        assert (folder / name).is_file(), name
    assert not (tmp_path / "data" / "dagster_io").exists()
    assert json.loads((folder / "film_source.json").read_text())["path"].endswith(CHAPLIN.name)
    shots_table = pd.read_parquet(folder / "shots.parquet")
    assert list(shots_table.columns) == stage_columns("shots") and len(shots_table) == 1
    signals = pd.read_parquet(folder / "frame_signals.parquet")
    assert len(signals) == json.loads((folder / "film_source.json").read_text())["frame_count"]
    assert {"dx", "zoom", "brightness"} <= set(signals.columns) and any(c.startswith("cut_") for c in signals.columns)
    candidates = pd.read_parquet(folder / "keyframe_candidates.parquet")
    kept = candidates["jpeg"].notna()
    assert 0 < kept.sum() <= 3 < len(candidates)  # only what keyframe choice can pick keeps its picture
    assert set(candidates.loc[kept, "frame"]) == set(pd.read_parquet(folder / "keyframes.parquet")["frame"])
    source_mat = next(m for m in results[CHAPLIN_KEY].get_asset_materialization_events() if m.asset_key.to_user_string() == "film_source")
    assert source_mat.materialization.metadata["source_path"].value.endswith(CHAPLIN.name)  # not the IO manager's path


@pytest.mark.slow
def test_bad_film_fails_alone_and_reruns_converge(tmp_path, inbox, instance):
    resources = build_resources(root=str(tmp_path / "data"), inbox=str(inbox))
    assert run_film(instance, resources, SINTEL_KEY).success
    index = resources["reference_index"].open()
    before = index.film_rows(SINTEL_KEY).sort_values("shot_id").reset_index(drop=True)
    version = index.table_version

    (inbox / "broken reel.mp4").write_text("not a film at all\n" * 100)
    (inbox / "empty.mp4").write_bytes(b"")
    for bad in ("broken-reel", "empty"):
        result = run_film(instance, resources, bad)
        assert not result.success
        message = failure_messages(result)[0]
        assert f"film '{bad}'" in message and (".mp4" in message) and ("re-export" in message or "remove it" in message)

    # The good film's rows and files are untouched by the failures.
    after = index.film_rows(SINTEL_KEY).sort_values("shot_id").reset_index(drop=True)
    assert after[["shot_id", "description"]].equals(before[["shot_id", "description"]])
    assert index.table_version == version

    # Re-running the good film converges: same rows, no duplicates, an older version kept.
    rerun = run_film(instance, resources, SINTEL_KEY)
    assert rerun.success
    again = index.film_rows(SINTEL_KEY)
    assert sorted(again["shot_id"]) == sorted(before["shot_id"]) and index.duplicate_shot_ids().empty
    assert index.table_version == version and len(index.versions()) >= 2  # an unchanged film commits nothing
    assert rerun.output_for_node("reference_index")["unchanged"] is True
    assert len(index.read_version(index.versions()[0]["version"])) == 0  # the empty table, time travel

    # Leftovers of a run killed midway (a stale keyframe, a half-written temp file) are cleaned up.
    store = resources["store"]
    store.write_bytes(b"partial", "library", SINTEL_KEY, "keyframes", "shot0099_0_f009999.jpg")
    store.write_bytes(b"partial", "library", SINTEL_KEY, "shots.parquet.tmp-deadbeef")
    assert run_film(instance, resources, SINTEL_KEY).success
    assert "shot0099_0_f009999.jpg" not in store.list("library", SINTEL_KEY, "keyframes")
    assert "shots.parquet.tmp-deadbeef" not in store.list("library", SINTEL_KEY)

    # The refresh schedule picks exactly the failed films...
    todo = partitions_to_refresh(instance, FilmInbox(folder=str(inbox)))
    assert set(todo) == {"broken-reel", "empty"}
    # ...and a film whose file changed since it was ingested.
    (inbox / CHAPLIN.name).unlink()
    shutil.copy(CHAPLIN, inbox / CHAPLIN.name)
    assert run_film(instance, resources, CHAPLIN_KEY).success
    with open(inbox / CHAPLIN.name, "ab") as fh:
        fh.write(b"\0" * 16)  # same film, new bytes: a re-export, say
    assert partitions_to_refresh(instance, FilmInbox(folder=str(inbox)))[CHAPLIN_KEY] == "source file changed"

    # The compaction job compacts and re-indexes without changing a row.
    job = build_definitions(root=str(tmp_path / "data"), inbox=str(inbox)).get_job_def("library_maintenance_job")
    assert job.execute_in_process(instance=instance).success
    assert sorted(index.film_rows(SINTEL_KEY)["shot_id"]) == sorted(before["shot_id"])
    assert index.duplicate_shot_ids().empty


@pytest.mark.slow
def test_single_asset_rematerializes_from_stored_upstream(tmp_path, inbox, instance):
    resources = build_resources(root=str(tmp_path / "data"), inbox=str(inbox))
    assert run_film(instance, resources, CHAPLIN_KEY).success
    result = dg.materialize(library_assets, selection="camera_language", partition_key=CHAPLIN_KEY, instance=instance, resources=resources)
    assert result.success
    assert [m.asset_key.to_user_string() for m in result.get_asset_materialization_events()] == ["camera_language"]


@pytest.mark.slow
def test_an_unexpected_error_ends_in_the_films_one_line(tmp_path, inbox, instance, monkeypatch):
    """A bug (not a bad file) in one step still fails only that film, with the film, the file and what to do."""
    from filmaster_dag.cinema import library as lib

    resources = build_resources(root=str(tmp_path / "data"), inbox=str(inbox))
    assert run_film(instance, resources, CHAPLIN_KEY).success

    def broken(*args, **kwargs):
        raise TypeError("unsupported operand type(s) for +: 'int' and 'str'")

    monkeypatch.setattr(lib, "measure_camera_language", broken)
    result = dg.materialize(
        library_assets, selection="camera_language", partition_key=CHAPLIN_KEY, instance=instance, resources=resources, raise_on_error=False
    )
    assert not result.success
    [message] = failure_messages(result)
    line = message.splitlines()[0]
    assert line.startswith(f"film '{CHAPLIN_KEY}' ({CHAPLIN.name}): unexpected error in camera_language (TypeError: unsupported operand")
    assert f"filmaster ingest --verbose {CHAPLIN_KEY}" in line


@pytest.mark.slow
def test_same_tables_from_every_path(tmp_path, media, instance):
    """The CLI's materialize, the job as the sensor/UI launches it, and a subset materialized alone give identical tables."""
    from .conftest import BBB_60

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    os.symlink(BBB_60, inbox / BBB_60.name)
    film = "big-buck-bunny-0-60s"
    tables: dict[str, dict[str, pd.DataFrame]] = {}
    for path in ("cli", "job", "subset"):
        root = tmp_path / path
        resources = build_resources(root=str(root), inbox=str(inbox))
        if path == "cli":
            assert run_film(instance, resources, film).success
        elif path == "job":
            job = build_definitions(root=str(root), inbox=str(inbox)).resolve_job_def("reference_library_job")
            assert job.execute_in_process(partition_key=film, instance=instance).success
        else:
            assets = dg.materialize(library_assets, selection="film_source", partition_key=film, instance=instance, resources=resources)
            assert assets.success
            subset = dg.materialize(
                library_assets,
                selection=["shots", "frame_signals", "keyframe_candidates", "keyframes", "camera_language"],
                partition_key=film,
                instance=instance,
                resources=resources,
            )
            assert subset.success
        folder = root / "library" / film
        tables[path] = {name: pd.read_parquet(folder / f"{name}.parquet") for name in ("shots", "keyframes", "camera_language")}
        tables[path]["keyframes"] = tables[path]["keyframes"].drop(columns=["path"])
    for path in ("job", "subset"):
        for name, table in tables["cli"].items():
            pd.testing.assert_frame_equal(tables[path][name], table, obj=f"{name} via {path}")
    scales = tables["cli"]["camera_language"]["shot_scale"]
    assert (scales != "unknown").any()


def test_single_assets_run_directly_with_a_built_context(tmp_path, inbox, instance):
    """film_source, the decode pass and keyframes invoked as plain functions (dg.build_asset_context), no run."""
    from filmaster_dag.assets.library import decode_pass, film_source, keyframes
    from filmaster_dag.resources.detection import ShotDetection
    from filmaster_dag.resources.index import ReferenceIndex
    from filmaster_dag.resources.storage import MediaStore

    instance.add_dynamic_partitions(films.name, [SINTEL_KEY])
    store = MediaStore(root=str(tmp_path / "data"))
    context = dg.build_asset_context(partition_key=SINTEL_KEY, instance=instance)
    index = ReferenceIndex(uri=str(tmp_path / "data" / "library" / "lancedb"))
    source = film_source(context, inbox=FilmInbox(folder=str(inbox)), store=store, reference_index=index)
    assert source["path"].endswith(SINTEL.name) and source["frame_count"] == 120 and source["source_size"] > 0
    outputs = {o.output_name: o.value for o in decode_pass(context, film_source=source, detection=ShotDetection(), store=store)}
    shots, candidates = outputs["shots"], outputs["keyframe_candidates"]
    assert list(shots.columns) == stage_columns("shots") and shots["end_frame"].iloc[-1] == 120
    assert len(outputs["frame_signals"]) == 120
    rhythm = outputs["film_rhythm"]  # the soundtrack, measured in the same pass
    assert rhythm["has_audio"] and len(rhythm["per_shot"]) == len(shots)
    assert set(rhythm["cut_audio_continuity"]) == {str(i) for i in shots["shot_index"]}
    table = keyframes(context, film_source=source, shots=shots, keyframe_candidates=candidates, store=store)
    assert len(table) >= 1 and all(store.read_path(p)[:2] == b"\xff\xd8" for p in table["path"])  # JPEGs on disk
    assert store.exists("library", SINTEL_KEY, "contact_sheet.jpg")


def test_inbox_sensor_adds_partitions_and_reruns_changed_files(tmp_path, inbox, instance):
    resources = {"inbox": FilmInbox(folder=str(inbox))}
    ctx = dg.build_sensor_context(instance=instance, resources=resources, definitions=defs)
    result = film_inbox_sensor(ctx)
    assert sorted(r.partition_key for r in result.run_requests) == [CHAPLIN_KEY, SINTEL_KEY]
    added = result.dynamic_partitions_requests[0].partition_keys
    assert sorted(added) == [CHAPLIN_KEY, SINTEL_KEY]
    instance.add_dynamic_partitions(films.name, list(added))

    ctx = dg.build_sensor_context(instance=instance, resources=resources, cursor=result.cursor, definitions=defs)
    quiet = film_inbox_sensor(ctx)
    assert not quiet.run_requests

    # Same name, new content: the sensor asks for a re-run of that film only.
    (inbox / SINTEL.name).unlink()
    shutil.copy(CHAPLIN, inbox / SINTEL.name)
    ctx = dg.build_sensor_context(instance=instance, resources=resources, cursor=quiet.cursor, definitions=defs)
    changed = film_inbox_sensor(ctx)
    assert [r.partition_key for r in changed.run_requests] == [SINTEL_KEY]
    assert json.loads(changed.cursor)[SINTEL_KEY]["sha256"] != json.loads(quiet.cursor)[SINTEL_KEY]["sha256"]


@pytest.mark.slow
def test_clip_embeddings_through_real_loading_code(tmp_path, inbox, instance):
    """A tiny random-weight open_clip model, saved as a checkpoint and loaded by the embedder."""
    import open_clip
    import torch

    config = tmp_path / "filmaster-test-clip.json"
    config.write_text(
        json.dumps(
            {
                "embed_dim": 32,
                "vision_cfg": {"image_size": 64, "layers": 2, "width": 64, "head_width": 32, "patch_size": 16},
                "text_cfg": {"context_length": 32, "vocab_size": 49408, "width": 64, "heads": 2, "layers": 2},
            }
        )
    )
    open_clip.add_model_config(str(config))
    model, _, _ = open_clip.create_model_and_transforms("filmaster-test-clip")
    torch.save(model.state_dict(), tmp_path / "clip.pt")
    from filmaster_dag.resources.embedder import OpenClipEmbedder
    from filmaster_dag.resources.index import ReferenceIndex

    root = str(tmp_path / "data")
    resources = build_resources(
        root=root,
        inbox=str(inbox),
        embedder=OpenClipEmbedder(model_name="filmaster-test-clip", pretrained=str(tmp_path / "clip.pt"), model_config_path=str(config)),
        reference_index=ReferenceIndex(uri=f"{root}/library/lancedb", vector_dim=32),
    )
    result = run_film(instance, resources, SINTEL_KEY)
    assert result.success, failure_messages(result)
    index = resources["reference_index"].open()
    rows = index.film_rows(SINTEL_KEY, with_vector=True)
    vectors = np.stack(rows["vector"].to_list())
    assert vectors.shape == (len(rows), 32)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    hit = index.search_vector(vectors[0], k=1)
    assert hit.iloc[0]["shot_id"] == rows.iloc[0]["shot_id"]

    # search by example ranks by the CLIP image vectors when the library holds them
    from filmaster_dag.index.search import BY_CLIP, ShotQuery, find_shots

    assert run_film(instance, resources, CHAPLIN_KEY).success
    index = resources["reference_index"].open()  # a handle opened now sees the new film
    chaplin = index.film_rows(CHAPLIN_KEY).iloc[0]
    still = tmp_path / "still.jpg"
    still.write_bytes(resources["store"].read_path(chaplin["keyframe_path"]))
    found = find_shots(index, ShotQuery(like=str(still), k=3), resources["embedder"])
    assert found.ranked_by == BY_CLIP and found.hits["shot_id"].iloc[0] == chaplin["shot_id"]
    assert found.hits["score"].iloc[0] > 0.999  # the same picture: the same vector
    by_shot = find_shots(index, ShotQuery(like=chaplin["shot_id"], k=3), resources["embedder"])
    assert by_shot.ranked_by == BY_CLIP and chaplin["shot_id"] not in set(by_shot.hits["shot_id"]) and len(by_shot.hits)


KILLABLE_RUN = """
import sys, dagster as dg
import pandas as pd

from filmaster_dag.assets.library import library_assets
from filmaster_dag.definitions import build_resources
from filmaster_dag.partitions import films
root, inbox, home, film = sys.argv[1:5]
with dg.DagsterInstance.from_config(home) as instance:
    if film not in instance.get_dynamic_partitions(films.name):
        instance.add_dynamic_partitions(films.name, [film])
    dg.materialize(library_assets, partition_key=film, instance=instance, resources=build_resources(root=root, inbox=inbox))
"""


@pytest.mark.slow
def test_killed_run_then_rerun_loses_nothing_and_duplicates_nothing(tmp_path, inbox):
    """SIGKILL a real ingest process midway (after `shots` is written), then re-run to convergence."""
    import signal
    import subprocess
    import sys
    import time

    root, home = tmp_path / "data", tmp_path / "home"
    home.mkdir()
    resources = build_resources(root=str(root), inbox=str(inbox))
    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert run_film(instance, resources, CHAPLIN_KEY).success  # an earlier, complete film
    index = resources["reference_index"].open()
    chaplin_before = index.film_rows(CHAPLIN_KEY)

    proc = subprocess.Popen([sys.executable, "-c", KILLABLE_RUN, str(root), str(inbox), str(home), SINTEL_KEY])
    marker = root / "library" / SINTEL_KEY / "shots.parquet"
    deadline = time.time() + 240
    while not marker.exists() and proc.poll() is None and time.time() < deadline:
        time.sleep(0.05)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert marker.exists(), "the ingest never reached the shots step"

    with dg.DagsterInstance.from_config(str(home)) as instance:
        assert run_film(instance, resources, SINTEL_KEY).success
        assert run_film(instance, resources, SINTEL_KEY).success
    index = resources["reference_index"].open()
    assert index.duplicate_shot_ids().empty
    assert len(index.film_rows(SINTEL_KEY)) == len(index.film_rows(SINTEL_KEY).drop_duplicates("shot_id")) >= 1
    after = index.film_rows(CHAPLIN_KEY)
    assert after["shot_id"].tolist() == chaplin_before["shot_id"].tolist()
    assert not [p for p in (root / "library").rglob("*.tmp-*")], "half-written temporary files left behind"


@pytest.mark.slow
def test_file_name_with_spaces_and_non_ascii_ingests(tmp_path, media, instance):
    inbox = tmp_path / "inbox"
    (inbox / "Réalisateurs du monde").mkdir(parents=True)
    os.symlink(SINTEL, inbox / "Réalisateurs du monde" / "Été à Paris (1962).mp4")
    resources = build_resources(root=str(tmp_path / "data"), inbox=str(inbox))
    [film] = list(resources["inbox"].films())
    assert film.startswith("realisateurs-du-monde-ete-a-paris-1962-")
    result = run_film(instance, resources, film)
    assert result.success, failure_messages(result)
    rows = resources["reference_index"].open().film_rows(film)
    assert len(rows) >= 1 and rows["shot_id"].str.startswith(film + "/").all()


@pytest.mark.slow
def test_rotated_1080p_phone_video_ingests_upright(tmp_path, media, instance):
    """A 1920x1080 H.264 clip with a 90-degree display matrix, as phones record portrait video."""
    from PIL import Image

    from .media_factory import real_frames, write_video

    inbox = tmp_path / "inbox"
    inbox.mkdir()
    frames = real_frames(SINTEL, 30, 36, size=(1920, 1080))
    write_video(inbox / "IMG_0042.MOV.mp4", frames, rotation=-90)
    resources = build_resources(root=str(tmp_path / "data"), inbox=str(inbox))
    [film] = list(resources["inbox"].films())
    result = run_film(instance, resources, film)
    assert result.success, failure_messages(result)
    source = result.asset_materializations_for_node("film_source")[0].metadata
    assert source["resolution"].value == "1080x1920" and source["rotation"].value in (90, 270)
    keyframes = resources["store"].list("library", film, "keyframes")
    img = Image.open(resources["store"].uri("library", film, "keyframes", keyframes[0]))
    assert img.height > img.width  # portrait, as shot


def test_a_copy_of_an_indexed_film_is_recorded_as_its_duplicate_not_indexed_twice(tmp_path, inbox, instance):
    """A file holding exactly the bytes of an ingested film (a copy under another name) keeps one
    set of shots in the library; its record names the original and both paths."""
    from filmaster_dag.runs import plan_ingest

    resources = build_resources(root=str(tmp_path / "data"), inbox=str(inbox))
    assert run_film(instance, resources, CHAPLIN_KEY).success
    copy = inbox / "chaplin-copy.mp4"  # arrives later, and sorts first: the indexed film stays the original
    shutil.copyfile(CHAPLIN, copy)  # a real copy (a link would be the same file, not a duplicate)
    index = resources["reference_index"].open()
    rows_before = index.film_rows(CHAPLIN_KEY)

    result = run_film(instance, resources, "chaplin-copy")
    assert result.success
    source = result.output_for_node("film_source")
    assert source["duplicate_of"] == CHAPLIN_KEY and source["duplicate_of_path"] == str(inbox / CHAPLIN.name)
    assert source["path"] == str(copy)
    materialized = {e.asset_key.to_user_string() for e in result.get_asset_materialization_events()}
    assert materialized == {"film_source"}  # nothing decoded, measured or indexed for the copy
    index = resources["reference_index"].open()
    assert index.count(film="chaplin-copy") == 0 and index.duplicate_shot_ids().empty
    pd.testing.assert_frame_equal(index.film_rows(CHAPLIN_KEY), rows_before)
    # the planner knows: nothing to do for the copy (the sensor and `filmaster ingest` ask no run)
    plans = {p.film: p for p in plan_ingest(instance, {"chaplin-copy": copy, CHAPLIN_KEY: inbox / CHAPLIN.name})}
    assert plans["chaplin-copy"].reason is None and plans["chaplin-copy"].settled
    assert plans[CHAPLIN_KEY].reason is None


def test_which_copy_is_the_original():
    from filmaster_dag.runs import original_film

    assert original_film("b", [], ["c", "a"], indexed=False) == "a"  # none indexed: first slug, whoever runs first
    assert original_film("a", ["b"], [], indexed=False) == "b"  # an indexed copy is never displaced
    assert original_film("b", ["a"], [], indexed=True) == "a"  # two indexed copies: the first slug stays
    assert original_film("a", ["b"], [], indexed=True) == "a"
    assert original_film("a", [], [], indexed=False) == "a"
