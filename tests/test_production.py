"""The `production` group through Dagster: bad briefs fail alone, every example brief produces,
re-runs come from the cache, and a changed scene regenerates only its own shots."""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import av
import dagster as dg
import pandas as pd
import pytest

from filmaster_dag.assets.production import production_assets, production_brief
from filmaster_dag.checks import production_checks
from filmaster_dag.cinema.planning import ShotPlan
from filmaster_dag.definitions import build_resources
from filmaster_dag.resources.briefs import BriefInbox

from .conftest import EXAMPLE_BRIEFS
from .library_fixture import ReferenceLibrary


def _copy_brief(folder: Path, name: str, text: str | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}.yaml"
    path.write_text(text if text is not None else (EXAMPLE_BRIEFS / f"{name}.yaml").read_text())
    return path


def _failure_line(result: dg.ExecuteInProcessResult) -> str:
    for event in result.all_events:
        if event.is_step_failure:
            data = event.event_specific_data
            return data.user_failure_data.description if data.user_failure_data else data.error.message  # type: ignore[union-attr]
    return ""


def _produce(resources: dict, instance: dg.DagsterInstance, production: str) -> dg.ExecuteInProcessResult:
    if production not in instance.get_dynamic_partitions("productions"):
        instance.add_dynamic_partitions("productions", [production])
    return dg.materialize(
        [*production_assets, *production_checks], partition_key=production, instance=instance, resources=resources, raise_on_error=False
    )


BAD_BRIEFS = {
    "missing-title": ("title: x\n", "title"),
    "empty": ("", "an empty file"),
    "a-list": ("- title: x\n- logline: y\n", "a list"),
    "wrong-type": (None, "target_duration_s"),
    "outside-path": (None, "reference_images"),
    "lines-too-long": (None, "target_duration_s: the dialogue and narration need"),
}


def _bad_text(name: str, good: str) -> str:
    text, _ = BAD_BRIEFS[name]
    if text is not None:
        return good.replace("title: The Last Ferry\n", "") if name == "missing-title" else text
    if name == "lines-too-long":
        return good.replace("target_duration_s: 40", "target_duration_s: 5")
    if name == "wrong-type":
        return good.replace("target_duration_s: 40", "target_duration_s: forty seconds")
    return good.replace(
        "      gentle and slow to speak.\n", "      gentle and slow to speak.\n    reference_images: [../../etc/passwd.png]\n"
    )


def test_bad_briefs_fail_their_own_partition_with_one_clear_line(tmp_path: Path):
    folder = tmp_path / "briefs"
    good = (EXAMPLE_BRIEFS / "dusk.yaml").read_text()
    _copy_brief(folder, "dusk")
    for name in BAD_BRIEFS:
        _copy_brief(folder, name, _bad_text(name, good))
    resources = {**build_resources(root=str(tmp_path / "data")), "briefs": BriefInbox(folder=str(folder))}
    with dg.instance_for_test() as instance:
        instance.add_dynamic_partitions("productions", [*BAD_BRIEFS, "dusk"])
        for name, (_, expected) in BAD_BRIEFS.items():
            result = dg.materialize([production_brief], partition_key=name, instance=instance, resources=resources, raise_on_error=False)
            assert not result.success, name
            line = _failure_line(result)
            assert "\n" not in line and line.startswith(f"production '{name}': "), line
            assert f"{name}.yaml" in line and expected in line and "fix:" in line, line
            assert "unexpected error" not in line, line  # the brief's own line, not wrapped by an outer step
        ok = dg.materialize([production_brief], partition_key="dusk", instance=instance, resources=resources, raise_on_error=False)
        assert ok.success
    stored = json.loads((tmp_path / "data" / "productions" / "dusk" / "production_brief.json").read_text())
    assert stored["brief"]["title"] == "The Last Ferry" and len(stored["sha256"]) == 64
    assert not (tmp_path / "data" / "productions" / "empty").exists()


