"""Post-production assets: one partition per brief, from generated shots to the delivered film.

``rough_cut`` -> ``audience_review`` -> ``fine_cut`` -> ``sound_design`` -> ``final_film`` ->
``deliverables`` and ``film_evaluation``. Thin Dagster wiring over :mod:`filmaster_dag.cinema`
(timeline, review, sound_design, film, credits, evaluation). Timelines are stored as what they are,
OpenTimelineIO documents (``rough_cut.json`` and ``fine_cut.json`` open in any OTIO tool); media
(voice takes, stems, the mix, the film, the editor's files) are files under
``productions/<production>/``, named by the hash of what made them, so re-running an unchanged
production re-renders nothing.
"""

import hashlib
import io
import json
import os
import tempfile
import time
from pathlib import Path
from types import ModuleType
from typing import Any, Literal

import dagster as dg
import numpy as np
import opentimelineio as otio
import pandas as pd
import soundfile as sf

from ..cinema import film as film_code
from ..cinema import sound as sound_code
from ..cinema import sound_design as sound_design_code
from ..cinema import timeline as timeline_code
from ..cinema.brief import Brief
from ..cinema.credits import credits_records, credits_text, licences_near
from ..cinema.evaluation import evaluate_film, text_frame_alignment
from ..cinema.film import expected_frame, poster_strip, probe_film, render_film, shot_pictures
from ..cinema.planning import SceneReferences, Script, ShotPlan
from ..cinema.planning.script import line_seconds
from ..cinema.progress import report
from ..cinema.review import apply_actions, audience_signals, critique, describe_cut, keyframe_thumb, library_shot_seconds, signal_summary
from ..cinema.sound import CEILING_DBTP, MIX_RATE, TARGET_LUFS, write_wav
from ..cinema.sound_design import design_sound, spoken_lines
from ..cinema.timeline import cut_list, duration_frames, plain_metadata, shot_metadata, subtitle_cues, subtitles_srt, write_deliverables
from ..cinema.timeline import rough_cut as assemble
from ..partitions import productions
from ..resources.embedder import ShotEmbedder
from ..resources.llm import LanguageModel
from ..resources.sound_library import SoundLibrary
from ..resources.storage import MediaStore
from ..resources.voice import Voice
from .library import _jpeg_md, _md_table
from .production import PRODUCTIONS, ProductionError, production_errors, source_paths, stored_brief

GROUP = "post_production"
#: Bumped when the sound design or the render changes what the same inputs give (their caches key on it).
POST_VERSION = "post/1"


def _code_version(*modules: ModuleType) -> str:
    """A hash of the source files that compute a cached result: a changed mixer or renderer is never
    answered from a cache its old code filled."""
    h = hashlib.sha256()
    for module in modules:
        h.update(Path(str(module.__file__)).read_bytes())
    return h.hexdigest()[:16]


#: Pitch offsets (semitones) given to the brief's characters in order, so that one synthetic voice
#: speaks as several distinguishable people; narration keeps the voice's own pitch.
CHARACTER_PITCH = (0.0, 3.0, -3.0, 5.0, -5.0, 2.0, -2.0)


def load_timeline(stored: dict) -> otio.schema.Timeline:
    """A stored OTIO document (``rough_cut``, ``fine_cut``, the sound design's cut) as a timeline."""
    return otio.adapters.read_from_string(json.dumps(stored), "otio_json")


def store_timeline(tl: otio.schema.Timeline) -> dict:
    """A timeline as its OTIO JSON document (what the IO manager stores, as ``.json``)."""
    return json.loads(otio.adapters.write_to_string(tl, "otio_json"))


def _digest(*parts: Any) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()


def _pictures(tl: otio.schema.Timeline) -> tuple[dict[str, np.ndarray], dict[str, float]]:
    """Each shot's keyframe as a 16x16 grey thumbnail (what the review compares for near-duplicates,
    small enough to store with the review) and its measured subject motion, from one decode per clip."""
    seen = shot_pictures(tl)
    return {shot: keyframe_thumb(picture) for shot, (picture, _) in seen.items()}, {shot: motion for shot, (_, motion) in seen.items()}


