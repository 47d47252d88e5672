"""Finding shots in the real sample library: by example (an image or a shot), with filters, and
saved searches as an asset with their contact sheets."""

from __future__ import annotations

import io

import dagster as dg
import numpy as np
import pandas as pd
import pytest
from PIL import Image

from filmaster_dag.assets.searches import every_saved_search_runs, saved_searches
from filmaster_dag.cinema.media import iter_frames
from filmaster_dag.index.search import BY_FILM_ORDER, BY_LOOK, SearchError, ShotQuery, find_shots, hits_sheet
from filmaster_dag.resources.embedder import OfflineEmbedder
from filmaster_dag.resources.searches import SavedSearches, load_search, save_search

from .conftest import BBB_720_WEBM, CHAPLIN

BBB = "big-buck-bunny-0-60s"


def frame_png(path, index: int, out) -> str:
    """Frame ``index`` of a film as a PNG file, at the film's own size."""
    for f in iter_frames(path, analysis_width=64):
        if f.index == index:
            Image.fromarray(f.rgb(max_width=4096)).save(out)
            return str(out)
    raise AssertionError(f"{path} has no frame {index}")


def shot_at(index, film: str, frame: int) -> str:
    rows = index.film_rows(film)
    return rows[(rows["start_frame"] <= frame) & (rows["end_frame"] > frame)]["shot_id"].iloc[0]


@pytest.mark.slow
def test_a_frame_of_another_copy_finds_its_own_shot(reference_library, tmp_path):
    """A 720p VP8 frame (the WebM copy, not in the library) finds the 360p H.264 shot it comes from, offline."""
    index = reference_library.index
    for webm_frame in (150, 470):  # inside shots 1 and 3 of the MP4 (the WebM lacks the MP4's first two frames)
        image = frame_png(BBB_720_WEBM, webm_frame, tmp_path / f"webm{webm_frame}.png")
        result = find_shots(index, ShotQuery(like=image, k=5), OfflineEmbedder())
        assert result.ranked_by == BY_LOOK and result.example == image
        assert result.hits["shot_id"].iloc[0] == shot_at(index, BBB, webm_frame + 2)
        scores = result.hits["score"].to_numpy()
        assert np.all(np.diff(scores) <= 1e-9) and 0 < scores[-1] <= scores[0] <= 1  # best first, on the 0..1 scale
        why = result.table()["alike"].iloc[0]  # what looks alike, block by block, for the CLI and the UI
        assert why.startswith("colour 0.") and "palette" in why and "texture" in why and "composition" in why
    chaplin = find_shots(index, ShotQuery(like=frame_png(CHAPLIN, 100, tmp_path / "chaplin.png"), k=2))
    assert chaplin.hits["film"].iloc[0] == "chaplin-single-shot"
    sheet = Image.open(io.BytesIO(hits_sheet(chaplin, reference_library.store.read_path)))
    assert sheet.width == 3 * (240 + 4) + 4  # the example's own picture, then the two hits


@pytest.mark.slow
def test_like_a_shot_combines_with_filters_and_leaves_the_example_out(reference_library):
    index = reference_library.index
    example = f"{BBB}/0001"
    result = find_shots(index, ShotQuery(like=example, k=50))
    assert example not in set(result.hits["shot_id"]) and len(result.hits) == index.count() - 1
    static = find_shots(index, ShotQuery(like=example, where="movement = 'static'", k=50))
    assert len(static.hits) and set(static.hits["movement"]) == {"static"}
    wides = find_shots(index, ShotQuery(like=example, text="wide", k=50))  # a vocabulary phrase is a filter here too
    assert wides.read_as and set(wides.hits["shot_scale"]) <= {"wide"}
    # the same ranking whatever asks: the table the CLI prints and the UI shows
    assert list(result.table()["shot_id"]) == list(result.hits["shot_id"])
    assert result.table()["timecode"].str.match(r"^\d\d:\d\d:\d\d:\d\d$").all()


@pytest.mark.slow
def test_an_example_that_is_neither_a_shot_nor_an_image_is_one_clear_line(reference_library, tmp_path):
    index = reference_library.index
    with pytest.raises(SearchError, match="neither a shot id in the library"):
        find_shots(index, ShotQuery(like="no-such-film/0003"))
    bad = tmp_path / "still.png"
    bad.write_text("not a picture")
    with pytest.raises(SearchError, match=r"still\.png"):
        find_shots(index, ShotQuery(like=str(bad)))
    with pytest.raises(SearchError, match="check the --where filter"):
        find_shots(index, ShotQuery(where="movement = = 'static'"))
    attribute = find_shots(index, ShotQuery(where="movement = 'static'", k=100))
    assert attribute.ranked_by == BY_FILM_ORDER and attribute.hits["score"].isna().all()


