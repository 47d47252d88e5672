"""The sound design of a locked cut, as a post-production sound team would build it.

1. **Conform to the score.** Each scene gets the music file that best fits its mood (and pace), cut in
   on a beat from the part of the file the analysis found musical; then the cuts *inside* a scene are
   rolled onto that cue's beats where the shots have slack (unused media to extend into, and time to
   spare above their lines and a one-second minimum). Scene boundaries and the film's ends never move,
   so the film keeps its length and every cue its scene.
2. **Dialogue.** Every voiced line is fitted to its share of its shot (as the subtitles share it) and
   laid on the dialogue stem, then compressed.
3. **Music.** Each scene's cue is trimmed to the scene with fades, levelled, and ducked under speech.
4. **Effects.** Ambience and spot effects are chosen from a sound folder by the words of the scene
   heading and the shot descriptions (the file names and their titles in the media README, through a
   small table of film synonyms): a long recording loops low under its scene, a short one plays at the
   shot whose description names it; both dip under speech.
5. **Mix.** Dialogue on top, music 8 dB under it, effects lower; normalized to the delivery loudness
   with a true-peak limiter. Every stem is exactly the film's length.
6. **The edit.** The conformed cut gets three sound tracks (dialogue, music, effects) pointing at the
   takes, music files and sound files, so an editor opens the film with its sound laid.

Pure code (numpy, librosa through :mod:`.sound`, OpenTimelineIO); no Dagster.
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import opentimelineio as otio

from . import sound
from .credits import licence_for, licences_near
from .evaluation import dialogue_margin
from .planning.models import speaking_time_s
from .sound import CEILING_DBTP, MIX_RATE, TARGET_LUFS
from .timeline import SpokenLine, add_audio_track, cut_list, line_slots, move_cut, scene_markers, shot_metadata, spoken_lines, timeline_rate

__all__ = ["SoundDesign", "SpokenLine", "conform_to_beats", "design_sound", "line_slots", "sound_concepts", "spoken_lines"]

#: Loudness every element is levelled to before the faders (LUFS): one reference, so faders mean dB under dialogue.
REFERENCE_LUFS = -23.0
#: Fader levels (dB) of the stems in the mix: dialogue on top, the score under it, effects lower still.
#: The score sits only 3 dB under the dialogue's level because the ducker takes it a further 15 dB
#: down while anyone speaks: deeper faders left a sparse-dialogue film so quiet between lines that
#: reaching -16 LUFS took +14 dB of gain and 9 dB of limiting on the words (measured on "dusk";
#: at -3/-7 it is +9 dB and about 4 dB, with speech still 17 dB over the bed).
FADERS_DB = {"dialogue": 0.0, "music": -3.0, "effects": -7.0}
#: Ambience sits this far under a spot effect (dB), both under the effects fader.
AMBIENCE_DB = -6.0
#: How far effects dip under speech (dB): less than the music, a bird does not stop singing for a line.
EFFECTS_DUCK_DB = -10.0
#: A sound file at least this long is an ambience (a bed to loop under a scene); shorter ones are spot effects.
AMBIENCE_MIN_S = 8.0
#: A spot effect starts this far into its shot (the picture lands first) and may ring this far past it.
EVENT_LEAD_S, EVENT_TAIL_S = 0.3, 1.0
#: A cue within this distance of the best is as good: used to avoid the same music in consecutive scenes.
REUSE_MARGIN = 0.35
#: A shot is never rolled below this length (seconds) to land a cut on a beat.
MIN_SHOT_S = 1.0

#: Film words -> the sound they call for. A word not listed stands for itself (``thunder`` matches ``thunder.ogg``).
SOUND_SYNONYMS: dict[str, tuple[str, ...]] = {
    "bird": (
        "bird",
        "birds",
        "birdsong",
        "songbird",
        "robin",
        "robins",
        "whistle",
        "whistles",
        "whistling",
        "chirp",
        "chirps",
        "chirping",
        "tweet",
        "tweeting",
        "sparrow",
        "blackbird",
        "finch",
        "warble",
    ),
    "sea": ("whale", "whales", "humpback", "ocean", "oceans", "sea", "seas", "underwater", "marine", "waves", "tide", "shore", "surf"),
    "water": ("water", "river", "stream", "brook", "creek", "fountain", "splash", "drip"),
    "rain": ("rain", "raining", "rainy", "drizzle", "downpour", "shower"),
    "wind": ("wind", "windy", "breeze", "gust", "gale", "blustery"),
    "storm": ("storm", "thunder", "thunderstorm", "lightning"),
    "fire": ("fire", "campfire", "fireplace", "hearth", "flames", "crackle", "crackling"),
    "steps": ("footsteps", "footstep", "steps", "walking", "stairs", "stride"),
    "door": ("door", "doors", "knock", "knocking", "creak", "creaks", "slam"),
    "crowd": ("crowd", "crowds", "chatter", "market", "cafe", "bar", "audience", "applause"),
    "city": ("city", "traffic", "street", "streets", "car", "cars", "horn", "engine"),
    "forest": ("forest", "woods", "woodland", "jungle", "leaves", "rustle"),
    "clock": ("clock", "tick", "ticking", "tock"),
    "bell": ("bell", "bells", "chime", "chimes"),
    "dog": ("dog", "dogs", "bark", "barking", "puppy"),
    "night": ("night", "crickets", "cricket", "insects", "cicadas"),
}
_CONCEPT = {word: concept for concept, words in SOUND_SYNONYMS.items() for word in words}
#: Words that name nothing one can hear (and file-name noise such as "single" or a take number).
_STOP = {
    "the", "and", "with", "from", "into", "onto", "over", "under", "its", "his", "her", "their", "this", "that", "for", "but",
    "int", "ext", "song", "sound", "sounds", "single", "take", "loop", "loops", "part", "pack", "shot", "scene", "close", "wide",
    "medium", "view", "public", "domain", "license", "licence", "freesound", "glacier", "bay", "nps",
}  # fmt: skip


# -- the lines of the cut ----------------------------------------------------------------------------


# -- the result ----------------------------------------------------------------------------------------


@dataclass
class SoundDesign:
    """The film's sound: stems at their fader levels, the normalized mix, and what was placed where and why."""

    rate: int
    stems: dict[str, np.ndarray]  # "dialogue", "music", "effects": at fader level, each exactly the film's length
    mix: np.ndarray  # the stems summed and normalized (loudness target, true-peak ceiling); same length
    lines: list[dict[str, Any]]  # per voiced line: key, shot_id, speaker, text, start_s, end_s, status, stretch, overflow_s, note
    cues: list[dict[str, Any]]  # per scene: scene_id, path, start_s, end_s, offset_s, tempo_bpm, beats_s, reasons, distance
    effects: list[dict[str, Any]]  # per placed sound: path, keyword, shot_id|scene_id, start_s, end_s, offset_s, level, why
    loudness: dict[str, Any]  # normalize()'s report and measure() of the mix
    dialogue_margin_db: float | None  # speech minus the ducked bed (music + effects) in the speech regions
    music_duck_db: float | None  # music under speech vs the same music un-ducked there (negative)
    problems: list[str]
    timeline: otio.schema.Timeline  # the conformed cut with "A1 dialogue", "A2 music" and "A3 effects"
    nudges: list[dict[str, Any]] = field(default_factory=list)  # after_shot, before_shot, from_frame, to_frame, beat_s

    @property
    def duration_s(self) -> float:
        return len(self.mix) / self.rate

    def used_media(self) -> list[dict[str, str]]:
        """``[{"path", "role"}]`` of every music and sound file and take in the mix, for :func:`.credits.credits_text`."""
        used = [{"path": c["path"], "role": "music"} for c in self.cues]
        used += [{"path": e["path"], "role": "ambience" if e["level"] == "ambience" else "effect"} for e in self.effects]
        return used


