"""The briefs inbox, the briefs sensor's change detection and slates: no library needed."""

from fractions import Fraction
from pathlib import Path

import av
import dagster as dg
import pytest

from filmaster_dag.cinema.slate import render_slate, slate_picture
from filmaster_dag.resources.briefs import BriefInbox
from filmaster_dag.sensors import brief_changes

from .conftest import EXAMPLE_BRIEFS


def test_the_example_briefs_are_the_default_inbox():
    found = BriefInbox().scan()
    assert set(found) == {"meadow-morning", "silent-chase", "dusk"}
    assert all(p.parent == EXAMPLE_BRIEFS for p in found.values())


def test_scan_keys_briefs_by_file_and_skips_what_is_not_a_brief(tmp_path: Path):
    (tmp_path / "dusk.yaml").write_text("title: x\n")
    (tmp_path / "My Dusk.yml").write_text("title: y\n")
    (tmp_path / "series").mkdir()
    (tmp_path / "series" / "ep1.yaml").write_text("title: z\n")
    (tmp_path / ".hidden.yaml").write_text("title: h\n")
    (tmp_path / "notes.txt").write_text("not a brief")
    (tmp_path / "~dusk.yaml").write_text("an editor's backup")
    found = BriefInbox(folder=str(tmp_path)).scan()
    assert "dusk" in found and found["dusk"].name == "dusk.yaml"
    assert len(found) == 3
    others = sorted(k for k in found if k != "dusk")
    assert others[0].startswith("my-dusk--") and others[1].startswith("series-ep1--")


def test_a_missing_brief_is_one_line_naming_the_folder_and_the_known_keys(tmp_path: Path):
    (tmp_path / "dusk.yaml").write_text("title: x\n")
    with pytest.raises(FileNotFoundError) as err:
        BriefInbox(folder=str(tmp_path)).path_for("gone")
    message = str(err.value)
    assert "\n" not in message and "production 'gone'" in message and str(tmp_path) in message and "dusk" in message


def test_brief_changes_asks_for_new_and_changed_briefs_only(tmp_path: Path):
    a, b = tmp_path / "a.yaml", tmp_path / "b.yaml"
    a.write_text("title: a\n")
    b.write_text("title: b\n")
    files = {"a": a, "b": b}
    new, changed, cursor = brief_changes(files, {}, set())
    assert new == ["a", "b"] and set(changed) == {"a", "b"}
    new, changed, cursor = brief_changes(files, cursor, {"a", "b"})
    assert new == [] and changed == {}
    b.write_text("title: b, rewritten\n")
    new, changed, cursor2 = brief_changes(files, cursor, {"a", "b"})
    assert new == [] and list(changed) == ["b"] and cursor2["a"] == cursor["a"]


def test_the_brief_sensor_adds_partitions_and_requests_runs_on_change(tmp_path: Path):
    from filmaster_dag.sensors import brief_inbox_sensor

    (tmp_path / "dusk.yaml").write_text((EXAMPLE_BRIEFS / "dusk.yaml").read_text())
    with dg.instance_for_test() as instance:
        inbox = BriefInbox(folder=str(tmp_path))
        ctx = dg.build_sensor_context(instance=instance, resources={"briefs": inbox})
        first = brief_inbox_sensor(ctx)
        assert [r.partition_key for r in first.run_requests] == ["dusk"]
        assert first.dynamic_partitions_requests[0].partition_keys == ["dusk"]
        instance.add_dynamic_partitions("productions", ["dusk"])
        again = brief_inbox_sensor(dg.build_sensor_context(instance=instance, resources={"briefs": inbox}, cursor=first.cursor))
        assert not again.run_requests and "no new or changed briefs" in again.skip_reason.skip_message
        (tmp_path / "dusk.yaml").write_text((EXAMPLE_BRIEFS / "dusk.yaml").read_text().replace("The Last Ferry", "The Last Boat"))
        changed = brief_inbox_sensor(dg.build_sensor_context(instance=instance, resources={"briefs": inbox}, cursor=first.cursor))
        assert [r.partition_key for r in changed.run_requests] == ["dusk"]
        assert changed.run_requests[0].run_key != first.run_requests[0].run_key


def test_a_slate_holds_its_text_for_exactly_the_frames_asked(tmp_path: Path):
    picture = slate_picture(["s01-02  close-up, static", "Lena looks at the river."], 320, 180)
    assert picture.shape == (180, 320, 3)
    assert picture.max() > 200 and picture.min() < 40  # light text on a dark card
    path = render_slate(["missing shot"], 320, 180, Fraction(24000, 1001), 37, tmp_path / "slate.mp4")
    with av.open(path) as container:
        stream = container.streams.video[0]
        frames = sum(1 for _ in container.decode(stream))
        assert (stream.width, stream.height, stream.average_rate) == (320, 180, Fraction(24000, 1001))
    assert frames == 37
