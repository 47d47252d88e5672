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
