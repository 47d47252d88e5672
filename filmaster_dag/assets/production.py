"""Production assets: one partition per brief, from the brief to generated shots.

``production_brief`` -> ``script`` -> ``scene_references`` (reads the whole reference library) ->
``shot_plan`` -> ``generated_shots``. Thin Dagster wiring over :mod:`filmaster_dag.cinema.planning`
and the generator resources. Tables and records are returned to the table IO manager, which stores
them once under ``productions/<production>/``; clips are files there too, named by the hash of
everything that determines them, so a re-run regenerates only what changed. Every failure of a
production, expected or not, ends in one line naming the production, the brief file, the
problem and the fix; other productions are untouched.
"""

import contextlib
import hashlib
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path

import dagster as dg
import pandas as pd

from ..cinema.brief import Brief, BriefError, brief_digest, load_brief
from ..cinema.planning import SceneReferences, Script, ShotPlan
from ..cinema.planning.retrieval import reference_sheet, retrieve
from ..cinema.planning.script import timing_problem, write_script
from ..cinema.planning.shots import plan_problems, plan_shots
from ..cinema.progress import report
from ..cinema.render import first_frame_jpeg
from ..cinema.slate import render_slate
from ..partitions import productions
from ..resources.briefs import BriefInbox
from ..resources.embedder import ShotEmbedder
from ..resources.generator import PictureSpec, ShotGenerator, ShotRequest, cache_key, shot_seed
from ..resources.generator.ripomatic import RipomaticGenerator
from ..resources.index import ReferenceIndex
from ..resources.llm import LanguageModel
from ..resources.storage import MediaStore
from .library import LIBRARY, _jpeg_md, _md_table, _source_file, partition_failures, unexpected

GROUP = "production"
PRODUCTIONS = "productions"


class ProductionError(Exception):
    """A production that cannot go on, said in one line (what is wrong and what to do)."""


def production_line(err: BaseException, production: str, step: str, file: str = "") -> str:
    """Any error of a production's step as its one line: production, brief file, problem, fix."""
    where = f"production '{production}'" + (f" ({file})" if file else "")
    if isinstance(err, BriefError):
        return f"production '{production}': {err}"
    if isinstance(err, (ProductionError, FileNotFoundError)) and str(err).startswith("production '"):
        return str(err).splitlines()[0]
    if isinstance(err, ProductionError):
        return f"{where}: {err}"
    return (
        f"{where}: {unexpected(err, step)}; "
        f"re-run with `filmaster produce --verbose` for the full trace (also in the run's log) and report it if it persists"
    )


def production_errors(context: dg.AssetExecutionContext, file: str = "") -> contextlib.AbstractContextManager[None]:
    """A production's step: every failure ends in the production's one line (production, brief file, problem, fix)."""
    production = context.partition_key
    return partition_failures(context, lambda err, step: production_line(err, production, step, file))


def stored_brief(production_brief: dict) -> Brief:
    """The stored brief, validated again (reference images resolve in the brief's folder)."""
    return Brief.model_validate(production_brief["brief"], context={"folder": production_brief["folder"]})


@dg.asset(partitions_def=productions, group_name=GROUP, kinds={"python", "yaml"})
def production_brief(context: dg.AssetExecutionContext, briefs: BriefInbox) -> dict:
    """The production's brief, read from the briefs inbox and validated (pydantic): title, story,
    audience persona, style, length, picture format, characters, locations and scenes. A bad brief
    fails here with the file, the line, the field, what is expected and the fix."""
    production = context.partition_key
    with production_errors(context):
        path = briefs.path_for(production)
        with production_errors(context, str(path)):
            brief = load_brief(path)
            digest = brief_digest(path)
            too_long = timing_problem(brief)
            if too_long:  # every plan of it would cut a line short: the brief, not the planner, must change
                raise ProductionError(f"production {production!r}: {path.name}: {too_long}")  # as a bad brief is said
    context.add_output_metadata(
        {
            "title": brief.title,
            "path": dg.MetadataValue.path(str(path)),
            "sha256": digest,
            "target_duration_s": brief.target_duration_s,
            "picture": f"{brief.resolution} @ {brief.frame_rate} fps",
            "characters": ", ".join(c.name for c in brief.characters),
            "scenes_given": len(brief.scenes),
        }
    )
    return {
        "production": production,
        "path": str(path),
        "folder": str(path.resolve().parent),
        "sha256": digest,
        "brief": brief.model_dump(mode="json"),
    }