def _line_time(brief: Brief):
    return lambda text: line_seconds(text, brief)


@dg.asset(partitions_def=productions, group_name=GROUP, kinds={"opentimelineio"})
def rough_cut(
    context: dg.AssetExecutionContext, shot_plan: ShotPlan, generated_shots: pd.DataFrame, script: Script, production_brief: dict
) -> dict:
    """The generated shots assembled in plan order: an OpenTimelineIO timeline at the production's
    exact frame rate, one clip per shot pointing at its rendered file (source in/out in frames),
    a marker at the first frame of every scene with its heading, and each shot's lines, scale,
    movement and characters in the clip's metadata (the placeholder sound notes)."""
    production = context.partition_key
    report(production, "assembling the rough cut")
    with production_errors(context, production_brief["path"]):
        headings = {s.scene_id: s.heading for s in script.scenes}
        tl = assemble(shot_plan, generated_shots, script.title, headings)
    rows = pd.DataFrame(cut_list(tl))
    context.add_output_metadata(
        {
            "shots": len(rows),
            "frames": duration_frames(tl),
            "duration_s": round(duration_frames(tl) / float(shot_plan.fps), 3),
            "frame_rate": shot_plan.frame_rate,
            "preview": _md_table(rows, limit=60),
        }
    )
    return store_timeline(tl)


@dg.asset(partitions_def=productions, group_name=GROUP, kinds={"python"})
def audience_review(
    context: dg.AssetExecutionContext,
    rough_cut: dict,
    scene_references: SceneReferences,
    production_brief: dict,
    language_model: LanguageModel,
) -> dict:
    """The brief's audience watches the rough cut. Signals are measured from the cut and the library:
    time to the first hook (a camera move, motion in the frame, a line, a face), pacing per scene
    against the matched references' rhythm, monotony, near-duplicate shots (keyframe similarity),
    lines longer than their shots, dead air (static, silent and still: motion measured in the clip). A language
    model critic (when configured) describes the cut, reasons, and proposes edit actions; the rules
    critic otherwise. Every action is validated; refused ones are listed with the reason."""
    production = context.partition_key
    report(production, "audience review")
    with production_errors(context, production_brief["path"]):
        brief = stored_brief(production_brief)
        tl = load_timeline(rough_cut)
        pictures, motion = _pictures(tl)
        library_s = library_shot_seconds(scene_references)
        signals = audience_signals(
            tl, brief.audience, library_shot_s=library_s, keyframe_of=pictures.get, line_seconds=_line_time(brief), motion_of=motion.get
        )
        actions, provenance = critique(tl, signals, brief.audience, language_model)
    problems = pd.DataFrame([{"kind": p["kind"], "shots": ", ".join(p["shots"]), "message": p["message"]} for p in signals["problems"]])
    acts = pd.DataFrame([{"action": a.action, "shot": getattr(a, "shot_id", "") or "", "reason": a.reason} for a in actions])  # type: ignore[attr-defined]
    context.add_output_metadata(
        {
            "critic": provenance.by,
            "language_model": language_model.identity,
            "fallback_reason": provenance.fallback_reason or "none",
            "hook_s": signals["hook"]["at_s"],
            "problems": len(signals["problems"]),
            "actions": len(actions),
            "rejected": len(provenance.rejected),
            "problems_table": _md_table(problems, limit=40) if len(problems) else "no problems found",
            "actions_table": _md_table(acts, limit=40) if len(acts) else "no edits proposed",
        }
    )
    return {
        "audience": brief.audience.model_dump(mode="json"),
        "library_shot_s": library_s,
        "motion": motion,
        "keyframes": {shot: np.round(thumb, 2).tolist() for shot, thumb in pictures.items()},
        "description": describe_cut(tl),
        "signals": signals,
        "summary": signal_summary(signals),
        "actions": [a.model_dump(mode="json") for a in actions],
        "provenance": provenance.model_dump(mode="json"),
    }