# -- scenes of the cut -----------------------------------------------------------------------------------


@dataclass
class _Scene:
    """A run of consecutive clips of one scene in the cut (rows ``first..last`` of the cut list)."""

    scene_id: str
    first: int
    last: int
    start: int  # frame
    end: int  # frame, exclusive
    heading: str


def _rows(tl: otio.schema.Timeline) -> list[tuple[dict[str, Any], dict[str, Any], otio.schema.Clip]]:
    clips = tl.video_tracks()[0].find_clips(shallow_search=True)
    return [(row, shot_metadata(clip), clip) for row, clip in zip(cut_list(tl), clips, strict=True)]


def _scenes(tl: otio.schema.Timeline) -> list[_Scene]:
    headings = {}
    for _, marker in scene_markers(tl):
        meta = shot_metadata(marker)
        if meta.get("scene_id"):
            headings[str(meta["scene_id"])] = str(meta.get("heading") or marker.name)
    scenes: list[_Scene] = []
    for i, (row, meta, _) in enumerate(_rows(tl)):
        scene = str(meta.get("scene_id") or "")
        if scenes and scenes[-1].scene_id == scene:
            scenes[-1].last, scenes[-1].end = i, row["record_out"]
        else:
            scenes.append(_Scene(scene, i, i, row["record_in"], row["record_out"], headings.get(scene, "")))
    return scenes


