"""The inbox sensor and `films_to_ingest` against what the library already holds: a film ingested by
any path (the CLI here, simulated by its materializations) is not ingested again; a changed file is."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import dagster as dg
import pytest

from filmaster_dag import runs
from filmaster_dag.cinema.media import file_sha256
from filmaster_dag.definitions import defs
from filmaster_dag.partitions import films
from filmaster_dag.resources.inbox import FilmInbox
from filmaster_dag.runs import films_to_ingest
from filmaster_dag.sensors import film_inbox_sensor

from .conftest import CHAPLIN, SINTEL

SINTEL_KEY, CHAPLIN_KEY = "sintel-5s", "chaplin-single-shot"


@pytest.fixture()
def inbox(tmp_path, media) -> Path:
    folder = tmp_path / "inbox"
    folder.mkdir()
    for film in (SINTEL, CHAPLIN):
        shutil.copy(film, folder / film.name)  # copies: the tests change their bytes
    return folder


@pytest.fixture()
def instance():
    with dg.instance_for_test() as inst:  # its own temporary DAGSTER_HOME, SQLite storage
        yield inst


def library_holds(instance: dg.DagsterInstance, film: str, path: Path, *, legacy: bool = False) -> None:
    """Record that the library holds ``path`` as ``film``, as an ingest leaves it: `film_source` with
    the file's hash and size, then `reference_index` with ``source_sha256`` (or, ``legacy``, without)."""
    if film not in instance.get_dynamic_partitions(films.name):
        instance.add_dynamic_partitions(films.name, [film])
    sha, st = file_sha256(path), path.stat()
    instance.report_runless_asset_event(
        dg.AssetMaterialization(asset_key="film_source", partition=film, metadata={"sha256": sha, "file_size": st.st_size})
    )
    metadata = {} if legacy else {"source_sha256": sha, "source_size": st.st_size, "source_mtime_ns": st.st_mtime_ns}
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key="reference_index", partition=film, metadata=metadata))


def tick(instance: dg.DagsterInstance, inbox: Path, cursor: str | None = None) -> dg.SensorResult:
    context = dg.build_sensor_context(instance=instance, resources={"inbox": FilmInbox(folder=str(inbox))}, cursor=cursor, definitions=defs)
    return film_inbox_sensor(context)


@pytest.fixture()
def hashed(monkeypatch) -> list[str]:
    """The files `films_to_ingest` and the sensor hash, in order."""
    calls: list[str] = []

    def counting_sha256(path, *args, **kwargs):
        calls.append(Path(path).name)
        return file_sha256(path, *args, **kwargs)

    monkeypatch.setattr(runs, "file_sha256", counting_sha256)
    return calls


def test_sensor_with_an_empty_cursor_requests_nothing_the_library_holds(inbox, instance, hashed):
    library_holds(instance, SINTEL_KEY, inbox / SINTEL.name)
    library_holds(instance, CHAPLIN_KEY, inbox / CHAPLIN.name, legacy=True)  # ingested before `source_sha256`

    first = tick(instance, inbox)  # the first `filmaster ui` after a CLI `demo`
    assert not first.run_requests and not first.dynamic_partitions_requests
    assert films_to_ingest(instance, FilmInbox(folder=str(inbox))) == []
    assert hashed == []  # neither file changed since it was ingested: nothing was read

    # A re-export under the same name: requested once, as "changed", with the new hash.
    with open(inbox / SINTEL.name, "ab") as fh:
        fh.write(b"\0" * 16)
    new_sha = file_sha256(inbox / SINTEL.name)
    changed = tick(instance, inbox, first.cursor)
    assert [(r.partition_key, r.tags["filmaster/sha256"], r.tags["filmaster/reason"]) for r in changed.run_requests] == [
        (SINTEL_KEY, new_sha, "changed")
    ]
    assert tick(instance, inbox, changed.cursor).run_requests == []
    assert films_to_ingest(instance, FilmInbox(folder=str(inbox))) == [(SINTEL_KEY, new_sha, "changed")]
    assert hashed.count(SINTEL.name) == 2 and CHAPLIN.name not in hashed


def test_touched_but_unchanged_file_is_hashed_once_and_not_requested(inbox, instance, hashed):
    library_holds(instance, SINTEL_KEY, inbox / SINTEL.name)
    library_holds(instance, CHAPLIN_KEY, inbox / CHAPLIN.name)
    first = tick(instance, inbox)
    st = (inbox / SINTEL.name).stat()
    os.utime(inbox / SINTEL.name, ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))  # copied again, same bytes
    touched = tick(instance, inbox, first.cursor)
    assert touched.run_requests == [] and hashed == [SINTEL.name]
    assert tick(instance, inbox, touched.cursor).run_requests == [] and hashed == [SINTEL.name]


