"""The `filmaster` command as a user runs it: ingest an inbox, print the library, search it."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys

import pytest
from PIL import Image

from filmaster_dag.cinema.media import iter_frames

from .conftest import CHAPLIN


def run_cli(*args: str, env: dict) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "filmaster_dag.cli", *args], env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow
def test_ingest_library_and_search(tmp_path, media):
    inbox = tmp_path / "inbox"
    inbox.mkdir()
    os.symlink(CHAPLIN, inbox / CHAPLIN.name)
    (inbox / "corrupt reel.mp4").write_text("not a film\n" * 20)
    shutil.copyfile(CHAPLIN, inbox / "zz-chaplin-copy.mp4")  # the same bytes under another name
    env = {
        **os.environ,
        "FILMASTER_INBOX": str(inbox),
        "FILMASTER_DATA": str(tmp_path / "data"),
        "DAGSTER_HOME": str(tmp_path / "home"),
        "FILMASTER_SEARCHES": str(tmp_path / "searches"),
        "COLUMNS": "200",
    }
    ingest = run_cli("ingest", env=env)
    out = ingest.stdout
    assert "= zz-chaplin-copy: same content as chaplin-single-shot" in out  # recorded, not indexed
    assert re.search(r"zz-chaplin-copy +│ - .*duplicate of chaplin-single-shot", out)
    assert ingest.returncode == 1, out + ingest.stderr  # one film failed, so the command says so
    assert "✓ chaplin-single-shot" in out
    assert "film 'corrupt-reel'" in out and "corrupt reel.mp4" in out and "remove it from the inbox" in out
    # the bad film's error is one line, once, with no Dagster stack trace
    everything = out + ingest.stderr
    assert "Traceback" not in everything and everything.count("✗ film 'corrupt-reel' (corrupt reel.mp4)") == 1 and not ingest.stderr.strip()
    assert "frames" in out or "done" in out  # progress per film and stage
    assert "chaplin-single-shot │ 1 " in out  # one shot in the library table
    assert (tmp_path / "home" / "dagster.yaml").exists()  # persistent instance, partitions kept

    search = run_cli("search", "black-and-white", "-k", "3", env=env)
    assert search.returncode == 0 and "chaplin-single-shot/0000" in search.stdout
    # an attribute search needs no words; hits show film timecode and the keyframe's path
    sheet = tmp_path / "found" / "static.jpg"
    static = run_cli("search", "--where", "movement = 'static'", "--sheet", str(sheet), env={**env, "COLUMNS": "400"})  # wide: no fold
    assert static.returncode == 0 and "chaplin-single-shot/0000" in static.stdout and "00:00:00:00" in static.stdout
    with Image.open(sheet) as picture:  # one labelled tile per hit (here the one Chaplin shot)
        assert picture.format == "JPEG" and 200 < picture.width < 300 and picture.height > 100
    assert f"{tmp_path / 'data' / 'library' / 'chaplin-single-shot'}/" in static.stdout and ".jpg" in static.stdout
    assert "content search ('a rabbit') needs CLIP weights" in search.stdout  # said once, with what to set
    assert search.stdout.count("needs CLIP weights") == 1 and "needs CLIP weights" not in static.stdout
    none = run_cli("search", "--where", "movement = 'pan_left'", env=env)
    assert none.returncode == 0 and "chaplin-single-shot/0000" not in none.stdout and "no shot matches" in none.stdout
    assert run_cli("search", env=env).returncode == 2
    # search by example, offline: a still of the film finds its shot, and the search can be saved for the UI
    still = tmp_path / "still.png"
    frame = next(f for f in iter_frames(CHAPLIN, analysis_width=64) if f.index == 120)
    Image.fromarray(frame.rgb()).save(still)
    like = run_cli("search", "--like", str(still), "-k", "2", "--save", "Chaplin stills", env=env)
    assert like.returncode == 0 and "chaplin-single-shot/0000" in like.stdout and "ranked by look" in like.stdout
    saved = tmp_path / "searches" / "chaplin-stills.yaml"
    assert saved.exists() and str(still) in saved.read_text() and "saved as" in like.stdout
    assert "saved_searches" in like.stdout and "1 hits" in like.stdout  # the asset ran: the UI shows it now
    missing = run_cli("search", "--like", "no-such/0001", env=env)
    assert missing.returncode == 2 and "neither a shot id in the library" in missing.stdout

    again = run_cli("ingest", "chaplin-single-shot", env=env)
    assert again.returncode == 0 and again.stdout.count("chaplin-single-shot │ 1 ") == 1

    # The demo skips what the library already holds (same file hash), whichever path ingested it.
    (inbox / "corrupt reel.mp4").unlink()
    demo = run_cli("demo", env=env)
    assert demo.returncode == 0, demo.stdout + demo.stderr
    assert "unchanged since their last ingest" in demo.stdout and "✓ chaplin-single-shot" not in demo.stdout

    # The storage root is absolute: from another folder the library is the same one, and nothing is created there.
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    library = subprocess.run(
        [sys.executable, "-m", "filmaster_dag.cli", "library"], env=env, cwd=elsewhere, capture_output=True, text=True, timeout=600
    )
    assert library.returncode == 0 and "chaplin-single-shot │ 1 " in library.stdout
    assert "duplicate of chaplin-single-shot" in library.stdout
    assert str(tmp_path / "data") in library.stdout.replace("\n", "") and not list(elsewhere.iterdir())

    unknown = run_cli("ingest", "no-such-film", env=env)
    assert unknown.returncode == 1 and "not in the inbox" in unknown.stdout

    bad_sql = run_cli("search", "wide", "--where", "movement = = 'static'", env=env)
    assert bad_sql.returncode == 2 and "search failed" in bad_sql.stdout and "Traceback" not in bad_sql.stderr