# -- 1. the score and the conform -------------------------------------------------------------------------


def _cue_offset(analysis: sound.MusicAnalysis, need_s: float) -> float:
    """Where in the file the cue starts: on the first analysed beat that leaves the scene's length of music
    (the analysis window is the file's middle, past any quiet intro); on the first beat when none does."""
    beats = analysis.beats_s
    fitting = [b for b in beats if b + need_s <= analysis.duration_s]
    if fitting:
        return float(fitting[0])
    return float(beats[0]) if beats and beats[0] + 1.0 < analysis.duration_s else 0.0


def _cue_beats(analysis: sound.MusicAnalysis, offset_s: float, start_s: float, end_s: float) -> list[float]:
    """The cue's beats in film seconds: the analysed ones, then carried on at the median beat interval
    past the analysis window (a steady tempo; none past the file's end, where the cue would loop)."""
    beats = [b for b in analysis.beats_s if b >= offset_s - 1e-6]
    if len(beats) >= 2:
        step = float(np.median(np.diff(beats)))
        last_file_s = min(analysis.duration_s, offset_s + (end_s - start_s))
        while step > 0 and beats[-1] + step < last_file_s:
            beats.append(round(beats[-1] + step, 3))
    return [round(start_s + b - offset_s, 3) for b in beats if start_s <= start_s + b - offset_s < end_s]


def _choose_cues(
    scenes: list[_Scene], fps: float, moods: Mapping[str, str], pace: Mapping[str, str], music_folder: str | os.PathLike | None,
    problems: list[str],
) -> list[dict[str, Any]]:  # fmt: skip
    if music_folder is None or not Path(music_folder).is_dir():
        problems.append(f"no music: the music folder {music_folder!s} is not there; the film has no score")
        return []
    cues: list[dict[str, Any]] = []
    previous = None
    for index, scene in enumerate(scenes):
        mood = moods.get(scene.scene_id)
        if mood is None:
            problems.append(f"scene {scene.scene_id}: no mood given, scored as calm")
            mood = "calm"
        start_s, end_s = scene.start / fps, scene.end / fps
        ranked = sound.choose_score(music_folder, mood, pace.get(scene.scene_id), need_s=end_s - start_s)
        if not ranked:
            problems.append(f"scene {scene.scene_id}: no music found for mood {mood!r} in {music_folder}")
            continue
        best = ranked[0]
        if best.path == previous:  # the same cue twice in a row sounds like a stuck record, unless nothing else fits
            other = next((c for c in ranked[1:] if c.distance <= best.distance + REUSE_MARGIN), None)
            best = other or best
        previous = best.path
        a = best.analysis
        offset = _cue_offset(a, end_s - start_s)
        reasons = [f"{mood} scene" + (f", {pace[scene.scene_id]} pace" if scene.scene_id in pace else ""), *best.reasons]
        if best is not ranked[0]:
            reasons.append(f"not {Path(ranked[0].path).name}: it scores the scene before")
        if offset + (end_s - start_s) > a.duration_s:
            reasons.append(f"the file has {a.duration_s - offset:.1f} s from its cue point for a {end_s - start_s:.1f} s scene: it loops")
        cues.append(
            {
                "scene_id": scene.scene_id,
                "scene_index": index,  # which run of the scene in the cut (a scene split by a rearrange has two)
                "path": best.path,
                "start_s": round(start_s, 4),
                "end_s": round(end_s, 4),
                "offset_s": round(offset, 3),
                "tempo_bpm": a.tempo_bpm,
                "beats_s": _cue_beats(a, offset, start_s, end_s),
                "reasons": reasons,
                "distance": best.distance,
                "mood": mood,
                "file_duration_s": a.duration_s,
            }
        )
    return cues