@dg.asset(partitions_def=productions, group_name=GROUP, kinds={"opentimelineio"})
def fine_cut(context: dg.AssetExecutionContext, rough_cut: dict, audience_review: dict, production_brief: dict) -> dict:
    """The review's actions applied in order, picture locked: an OTIO timeline whose metadata
    (``filmaster.changes``) lists every change, its reason and the signals before and after."""
    production = context.partition_key
    report(production, "fine cut")
    with production_errors(context, production_brief["path"]):
        brief = stored_brief(production_brief)
        tl = load_timeline(rough_cut)
        pictures = {shot: np.asarray(thumb) for shot, thumb in audience_review["keyframes"].items()}
        fine, changes = apply_actions(
            tl,
            audience_review["actions"],
            brief.audience,
            library_shot_s=audience_review["library_shot_s"],
            keyframe_of=pictures.get,
            line_seconds=_line_time(brief),
            motion_of=audience_review["motion"].get,
        )
        fine.name = tl.name
        fine.metadata["filmaster"] = {**dict(fine.metadata.get("filmaster", {})), "changes": changes}
    before = audience_review["summary"]
    after = changes[-1]["after"] if changes else before
    table = pd.DataFrame(
        [
            {
                "action": c["action"].get("action"),
                "applied": c["applied"],
                "change": c.get("change") or c.get("refused", ""),
                "reason": c["reason"],
            }
            for c in changes
        ]
    )
    context.add_output_metadata(
        {
            "changes": sum(c["applied"] for c in changes),
            "refused": sum(not c["applied"] for c in changes),
            "duration_s_before": before["duration_s"],
            "duration_s_after": after["duration_s"],
            "problems_before": dg.MetadataValue.json(before["problems"]),
            "problems_after": dg.MetadataValue.json(after["problems"]),
            "report": _md_table(table, limit=40) if len(table) else "the rough cut is the fine cut: nothing to change",
        }
    )
    return store_timeline(fine)


class SoundConfig(dg.Config):
    """The mix's delivery target: integrated loudness (LUFS) and true-peak ceiling (dBTP); how far (frames)
    a cut may move onto a beat of the score where the picture has slack."""

    target_lufs: float = TARGET_LUFS
    ceiling_dbtp: float = CEILING_DBTP
    beat_slack_frames: int = 6


def _pitch(brief: Brief, speaker: str) -> float:
    names = [c.name.casefold() for c in brief.characters]
    if not speaker or speaker.casefold() not in names:
        return 0.0
    return CHARACTER_PITCH[names.index(speaker.casefold()) % len(CHARACTER_PITCH)]


def _takes(production: str, brief: Brief, lines: list, voice: Voice, store: MediaStore) -> tuple[dict, list[str], int]:
    """Every line spoken (or read back from the store when the same voice already said it): key ->
    (samples, rate, path). Returns the takes, the problems, and how many were synthesized now."""
    import pedalboard

    if brief.style.narration == "title_cards":
        return {}, [], 0  # a silent film: the lines are title cards burned into the picture, not voices
    if not voice.available:
        return {}, [f"no voice: {voice.why_unavailable}; the lines are in the subtitles only"] if lines else [], 0
    takes: dict[str, tuple[np.ndarray, int, str]] = {}
    spoken = 0
    for n, line in enumerate(lines):
        report(production, "voicing lines", n, len(lines))
        pitch = _pitch(brief, line.speaker)
        seed = int(_digest(production, line.key)[:8], 16)
        name = f"{line.key}-{_digest(voice.identity, line.text, seed, pitch)[:12]}.wav"
        if not store.exists(PRODUCTIONS, production, "sound", "lines", name):
            audio, rate = voice.synthesize(line.text, seed=seed)
            if pitch:
                audio = pedalboard.time_stretch(audio, rate, stretch_factor=1.0, pitch_shift_in_semitones=pitch).reshape(-1)
            store.write_bytes(_wav_bytes(audio, rate, "PCM_16"), PRODUCTIONS, production, "sound", "lines", name)
            spoken += 1
        path = store.uri(PRODUCTIONS, production, "sound", "lines", name)
        # the stored 16-bit take, also when just spoken: a first run mixes exactly what a cached one will
        audio, rate = sf.read(io.BytesIO(store.read_bytes(PRODUCTIONS, production, "sound", "lines", name)), dtype="float32")
        takes[line.key] = (np.asarray(audio, np.float32), int(rate), path)
    report(production, "voicing lines", len(lines), len(lines))
    keep = {Path(t[2]).name for t in takes.values()}
    for old in store.list(PRODUCTIONS, production, "sound", "lines"):
        if old not in keep:
            store.remove(PRODUCTIONS, production, "sound", "lines", old)
    return takes, [], spoken


