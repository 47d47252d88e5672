"""The production brief: the examples load, bad briefs fail in one line naming field and line, references stay in the folder."""

from __future__ import annotations

import os
from fractions import Fraction
from pathlib import Path

import pytest
from pydantic import BaseModel, ValidationError

from filmaster_dag.cinema.brief import (
    Audience,
    Brief,
    BriefError,
    Character,
    DialogueLine,
    Location,
    Resolution,
    Scene,
    Style,
    brief_digest,
    brief_slug,
    field_path,
    load_brief,
)

from .conftest import EXAMPLE_BRIEFS

GOOD = """\
title: Two at the Gate
logline: Two friends meet at a gate at dusk.
audience:
  who: adults at home
  likes: [quiet films]
  attention_span: long
style: painterly dusk light
target_duration_s: 30
resolution: 640x360
frame_rate: 24
characters:
  - name: Ana
    description: a tall woman in a green coat
  - name: Ben
    description: a small man with a lantern
scenes:
  - heading: EXT. GATE - DUSK
    time_of_day: dusk
    action: Ana waits at the gate. Ben arrives.
    dialogue:
      - speaker: Ana
        text: You came.
      - speaker: Ben
        text: I said I would.
    mood: tender
"""


def write(tmp_path: Path, text: str, name: str = "brief.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def line_of(text: str, needle: str) -> int:
    """1-based line of the first line holding ``needle`` (what an editor shows)."""
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


def fails(tmp_path: Path, text: str) -> BriefError:
    path = write(tmp_path, text)
    with pytest.raises(BriefError) as info:
        load_brief(path)
    err = info.value
    assert "\n" not in str(err), "the message must be one line"
    assert str(err).startswith(str(path)), "the message names the file first"
    return err


# -- the examples ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["meadow-morning", "silent-chase", "dusk"])
def test_examples_load(name: str) -> None:
    path = EXAMPLE_BRIEFS / f"{name}.yaml"
    brief = load_brief(path)
    assert brief_slug(path) == name
    assert brief.title and (brief.logline or brief.synopsis)
    assert brief.folder == EXAMPLE_BRIEFS
    for scene in brief.scenes:
        for line in scene.dialogue:
            assert brief.character(line.speaker).name == line.speaker


def test_examples_cover_the_three_kinds_of_brief() -> None:
    meadow, chase, dusk = (load_brief(EXAMPLE_BRIEFS / f"{n}.yaml") for n in ("meadow-morning", "silent-chase", "dusk"))
    assert 40 <= meadow.target_duration_s <= 60 and len(meadow.scenes) >= 3
    assert not chase.scenes and chase.synopsis and chase.style.color == "black_and_white" and chase.style.narration == "title_cards"
    assert {s.time_of_day for s in dusk.scenes} == {"dusk"} and len(dusk.characters) == 2
    assert sum(len(s.dialogue) for s in dusk.scenes) >= 2
    # style given as plain text is the description alone; the rest takes defaults
    assert dusk.style.description.startswith("Painterly") and dusk.style.pace == "moderate"


def test_readme_documents_every_field() -> None:
    readme = (EXAMPLE_BRIEFS / "README.md").read_text(encoding="utf-8")
    models: list[type[BaseModel]] = [Brief, Audience, Style, Resolution, Character, Location, Scene, DialogueLine]
    missing = [f"{m.__name__}.{f}" for m in models for f in m.model_fields if f"`{f}`" not in readme]
    assert not missing, f"README.md does not document {missing}"


# -- values: shorthands, exact frame rates ----------------------------------------------------------


def test_good_brief_values(tmp_path: Path) -> None:
    brief = load_brief(write(tmp_path, GOOD))
    assert (brief.resolution.width, brief.resolution.height) == (640, 360)
    assert brief.fps == Fraction(24) and brief.frame_rate == "24"
    assert brief.style.description == "painterly dusk light"
    assert brief.scenes[0].time_of_day == "dusk" and brief.scenes[0].dialogue[1].speaker == "Ben"


@pytest.mark.parametrize(
    ("written", "exact"),
    [("'24000/1001'", Fraction(24000, 1001)), ("29.97", Fraction(30000, 1001)), ("'23.976'", Fraction(24000, 1001)), ("25", Fraction(25))],
)
def test_frame_rate_is_exact(tmp_path: Path, written: str, exact: Fraction) -> None:
    brief = load_brief(write(tmp_path, GOOD.replace("frame_rate: 24", f"frame_rate: {written}")))
    assert brief.fps == exact and Fraction(brief.frame_rate) == exact


def test_words_are_case_insensitive(tmp_path: Path) -> None:
    text = (
        GOOD.replace("time_of_day: dusk", "time_of_day: DUSK")
        .replace("mood: tender", "mood: Tender")
        .replace("speaker: Ben", "speaker: BEN")
    )
    brief = load_brief(write(tmp_path, text))
    assert brief.scenes[0].time_of_day == "dusk" and brief.scenes[0].mood == "tender"
    assert brief.character(brief.scenes[0].dialogue[1].speaker).name == "Ben"


def test_brief_built_in_code_validates_too() -> None:
    data = {
        "title": "T",
        "synopsis": "S",
        "audience": {"who": "anyone", "attention_span": "medium"},
        "style": "plain",
        "target_duration_s": 10,
        "resolution": {"width": 320, "height": 240},
        "frame_rate": 30,
        "characters": [{"name": "A", "description": "a"}],
        "scenes": [
            {
                "heading": "INT. ROOM - DAY",
                "time_of_day": "day",
                "action": "x",
                "mood": "calm",
                "dialogue": [{"speaker": "Z", "text": "hi"}],
            }
        ],
    }
    with pytest.raises(ValidationError, match="declared characters"):
        Brief.model_validate(data)
    del data["scenes"]
    brief = Brief.model_validate(data)
    assert brief.folder is None and brief.reference_paths() == {"A": []}
    assert "properties" in Brief.model_json_schema()  # the language-model writer asks for this schema


# -- bad briefs: one line, the field path, the line ----------------------------------------------------


@pytest.mark.parametrize("text", ["", "\n\n", "# only a comment\n"])
def test_empty_file(tmp_path: Path, text: str) -> None:
    err = fails(tmp_path, text)
    assert (err.field, err.line, err.found) == ("(document)", 1, "an empty file")


@pytest.mark.parametrize(("text", "found"), [("- title: A\n- title: B\n", "a list"), ("just a title\n", "a single value 'just a title'")])
def test_not_a_mapping(tmp_path: Path, text: str, found: str) -> None:
    err = fails(tmp_path, text)
    assert err.field == "(document)" and err.found == found and "mapping" in err.expected


def test_yaml_syntax_error_names_its_line(tmp_path: Path) -> None:
    text = GOOD.replace("  likes: [quiet films]", "  likes: [quiet films\n  oops: : :")
    err = fails(tmp_path, text)
    assert err.field == "(YAML syntax)"
    assert err.line is not None and line_of(text, "likes:") <= err.line <= line_of(text, "oops") + 1
    assert f"{err.file}:{err.line}: (YAML syntax): found " in str(err)


def test_yaml_syntax_error_says_where_the_unclosed_part_began(tmp_path: Path) -> None:
    text = "title: x\nfoo: [a\nbar: 1\n"
    err = fails(tmp_path, text)
    assert err.line == 3 and "began on line 2" in err.found


def test_duplicate_key(tmp_path: Path) -> None:
    text = GOOD.replace("target_duration_s: 30", "target_duration_s: 30\ntarget_duration_s: 45")
    err = fails(tmp_path, text)
    assert err.field == "target_duration_s" and err.line == line_of(text, "target_duration_s: 45")
    assert f"line {line_of(text, 'target_duration_s: 30')}" in err.found


def test_missing_top_level_field(tmp_path: Path) -> None:
    err = fails(tmp_path, GOOD.replace("title: Two at the Gate\n", ""))
    assert err.field == "title" and err.found == "nothing" and "required" in err.expected
    assert "add `title: ...` under the top level" in err.fix


def test_missing_nested_field_points_at_its_parent(tmp_path: Path) -> None:
    text = GOOD.replace("  attention_span: long\n", "")
    err = fails(tmp_path, text)
    assert err.field == "audience.attention_span"
    assert err.line == line_of(text, "audience:")
    assert "under audience" in err.fix


def test_missing_logline_and_synopsis(tmp_path: Path) -> None:
    err = fails(tmp_path, GOOD.replace("logline: Two friends meet at a gate at dusk.\n", ""))
    assert err.field == "logline" and "logline or a synopsis" in err.expected


def test_wrong_type_names_field_line_found_and_expected(tmp_path: Path) -> None:
    text = GOOD.replace("target_duration_s: 30", "target_duration_s: thirty")
    err = fails(tmp_path, text)
    assert str(err) == (
        f"{err.file}:{line_of(text, 'thirty')}: target_duration_s: found 'thirty' (text); expected a number; "
        "fix: write a number for target_duration_s"
    )


def test_wrong_type_deep_in_a_list(tmp_path: Path) -> None:
    text = GOOD.replace("        text: I said I would.", "        text: [I, said]")
    err = fails(tmp_path, text)
    assert err.field == "scenes[0].dialogue[1].text" and err.line == line_of(text, "text: [I, said]")
    assert err.found == "a list" and err.expected == "text"


@pytest.mark.parametrize(
    ("old", "new", "field", "expected"),
    [
        ("target_duration_s: 30", "target_duration_s: -5", "target_duration_s", "greater than 0"),
        ("target_duration_s: 30", "target_duration_s: 99999", "target_duration_s", "less than or equal to 1800"),
        ("resolution: 640x360", "resolution: 641x360", "resolution.width", "an even number of pixels"),
        ("resolution: 640x360", "resolution: big", "resolution", "a resolution such as 1280x720"),
        ("frame_rate: 24", "frame_rate: fast", "frame_rate", "a frame rate such as 24"),
        ("frame_rate: 24", "frame_rate: 0", "frame_rate", "above 0"),
        ("time_of_day: dusk", "time_of_day: teatime", "scenes[0].time_of_day", "one of 'dawn', 'morning'"),
        ("mood: tender", "mood: grumpy", "scenes[0].mood", "'calm'"),
        ("  attention_span: long", "  attention_span: 5", "audience.attention_span", "one of 'short', 'medium' or 'long'"),
    ],
)
def test_bad_values(tmp_path: Path, old: str, new: str, field: str, expected: str) -> None:
    text = GOOD.replace(old, new)
    assert text != GOOD
    err = fails(tmp_path, text)
    assert err.field == field and err.line == line_of(text, new.strip())
    assert expected in err.expected, err.expected


def test_unknown_field_suggests_the_right_spelling(tmp_path: Path) -> None:
    text = GOOD.replace("    mood: tender", "    mood: tender\n    moood: calm")
    err = fails(tmp_path, text)
    assert err.field == "scenes[0].moood" and err.line == line_of(text, "moood")
    assert err.found == "an unknown field 'moood'" and "did you mean `mood`?" in err.fix


def test_unknown_top_level_field(tmp_path: Path) -> None:
    text = GOOD + "director: me\n"
    err = fails(tmp_path, text)
    assert err.field == "director" and err.line == line_of(text, "director") and "title" in err.expected


def test_speaker_must_be_a_declared_character(tmp_path: Path) -> None:
    text = GOOD.replace("speaker: Ben", "speaker: Stranger")
    err = fails(tmp_path, text)
    assert str(err) == (
        f"{err.file}:{line_of(text, 'Stranger')}: scenes[0].dialogue[1].speaker: found 'Stranger' (text); "
        "expected one of the declared characters ('Ana', 'Ben'); fix: add 'Stranger' under characters, or use a declared name"
    )


def test_scene_characters_and_locations_must_be_declared(tmp_path: Path) -> None:
    text = GOOD.replace("    time_of_day: dusk", "    time_of_day: dusk\n    characters: [Ana, Cleo]")
    err = fails(tmp_path, text)
    assert err.field == "scenes[0].characters[1]" and err.line == line_of(text, "Cleo")
    text = GOOD.replace("    time_of_day: dusk", "    time_of_day: dusk\n    location: Gate")
    err = fails(tmp_path, text)
    assert err.field == "scenes[0].location" and err.line == line_of(text, "location: Gate") and "none declared" in err.expected


def test_duplicate_character_names(tmp_path: Path) -> None:
    text = GOOD.replace("  - name: Ben", "  - name: ana")
    err = fails(tmp_path, text)
    assert err.field == "characters[1].name" and err.line == line_of(text, "name: ana")


def test_several_problems_are_counted_and_listed_in_document_order(tmp_path: Path) -> None:
    text = GOOD.replace("title: Two at the Gate", "title: 7").replace("mood: tender", "mood: grumpy")
    err = fails(tmp_path, text)
    assert err.field == "title" and str(err).endswith("(and 1 more problem)")
    assert [p.field for p in err.problems] == ["title", "scenes[0].mood"]


def test_missing_and_unreadable_file(tmp_path: Path) -> None:
    with pytest.raises(BriefError, match="no such file"):
        load_brief(tmp_path / "nope.yaml")
    path = tmp_path / "latin1.yaml"
    path.write_bytes(GOOD.encode() + "title2: caf\xe9\n".encode("latin-1"))
    with pytest.raises(BriefError, match="UTF-8") as info:
        load_brief(path)
    assert info.value.line == GOOD.count("\n") + 1


def test_python_tags_are_refused(tmp_path: Path) -> None:
    text = GOOD.replace("title: Two at the Gate", "title: !!python/object/apply:os.system ['true']")
    err = fails(tmp_path, text)
    assert err.field == "(YAML syntax)" and err.line == line_of(text, "python/object") and "constructor" in err.found
    assert "remove the '!!' tag" in err.fix


def test_alias_bomb_is_refused(tmp_path: Path) -> None:
    lines = ["a0: &a0 [x, x, x, x, x, x, x, x, x, x]"] + [f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]" for i in range(1, 7)]
    err = fails(tmp_path, "\n".join(lines) + "\n")
    assert err.field == "(document)" and "aliases" in err.found


# -- reference images stay inside the brief's folder ---------------------------------------------------


def with_reference(ref: str) -> str:
    return GOOD.replace(
        "    description: a tall woman in a green coat", f"    description: a tall woman in a green coat\n    reference_images: ['{ref}']"
    )


def test_reference_inside_the_folder_resolves(tmp_path: Path) -> None:
    (tmp_path / "refs").mkdir()
    (tmp_path / "refs" / "ana.png").write_bytes(b"\x89PNG")
    brief = load_brief(write(tmp_path, with_reference("refs/ana.png")))
    assert brief.reference_paths() == {"Ana": [(tmp_path / "refs" / "ana.png").resolve()], "Ben": []}
    # an absolute path is accepted when it lies inside the folder
    brief = load_brief(write(tmp_path, with_reference(str(tmp_path / "refs" / "ana.png"))))
    assert brief.reference_paths()["Ana"] == [(tmp_path / "refs" / "ana.png").resolve()]


def test_reference_with_dotdot_is_refused_even_inside(tmp_path: Path) -> None:
    (tmp_path / "refs").mkdir()
    (tmp_path / "ana.png").write_bytes(b"\x89PNG")
    text = with_reference("refs/../ana.png")
    err = fails(tmp_path, text)
    assert err.field == "characters[0].reference_images[0]" and err.line == line_of(text, "reference_images")
    assert "without '..'" in err.expected


def test_reference_outside_the_folder_is_refused(tmp_path: Path) -> None:
    inbox, outside = tmp_path / "inbox", tmp_path / "secret.png"
    inbox.mkdir()
    outside.write_bytes(b"\x89PNG")
    err = fails(inbox, with_reference(str(outside)))
    assert err.field == "characters[0].reference_images[0]" and "inside the brief's folder" in err.expected
    os.symlink(outside, inbox / "link.png")  # a link leading out of the folder is outside too
    err = fails(inbox, with_reference("link.png"))
    assert err.field == "characters[0].reference_images[0]" and "inside the brief's folder" in err.expected


def test_reference_must_exist_and_be_an_image(tmp_path: Path) -> None:
    err = fails(tmp_path, with_reference("ana.png"))
    assert "an existing image file" in err.expected and str(tmp_path.resolve() / "ana.png") in err.expected
    (tmp_path / "notes.txt").write_text("x")
    err = fails(tmp_path, with_reference("notes.txt"))
    assert err.expected.startswith("an image file")


def test_reference_without_a_folder_cannot_be_absolute() -> None:
    with pytest.raises(ValidationError, match="relative to the brief's folder"):
        Brief.model_validate(
            {
                "title": "T",
                "logline": "L",
                "audience": {"who": "a", "attention_span": "short"},
                "style": "s",
                "target_duration_s": 5,
                "resolution": "320x240",
                "frame_rate": 24,
                "characters": [{"name": "A", "description": "a", "reference_images": ["/etc/passwd"]}],
            }
        )


# -- partition keys and digests ---------------------------------------------------------------------


def test_slug_is_stable_readable_and_unique(tmp_path: Path) -> None:
    names = [
        "dusk.yaml",
        "Dusk.yaml",
        "DUSK.yaml",
        "dusk.yml",
        "My Dusk.yaml",
        "my-dusk.yaml",
        "my_dusk.yaml",
        "Été à Paris.yaml",
        "日本.yaml",
    ]
    slugs = {name: brief_slug(tmp_path / name) for name in names}
    assert slugs["dusk.yaml"] == "dusk" and slugs["my-dusk.yaml"] == "my-dusk"
    assert slugs["My Dusk.yaml"].startswith("my-dusk--") and slugs["Été à Paris.yaml"].startswith("ete-a-paris--")
    assert slugs["日本.yaml"].startswith("brief--")
    assert len(set(slugs.values())) == len(names), slugs
    assert all(s.isascii() and s == s.lower() and " " not in s for s in slugs.values())
    # stable: the same name gives the same key, wherever the inbox is
    assert {n: brief_slug(Path("/elsewhere") / n) for n in names} == slugs
    # a hashed key can never meet a plain one: slugified names hold no double dash
    assert brief_slug(tmp_path / f"{slugs['My Dusk.yaml']}.yaml") != slugs["My Dusk.yaml"]


def test_slug_with_subfolders(tmp_path: Path) -> None:
    nested = brief_slug(tmp_path / "series" / "ep1.yaml", root=tmp_path)
    assert nested.startswith("series-ep1--") and nested != brief_slug(tmp_path / "series-ep1.yaml", root=tmp_path)


def test_digest_follows_the_content(tmp_path: Path) -> None:
    a, b = write(tmp_path, GOOD, "a.yaml"), write(tmp_path, GOOD, "b.yaml")
    assert brief_digest(a) == brief_digest(b) and len(brief_digest(a)) == 64
    a.write_text(GOOD.replace("You came.", "You came!"), encoding="utf-8")
    assert brief_digest(a) != brief_digest(b)


def test_field_path() -> None:
    assert field_path(("scenes", 2, "dialogue", 0, "speaker")) == "scenes[2].dialogue[0].speaker"
    assert field_path(()) == "(brief)"