@dg.asset(partitions_def=productions, group_name=GROUP, kinds={"python"})
def script(context: dg.AssetExecutionContext, production_brief: dict, language_model: LanguageModel) -> Script:
    """The brief expanded into scenes: heading, location, time of day, characters, action beats,
    dialogue or narration, mood, a narrative objective and each scene's share of the length.
    Written by the language model when one is configured (its answer validated, else the rules
    writer takes over and the metadata says why), by the deterministic rules writer otherwise."""
    production = context.partition_key
    report(production, "writing the script")
    with production_errors(context, production_brief["path"]):
        brief = stored_brief(production_brief)
        result = write_script(brief, production, language_model)
    writers = sorted({s.provenance.by for s in result.scenes})
    reasons = sorted({s.provenance.fallback_reason for s in result.scenes if s.provenance.fallback_reason})
    table = pd.DataFrame(
        [
            {"scene": s.scene_id, "heading": s.heading, "mood": s.mood, "beats": len(s.beats), "lines": len(s.dialogue), "s": s.duration_s}
            for s in result.scenes
        ]
    )
    context.add_output_metadata(
        {
            "writer": ", ".join(writers),
            "language_model": language_model.identity,
            "fallback_reasons": "; ".join(reasons) or "none",
            "scenes": len(result.scenes),
            "preview": _md_table(table),
        }
    )
    return result


class RetrievalConfig(dg.Config):
    """How many reference sequences each scene gets (FilMaster uses 3), and optionally the library
    versions to read (a production's recorded ``table_versions``, to reproduce it exactly)."""

    k: int = 3
    table_versions: dict[str, int] = {}


def source_paths(store: MediaStore) -> dict[str, str]:
    """Film -> its source file, as each film's ``film_source`` recorded it (films that never got that far left out)."""
    paths = {film: _source_file(store, film) for film in store.list(LIBRARY)}
    return {film: path for film, path in paths.items() if path}


def _read_jpeg(store: MediaStore):
    def read(path: str) -> bytes | None:
        try:
            return store.read_path(path)
        except (FileNotFoundError, OSError):
            return None

    return read


@dg.asset(
    partitions_def=productions,
    group_name=GROUP,
    kinds={"lancedb"},
    # the whole library (every film) is read: the lineage graph shows it, the run does not wait for it
    deps=[dg.AssetDep("reference_index", partition_mapping=dg.AllPartitionMapping())],
)
def scene_references(
    context: dg.AssetExecutionContext,
    config: RetrievalConfig,
    script: Script,
    production_brief: dict,
    reference_index: ReferenceIndex,
    embedder: ShotEmbedder,
    store: MediaStore,
) -> SceneReferences:
    """Scene-level retrieval: one query per scene (text: full-text search over the library's
    descriptions, plus CLIP text embedding when real weights are configured; attribute targets from
    time of day, mood, action and who talks) returning the top-K reference sequences with scores
    and reasons. Records the LanceDB table versions it read, so the production can be reproduced."""
    production = context.partition_key
    report(production, "retrieving references")
    with production_errors(context, production_brief["path"]):
        brief = stored_brief(production_brief)
        embed_text = (lambda text: embedder.embed_texts([text])[0]) if embedder.available else None
        found = retrieve(
            script,
            brief,
            reference_index.open(),
            k=config.k,
            embed_text=embed_text,
            source_paths=source_paths(store),
            versions=config.table_versions or None,
        )
        sheets: dict[str, dg.MetadataValue] = {}
        read = _read_jpeg(store)
        for retrieval in found.scenes:
            sheet = reference_sheet(retrieval, read)
            if sheet:
                path = store.write_bytes(sheet, PRODUCTIONS, production, "references", f"{retrieval.scene_id}.jpg")
                sheets[f"sheet_{retrieval.scene_id}_path"] = dg.MetadataValue.path(path)
                small = reference_sheet(retrieval, read, thumb_width=96)
                if small:
                    sheets[f"sheet_{retrieval.scene_id}"] = _jpeg_md(small, f"references for {retrieval.scene_id}")
    rows = [
        {"scene": r.scene_id, "rank": m.rank, "sequence": m.sequence_id, "score": round(m.score, 3), "why": "; ".join(m.reasons)[:160]}
        for r in found.scenes
        for m in r.matches
    ]
    context.add_output_metadata(
        {
            "table_versions": dg.MetadataValue.json(found.table_versions),
            "text_search": found.text_search,
            "k": found.k,
            "scenes_without_references": sum(not r.matches for r in found.scenes),
            "preview": _md_table(pd.DataFrame(rows), limit=40) if rows else "the library is empty: run `filmaster ingest` first",
            **sheets,
        }
    )
    return found