def _wav_bytes(audio: np.ndarray, rate: int, subtype: str = "PCM_24") -> bytes:
    """A WAV as :func:`~filmaster_dag.cinema.sound.write_wav` writes it (clipped to full scale), as bytes for the store."""
    with tempfile.TemporaryDirectory(prefix="filmaster-wav-") as tmp:
        path = os.path.join(tmp, "out.wav")
        write_wav(path, audio, rate, subtype=subtype)
        return Path(path).read_bytes()


def _read_stored(store: MediaStore, production: str, name: str) -> dict | None:
    try:
        return store.read_json(PRODUCTIONS, production, name) if store.exists(PRODUCTIONS, production, name) else None
    except (OSError, ValueError):
        return None


def _files_exist(paths: list[str]) -> bool:
    return all(Path(p).is_file() for p in paths)


@dg.asset(partitions_def=productions, group_name=GROUP, kinds={"piper", "librosa"})
def sound_design(
    context: dg.AssetExecutionContext,
    config: SoundConfig,
    fine_cut: dict,
    script: Script,
    production_brief: dict,
    voice: Voice,
    sound_library: SoundLibrary,
    store: MediaStore,
) -> dict:
    """The film's sound: every line voiced (piper's neural voice, espeak-ng as the fallback; a pitch
    per character), fitted to its shot; a score per scene chosen from the music folder by mood,
    tempo and energy (librosa), with cuts inside a scene nudged onto its beats where the picture has
    slack; ambience and effects chosen from the sound folder by keyword; music and effects ducked
    under speech; a mix normalized to the loudness target with a true-peak limiter; stems
    (dialogue, music, effects) and the mix as 48 kHz WAVs; the cut with its audio tracks."""
    production = context.partition_key
    report(production, "sound design")
    with production_errors(context, production_brief["path"]):
        brief = stored_brief(production_brief)
        tl = load_timeline(fine_cut)
        lines = spoken_lines(tl)
        code = _code_version(sound_design_code, sound_code, timeline_code)
        key = _digest(POST_VERSION, code, fine_cut, voice.identity, sound_library.fingerprint(), config.model_dump(), brief.style.narration)
        previous = _read_stored(store, production, "sound_design.json")
        files = [*(previous or {}).get("stems", {}).values(), (previous or {}).get("mix", "")]
        if (
            previous
            and previous.get("cache_key") == key
            and _files_exist(files)
            and _files_exist([line["path"] for line in previous["lines"]])
        ):
            context.add_output_metadata({"cached": True, **_sound_metadata(previous)})
            return previous
        t0 = time.perf_counter()
        takes, problems, spoken = _takes(production, brief, lines, voice, store)
        report(production, "mixing")
        moods = {s.scene_id: s.mood for s in script.scenes}
        design = design_sound(
            tl,
            moods,
            takes,
            sound_library.music_folder,
            sound_library.sound_folder,
            target_lufs=config.target_lufs,
            ceiling_dbtp=config.ceiling_dbtp,
            beat_slack_frames=config.beat_slack_frames,
            line_seconds=_line_time(brief),
        )
        stems = {}
        for name, audio in [*design.stems.items(), ("mix", design.mix)]:
            stems[name] = store.write_bytes(_wav_bytes(audio, design.rate), PRODUCTIONS, production, "sound", f"{name}.wav")
        take_paths = {k: t[2] for k, t in takes.items()}
    result = {
        "cache_key": key,
        "voice": voice.identity if takes else "",
        "voice_credit": voice.credit if takes else {},
        "rate": design.rate,
        "stems": {k: v for k, v in stems.items() if k != "mix"},
        "mix": stems["mix"],
        "lines": [line | {"path": take_paths.get(line["key"], "")} for line in design.lines],
        "unvoiced": [line.key for line in lines if line.key not in takes],
        "cues": design.cues,
        "effects": design.effects,
        "nudges": design.nudges,
        "loudness": design.loudness | {"target_lufs": config.target_lufs, "ceiling_dbtp": config.ceiling_dbtp},
        "dialogue_margin_db": design.dialogue_margin_db,
        "music_duck_db": design.music_duck_db,
        "problems": problems + design.problems,
        "takes_synthesized": spoken,
        "seconds": round(time.perf_counter() - t0, 3),
        "timeline": store_timeline(design.timeline),
    }
    context.add_output_metadata({"cached": False, **_sound_metadata(result)})
    return result