@pytest.mark.slow
def test_an_empty_library_still_gives_every_planned_shot_a_clip(tmp_path: Path):
    """No references: the ripomatic has no footage, so each shot falls back to a slate; the
    production completes, the fallback is recorded and its asset check warns."""
    folder = tmp_path / "briefs"
    _copy_brief(folder, "dusk")
    resources = {**build_resources(root=str(tmp_path / "data")), "briefs": BriefInbox(folder=str(folder))}
    with dg.instance_for_test() as instance:
        result = _produce(resources, instance, "dusk")
        assert result.success, _failure_line(result)
        manifest = pd.read_parquet(tmp_path / "data" / "productions" / "dusk" / "generated_shots.parquet")
        assert set(manifest["generator"]) == {"slate"} and manifest["fallback_reason"].astype(bool).all()
        checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
        assert checks["no_shot_fell_back"] is False and checks["every_shot_generated_as_planned"] is True


def _manifest(lib_root: Path, production: str) -> pd.DataFrame:
    return pd.read_parquet(lib_root / "productions" / production / "generated_shots.parquet")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["meadow-morning", "silent-chase", "dusk"])
def test_each_example_brief_produces_and_a_rerun_is_all_cache_hits(reference_library: ReferenceLibrary, tmp_path: Path, name: str):
    folder = tmp_path / "briefs"
    _copy_brief(folder, name)
    resources = {**reference_library.resources, "briefs": BriefInbox(folder=str(folder))}
    instance = reference_library.instance
    result = _produce(resources, instance, name)
    assert result.success, _failure_line(result)
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks == {"shot_plan_fits_the_brief": True, "every_shot_generated_as_planned": True, "no_shot_fell_back": True}
    root = reference_library.root
    plan = ShotPlan.model_validate_json((root / "productions" / name / "shot_plan.json").read_text())
    manifest = _manifest(root, name)
    assert list(manifest["shot_id"]) == [s.shot_id for s in plan.shots]
    assert set(manifest["generator"]) == {"ripomatic/1"} or all(g.startswith("ripomatic") for g in manifest["generator"])
    assert not manifest["cached"].any()
    with av.open(manifest["path"].iloc[0]) as clip:
        stream = clip.streams.video[0]
        assert (stream.width, stream.height) == (plan.width, plan.height)
        assert sum(1 for _ in clip.decode(stream)) == plan.shots[0].frames
    again = _produce(resources, instance, name)
    assert again.success
    rerun = _manifest(root, name)
    assert rerun["cached"].all() and list(rerun["sha256"]) == list(manifest["sha256"])


@pytest.mark.slow
def test_changing_one_scene_regenerates_only_that_scenes_shots(reference_library: ReferenceLibrary, tmp_path: Path):
    """A scene's text changes its retrieval and plan: the other scenes' clips all come from the cache."""
    folder = tmp_path / "briefs"
    path = _copy_brief(folder, "meadow-morning")
    resources = {**reference_library.resources, "briefs": BriefInbox(folder=str(folder))}
    instance = reference_library.instance
    production = "meadow-morning"
    # a production of its own: the parametrized test above may have produced this key already
    shutil.rmtree(reference_library.root / "productions" / production, ignore_errors=True)
    assert _produce(resources, instance, production).success
    before = _manifest(reference_library.root, production)
    text = path.read_text()
    scenes = text.split("  - heading:")
    assert len(scenes) >= 3, "meadow-morning has scenes"
    # the second scene becomes a night scene at a frantic pace: new references, a new plan for it alone
    second = scenes[2]
    second = second.replace(second.split("time_of_day:")[1].split("\n")[0], " night", 1)
    second = second.replace(second.split("mood:")[1].split("\n")[0], " frantic", 1)
    path.write_text("  - heading:".join([*scenes[:2], second, *scenes[3:]]))
    result = _produce(resources, instance, production)
    assert result.success, _failure_line(result)
    after = _manifest(reference_library.root, production)
    regenerated = after[~after["cached"]]
    assert len(regenerated), "the changed scene's shots are made again"
    assert set(regenerated["scene_id"]) == {"s02"}
    assert after[after["scene_id"] != "s02"]["cached"].all()
    kept = before[before["scene_id"] != "s02"].set_index("shot_id")["sha256"]
    assert after.set_index("shot_id").loc[kept.index, "sha256"].equals(kept)