@dg.asset(partitions_def=productions, group_name=GROUP, kinds={"python"})
def shot_plan(
    context: dg.AssetExecutionContext,
    script: Script,
    scene_references: SceneReferences,
    production_brief: dict,
    language_model: LanguageModel,
) -> ShotPlan:
    """The coordinated shot plan: per scene, ordered shots with prompt, scale, angle, movement,
    exact length in frames, dialogue or narration, characters and the reference shot whose
    technique (and, for the ripomatic, footage) each takes. Durations add up to the target length
    within one second and every line gets a shot long enough to say it."""
    production = context.partition_key
    report(production, "planning shots")
    with production_errors(context, production_brief["path"]):
        brief = stored_brief(production_brief)
        plan = plan_shots(script, scene_references, brief, language_model)
        problems = plan_problems(plan, brief)
        if problems:
            raise ProductionError(f"the shot plan breaks its own rules: {problems[0]}; report it (the plan is not stored)")
    table = pd.DataFrame(
        [
            {
                "shot": s.shot_id,
                "scale": s.shot_scale.value,
                "angle": s.camera_angle.value,
                "move": s.movement.value,
                "s": round(s.duration_s, 2),
                "lines": len(s.dialogue) + len(s.narration),
                "reference": s.reference_shot_id or "",
            }
            for s in plan.shots
        ]
    )
    context.add_output_metadata(
        {
            "shots": len(plan.shots),
            "duration_s": round(plan.duration_s, 3),
            "target_duration_s": plan.target_duration_s,
            "planners": ", ".join(sorted({s.provenance.by for s in plan.scenes})),
            "fallback_reasons": "; ".join(sorted({s.provenance.fallback_reason or "" for s in plan.scenes} - {""})) or "none",
            "preview": _md_table(table, limit=60),
        }
    )
    return plan


class GenerationConfig(dg.Config):
    """How hard to try a shot before falling back to the ripomatic."""

    attempts: int = 2


def _conditioning_image(brief: Brief, shot, references: SceneReferences, first_keyframes: Mapping[str, str]) -> str | None:
    """What an image-to-video pipeline starts from, for one look per character: the main
    character's first reference image; else the first generated keyframe of that character (the
    first frame of their first shot in this production); else the reference shot's keyframe."""
    refs = brief.reference_paths() if brief.folder is not None else {}
    for name in shot.characters[:1]:
        paths = next((p for who, p in refs.items() if who.casefold() == name.casefold()), None)
        if paths:
            return str(paths[0])
        if name.casefold() in first_keyframes:
            return first_keyframes[name.casefold()]
    if shot.reference_shot_id:
        for retrieval in references.scenes:
            for match in retrieval.matches:
                for ref in match.shots:
                    if ref.shot_id == shot.reference_shot_id and ref.keyframe_path:
                        return ref.keyframe_path
    return None


@dg.asset(partitions_def=productions, group_name=GROUP, kinds={"pytorch", "pyav"})
def generated_shots(
    context: dg.AssetExecutionContext,
    config: GenerationConfig,
    shot_plan: ShotPlan,
    scene_references: SceneReferences,
    production_brief: dict,
    generator: ShotGenerator,
    store: MediaStore,
) -> pd.DataFrame:
    """One clip per planned shot at the production's size, frame rate and exact frame count, and
    the manifest (path, content hash, generator, seed, timings, reference used). A clip is cached
    by the hash of everything that determines it; a shot that fails is retried, then made by the
    ripomatic (and, if even that cannot, shown as a slate), the failure recorded."""
    production = context.partition_key
    spec = PictureSpec(shot_plan.width, shot_plan.height, shot_plan.fps)
    fallback = generator if isinstance(generator, RipomaticGenerator) else RipomaticGenerator()
    rows: list[dict] = []
    shots = shot_plan.shots
    with production_errors(context, production_brief["path"]), tempfile.TemporaryDirectory(prefix="filmaster-shots-") as tmp:
        brief = stored_brief(production_brief)
        first_keyframes: dict[str, str] = {}  # character -> first frame of their first generated shot
        for n, shot in enumerate(shots):
            report(production, "generating shots", n, len(shots))
            image = _conditioning_image(brief, shot, scene_references, first_keyframes)
            request = ShotRequest(
                shot=shot, spec=spec, seed=shot_seed(production, shot), style=brief.style.description, conditioning_image=image
            )
            row, data = _generate_one(context, generator, fallback, request, config.attempts, production, store, tmp)
            rows.append(row)
            main = shot.characters[0].casefold() if shot.characters else None
            if main and main not in first_keyframes and row["generator"] != "slate":
                clip = os.path.join(tmp, f"keyframe-source-{shot.shot_id}.mp4")
                Path(clip).write_bytes(data)
                first_keyframes[main] = first_frame_jpeg(clip, os.path.join(tmp, f"{shot.shot_id}-first-frame.jpg"))
        report(production, "generating shots", len(shots), len(shots))
        manifest = pd.DataFrame(rows)
        keep = set(manifest["file"])
        for name in store.list(PRODUCTIONS, production, "clips"):
            if name not in keep:  # clips of earlier plans: the current manifest names every clip in use
                store.remove(PRODUCTIONS, production, "clips", name)
    fallbacks = manifest[manifest["fallback_reason"].astype(bool)]
    context.add_output_metadata(
        {
            "clips": len(manifest),
            "cache_hits": int(manifest["cached"].sum()),
            "generated": int((~manifest["cached"]).sum()),
            "fallbacks": len(fallbacks),
            "generator": generator.identity,
            "seconds": round(float(manifest["seconds"].sum()), 3),
            "preview": _md_table(manifest[["shot_id", "generator", "duration_s", "cached", "fallback_reason"]], limit=60),
        }
    )
    return manifest