def _sound_metadata(sound: dict) -> dict:
    cues = pd.DataFrame(
        [
            {"scene": c["scene_id"], "music": Path(c["path"]).name, "from_s": c["start_s"], "to_s": c["end_s"], "bpm": c["tempo_bpm"]}
            for c in sound["cues"]
        ]
    )
    loud = sound["loudness"]
    return {
        "integrated_lufs": loud.get("integrated_lufs"),
        "true_peak_dbtp": loud.get("true_peak_dbtp"),
        "dialogue_margin_db": sound["dialogue_margin_db"],
        "music_duck_db": sound["music_duck_db"],
        "lines_voiced": len(sound["lines"]),
        "lines_unvoiced": len(sound["unvoiced"]),
        "effects": len(sound["effects"]),
        "cuts_on_beats": len(sound["nudges"]),
        "voice": sound["voice"] or "none",
        "problems": "; ".join(sound["problems"][:5]) or "none",
        "mix": dg.MetadataValue.path(sound["mix"]),
        "score": _md_table(cues) if len(cues) else "no score (no music folder)",
    }


class FilmConfig(dg.Config):
    """The master's codec: ``h264`` (MP4, H.264 + AAC) or ``prores`` (MOV, ProRes 422 for finishing); CRF for H.264."""

    codec: str = "h264"
    crf: int = 18


@dg.asset(partitions_def=productions, group_name=GROUP, kinds={"pyav"})
def final_film(
    context: dg.AssetExecutionContext, config: FilmConfig, sound_design: dict, production_brief: dict, store: MediaStore
) -> dict:
    """The locked cut with its mix, rendered with PyAV frame-exact to the timeline: H.264 + AAC in
    MP4 at the production's size and exact rate (ProRes 422 in MOV optional). A silent film's title
    cards are burned into the picture. Cached by the hash of the timeline, the mix and the codec."""
    production = context.partition_key
    report(production, "rendering the film")
    with production_errors(context, production_brief["path"]):
        if config.codec not in ("h264", "prores"):
            raise ProductionError(f"final_film codec {config.codec!r} is not one of h264, prores; fix the run config")
        codec: Literal["h264", "prores"] = "prores" if config.codec == "prores" else "h264"
        brief = stored_brief(production_brief)
        tl = load_timeline(sound_design["timeline"])
        captions = subtitle_cues(tl) if brief.style.narration == "title_cards" else []
        mix_sha = hashlib.sha256(Path(sound_design["mix"]).read_bytes()).hexdigest()
        key = _digest(POST_VERSION, _code_version(film_code), sound_design["timeline"], mix_sha, config.model_dump(), captions)
        suffix = ".mp4" if codec == "h264" else ".mov"
        name = f"{production}-{key[:12]}{suffix}"
        previous = _read_stored(store, production, "final_film.json")
        if previous and previous.get("cache_key") == key and Path(previous["path"]).is_file():
            poster_md = (
                {"poster": _jpeg_md(Path(previous["poster_strip"]).read_bytes(), "poster frames")}
                if Path(previous["poster_strip"]).is_file()
                else {}
            )
            context.add_output_metadata({"cached": True, **poster_md, **_film_metadata(previous)})
            return previous
        mix, rate = sf.read(sound_design["mix"], dtype="float32")
        with tempfile.TemporaryDirectory(prefix="filmaster-film-") as tmp:
            out = os.path.join(tmp, name)
            rendered = render_film(
                tl, out, audio=np.asarray(mix, np.float32), audio_rate=int(rate), codec=codec, crf=config.crf, captions=captions
            )
            probed = probe_film(out)
            poster = poster_strip(out)
            path = store.write_bytes(Path(out).read_bytes(), PRODUCTIONS, production, "film", name)
            poster_path = store.write_bytes(poster, PRODUCTIONS, production, "film", "poster_strip.jpg")
        for old in store.list(PRODUCTIONS, production, "film"):
            if old not in (name, "poster_strip.jpg"):
                store.remove(PRODUCTIONS, production, "film", old)
    result = rendered | {
        "path": path,
        "cache_key": key,
        "probe": probed,
        "poster_strip": poster_path,
        "timeline_frames": duration_frames(tl),
    }
    result["loudness"] = sound_design["loudness"]
    context.add_output_metadata({"cached": False, "poster": _jpeg_md(poster, "poster frames"), **_film_metadata(result)})
    return result


