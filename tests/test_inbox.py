"""The film inbox: one partition per file (no slug collisions), symbolic-link policy, skipped files
listed with their reason, and a root that does not follow the working directory."""

from __future__ import annotations

import os
import random
from pathlib import Path

import dagster as dg
import pytest

from filmaster_dag.resources.inbox import FilmInbox, assign_slugs, film_slug, scan_inbox

from .conftest import SINTEL

COLLIDING = ["My Film.mp4", "my-film.mp4", "my.film.mp4", "MY FILM.MP4", "x.webm", "x-webm.mp4"]


def _touch(folder: Path, *names: str) -> list[Path]:
    paths = []
    for name in names:
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"not decoded by a scan")
        paths.append(path)
    return paths


def test_colliding_names_each_get_their_own_slug(tmp_path):
    _touch(tmp_path, *COLLIDING)
    films = scan_inbox(tmp_path).films
    assert sorted(p.name for p in films.values()) == sorted(COLLIDING)  # no film dropped
    # The file whose name already spells the slug keeps it; the others add a hash of their path.
    assert films["my-film"].name == "my-film.mp4" and films["x-webm"].name == "x-webm.mp4"
    for slug, path in films.items():
        if slug not in ("my-film", "x-webm"):
            base, digest = slug.rsplit("-", 1)
            assert base == film_slug(path, tmp_path) and len(digest) == 6


def test_without_a_canonical_name_the_first_in_sorted_order_keeps_the_slug(tmp_path):
    paths = _touch(tmp_path, "My Film.mp4", "my.film.mp4", "sub/a.mp4", "sub-a.mp4")
    slugs = {p.name: s for s, p in assign_slugs(paths, tmp_path).items()}
    assert slugs["My Film.mp4"] == "my-film" and slugs["my.film.mp4"].startswith("my-film-")
    assert slugs["sub-a.mp4"] == "sub-a" and slugs["a.mp4"].startswith("sub-a-")


def test_slugs_are_deterministic_and_independent_of_listing_order(tmp_path):
    paths = _touch(tmp_path, *COLLIDING, "big_buck_bunny_0-60s.mp4", "sub/Été à Paris.mp4")
    expected = assign_slugs(paths, tmp_path)
    for seed in range(5):
        shuffled = paths[:]
        random.Random(seed).shuffle(shuffled)
        assert assign_slugs(shuffled, tmp_path) == expected
    assert scan_inbox(tmp_path).films == expected
    # A new file that collides with nobody changes no other slug.
    _touch(tmp_path, "another film.mkv")
    assert {s: p for s, p in scan_inbox(tmp_path).films.items() if s != "another-film-mkv"} == expected


def test_known_slugs_do_not_change(tmp_path):
    paths = _touch(tmp_path, "big_buck_bunny_0-60s.mp4", "big_buck_bunny_0-30s_720p.webm", "Été à Paris.mp4", "Ete a Paris.mp4")
    slugs = {p.name: s for s, p in assign_slugs(paths, tmp_path).items()}
    assert slugs["big_buck_bunny_0-60s.mp4"] == "big-buck-bunny-0-60s"
    assert slugs["big_buck_bunny_0-30s_720p.webm"] == "big-buck-bunny-0-30s-720p-webm"
    assert slugs["Ete a Paris.mp4"] == "ete-a-paris" and slugs["Été à Paris.mp4"] == film_slug(tmp_path / "Été à Paris.mp4", tmp_path)


def test_a_file_named_like_a_hashed_slug_loses_no_film(tmp_path):
    first = _touch(tmp_path, "My Film.mp4", "my.film.mp4")
    hashed = next(s for s in scan_inbox(tmp_path).films if s != "my-film")
    _touch(tmp_path, f"{hashed}.mp4")  # a file literally named after the other's disambiguated slug
    films = scan_inbox(tmp_path).films
    assert len(films) == 3 and set(films.values()) == {*first, tmp_path / f"{hashed}.mp4"}


def test_symlink_outside_the_inbox_is_refused_with_a_reason(tmp_path):
    inbox, outside = tmp_path / "inbox", tmp_path / "elsewhere"
    _touch(inbox, "kept.mp4")
    (secret,) = _touch(outside, "secret.key")
    (inbox / "innocent.mp4").symlink_to(secret)
    (inbox / "passwd.mp4").symlink_to("/etc/passwd")
    scan = scan_inbox(inbox)
    assert list(scan.films) == ["kept"]
    reasons = dict(scan.skipped)
    assert "outside the inbox" in reasons[inbox / "innocent.mp4"] and str(secret) in reasons[inbox / "innocent.mp4"]
    assert "outside the inbox" in reasons[inbox / "passwd.mp4"]
    # The resource refuses it too, and asking for it says why, in one line.
    resource = FilmInbox(folder=str(inbox))
    assert set(resource.films()) == {"kept"}
    with pytest.raises(dg.Failure) as info:
        resource.path_for("innocent")
    assert "\n" not in info.value.description and "outside the inbox" in info.value.description
    # A configured root lets the link in.
    allowed = FilmInbox(folder=str(inbox), allowed_roots=[str(outside)])
    assert allowed.path_for("innocent") == inbox / "innocent.mp4"
    assert "passwd" not in allowed.films()


