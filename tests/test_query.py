"""Searches as filmmakers type them: vocabulary phrases and shorthand become exact filters."""

import pandas as pd
import pytest

from filmaster_dag.cinema.query import parse_query, vocabulary_table
from filmaster_dag.cinema.vocabulary import CameraMovement, LightingKey, ShotScale


@pytest.mark.parametrize(
    ("text", "words", "where"),
    [
        ("low-key", "", "lighting_key = 'low_key'"),
        ("Low Key", "", "lighting_key = 'low_key'"),
        ("high-key", "", "lighting_key = 'high_key'"),
        ("close-up", "", "shot_scale = 'close_up'"),
        ("CU", "", "shot_scale = 'close_up'"),
        ("extreme close-up", "", "shot_scale = 'extreme_close_up'"),  # the longest phrase wins, not "close-up"
        ("medium close up", "", "shot_scale = 'medium_close_up'"),
        ("dolly in", "", "movement = 'push_in'"),
        ("push in", "", "movement = 'push_in'"),
        ("pan_left", "", "movement = 'pan_left'"),
        ("hand-held", "", "movement = 'handheld'"),
        ("low-key close-up of a face", "of a face", "shot_scale = 'close_up' AND lighting_key = 'low_key'"),
        ("CU or MS", "or", "shot_scale IN ('close_up', 'medium')"),
        ("warm palette", "warm palette", None),
        ("rabbit", "rabbit", None),
        ("curious", "curious", None),  # "cu" is read only as a whole word
    ],
)
def test_vocabulary_phrases_become_filters(text, words, where):
    parsed = parse_query(text)
    assert parsed.words == words
    assert parsed.where() == where


def test_a_users_filter_is_kept_and_anded():
    assert parse_query("wide").where("duration_s > 3") == "shot_scale = 'wide' AND (duration_s > 3)"
    assert parse_query("sunset").where("film = 'x'") == "(film = 'x')"


def test_every_measured_term_has_its_phrases_documented():
    table = {(c, v): phrases for c, v, phrases in vocabulary_table()}
    for vocabulary, column in ((ShotScale, "shot_scale"), (CameraMovement, "movement"), (LightingKey, "lighting_key")):
        for term in vocabulary:
            if term.value != "unknown":
                assert (column, term.value) in table, term
    assert "cu" in table[("shot_scale", "close_up")] and "dolly in" in table[("movement", "push_in")]


def test_low_key_no_longer_finds_high_key_shots(tmp_path):
    """Full-text search splits 'low-key' into 'low' and 'key' and so finds the high-key shot; the
    filter the phrase becomes finds the low-key shot alone."""
    import lancedb
    from lancedb.index import FTS

    rows = pd.DataFrame(
        {
            "shot_id": ["f/0000", "f/0001"],
            "description": ["static wide shot, high-key, cool palette", "static close-up, low-key, warm palette"],
            "lighting_key": ["high_key", "low_key"],
        }
    )
    table = lancedb.connect(str(tmp_path / "db")).create_table("shots", rows)
    table.create_index("description", config=FTS())
    as_words = table.search("low-key", query_type="fts").to_pandas()
    assert "f/0000" in set(as_words["shot_id"])  # the problem this module solves
    found = table.search().where(parse_query("low-key").where()).to_pandas()
    assert list(found["shot_id"]) == ["f/0001"]