def _lines_s(meta: Mapping[str, Any], line_seconds: Callable[[str], float]) -> float:
    texts = [str(d["text"]) for d in meta.get("dialogue", [])] + [str(n) for n in meta.get("narration", [])]
    return sum(line_seconds(t) for t in texts)


def _media_room(clip: otio.schema.Clip, row: Mapping[str, Any], fps: float) -> tuple[int, int]:
    """(unused frames before the in point, after the out point) of a clip's media."""
    avail = getattr(clip.media_reference, "available_range", None)
    if avail is None:
        return 0, 0
    first = round(avail.start_time.value_rescaled_to(fps))
    end = round(avail.end_time_exclusive().value_rescaled_to(fps))
    return max(0, row["source_in"] - first), max(0, end - row["source_out"])


def conform_to_beats(
    tl: otio.schema.Timeline,
    cues: list[dict[str, Any]],
    *,
    slack_frames: int = 6,
    line_seconds: Callable[[str], float] = speaking_time_s,
) -> tuple[otio.schema.Timeline, list[dict[str, Any]]]:
    """Roll the cuts inside each scene onto its cue's beats where the shots allow (see :func:`design_sound`):
    returns the new cut and the nudges made. Scene boundaries and the film's ends never move."""
    fps = timeline_rate(tl)
    min_shot = math.ceil(MIN_SHOT_S * fps - 1e-9)
    out, nudges = tl, []
    for index, scene in enumerate(_scenes(tl)):
        beats: list[float] = next(
            (c["beats_s"] for c in cues if c.get("scene_index", index) == index and c["scene_id"] == scene.scene_id), []
        )
        if not beats:
            continue
        for k in range(scene.first, scene.last):
            rows = _rows(out)
            (a, a_meta, a_clip), (b, b_meta, b_clip) = rows[k], rows[k + 1]
            if a["kind"] != "shot" or b["kind"] != "shot" or a["speed"] != 1.0 or b["speed"] != 1.0:
                continue  # a freeze or a speed change: no media to roll into
            floors = [max(min_shot, math.ceil(_lines_s(m, line_seconds) * fps - 1e-9) + 1) for m in (a_meta, b_meta)]
            _, a_tail = _media_room(a_clip, a, fps)
            b_head, _ = _media_room(b_clip, b, fps)
            later = max(0, min(slack_frames, a_tail, b["duration"] - floors[1]))
            earlier = max(0, min(slack_frames, a["duration"] - floors[0], b_head))
            if not later and not earlier:
                continue
            cut = a["record_out"]
            reach = [t for t in beats if cut - earlier - 0.5 <= t * fps <= cut + later + 0.5]
            moved = sound.nudge_cuts([cut / fps], reach, (max(later, earlier) + 0.5) / fps)[0]
            to = min(cut + later, max(cut - earlier, round(moved * fps)))
            if to == cut:
                continue
            out = move_cut(out, a["shot_id"], to - cut)
            nudges.append({"after_shot": a["shot_id"], "before_shot": b["shot_id"], "from_frame": cut, "to_frame": to, "beat_s": moved})
    return out, nudges


