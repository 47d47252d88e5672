from __future__ import annotations

import os
from pathlib import Path

import pytest

from .library_fixture import reference_library  # noqa: F401  (the shared real library, built once per session)
from .llm_server import server  # noqa: F401  (a scripted chat-completions server on loopback)

REPO = Path(__file__).resolve().parents[1]
MEDIA = Path(os.environ.get("FILMASTER_MEDIA", REPO.parent / "shared" / "media"))
FILMS = MEDIA / "films"
EXAMPLE_BRIEFS = REPO / "examples" / "briefs"

BBB_60 = FILMS / "big_buck_bunny_0-60s.mp4"
BBB_720_WEBM = FILMS / "big_buck_bunny_0-30s_720p.webm"
SINTEL = FILMS / "sintel_5s.mp4"
CHAPLIN = FILMS / "chaplin_single_shot.mp4"
# Hard cuts of Big Buck Bunny 0-60 s (first frame of each new shot), from ../shared/media/README.md
BBB_CUT_FRAMES = [285, 378, 553, 1145, 1346]


@pytest.fixture(scope="session")
def media() -> Path:
    if not FILMS.is_dir():
        pytest.fail(f"shared media not found at {MEDIA}; set FILMASTER_MEDIA to the shared/media folder")
    return MEDIA