def test_new_failed_incomplete_and_forced_films(inbox, instance):
    inbox_resource = FilmInbox(folder=str(inbox))
    sha = {SINTEL_KEY: file_sha256(inbox / SINTEL.name), CHAPLIN_KEY: file_sha256(inbox / CHAPLIN.name)}
    assert films_to_ingest(instance, inbox_resource) == [(CHAPLIN_KEY, sha[CHAPLIN_KEY], "new"), (SINTEL_KEY, sha[SINTEL_KEY], "new")]

    # An ingest that stopped after film_source: started, no library rows.
    instance.add_dynamic_partitions(films.name, [SINTEL_KEY, CHAPLIN_KEY])
    instance.report_runless_asset_event(dg.AssetMaterialization(asset_key="film_source", partition=CHAPLIN_KEY))
    assert (CHAPLIN_KEY, sha[CHAPLIN_KEY], "incomplete") in films_to_ingest(instance, inbox_resource)

    # The library holds Sintel, then a later ingest of the same file fails in reference_index.
    library_holds(instance, SINTEL_KEY, inbox / SINTEL.name)
    assert [f for f, _, _ in films_to_ingest(instance, inbox_resource)] == [CHAPLIN_KEY]

    @dg.asset(key="reference_index", partitions_def=films)
    def failing_index() -> None:
        raise dg.Failure("the LanceDB write failed")

    assert not dg.materialize([failing_index], partition_key=SINTEL_KEY, instance=instance, raise_on_error=False).success
    assert (SINTEL_KEY, sha[SINTEL_KEY], "failed") in films_to_ingest(instance, inbox_resource)

    # Forced: every film, the ones the library holds as "forced".
    library_holds(instance, SINTEL_KEY, inbox / SINTEL.name)
    assert {f: r for f, _, r in films_to_ingest(instance, inbox_resource, force=True)} == {
        SINTEL_KEY: "forced",
        CHAPLIN_KEY: "incomplete",
    }


def test_a_film_being_ingested_is_not_requested_again(inbox, instance):
    """While a (live) run ingests a film, neither `films_to_ingest` nor the sensor asks for it; the
    sensor looks again once the run has ended."""
    inbox_resource = FilmInbox(folder=str(inbox))
    instance.add_dynamic_partitions(films.name, [SINTEL_KEY, CHAPLIN_KEY])
    library_holds(instance, CHAPLIN_KEY, inbox / CHAPLIN.name)
    seen: dict[str, object] = {}

    @dg.asset(key="reference_index", partitions_def=films)
    def indexing(context) -> None:
        seen["todo"] = films_to_ingest(context.instance, inbox_resource)
        seen["tick"] = tick(context.instance, inbox)

    assert dg.materialize([indexing], partition_key=SINTEL_KEY, instance=instance, tags=runs.run_tags()).success
    assert seen["todo"] == []
    during = seen["tick"]
    assert isinstance(during, dg.SensorResult) and during.run_requests == []
    assert json.loads(during.cursor or "{}")[SINTEL_KEY]["settled"] is False

    # Once the run has ended the next tick plans Sintel again, though the file did not change: this
    # stand-in wrote a reference_index without the source hash, which the library cannot vouch for.
    after = tick(instance, inbox, during.cursor)
    assert [(r.partition_key, r.tags["filmaster/reason"]) for r in after.run_requests] == [(SINTEL_KEY, "incomplete")]


def test_sensor_says_what_the_inbox_skipped(inbox, instance):
    (inbox / "poster.gif").write_bytes(b"GIF89a")
    (inbox / "trailer.gif").write_bytes(b"GIF89a")
    (inbox / "notes.txt").write_text("cut list")
    first = tick(instance, inbox)
    assert {r.partition_key for r in first.run_requests} == {SINTEL_KEY, CHAPLIN_KEY}
    lines = first.run_requests[0].tags["filmaster/inbox_skipped"].splitlines()
    assert len(lines) == 2  # one line per reason
    assert any("'.gif'" in line and "poster.gif, trailer.gif" in line for line in lines)
    assert any("'.txt'" in line and "notes.txt" in line for line in lines)

    instance.add_dynamic_partitions(films.name, [SINTEL_KEY, CHAPLIN_KEY])
    quiet = tick(instance, inbox, first.cursor)
    assert not quiet.run_requests
    why = quiet.skip_reason.skip_message if quiet.skip_reason else ""
    assert "3 file(s) skipped" in why and "poster.gif, trailer.gif" in why
