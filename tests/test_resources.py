"""Resources on their own: the table IO manager's files, the MediaStore's all-or-nothing folders,
the embedder chosen by configuration, detector settings checked when definitions load."""

from __future__ import annotations

import json

import dagster as dg
import pandas as pd
import pytest
from pydantic import ValidationError

from filmaster_dag.partitions import films
from filmaster_dag.resources.detection import ShotDetection
from filmaster_dag.resources.embedder import OfflineEmbedder, OpenClipEmbedder, make_embedder
from filmaster_dag.resources.sound_library import SoundLibrary
from filmaster_dag.resources.storage import MediaStore, TableIOManager


@pytest.fixture(autouse=True, scope="module")
def instance():
    with dg.instance_for_test() as inst:
        inst.add_dynamic_partitions(films.name, ["my-film", "f", "nosferatu"])
        pytest.instance = inst  # type: ignore[attr-defined]
        yield inst


def contexts(asset: str, partition: str):
    inst = pytest.instance  # type: ignore[attr-defined]
    out = dg.build_output_context(asset_key=dg.AssetKey(asset), partition_key=partition, asset_partitions_def=films, instance=inst)
    inp = dg.build_input_context(
        asset_key=dg.AssetKey(asset), partition_key=partition, asset_partitions_def=films, upstream_output=out, instance=inst
    )
    return out, inp


def test_tables_are_stored_once_as_parquet_and_json_at_the_partition_path(tmp_path):
    store = MediaStore(root=str(tmp_path))
    io = TableIOManager(store=store)
    out, inp = contexts("shots", "my-film")
    table = pd.DataFrame({"shot_index": [0, 1], "duration_s": [1.5, 2.25]})
    io.handle_output(out, table)
    assert (tmp_path / "library" / "my-film" / "shots.parquet").is_file()
    pd.testing.assert_frame_equal(pd.read_parquet(tmp_path / "library" / "my-film" / "shots.parquet"), table)
    pd.testing.assert_frame_equal(io.load_input(inp), table)

    out, inp = contexts("film_source", "my-film")
    io.handle_output(out, {"path": "/films/my film.mp4", "frame_rate": 24.0})
    assert json.loads((tmp_path / "library" / "my-film" / "film_source.json").read_text())["frame_rate"] == 24.0
    assert io.load_input(inp)["path"] == "/films/my film.mp4"
    assert not list(tmp_path.rglob("*.pkl")) and not list(tmp_path.rglob("*.tmp-*"))


def test_other_values_are_refused_not_pickled(tmp_path):
    io = TableIOManager(store=MediaStore(root=str(tmp_path)))
    out, _ = contexts("shots", "f")
    with pytest.raises(TypeError, match="never pickles"):
        io.handle_output(out, object())


def test_missing_upstream_names_the_asset_and_partition(tmp_path):
    io = TableIOManager(store=MediaStore(root=str(tmp_path)))
    _, inp = contexts("keyframes", "nosferatu")
    with pytest.raises(FileNotFoundError, match=r"keyframes for partition 'nosferatu'.*materialize it first"):
        io.load_input(inp)


def test_replace_folder_is_all_or_nothing_and_partials_are_swept(tmp_path):
    store = MediaStore(root=str(tmp_path))
    store.replace_folder({"a.jpg": b"1", "b.jpg": b"2"}, "library", "f", "keyframes")
    store.replace_folder({"c.jpg": b"3"}, "library", "f", "keyframes")
    assert store.list("library", "f", "keyframes") == ["c.jpg"]
    # what a run killed while writing leaves: a staging folder and a half-written file
    store.write_bytes(b"x", "library", "f", "keyframes.tmp-0badf00d", "d.jpg")
    store.write_bytes(b"x", "library", "f", "shots.parquet.tmp-deadbeef")
    assert store.sweep_partials("library", "f") == 2
    assert store.list("library", "f") == ["keyframes"]


def test_embedder_is_chosen_by_configuration():
    offline = make_embedder(pretrained="")
    assert isinstance(offline, OfflineEmbedder) and not offline.available and "no CLIP weights" in offline.why_unavailable
    with pytest.raises(RuntimeError, match="no CLIP weights"):
        offline.embed_images([])
    real = make_embedder(model_name="ViT-B-32", pretrained="/weights/clip.pt")
    assert isinstance(real, OpenClipEmbedder) and real.available and real.identity == "open_clip:ViT-B-32:clip.pt"


def test_detector_settings_are_checked_when_definitions_load():
    assert ShotDetection(detector="hybrid", params={"min_shot_s": 0.25}).config().min_shot_s == 0.25
    with pytest.raises(ValidationError):
        ShotDetection(detector="magic")  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="nonsense"):
        ShotDetection(params={"nonsense": 1.0})


def test_sound_library_defaults_to_the_shared_media_and_fingerprints_its_files(tmp_path, media):
    shared = SoundLibrary()
    assert shared.music_folder == (media / "music").resolve() and shared.sound_folder == (media / "sound").resolve()
    music = tmp_path / "music"
    music.mkdir()
    (music / "cue.ogg").write_bytes((media / "music" / "kevin_macleod-vibe_ace.ogg").read_bytes())
    (music / "notes.txt").write_text("not audio")
    own = SoundLibrary(music=str(music), sound=str(tmp_path / "missing"))
    assert own.music_folder == music.resolve() and own.sound_folder is None  # a missing folder: no effects, not an error
    before = own.fingerprint()
    (music / "notes.txt").write_text("still not audio")
    assert own.fingerprint() == before  # only audio files count
    (music / "second.ogg").write_bytes((media / "music" / "sorohanro-solo_trumpet_06.ogg").read_bytes())
    assert own.fingerprint() != before
