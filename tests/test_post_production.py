"""The whole graph, brief to film, through Dagster: the final MP4 is frame-exact to the locked cut
and carries its mix; the editor's files read back with the same cut; the subtitles sit inside the
film; the credits name every source with its licence; the mix meets its loudness target; and
re-materializing with nothing changed regenerates nothing."""

import json
import os
from pathlib import Path

import dagster as dg
import numpy as np
import opentimelineio as otio
import pytest

from filmaster_dag.assets.post_production import load_timeline, post_production_assets
from filmaster_dag.assets.production import production_assets
from filmaster_dag.checks import post_production_checks, production_checks
from filmaster_dag.cinema.film import expected_frame, probe_film
from filmaster_dag.cinema.timeline import cut_list, duration_frames, subtitle_cues, timeline_rate
from filmaster_dag.resources.briefs import BriefInbox

from .conftest import EXAMPLE_BRIEFS
from .library_fixture import ReferenceLibrary
from .test_production import _failure_line

pytestmark = pytest.mark.slow

# production keys of their own: tests/test_production.py makes "dusk" and "silent-chase" in the same
# shared library and expects a first run there to generate every clip
DUSK, SILENT = "dusk-to-film", "silent-cards"
GRAPH = [*production_assets, *post_production_assets, *production_checks, *post_production_checks]


def _make(resources: dict, instance: dg.DagsterInstance, production: str) -> dg.ExecuteInProcessResult:
    if production not in instance.get_dynamic_partitions("productions"):
        instance.add_dynamic_partitions("productions", [production])
    return dg.materialize(GRAPH, partition_key=production, instance=instance, resources=resources, raise_on_error=False)


def _stored(root: Path, production: str, name: str) -> dict:
    return json.loads((root / "productions" / production / f"{name}.json").read_text())


def _metadata(result: dg.ExecuteInProcessResult, asset: str) -> dict:
    for m in result.get_asset_materialization_events():
        if m.asset_key.to_user_string() == asset:
            return {k: v.value for k, v in m.materialization.metadata.items()}
    raise KeyError(asset)


def _frames(path: str, wanted: set[int]) -> dict[int, np.ndarray]:
    import av

    out = {}
    with av.open(path) as film:
        for i, frame in enumerate(film.decode(video=0)):
            if i in wanted:
                out[i] = frame.to_ndarray(format="rgb24")
    return out


def _parse_srt(text: str) -> list[tuple[float, float, str]]:
    def secs(stamp: str) -> float:
        h, m, rest = stamp.split(":")
        s, ms = rest.split(",")
        return int(h) * 3600 + int(m) * 60 + int(s) + int(ms) / 1000

    cues = []
    for block in text.strip().split("\n\n"):
        lines = block.strip().splitlines()
        a, b = lines[1].split(" --> ")
        cues.append((secs(a), secs(b), "\n".join(lines[2:])))
    return cues


@pytest.fixture(scope="module")
def dusk(reference_library: ReferenceLibrary, tmp_path_factory) -> tuple[ReferenceLibrary, dict, dg.ExecuteInProcessResult]:
    """The dusk brief (two scenes, four lines of dialogue) made into a film once for this module."""
    folder = tmp_path_factory.mktemp("briefs")
    (folder / f"{DUSK}.yaml").write_text((EXAMPLE_BRIEFS / "dusk.yaml").read_text())
    resources = {**reference_library.resources, "briefs": BriefInbox(folder=str(folder))}
    result = _make(resources, reference_library.instance, DUSK)
    assert result.success, _failure_line(result)
    return reference_library, resources, result


def test_every_check_of_the_film_passes(dusk):
    _, _, result = dusk
    checks = {e.check_name: e.passed for e in result.get_asset_check_evaluations()}
    assert checks["final_film_matches_the_cut"] is True
    assert checks["mix_meets_the_loudness_target"] is True
    assert checks["deliverables_read_back"] is True