def _generate_one(
    context: dg.AssetExecutionContext,
    generator: ShotGenerator,
    fallback: ShotGenerator,
    request: ShotRequest,
    attempts: int,
    production: str,
    store: MediaStore,
    tmp: str,
) -> tuple[dict, bytes]:
    """One shot: from the cache, else the generator (retried), else the ripomatic, else a slate.
    Returns its manifest row and the clip's bytes."""
    shot = request.shot
    failures: list[str] = []
    tries: list[tuple[ShotGenerator, int]] = [(generator, max(1, attempts))]
    if fallback is not generator:
        tries.append((fallback, 1))
    for gen, times in tries:
        key = cache_key(gen, request)
        name = f"{shot.shot_id}-{key[:16]}.mp4"
        if store.exists(PRODUCTIONS, production, "clips", name):
            data = store.read_bytes(PRODUCTIONS, production, "clips", name)
            return _row(request, gen.identity, name, store, production, data, key, 0.0, True, 0, "; ".join(failures), {}), data
        for attempt in range(1, times + 1):
            t0 = time.perf_counter()
            try:
                clip = gen.generate(request, os.path.join(tmp, f"{shot.shot_id}.mp4"))
                data = Path(clip.path).read_bytes()
            except Exception as err:
                line = (str(err).strip().splitlines() or [type(err).__name__])[0][:240]
                failures.append(f"{gen.identity} attempt {attempt}: {type(err).__name__}: {line}")
                context.log.warning(f"{production} {shot.shot_id}: {failures[-1]}")
                continue
            store.write_bytes(data, PRODUCTIONS, production, "clips", name)
            took = time.perf_counter() - t0
            row = _row(request, gen.identity, name, store, production, data, key, took, False, attempt, "; ".join(failures), clip.detail)
            return row, data
    # nothing could draw the shot: a slate keeps the cut's timing and says what is missing
    t0 = time.perf_counter()
    path = os.path.join(tmp, f"{shot.shot_id}-slate.mp4")
    lines = [f"{shot.shot_id}  {shot.shot_scale.words}, {shot.movement.words}", shot.description, "(shot missing: " + failures[-1] + ")"]
    render_slate(lines, request.spec.width, request.spec.height, request.spec.fps, shot.frames, path)
    data = Path(path).read_bytes()
    key = hashlib.sha256(data).hexdigest()
    name = f"{shot.shot_id}-slate-{key[:12]}.mp4"
    store.write_bytes(data, PRODUCTIONS, production, "clips", name)
    return _row(request, "slate", name, store, production, data, key, time.perf_counter() - t0, False, 0, "; ".join(failures), {}), data


def _row(
    request: ShotRequest,
    generator: str,
    name: str,
    store: MediaStore,
    production: str,
    data: bytes,
    key: str,
    seconds: float,
    cached: bool,
    attempts: int,
    fallback_reason: str,
    detail: Mapping,
) -> dict:
    shot = request.shot
    return {
        "shot_id": shot.shot_id,
        "scene_id": shot.scene_id,
        "order": shot.order,
        "path": store.uri(PRODUCTIONS, production, "clips", name),
        "file": name,
        "sha256": hashlib.sha256(data).hexdigest(),
        "cache_key": key,
        "generator": generator,
        "seed": request.seed,
        "frames": shot.frames,
        "duration_s": shot.duration_s,
        "width": request.spec.width,
        "height": request.spec.height,
        "frame_rate": str(request.spec.fps),
        "seconds": round(seconds, 4),
        "cached": cached,
        "attempts": attempts,
        "fallback_reason": fallback_reason,
        "reference_shot_id": shot.reference_shot_id or "",
        "conditioning_image": request.conditioning_image or "",
        "detail": str(dict(detail))[:500] if detail else "",
    }


production_assets = [production_brief, script, scene_references, shot_plan, generated_shots]
