"""Media credits from the shared media README: every used file named with its licence and attribution."""

from __future__ import annotations

import pytest

from filmaster_dag.cinema.credits import UNKNOWN, credits_records, credits_text, licence_for, media_licences

from .conftest import BBB_60, BBB_720_WEBM, MEDIA

README = MEDIA / "README.md"
VIBE_ACE = MEDIA / "music" / "kevin_macleod-vibe_ace.ogg"
BRAHMS = MEDIA / "music" / "brahms-hungarian_dance_5.ogg"
ROBIN = MEDIA / "sound" / "inspectorj-robin_whistle.ogg"
SPEECH = MEDIA / "speech" / "librispeech-198-209-0000.ogg"


@pytest.fixture(scope="module")
def licences(media):
    return media_licences(README)


def test_the_media_readme_tables_are_read(licences):
    assert {
        "big_buck_bunny_0-60s.mp4",
        "kevin_macleod-vibe_ace.ogg",
        "nps-glacier_bay_humpback.ogg",
        "inspectorj-robin_whistle.ogg",
    } <= set(licences)
    vibe = licences["kevin_macleod-vibe_ace.ogg"]
    assert vibe == {
        "file": "kevin_macleod-vibe_ace.ogg",
        "title": '"Vibe Ace" by Kevin MacLeod',
        "what": "",
        "licence": "CC-BY 3.0 (incompetech.com)",
        "section": "music",
    }
    assert licences["brahms-hungarian_dance_5.ogg"]["licence"] == "public domain (Musopen)"
    bunny = licences["big_buck_bunny_0-60s.mp4"]
    assert bunny["title"] == "Big Buck Bunny" and bunny["licence"].startswith("CC-BY 3.0") and bunny["section"] == "films"
    assert licences["inspectorj-robin_whistle.ogg"]["section"] == "sound"
    # the speech paragraph licenses its clips by id; list items at the end license nothing
    assert licences["198-209-0000"]["licence"] == "CC-BY 4.0 (openslr.org/12)"
    assert "Sense and Sensibility" in licences["198-209-0000"]["title"]
    assert not any("piper" in k or "transnet" in k for k in licences)
    assert licence_for(SPEECH, licences)["file"] == "198-209-0000"
    assert licence_for("/elsewhere/unknown.wav", licences) is None


def test_a_tolerant_reader_of_other_tables(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(
        "# Sounds\n\n| File | Title | Licence | notes |\n|:--|:--|--:|---|\n"
        "| `rain.wav` | Rain on a roof | CC0 | long |\n| door.wav | A door | CC-BY 4.0, Jo Smith | |\n\n"
        "| name | size |\n| --- | --- |\n| `x.wav` | 3 |\n",
        encoding="utf-8",
    )
    found = media_licences(readme)
    assert set(found) == {"rain.wav", "door.wav"}  # a table without a licence column names nothing
    assert found["rain.wav"]["title"] == "Rain on a roof" and found["rain.wav"]["licence"] == "CC0"
    assert found["door.wav"]["licence"] == "CC-BY 4.0, Jo Smith" and found["door.wav"]["section"] == "Sounds"


def test_credits_name_every_used_file_with_its_licence(licences):
    used = [
        {"path": str(BBB_60), "role": "reference"},
        {"path": str(VIBE_ACE), "role": "music"},
        {"path": str(BRAHMS), "role": "music"},
        {"path": str(VIBE_ACE), "role": "music"},  # used twice, credited once
        {"path": str(ROBIN), "role": "effect"},
        {"path": str(SPEECH), "role": "voice"},
        {"path": "/voices/en_US-joe-medium.onnx", "role": "voice"},
    ]
    text = credits_text("The Lighthouse", used, licences)
    lines = text.splitlines()
    assert lines[:2] == ["The Lighthouse", "made with filmaster-dag"]
    sections = [line for line in lines if line and not line.startswith(" ")][2:]
    assert sections == ["Reference films", "Music", "Sound effects", "Voices", "Attribution"]
    assert '  "Vibe Ace" by Kevin MacLeod (kevin_macleod-vibe_ace.ogg): CC-BY 3.0 (incompetech.com)' in lines
    assert "  Brahms, Hungarian Dance No. 5, US Army Strings (brahms-hungarian_dance_5.ogg): public domain (Musopen)" in lines
    assert f"  en_US-joe-medium (en_US-joe-medium.onnx): {UNKNOWN}" in lines
    assert text.count("kevin_macleod-vibe_ace.ogg") == 1
    attributions = lines[lines.index("Attribution") + 1 :]
    assert any("Vibe Ace" in a and "creativecommons.org/licenses/by/3.0/" in a for a in attributions)
    assert any("InspectorJ" in a for a in attributions) and any("by/4.0/" in a for a in attributions)
    assert not any("Brahms" in a for a in attributions)  # public domain asks for no attribution

    # one film in two files (the MP4 and the WebM of Big Buck Bunny) is credited once, naming both files
    both = credits_text("Dusk", [{"path": str(BBB_60), "role": "reference"}, {"path": str(BBB_720_WEBM), "role": "reference"}], licences)
    assert "  Big Buck Bunny (big_buck_bunny_0-60s.mp4, big_buck_bunny_0-30s_720p.webm): CC-BY 3.0" in both
    assert both.count("Big Buck Bunny") == 2 and "peach.blender.org. Licence:" in both  # one credit line, one attribution

    records = credits_records(used, licences)
    assert [r["file"] for r in records] == [
        "big_buck_bunny_0-60s.mp4",
        "kevin_macleod-vibe_ace.ogg",
        "brahms-hungarian_dance_5.ogg",
        "inspectorj-robin_whistle.ogg",
        "librispeech-198-209-0000.ogg",
        "en_US-joe-medium.onnx",
    ]
    assert [r["known"] for r in records] == [True] * 5 + [False]
    assert records[-1]["licence"] == UNKNOWN and records[-1]["attribution"] is None
    # a caller that knows a licence (a voice model's card) gives it
    known = credits_records([{"path": "/voices/joe.onnx", "role": "voice", "title": "Joe (piper)", "licence": "CC-BY 4.0"}], licences)
    assert known[0]["known"] and known[0]["attribution"].startswith("Joe (piper): CC-BY 4.0")
    with pytest.raises(ValueError, match="unknown credits role 'poster'"):
        credits_records([{"path": "/a.png", "role": "poster"}], licences)