# -- 4. effects by keyword ------------------------------------------------------------------------------------


def _words(text: str) -> list[str]:
    return [w for w in re.findall(r"[a-z]+", text.lower()) if len(w) > 2 and w not in _STOP]


def sound_concepts(text: str) -> set[str]:
    """What can be heard in ``text``: its words through :data:`SOUND_SYNONYMS` (``'a robin whistles'`` -> ``{'bird'}``)."""
    out = set()
    for w in _words(text):
        out.add(_CONCEPT.get(w) or _CONCEPT.get(w.rstrip("s")) or w)
    return out


@dataclass
class _SoundFile:
    path: str
    concepts: set[str]
    duration_s: float
    title: str

    @property
    def ambience(self) -> bool:
        return self.duration_s >= AMBIENCE_MIN_S


def _sound_library(folder: str | os.PathLike | None, licences: Mapping[str, Mapping[str, Any]]) -> list[_SoundFile]:
    import soundfile as sf

    if folder is None or not Path(folder).is_dir():
        return []
    files = []
    for p in sorted(Path(folder).iterdir()):
        if p.suffix.lower() not in sound.AUDIO_SUFFIXES:
            continue
        entry = licence_for(p, licences) or {}
        title = str(entry.get("title", ""))
        files.append(
            _SoundFile(str(p), sound_concepts(p.stem.replace("_", " ").replace("-", " ") + " " + title), sf.info(str(p)).duration, title)
        )
    return files


def _best_match(files: list[_SoundFile], concepts: set[str], *, ambience: bool | None) -> tuple[_SoundFile, set[str]] | None:
    scored = [(len(f.concepts & concepts), f) for f in files if ambience is None or f.ambience == ambience]
    scored = [(n, f) for n, f in scored if n]
    if not scored:
        return None
    _, f = max(scored, key=lambda x: (x[0], -len(Path(x[1].path).name)))
    return f, f.concepts & concepts


# -- levels -----------------------------------------------------------------------------------------------------


def _level(audio: np.ndarray, rate: int, target_lufs: float) -> np.ndarray:
    """``audio`` brought to ``target_lufs`` (gated loudness; RMS for a sound shorter than one block)."""
    if not len(audio) or not np.any(audio):
        return np.asarray(audio, np.float32)
    now = sound.integrated_lufs(audio, rate)
    if not math.isfinite(now):
        now = sound.rms_db(audio[slice(*sound.speech_bounds(audio, rate))]) - 0.7  # RMS of a sine reads 0.7 dB under LUFS
    gain = float(np.clip(target_lufs - now, -40.0, 40.0))
    return (np.asarray(audio, np.float32) * 10 ** (gain / 20)).astype(np.float32)


def _fades(span_s: float, fade_in_s: float, fade_out_s: float) -> tuple[float, float]:
    return min(fade_in_s, span_s / 4), min(fade_out_s, span_s / 4)


def _db(x: float) -> float | None:
    return round(x, 2) if math.isfinite(x) else None


# -- the whole design ----------------------------------------------------------------------------------------