def test_links_inside_the_inbox_are_followed_once(tmp_path):
    inbox, library = tmp_path / "inbox", tmp_path / "library"
    (real,) = _touch(inbox, "sub/film.mp4")
    (inbox / "again.mp4").symlink_to(real)  # the same film twice: one partition
    (inbox / "loop").symlink_to(inbox)  # a folder link back into the inbox: no endless walk
    (inbox / "gone.mp4").symlink_to(inbox / "nowhere.mp4")
    _touch(library, "shelf/reel.mov")
    (inbox / "shelf").symlink_to(library / "shelf", target_is_directory=True)
    scan = scan_inbox(inbox, allowed_roots=[library])
    assert scan.films == {"sub-film": real, "shelf-reel-mov": inbox / "shelf" / "reel.mov"}
    reasons = dict(scan.skipped)
    assert reasons[inbox / "again.mp4"] == "same file as sub/film.mp4"
    assert "already scanned" in reasons[inbox / "loop"] and "broken" in reasons[inbox / "gone.mp4"]
    assert "outside the inbox" in dict(scan_inbox(inbox).skipped)[inbox / "shelf"]


def test_shared_sample_media_may_be_linked(tmp_path, media):
    (tmp_path / SINTEL.name).symlink_to(SINTEL)
    assert FilmInbox(folder=str(tmp_path)).films() == {"sintel-5s": tmp_path / SINTEL.name}


def test_skipped_files_are_listed_with_their_reason(tmp_path):
    _touch(tmp_path, "film.mp4", "poster.gif", "notes.txt", "still.jpg", "README", ".hidden.mp4", ".git/config")
    _touch(tmp_path, "new film.mp4.part", "other.mkv.crdownload", "copy.tmp")
    scan = scan_inbox(tmp_path)
    assert list(scan.films) == ["film"]
    reasons = {p.name: r for p, r in scan.skipped}
    assert set(reasons) == {
        "poster.gif",
        "notes.txt",
        "still.jpg",
        "README",
        ".hidden.mp4",
        ".git",
        "new film.mp4.part",
        "other.mkv.crdownload",
        "copy.tmp",
    }
    assert "'.gif'" in reasons["poster.gif"] and "unsupported" in reasons["notes.txt"] and "no extension" in reasons["README"]
    assert reasons[".hidden.mp4"] == "hidden file" and "hidden folder" in reasons[".git"]
    assert all("unfinished download" in reasons[n] for n in ("new film.mp4.part", "other.mkv.crdownload", "copy.tmp"))
    assert FilmInbox(folder=str(tmp_path)).scan().skipped == scan.skipped


def test_root_is_absolute_whatever_the_working_directory(tmp_path, monkeypatch):
    _touch(tmp_path / "films", "a.mp4")
    (tmp_path / "elsewhere").mkdir()
    monkeypatch.chdir(tmp_path)
    inbox = FilmInbox(folder="films")
    monkeypatch.setenv("FILMASTER_INBOX", "films")
    from_env = FilmInbox()
    assert inbox.root == tmp_path / "films" and inbox.root.is_absolute()
    monkeypatch.chdir(tmp_path / "elsewhere")  # a later change of directory sees the same inbox
    assert inbox.root == tmp_path / "films" and inbox.films() == {"a": tmp_path / "films" / "a.mp4"}
    assert from_env.root == tmp_path / "films"  # read and made absolute when the resource was built
    assert scan_inbox("missing").skipped == [(tmp_path / "elsewhere" / "missing", "inbox folder does not exist")]


def test_path_for_unknown_film_is_one_line(tmp_path):
    _touch(tmp_path, "a.mp4")
    with pytest.raises(dg.Failure) as info:
        FilmInbox(folder=str(tmp_path)).path_for("nosferatu")
    description = info.value.description
    assert "\n" not in description and "'nosferatu'" in description and str(tmp_path) in description
    assert os.path.isabs(description.split("inbox ", 1)[1].split(" has")[0])