def _film_metadata(film: dict) -> dict:
    probe = film["probe"]
    return {
        "path": dg.MetadataValue.path(film["path"]),
        "frames": probe["video_frames"],
        "timeline_frames": film["timeline_frames"],
        "duration_s": round(float(probe["video_s"]), 3),
        "audio_s": round(float(probe["audio_s"]), 3),
        "picture": f"{probe['width']}x{probe['height']} @ {probe['frame_rate']} {probe['video_codec']}",
        "integrated_lufs": film["loudness"].get("integrated_lufs"),
        "true_peak_dbtp": film["loudness"].get("true_peak_dbtp"),
        "render_realtime": film.get("realtime"),
    }


def _used_media(sound: dict, references: SceneReferences, tl: otio.schema.Timeline, source_paths: dict[str, str]) -> list[dict]:
    """Every reference film (of the shots the cut uses), music and sound file in the film, with its role."""
    used_refs = {str(shot_metadata(c).get("reference_shot_id") or "") for c in tl.video_tracks()[0].find_clips(shallow_search=True)} - {""}
    films = {
        shot.source_path or source_paths.get(shot.film, shot.film)
        for r in references.scenes
        for m in r.matches
        for shot in m.shots
        if shot.shot_id in used_refs
    }
    out = [{"path": f, "role": "reference film"} for f in sorted(films)]
    out += [{"path": p, "role": "music"} for p in sorted({c["path"] for c in sound["cues"]})]
    out += [{"path": p, "role": "sound effect"} for p in sorted({e["path"] for e in sound["effects"]})]
    if sound["voice"]:
        out.append({"path": sound["voice"], "role": "voice", **sound.get("voice_credit", {})})
    return out