def design_sound(
    tl: otio.schema.Timeline,
    moods: Mapping[str, str],
    takes: Mapping[str, tuple[np.ndarray, int, str]],
    music_folder: str | os.PathLike | None,
    sound_folder: str | os.PathLike | None,
    *,
    pace: Mapping[str, str] | None = None,
    target_lufs: float = TARGET_LUFS,
    ceiling_dbtp: float = CEILING_DBTP,
    beat_slack_frames: int = 6,
    line_seconds: Callable[[str], float] = speaking_time_s,
    licences: Mapping[str, Mapping[str, Any]] | None = None,
    faders_db: Mapping[str, float] | None = None,
) -> SoundDesign:
    """Design the film's sound from its cut (see the module docstring for the steps).

    ``moods``: scene id -> the brief's mood (a :data:`.sound.MOOD_MUSIC` key); ``takes``: line key (see
    :class:`SpokenLine`) -> ``(audio, rate, wav path)``, a missing key is a line not voiced; ``pace``:
    scene id -> ``slow``/``moderate``/``fast``; ``licences``: the media licence tables (default: the
    README beside the music or sound folder), whose titles also name what a sound file is; ``faders_db``:
    stem levels in dB over :data:`FADERS_DB` (dialogue 0, music -3, effects -7).
    Nothing here raises for missing media: no score, no effect or an unvoiced line is a ``problem``.
    """
    rate = MIX_RATE
    fps = timeline_rate(tl)
    pace = dict(pace or {})
    problems: list[str] = []
    licences = dict(licences) if licences is not None else licences_near([sound_folder, music_folder])

    # 1. the score, and the picture conformed to it
    cues = _choose_cues(_scenes(tl), fps, moods, pace, music_folder, problems)
    cut, nudges = conform_to_beats(tl, cues, slack_frames=beat_slack_frames, line_seconds=line_seconds)
    frames = round(cut.video_tracks()[0].duration().value_rescaled_to(fps))
    n = round(frames / fps * rate)
    film_s = n / rate
    scenes = _scenes(cut)

    # 2. dialogue
    lines = spoken_lines(cut)
    slots = line_slots(lines, line_seconds)
    voiced = [x for x in lines if x.key in takes]
    missing = [x.key for x in lines if x.key not in takes]
    if missing:
        problems.append(f"{len(missing)} of {len(lines)} lines not voiced (no take): {', '.join(missing)}")
    line_cues = []
    for x in voiced:
        audio, take_rate, _ = takes[x.key]
        first, end = slots[x.key]
        line_cues.append(sound.LineCue(x.key, x.text, np.asarray(audio, np.float32), int(take_rate), first / fps, (end - first) / fps))
    stem = sound.place_lines(line_cues, film_s, rate)
    problems += stem.problems
    regions = [(a, min(b, film_s)) for a, b in stem.regions if a < film_s]
    dialogue = np.zeros(n, np.float32)
    dialogue[: min(n, len(stem.signal))] = stem.signal[:n]
    if regions:
        dialogue = sound.compress_dialogue(dialogue, rate)
        speech = np.concatenate([dialogue[round(a * rate) : round(b * rate)] for a, b in regions])
        loud = sound.integrated_lufs(speech, rate)
        if math.isfinite(loud):
            dialogue = (dialogue * 10 ** ((REFERENCE_LUFS - loud) / 20)).astype(np.float32)
    by_key = {x.key: x for x in lines}
    placed = []
    for p in stem.lines:
        x = by_key[p.name]
        placed.append(
            {
                "key": x.key, "shot_id": x.shot_id, "scene_id": x.scene_id, "kind": x.kind, "speaker": x.speaker, "text": x.text,
                "start_s": p.start_s, "end_s": p.end_s, "status": p.status, "stretch": p.stretch, "overflow_s": p.overflow_s,
                "note": p.note, "path": str(takes[x.key][2]),
            }
        )  # fmt: skip

    # 3. music: each scene's cue over its scene, ducked under the lines
    music = np.zeros(n, np.float32)
    for c in cues:
        scene = scenes[c["scene_index"]]
        a, b = round(scene.start / fps * rate), round(scene.end / fps * rate)
        c["start_s"], c["end_s"] = round(a / rate, 4), round(b / rate, 4)
        span = (b - a) / rate
        loops = c["offset_s"] + span > c["file_duration_s"]
        body = sound.load_audio(c["path"], rate, offset_s=c["offset_s"], duration_s=None if loops else span + 0.05)
        fade_in, fade_out = _fades(span, 1.0 if scene is scenes[0] else 0.5, 2.0 if scene is scenes[-1] else 1.0)
        music[a:b] += sound.fit_bed(_level(body, rate, REFERENCE_LUFS), rate, span, fade_in_s=fade_in, fade_out_s=fade_out)[: b - a]
    ducked_music = sound.duck(music, dialogue, rate, regions=regions)[0] if regions else music

    # 4. effects: ambience under a scene, spot effects at the shot that names them
    library = _sound_library(sound_folder, licences)
    effects_stem = np.zeros(n, np.float32)
    effects: list[dict[str, Any]] = []
    rows = _rows(cut)
    for scene in scenes:
        shots = [(row, meta) for row, meta, _ in rows[scene.first : scene.last + 1] if row["kind"] == "shot"]
        scene_words = sound_concepts(scene.heading + " " + " ".join(str(m.get("description", "")) for _, m in shots))
        found = _best_match(library, scene_words, ambience=True)
        if found:
            f, hit = found
            a, b = round(scene.start / fps * rate), round(scene.end / fps * rate)
            span = (b - a) / rate
            fade_in, fade_out = _fades(span, 1.5, 2.0)
            bed = sound.fit_bed(sound.load_audio(f.path, rate), rate, span, fade_in_s=fade_in, fade_out_s=fade_out)
            effects_stem[a:b] += _level(bed, rate, REFERENCE_LUFS + AMBIENCE_DB)[: b - a]
            effects.append(
                {
                    "path": f.path, "keyword": ", ".join(sorted(hit)), "scene_id": scene.scene_id, "start_s": round(a / rate, 4),
                    "end_s": round(b / rate, 4), "offset_s": 0.0, "level": "ambience", "file_duration_s": round(f.duration_s, 3),
                    "why": f"the scene's words ({', '.join(sorted(hit))}) match {Path(f.path).name}" + (f" ({f.title})" if f.title else ""),
                }
            )  # fmt: skip
        heading_words = sound_concepts(scene.heading)
        for i, (row, meta) in enumerate(shots):
            words = sound_concepts(str(meta.get("description", ""))) | (heading_words if i == 0 else set())
            found = _best_match(library, words, ambience=False)
            if not found:
                continue
            f, hit = found
            start = round((row["record_in"] / fps + min(EVENT_LEAD_S, row["duration"] / fps / 4)) * rate)
            raw = sound.load_audio(f.path, rate)
            first, _ = sound.speech_bounds(raw, rate)  # from the first sound, so the effect lands with the picture
            room = min(n, round(row["record_out"] / fps * rate + EVENT_TAIL_S * rate)) - start
            spot = sound.fade(raw[first : first + max(0, room)], rate, 0.005, 0.05)
            if not len(spot):
                continue
            effects_stem[start : start + len(spot)] += _level(spot, rate, REFERENCE_LUFS)
            effects.append(
                {
                    "path": f.path, "keyword": ", ".join(sorted(hit)), "shot_id": row["shot_id"], "scene_id": scene.scene_id,
                    "start_s": round(start / rate, 4), "end_s": round((start + len(spot)) / rate, 4), "offset_s": round(first / rate, 4),
                    "level": "event", "file_duration_s": round(f.duration_s, 3),
                    "why": f"shot {row['shot_id']} ({meta.get('description', '')!s}) names {', '.join(sorted(hit))}: {Path(f.path).name}"
                    + (f" ({f.title})" if f.title else ""),
                }
            )  # fmt: skip
    if sound_folder is not None and not library:
        problems.append(f"no sound effects: no sound files in {sound_folder}")
    ducked_effects = sound.duck(effects_stem, dialogue, rate, regions=regions, depth_db=EFFECTS_DUCK_DB)[0] if regions else effects_stem

    # 5. the mix
    gain = {k: 10 ** (v / 20) for k, v in {**FADERS_DB, **(faders_db or {})}.items()}
    stems = {
        "dialogue": (dialogue * gain["dialogue"]).astype(np.float32),
        "music": (ducked_music * gain["music"]).astype(np.float32),
        "effects": (ducked_effects * gain["effects"]).astype(np.float32),
    }
    summed = sound.mix(stems)
    try:
        final, report = sound.normalize(summed, rate, target_lufs, ceiling_dbtp)
    except ValueError as e:  # a silent film (no lines, no score, no effects) is delivered silent
        problems.append(str(e))
        final, report = np.zeros(n, np.float32), {}
    figures: dict[str, Any] = {**report, **sound.measure(final, rate), "target_lufs": target_lufs, "ceiling_dbtp": ceiling_dbtp}
    loudness = {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in figures.items()}  # silence: JSON has no -inf
    margin = music_duck = None
    if regions:
        margin = dialogue_margin(stems["dialogue"], stems["music"] + stems["effects"], rate, regions)
        music_duck = _db(sound.region_rms_db(ducked_music, rate, regions) - sound.region_rms_db(music, rate, regions))

    # 6. the edit with its sound laid
    timeline = _lay_tracks(cut, placed, takes, cues, effects, fps, frames)
    return SoundDesign(
        rate=rate,
        stems=stems,
        mix=final,
        lines=placed,
        cues=cues,
        effects=effects,
        loudness=loudness,
        dialogue_margin_db=margin,
        music_duck_db=music_duck,
        problems=problems,
        timeline=timeline,
        nudges=nudges,
    )