def test_the_final_film_is_frame_exact_to_the_locked_cut_with_its_mix(dusk):
    library, _, _ = dusk
    sound = _stored(library.root, DUSK, "sound_design")
    film = _stored(library.root, DUSK, "final_film")
    tl = load_timeline(sound["timeline"])
    probed = probe_film(film["path"])
    fps = timeline_rate(tl)
    assert probed["video_frames"] == duration_frames(tl)
    assert probed["video_codec"] == "h264" and probed["audio_codec"] == "aac"
    assert abs(probed["audio_s"] - duration_frames(tl) / fps) <= 1 / fps
    # sampled frames: the middle of every shot is that shot's picture, not its neighbour's
    rows = [r for r in cut_list(tl) if r["kind"] == "shot"]
    wanted = {r["record_in"] + r["duration"] // 2 for r in rows}
    decoded = _frames(film["path"], wanted)
    for r in rows:
        i = r["record_in"] + r["duration"] // 2
        own = np.abs(decoded[i].astype(np.int16) - expected_frame(tl, i).astype(np.int16)).mean()
        assert own < 6.0, (r["shot_id"], own)
    # and the mix is in the film: the AAC track is not silence
    import av

    with av.open(film["path"]) as f:
        audio = np.concatenate([fr.to_ndarray().reshape(-1) for fr in f.decode(audio=0)])
    assert np.sqrt(np.mean(np.square(audio))) > 0.01


def test_the_mix_meets_its_target_and_speech_sits_over_the_bed(dusk):
    library, _, _ = dusk
    sound = _stored(library.root, DUSK, "sound_design")
    import soundfile as sf

    from filmaster_dag.cinema.sound import measure

    mix, rate = sf.read(sound["mix"], dtype="float32")
    figures = measure(mix, rate)
    assert abs(figures["integrated_lufs"] + 16.0) <= 1.0, figures
    assert figures["true_peak_dbtp"] <= -1.0 and figures["clipped_samples"] == 0
    assert sound["music_duck_db"] is not None and sound["music_duck_db"] <= -10.0
    assert sound["dialogue_margin_db"] is not None and sound["dialogue_margin_db"] >= 10.0
    assert len(sound["lines"]) == 4 and not sound["unvoiced"] and sound["voice"].startswith("piper")
    for stem in ("dialogue", "music", "effects"):
        audio, r = sf.read(sound["stems"][stem], dtype="float32")
        assert r == rate and len(audio) == len(mix)


def test_editor_files_read_back_with_the_same_cut(dusk):
    library, _, _ = dusk
    out = _stored(library.root, DUSK, "deliverables")
    tl = load_timeline(_stored(library.root, DUSK, "sound_design")["timeline"])
    expected = [(r["name"], r["duration"]) for r in cut_list(tl)]
    back = otio.adapters.read_from_file(out["otio"])
    assert [(c.name, round(c.duration().value)) for c in back.video_tracks()[0].find_clips(shallow_search=True)] == expected
    kinds = sorted(t.name for t in back.audio_tracks())
    assert kinds == ["A1 dialogue", "A2 music", "A3 effects"] or len(back.audio_tracks()) >= 2
    for clip in back.video_tracks()[0].find_clips(shallow_search=True):
        assert Path(clip.media_reference.target_url.removeprefix("file://")).is_file()  # an editor can relink and open them
    for key in ("fcp_xml", "fcpx_xml", "edl"):
        foreign = otio.adapters.read_from_file(out[key])
        clips = foreign.video_tracks()[0].find_clips(shallow_search=True)
        assert len(clips) == len(expected), key
        if key != "fcpx_xml":  # OTIO's FCP X *reader* truncates 24000/1001 (see timeline.py); the file itself is exact
            rate = timeline_rate(tl)
            assert [round(c.duration().value_rescaled_to(rate)) for c in clips] == [d for _, d in expected], key


def test_subtitles_lie_inside_the_film_and_match_the_dialogue(dusk):
    library, _, _ = dusk
    out = _stored(library.root, DUSK, "deliverables")
    tl = load_timeline(_stored(library.root, DUSK, "sound_design")["timeline"])
    cues = _parse_srt(Path(out["srt"]).read_text())
    length = duration_frames(tl) / timeline_rate(tl)
    assert [c[2] for c in cues] == [text for _, _, text in subtitle_cues(tl)]
    said = [
        f"{d['speaker']}: {d['text']}"
        for s in load_timeline(_stored(library.root, DUSK, "fine_cut")).video_tracks()[0].find_clips()
        for d in s.metadata["filmaster"].get("dialogue", [])
    ]
    assert [c[2] for c in cues] == said
    assert all(0 <= a < b <= length + 1e-3 for a, b, _ in cues)


def test_credits_name_every_source_with_its_licence(dusk):
    library, _, _ = dusk
    out = _stored(library.root, DUSK, "deliverables")
    sound = _stored(library.root, DUSK, "sound_design")
    text = Path(out["credits"]).read_text()
    for cue in sound["cues"]:
        assert Path(cue["path"]).name in text
    assert "CC-BY 3.0" in text or "public domain" in text
    records = out["credits_records"]
    assert any(r["role"] == "music" and r["licence"] for r in records)
    assert any(r["role"] == "reference film" for r in records)


def test_evaluation_reports_the_measures(dusk):
    library, _, _ = dusk
    ev = _stored(library.root, DUSK, "film_evaluation")
    for key in ("camera_language", "rhythm", "cuts_on_beats", "dialogue_margin_db", "loudness", "review", "table"):
        assert key in ev, key
    assert abs(ev["loudness"]["integrated_lufs"] + 16.0) <= 1.0
    assert ev["text_frame_alignment"] is None  # no real CLIP weights here: said, not invented


def test_rematerializing_with_nothing_changed_regenerates_nothing(dusk):
    library, resources, _ = dusk
    film = _stored(library.root, DUSK, "final_film")
    stat = os.stat(film["path"])
    again = _make(resources, library.instance, DUSK)
    assert again.success, _failure_line(again)
    assert _metadata(again, "generated_shots")["generated"] == 0
    assert _metadata(again, "sound_design")["cached"] is True
    assert _metadata(again, "final_film")["cached"] is True
    assert os.stat(film["path"]).st_mtime_ns == stat.st_mtime_ns
    assert _stored(library.root, DUSK, "final_film")["sha256"] == film["sha256"]


def test_a_silent_film_burns_its_title_cards_and_speaks_nothing(reference_library: ReferenceLibrary, tmp_path: Path):
    folder = tmp_path / "briefs"
    folder.mkdir()
    # the example silent brief leaves its scenes to the writer (no cards): this one gives two, each with a card
    scenes = """scenes:
  - heading: EXT. HIGH STREET - DAY
    location: High Street
    time_of_day: day
    characters: [The Tramp, The Baker]
    action: The Tramp tips his hat to the Baker and lifts a loaf from the tray on his head.
    narration: A hungry man, a full tray.
    mood: comic
  - heading: EXT. PARK - DAY
    location: Park
    time_of_day: day
    characters: [The Tramp, The Policeman]
    action: The Policeman chases the Tramp twice round the bandstand; the Tramp hops the fence.
    narration: The law is slow, the Tramp is not.
    mood: frantic
"""
    (folder / f"{SILENT}.yaml").write_text((EXAMPLE_BRIEFS / "silent-chase.yaml").read_text().rstrip() + "\n" + scenes)
    resources = {**reference_library.resources, "briefs": BriefInbox(folder=str(folder))}
    result = _make(resources, reference_library.instance, SILENT)
    assert result.success, _failure_line(result)
    sound = _stored(reference_library.root, SILENT, "sound_design")
    assert sound["lines"] == [] and sound["unvoiced"] and sound["voice"] == ""
    assert sound["cues"], "a silent film still has its score"
    film = _stored(reference_library.root, SILENT, "final_film")
    tl = load_timeline(sound["timeline"])
    first, end, _ = subtitle_cues(tl)[0]
    frame = (first + end) // 2
    shown = _frames(film["path"], {frame})[frame].astype(np.int16)
    clean = expected_frame(tl, frame).astype(np.int16)
    h = shown.shape[0]
    assert np.abs(shown[: h // 2] - clean[: h // 2]).mean() < 6.0  # the picture above the card is untouched
    assert np.abs(shown[2 * h // 3 :] - clean[2 * h // 3 :]).mean() > 10.0  # the card is burned into the lower third