@dg.asset(partitions_def=productions, group_name=GROUP, kinds={"opentimelineio"})
def deliverables(
    context: dg.AssetExecutionContext,
    sound_design: dict,
    final_film: dict,
    scene_references: SceneReferences,
    script: Script,
    production_brief: dict,
    store: MediaStore,
) -> dict:
    """What an editor and a distributor get: the final cut as OpenTimelineIO (video track, dialogue,
    music and effects tracks, scene markers), FCP 7 XML, FCP X XML and a CMX 3600 EDL, all written by
    OTIO's adapters with media references at the rendered clips; the SRT of dialogue and narration;
    and the credits naming every reference film, music and sound file used, with its licence."""
    production = context.partition_key
    report(production, "writing deliverables")
    with production_errors(context, production_brief["path"]):
        tl = load_timeline(sound_design["timeline"])
        used = _used_media(sound_design, scene_references, tl, source_paths(store))
        licences = licences_near(sorted({str(Path(u["path"]).parent) for u in used if "/" in u["path"]}))
        with tempfile.TemporaryDirectory(prefix="filmaster-deliver-") as tmp:
            written = write_deliverables(tl, tmp, production)
            Path(tmp, f"{production}.srt").write_text(subtitles_srt(tl), encoding="utf-8")
            Path(tmp, f"{production}-credits.txt").write_text(credits_text(script.title, used, licences), encoding="utf-8")
            records = credits_records(used, licences)
            Path(tmp, f"{production}-credits.json").write_text(json.dumps(records, indent=1), encoding="utf-8")
            names = {**{k: Path(v).name for k, v in written.items()}, "srt": f"{production}.srt"}
            names |= {"credits": f"{production}-credits.txt", "credits_json": f"{production}-credits.json"}
            paths = {k: store.write_bytes(Path(tmp, n).read_bytes(), PRODUCTIONS, production, "deliverables", n) for k, n in names.items()}
    unknown = [r for r in records if not r.get("licence")]
    context.add_output_metadata(
        {
            **{k: dg.MetadataValue.path(v) for k, v in paths.items()},
            "film": dg.MetadataValue.path(final_film["path"]),
            "subtitles": len(subtitle_cues(tl)),
            "credited": len(records),
            "licence_unknown": len(unknown),
            "credits_table": _md_table(pd.DataFrame(records), limit=40) if records else "nothing to credit",
        }
    )
    return {"film": final_film["path"], **paths, "stems": sound_design["stems"], "mix": sound_design["mix"], "credits_records": records}


@dg.asset(partitions_def=productions, group_name=GROUP, kinds={"python"})
def film_evaluation(
    context: dg.AssetExecutionContext,
    sound_design: dict,
    final_film: dict,
    fine_cut: dict,
    audience_review: dict,
    scene_references: SceneReferences,
    production_brief: dict,
    embedder: ShotEmbedder,
) -> dict:
    """Objective measures of the final film: camera-language diversity and chain coherence, rhythm
    distance to the matched references, share of cuts on beats where music plays, dialogue margin
    over the bed, integrated loudness and true peak, text-to-frame alignment (with real CLIP
    weights), and the review's before/after signals."""
    production = context.partition_key
    report(production, "evaluating the film")
    with production_errors(context, production_brief["path"]):
        tl = load_timeline(sound_design["timeline"])
        stems = {name: sf.read(path, dtype="float32")[0] for name, path in sound_design["stems"].items()}
        mix = sf.read(sound_design["mix"], dtype="float32")[0]
        locked = load_timeline(fine_cut)  # kept alive: OTIO metadata is a view into the C++ timeline
        changes = plain_metadata(locked.metadata.get("filmaster", {}).get("changes", []))
        review = {"before": audience_review["summary"], "after": dict(changes[-1]["after"]) if changes else audience_review["summary"]}
        alignment = None
        if embedder.available:
            pictures = {
                str(row["shot_id"]): expected_frame(tl, int(row["record_in"]) + int(row["duration"]) // 2)
                for row in cut_list(tl)
                if row["kind"] == "shot"
            }
            alignment = text_frame_alignment(
                tl, pictures.get, lambda imgs: embedder.embed_images(list(imgs)), lambda texts: embedder.embed_texts(list(texts))
            )
        result = evaluate_film(
            tl,
            references=scene_references,
            beats_s=[b for c in sound_design["cues"] for b in c["beats_s"]],
            music_regions=[(c["start_s"], c["end_s"]) for c in sound_design["cues"]],
            stems=stems,
            speech_regions=[(line["start_s"], line["end_s"]) for line in sound_design["lines"]],
            rate=int(sound_design.get("rate", MIX_RATE)),
            mix=mix,
            review=review,
            alignment=alignment,
        )
        result["film"] = final_film["path"]
    table = pd.DataFrame(result["table"])
    context.add_output_metadata(
        {"evaluation": _md_table(table, limit=40) if len(table) else "nothing measured", "film": dg.MetadataValue.path(final_film["path"])}
    )
    return result


post_production_assets = [rough_cut, audience_review, fine_cut, sound_design, final_film, deliverables, film_evaluation]