def _lay_tracks(
    cut: otio.schema.Timeline,
    lines: list[dict[str, Any]],
    takes: Mapping[str, tuple[np.ndarray, int, str]],
    cues: list[dict[str, Any]],
    effects: list[dict[str, Any]],
    fps: float,
    film_frames: int,
) -> otio.schema.Timeline:
    """The cut with "A1 dialogue", "A2 music" and "A3 effects": each clip at its place in the mix, from its
    source offset, clipped to the film; a stretched line plays its take at its stretch (a LinearTimeWarp),
    and a bed that loops in the mix is laid as one clip per pass, each from the cue point, as the mix plays it."""

    def item(
        path: str, start_s: float, end_s: float, offset_s: float, name: str, meta: dict[str, Any], speed: float = 1.0
    ) -> dict[str, Any] | None:
        start = round(start_s * fps)
        frames = min(round(end_s * fps), film_frames) - start
        laid = {"path": path, "start_frame": start, "frames": frames, "source_start_frame": round(offset_s * fps), "name": name}
        return laid | {"metadata": meta, "speed": speed} if frames >= 1 else None

    def passes(path: str, start_s: float, end_s: float, offset_s: float, file_s: float, name: str, meta: dict[str, Any]) -> list:
        length = max(file_s - offset_s, 1.0 / fps)
        at, k, out = start_s, 0, []
        while at < end_s - 1e-6:
            stop = min(end_s, at + length)
            out.append(
                item(path, at, stop, offset_s, name if not k else f"{name} (loop {k + 1})", meta | {"looped": stop < end_s or k > 0})
            )
            at, k = stop, k + 1
        return out

    dialogue = []
    for x in lines:
        audio, take_rate, path = takes[x["key"]]
        first, _ = sound.speech_bounds(np.asarray(audio, np.float32), int(take_rate))
        meta = {k: x[k] for k in ("key", "shot_id", "speaker", "text", "status", "stretch")}
        dialogue.append(item(str(path), x["start_s"], x["end_s"], first / int(take_rate), x["key"], meta, speed=float(x["stretch"])))
    music = []
    for c in cues:
        meta = {"scene_id": c["scene_id"], "tempo_bpm": c["tempo_bpm"], "mood": c["mood"]}
        name = f"{c['scene_id']} {Path(c['path']).stem}"
        music += passes(c["path"], c["start_s"], c["end_s"], c["offset_s"], c["file_duration_s"], name, meta)
    fx = []
    for e in effects:
        meta = {k: e[k] for k in ("keyword", "level", "why", "scene_id") if k in e} | ({"shot_id": e["shot_id"]} if "shot_id" in e else {})
        fx += passes(
            e["path"],
            e["start_s"],
            e["end_s"],
            e["offset_s"],
            e["file_duration_s"],
            f"{e.get('shot_id', e['scene_id'])} {Path(e['path']).stem}",
            meta,
        )
    out = add_audio_track(cut, "A1 dialogue", [i for i in dialogue if i])
    out = add_audio_track(out, "A2 music", [i for i in music if i])
    return add_audio_track(out, "A3 effects", [i for i in fx if i])