@pytest.mark.slow
def test_saved_searches_asset_shows_hits_and_sheets_and_names_a_bad_file(reference_library, tmp_path):
    folder = tmp_path / "searches"
    save_search(folder, "Statics like the meadow", ShotQuery(like=f"{BBB}/0001", where="movement = 'static'", k=4))
    save_search(folder, "low key", ShotQuery(text="low-key", k=5, title="Low-key shots"))
    (folder / "broken.yaml").write_text("like: [unclosed\n")
    assert load_search(folder / "statics-like-the-meadow.yaml").like == f"{BBB}/0001"

    resources = {**reference_library.resources, "searches": SavedSearches(folder=str(folder))}
    result = dg.materialize(
        [saved_searches, every_saved_search_runs], instance=reference_library.instance, resources=resources, raise_on_error=False
    )
    assert result.success
    table = result.output_for_node("saved_searches")
    ran = table[table["error"] == ""]
    direct = find_shots(reference_library.index, load_search(folder / "statics-like-the-meadow.yaml"))
    mine = ran[ran["search"] == "statics-like-the-meadow"]
    assert list(mine["shot_id"]) == list(direct.hits["shot_id"]) and len(mine) >= 1  # the CLI's hits, in its order
    sheet = mine["sheet"].iloc[0]
    assert reference_library.store.read_path(sheet)[:2] == b"\xff\xd8"
    assert reference_library.store.read_path(sheet) == hits_sheet(direct, reference_library.store.read_path)
    failed = table[table["error"] != ""]
    assert list(failed["search"]) == ["broken"] and "broken.yaml" in failed["error"].iloc[0]
    check = result.get_asset_check_evaluations()[0]
    assert not check.passed and "broken.yaml" in (check.description or "")
    meta = result.get_asset_materialization_events()[0].materialization.metadata
    assert "data:image/jpeg;base64," in meta["search: statics-like-the-meadow"].value
    assert isinstance(table, pd.DataFrame) and set(ran["search"]) <= {"statics-like-the-meadow", "low-key"}


def test_a_search_must_ask_something(tmp_path):
    with pytest.raises(ValueError, match="needs text, where, like"):
        ShotQuery(k=3)
    path = save_search(tmp_path, "Été: wides", ShotQuery(text="wide"))
    assert path.name == "ete-wides.yaml" and load_search(path) == ShotQuery(text="wide")


def test_saved_searches_rerun_when_the_library_changes():
    """The automation condition asks for the saved searches once when they were never made, then
    again only after a film's index rows change: not on every tick."""
    from filmaster_dag.assets.searches import LIBRARY_CHANGED

    @dg.asset(partitions_def=dg.StaticPartitionsDefinition(["a", "b"]))
    def reference_index() -> None: ...

    @dg.asset(deps=[reference_index], automation_condition=LIBRARY_CHANGED)
    def searches() -> None: ...

    graph = dg.Definitions(assets=[reference_index, searches])
    key = dg.AssetKey("searches")
    with dg.instance_for_test() as instance:
        start = dg.evaluate_automation_conditions(defs=graph, instance=instance)  # the sensor's first tick only starts counting
        first = dg.evaluate_automation_conditions(defs=graph, instance=instance, cursor=start.cursor)
        assert first.get_num_requested(key) == 1  # never made
        instance.report_runless_asset_event(dg.AssetMaterialization(key))  # the run it asked for
        quiet = dg.evaluate_automation_conditions(defs=graph, instance=instance, cursor=first.cursor)
        assert quiet.get_num_requested(key) == 0  # nothing changed since
        instance.report_runless_asset_event(dg.AssetMaterialization("reference_index", partition="b"))  # one film re-indexed
        changed = dg.evaluate_automation_conditions(defs=graph, instance=instance, cursor=quiet.cursor)
        assert changed.get_num_requested(key) == 1
        settled = dg.evaluate_automation_conditions(defs=graph, instance=instance, cursor=changed.cursor)
        assert settled.get_num_requested(key) == 0