@pytest.mark.slow
def test_filmaster_produce_json_names_the_script_plan_clips_film_and_deliverables(reference_library: ReferenceLibrary, tmp_path: Path):
    folder = tmp_path / "briefs"
    path = _copy_brief(folder, "dusk")
    env = {
        **os.environ,
        "FILMASTER_DATA": str(reference_library.root),
        "FILMASTER_INBOX": str(reference_library.inbox),
        "FILMASTER_BRIEFS": str(folder),
        "DAGSTER_HOME": str(tmp_path / "home"),
    }
    out = subprocess.run(
        [sys.executable, "-m", "filmaster_dag.cli", "produce", str(path), "--json"], env=env, capture_output=True, text=True, timeout=900
    )
    assert out.returncode == 0, out.stderr[-2000:]
    made = json.loads(out.stdout)
    assert made["production"] == "dusk"
    assert Path(made["script"]).is_file() and Path(made["shot_plan"]).is_file()
    plan = ShotPlan.model_validate_json(Path(made["shot_plan"]).read_text())
    assert [c["shot_id"] for c in made["clips"]] == [s.shot_id for s in plan.shots]
    for clip, shot in zip(made["clips"], plan.shots):
        assert Path(clip["path"]).is_file() and clip["scene"] == shot.scene_id
        assert clip["duration_s"] == pytest.approx(shot.duration_s) and clip["generator"].startswith("ripomatic")
    assert "production: dusk" in out.stderr
    # brief to film: the film, the editor's files, subtitles, stems, credits and the evaluation
    for key in ("film", "otio", "fcp_xml", "fcpx_xml", "edl", "srt", "credits", "evaluation"):
        assert Path(made[key]).is_file(), key
    assert set(made["stems"]) == {"dialogue", "music", "effects", "mix"} and all(Path(p).is_file() for p in made["stems"].values())
    assert f"film:       {made['film']}" in out.stderr


@pytest.mark.slow
def test_a_diffusers_production_conditions_on_the_first_keyframe_and_regenerates_a_rewritten_scene_alone(
    reference_library: ReferenceLibrary, tmp_path: Path
):
    """The production group with an open image-to-video pipeline (tiny random weights, loaded from
    its folder): a character's later shots start from the first frame of their first shot, and
    rewriting one scene's action regenerates that scene's shots only."""
    from filmaster_dag.resources.generator.diffusion import DiffusersGenerator

    from .tiny_pipelines import build_tiny_ltx_i2v

    model = build_tiny_ltx_i2v(tmp_path / "ltx-i2v")
    folder = tmp_path / "briefs"
    text = (EXAMPLE_BRIEFS / "dusk.yaml").read_text().replace("width: 854\n  height: 480", "width: 160\n  height: 96")
    path = _copy_brief(folder, "dusk-tiny", text.replace("target_duration_s: 40", "target_duration_s: 20"))
    generator = DiffusersGenerator(model=str(model), pipeline="ltx_i2v", steps=2, width=32, height=32, num_frames=9)
    resources = {**reference_library.resources, "briefs": BriefInbox(folder=str(folder)), "generator": generator}
    instance = reference_library.instance
    result = _produce(resources, instance, "dusk-tiny")
    assert result.success, _failure_line(result)
    root = reference_library.root
    before = _manifest(root, "dusk-tiny")
    assert all(g.startswith("diffusers:ltx_i2v") for g in before["generator"]) and not before["fallback_reason"].astype(bool).any()
    plan = ShotPlan.model_validate_json((root / "productions" / "dusk-tiny" / "shot_plan.json").read_text())
    images = dict(zip(before["shot_id"], before["conditioning_image"]))
    firsts: dict[str, str] = {}
    for shot in plan.shots:
        if not shot.characters:
            continue
        main = shot.characters[0]
        if main in firsts:  # a later shot of the same character starts from their first shot's first frame
            assert images[shot.shot_id].endswith(f"{firsts[main]}-first-frame.jpg"), (shot.shot_id, images[shot.shot_id])
        else:
            firsts[main] = shot.shot_id
    assert any(images[s.shot_id].endswith("-first-frame.jpg") for s in plan.shots)
    path.write_text(path.read_text().replace("onto the dark water", "onto the black water"))
    assert _produce(resources, instance, "dusk-tiny").success
    after = _manifest(root, "dusk-tiny")
    regenerated = after[~after["cached"]]
    assert len(regenerated) and set(regenerated["scene_id"]) == {"s02"}
    assert after[after["scene_id"] != "s02"]["cached"].all()
