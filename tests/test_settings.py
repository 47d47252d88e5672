"""The FILMASTER_* environment, checked when the definitions load."""

from __future__ import annotations

import subprocess
import sys

import pytest

from filmaster_dag.settings import FilmasterSettings, SettingsError


def test_defaults_and_values_from_the_environment():
    assert FilmasterSettings.from_env({}).detector == "adaptive"
    s = FilmasterSettings.from_env({"FILMASTER_DETECTOR": "hybrid", "FILMASTER_CLIP_WEIGHTS": " /w/clip.pt ", "OTHER": "x"})
    assert s.detector == "hybrid" and s.clip_weights == "/w/clip.pt"


def test_a_bad_value_is_one_line_naming_the_variable():
    with pytest.raises(SettingsError) as err:
        FilmasterSettings.from_env({"FILMASTER_DETECTOR": "magic"})
    line = str(err.value)
    assert "\n" not in line and line.startswith("FILMASTER_DETECTOR='magic'") and "'adaptive'" in line


def test_the_code_location_refuses_to_load_with_a_bad_detector(tmp_path):
    env = {"FILMASTER_DETECTOR": "magic", "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    run = subprocess.run([sys.executable, "-c", "import filmaster_dag.definitions"], env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode != 0 and "FILMASTER_DETECTOR='magic'" in run.stderr


def test_production_settings_choose_the_language_model_and_the_generator(tmp_path, monkeypatch):
    import dagster as dg

    from filmaster_dag.definitions import build_resources
    from filmaster_dag.resources.generator.diffusion import DiffusersGenerator
    from filmaster_dag.resources.generator.ripomatic import RipomaticGenerator
    from filmaster_dag.resources.llm import OpenAICompatibleModel, RulesOnly

    plain = build_resources(root=str(tmp_path), settings=FilmasterSettings.from_env({}))
    assert isinstance(plain["language_model"], RulesOnly) and isinstance(plain["generator"], RipomaticGenerator)
    assert plain["briefs"].root.name == "briefs"
    env = {
        "FILMASTER_LLM_BASE_URL": "http://127.0.0.1:8000/v1",
        "FILMASTER_LLM_MODEL": "qwen",
        "FILMASTER_LLM_API_KEY": "secret",
        "FILMASTER_GENERATOR": "diffusers",
        "FILMASTER_DIFFUSERS_MODEL": str(tmp_path / "ltx"),
        "FILMASTER_BRIEFS": str(tmp_path / "my-briefs"),
    }
    configured = build_resources(root=str(tmp_path), settings=FilmasterSettings.from_env(env))
    model = configured["language_model"]
    assert isinstance(model, OpenAICompatibleModel) and model.model == "qwen"
    assert isinstance(model.api_key, dg.EnvVar)  # the key is read when a run starts, never shown in the UI's config
    generator = configured["generator"]
    assert isinstance(generator, DiffusersGenerator) and generator.model == str(tmp_path / "ltx")
    assert configured["briefs"].root == (tmp_path / "my-briefs").resolve()
    with pytest.raises(SettingsError, match="FILMASTER_GENERATOR='kling'"):
        FilmasterSettings.from_env({"FILMASTER_GENERATOR": "kling"})
