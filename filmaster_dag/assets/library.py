"""Reference library assets: one partition per film, from the source file to the LanceDB index.

Thin Dagster wiring over :mod:`filmaster_dag.cinema.library`. Every table is returned to the
table IO manager, which stores it once as ``library/<film>/<asset>.parquet|json``; media
(keyframes, contact sheets) are files in the MediaStore under ``library/<film>/`` whose paths the
tables hold. Every failure of a film, expected or not, ends in one line naming the film, the
file, the problem and the fix (:func:`film_errors`).
"""

import base64
import contextlib
import time
from collections.abc import Callable, Iterator

import dagster as dg
import numpy as np
import pandas as pd

from ..cinema import keyframes as kf
from ..cinema import library as lib
from ..cinema.media import FilmError, FilmProbe, probe
from ..cinema.progress import report
from ..cinema.vocabulary import GRADUAL_KINDS, TransitionIn
from ..index.tables import sql_literal
from ..partitions import films
from ..resources.detection import ShotDetection
from ..resources.embedder import ShotEmbedder
from ..resources.inbox import FilmInbox
from ..resources.index import ReferenceIndex
from ..resources.storage import MediaStore
from ..runs import original_film

GROUP = "reference_library"
LIBRARY = "library"


def film_source_record(store: MediaStore, film: str) -> dict:
    """The film's ``film_source`` record as stored (empty when it never got that far)."""
    try:
        return dict(store.read_json(LIBRARY, film, "film_source.json"))
    except Exception:
        return {}


def _source_file(store: MediaStore, film: str) -> str:
    """The film's file as ``film_source`` recorded it (empty when it never got that far)."""
    return str(film_source_record(store, film).get("path", ""))


def unexpected(err: BaseException, step: str) -> str:
    """An error nobody foresaw, as the problem part of a one-line message: step, type, first line."""
    detail = (str(err).strip().splitlines() or [""])[0][:300]
    return f"unexpected error in {step} ({type(err).__name__}{': ' + detail if detail else ''})"


def one_line(err: BaseException, film: str, step: str, file: str = "") -> str:
    """Any error of a film's step as the one-line message: film, file, problem, fix."""
    if isinstance(err, FilmError):
        return str(FilmError(err.path, err.problem, err.fix, film))
    fix = f"re-run with `filmaster ingest --verbose {film}` for the full trace (also in the run's log) and report it if it persists"
    return str(FilmError(file or film, unexpected(err, step), fix, film))


@contextlib.contextmanager
def partition_failures(context: dg.AssetExecutionContext, describe: Callable[[Exception, str], str]) -> Iterator[None]:
    """Turn every exception of a partition's step into that partition's one-line failure:
    ``describe(error, step name)`` says it. A failure raised inside (already one line, e.g. from a
    nested block that knew the file) passes through unchanged.

    The full trace stays in the run's log (and the raised chain); the Failure's description is
    the single line the CLI and the UI show.
    """
    try:
        yield
    except dg.Failure:
        raise
    except Exception as err:
        line = describe(err, context.op_execution_context.op.name)
        raise dg.Failure(description=line, allow_retries=False) from err


def film_errors(context: dg.AssetExecutionContext, store: MediaStore, file: str = "") -> contextlib.AbstractContextManager[None]:
    """A film's step: every failure ends in the film's one line (film, file, problem, fix)."""
    film = context.partition_key
    return partition_failures(context, lambda err, step: one_line(err, film, step, file or _source_file(store, film)))


def _md_table(df: pd.DataFrame, limit: int = 20) -> dg.MetadataValue:
    return dg.MetadataValue.md(df.head(limit).to_markdown(index=False))


def jpeg_markdown(jpeg: bytes, alt: str) -> str:
    """A JPEG inlined as a markdown image (the UI shows metadata markdown, not files)."""
    return f"![{alt}](data:image/jpeg;base64,{base64.b64encode(jpeg).decode()})"


def _jpeg_md(jpeg: bytes, alt: str) -> dg.MetadataValue:
    return dg.MetadataValue.md(jpeg_markdown(jpeg, alt))


def _original(film: str, info: FilmProbe, inbox: FilmInbox, reference_index: ReferenceIndex, store: MediaStore) -> tuple[str, str]:
    """(film, path) the library keeps for this file's content: the film itself, or the copy it
    duplicates (:func:`filmaster_dag.runs.original_film`). A duplicate's own rows, left by an
    ingest before its twin existed, are removed: the library holds one set of shots per content."""
    index = reference_index.open()
    held = set(index.filter(f"source_sha256 = {sql_literal(info.sha256)}", columns=["film"])["film"])
    twins = inbox.same_content(film, info.sha256, info.file_size)
    original = original_film(film, held - {film}, twins, film in held)
    if original == film:
        return film, info.path
    if film in held:
        index.delete_film(film)
    path = str(twins[original]) if original in twins else _source_file(store, original)
    return original, path


@dg.asset(partitions_def=films, group_name=GROUP, kinds={"python", "pyav"})
def film_source(context: dg.AssetExecutionContext, inbox: FilmInbox, store: MediaStore, reference_index: ReferenceIndex) -> dict:
    """The film file as the container describes it, probed with PyAV: container, codecs, size,
    display aspect, rotation, frame rate (constant or variable), duration, frame count, audio
    streams, file size and sha256. Fails its own partition with a one-line message for empty,
    truncated, non-video or audio-only files.

    A file holding exactly the bytes of another film (a copy under another name) is recorded as a
    duplicate of it, with both paths (``duplicate_of``, ``duplicate_of_path``): nothing further is
    decoded or indexed, so the library keeps one set of shots and retrieval never offers the same
    footage twice."""
    film = context.partition_key
    report(film, "probing")
    with film_errors(context, store):
        path = inbox.path_for(film)
    with film_errors(context, store, str(path)):
        stat = path.stat()  # before hashing: a later change of the file shows as a newer stat
        info = probe(path, film)
        original, original_path = _original(film, info, inbox, reference_index, store)
    swept = store.sweep_partials(LIBRARY, film)
    duplicate = {"duplicate_of": original, "duplicate_of_path": original_path} if original != film else {}
    if duplicate:
        context.log.info(f"{film}: same content (sha256) as film {original} ({original_path}); recorded as its duplicate, not indexed")
    context.add_output_metadata(
        {
            "source_path": dg.MetadataValue.path(str(path)),
            "container": info.container,
            "video_codec": info.video_codec,
            "resolution": f"{info.display_width}x{info.display_height}",
            "rotation": info.rotation,
            "frame_rate": float(info.frame_rate),
            "variable_frame_rate": info.variable_frame_rate,
            "duration_s": info.duration_s,
            "frame_count": info.frame_count,
            "audio_streams": len(info.audio_streams),
            "file_size": info.file_size,
            "source_mtime_ns": stat.st_mtime_ns,
            "sha256": info.sha256,
            "partial_files_swept": swept,
            **({"duplicate_of": original, "duplicate_of_path": dg.MetadataValue.path(original_path)} if duplicate else {}),
        }
    )
    return {**info.to_record(), "source_size": stat.st_size, "source_mtime_ns": stat.st_mtime_ns, **duplicate}


_DECODE_OUTPUTS = {
    "shots": dg.AssetOut(
        is_required=False,
        kinds={"python", "scenedetect"},
        description="Shot boundaries with exact frame indices and times, each boundary's kind (cut, dissolve, fade) and "
        "confidence, and the frames of each shot outside any transition.",
    ),
    "frame_signals": dg.AssetOut(
        is_required=False,
        kinds={"python", "opencv"},
        description="One row per decoded frame: camera motion (content dx/dy, zoom, roll, RANSAC inlier ratio), motion "
        "energy, light and colour, sharpness, and the shot detector's per-frame scores (cut_*).",
    ),
    "keyframe_candidates": dg.AssetOut(
        is_required=False,
        kinds={"python"},
        description="Frames sampled twice a second with their sharpness and brightness; the JPEG is kept only for the "
        "candidates keyframe choice can pick.",
    ),
    "film_rhythm": dg.AssetOut(
        is_required=False,
        kinds={"python", "librosa"},
        description="The film's rhythm: average/median shot length and the shot-length distribution; from the soundtrack "
        "(librosa) the tempo, beat times, per-shot onset strength and loudness, the fraction of cuts that land on a beat, "
        "and how the soundtrack carries on across each cut (for sequences).",
    ),
}


def _selected_outputs(context: dg.AssetExecutionContext) -> set[str]:
    """The outputs this run asked for (every output when the function is invoked directly)."""
    every = set(_DECODE_OUTPUTS)
    try:
        return {key.path[-1] for key in context.selected_asset_keys} & every or every
    except (AttributeError, dg.DagsterInvalidPropertyError):  # direct invocation with dg.build_asset_context
        return every


@dg.multi_asset(
    partitions_def=films,
    group_name=GROUP,
    outs=_DECODE_OUTPUTS,
    can_subset=True,
)
def decode_pass(context: dg.AssetExecutionContext, film_source: dict, detection: ShotDetection, store: MediaStore):
    """The film decoded exactly once, feeding every frame analyser: the shot detector, the
    per-frame camera signals and the keyframe candidates; the soundtrack decodes and is measured in
    a second thread meanwhile (PyAV and librosa release the GIL), and its rhythm is cut to the shots
    once they are known. Selecting any subset of the outputs runs the pass and yields just those."""
    film = context.partition_key
    if film_source.get("duplicate_of"):  # a copy of a film the library holds: nothing to decode or index
        context.log.info(f"{film} is a duplicate of {film_source['duplicate_of']}: not decoded")
        return
    selected = _selected_outputs(context)
    path = film_source["path"]
    with film_errors(context, store, path):
        info = FilmProbe.from_record(film_source)
        report(film, "decoding", 0, info.frame_count)
        pictures, soundtrack, _ = lib.analyse_pictures_and_soundtrack(
            path, film, info, detection.config(), detection.analysis_width, detection.transition_network(), "film_rhythm" in selected
        )
        rhythm = lib.rhythm_record(pictures.shots, film_source["duration_s"], soundtrack) if soundtrack is not None else None
    df, d = pictures.shots, pictures.decode
    if "shots" in selected:
        yield dg.Output(
            df,
            "shots",
            metadata={
                "shot_count": len(df),
                "cuts": int((df["transition_in"] == "cut").sum()),
                "gradual_transitions": int(df["transition_in"].isin(GRADUAL_KINDS).sum()),
                "opens_with_fade_in": bool(len(df) and df["transition_in"].iloc[0] == TransitionIn.FADE_IN),
                "detector": detection.detector,
                "frames_decoded": d.frame_count,
                "decode_pass_s": round(d.wall_seconds, 3),
                "analysers_s": round(d.analyse_seconds, 3),
                "film_s_per_wall_s": round(d.duration_s / max(d.wall_seconds, 1e-9), 1),
                "damaged_ranges_s": dg.MetadataValue.json([list(r) for r in d.damaged_ranges]),
                "notes": "; ".join(d.notes) or "none",
                "preview": _md_table(
                    df[["shot_index", "start_frame", "end_frame", "start_s", "duration_s", "transition_in", "transition_in_confidence"]]
                ),
            },
        )
    if "frame_signals" in selected:
        columns = dg.MetadataValue.json(list(pictures.signals.columns))
        yield dg.Output(pictures.signals, "frame_signals", metadata={"frames": len(pictures.signals), "columns": columns})
    if "keyframe_candidates" in selected:
        kept = int(pictures.candidates["jpeg"].notna().sum())
        yield dg.Output(
            pictures.candidates, "keyframe_candidates", metadata={"candidates": len(pictures.candidates), "pictures_kept": kept}
        )
    if rhythm is not None:
        report(film, "rhythm")
        yield dg.Output(
            rhythm,
            "film_rhythm",
            metadata={
                "average_shot_length_s": round(rhythm["average_shot_length_s"], 3),
                "median_shot_length_s": round(rhythm["median_shot_length_s"], 3),
                "cuts_per_minute": round(rhythm["cuts_per_minute"], 2),
                "tempo_bpm": round(rhythm["tempo_bpm"], 1) if rhythm["tempo_bpm"] else "no soundtrack",
                "cuts_on_beat_fraction": rhythm["cuts_on_beat_fraction"] if rhythm["cuts_on_beat_fraction"] is not None else "n/a",
                "has_audio": rhythm["has_audio"],
            },
        )


@dg.asset(partitions_def=films, group_name=GROUP, kinds={"python", "opencv"})
def keyframes(
    context: dg.AssetExecutionContext, film_source: dict, shots: pd.DataFrame, keyframe_candidates: pd.DataFrame, store: MediaStore
) -> pd.DataFrame:
    """Up to three sharp, representative keyframes per shot (never inside a transition, never a
    black or motion-blurred frame when a better one exists) as JPEGs in the MediaStore, and a
    contact sheet of the film (one tile per shot) shown here."""
    film = context.partition_key
    report(film, "keyframes")
    with film_errors(context, store, film_source["path"]):
        info = FilmProbe.from_record(film_source)
        table, missing = lib.choose_keyframes(shots, keyframe_candidates, path=film_source["path"], film=film, probe=info)
        files = {f"shot{r.shot_index:04d}_{r.rank}_f{r.frame:06d}.jpg": bytes(r.jpeg) for r in table.itertuples(index=False)}
        folder = store.replace_folder(files, LIBRARY, film, "keyframes")
        table = table.assign(path=[store.uri(*folder, name) for name in files])
        prim = table[table["primary"]].merge(shots[["shot_index", "start_s"]], on="shot_index")
        sheet = kf.contact_sheet([(f"#{r.shot_index} {r.start_s:.2f}s", bytes(r.jpeg)) for r in prim.itertuples()])
        sheet_path = store.write_bytes(sheet, LIBRARY, film, "contact_sheet.jpg")
        small = kf.contact_sheet([(f"#{r.shot_index}", bytes(r.jpeg)) for r in prim.itertuples()], columns=6, thumb_width=120)
    context.add_output_metadata(
        {
            "keyframe_count": len(table),
            "shots_with_keyframes": int(table["shot_index"].nunique()),
            "shots_without_keyframes": len(missing),
            "contact_sheet_path": dg.MetadataValue.path(sheet_path),
            "contact_sheet": _jpeg_md(small, "contact sheet"),
        }
    )
    return table.drop(columns=["jpeg"])


def _keyframe_jpegs(store: MediaStore, keyframes: pd.DataFrame) -> pd.DataFrame:
    """The keyframe table with its JPEG bytes read back from the MediaStore."""
    return keyframes.assign(jpeg=[store.read_path(p) for p in keyframes["path"]])


@dg.asset(partitions_def=films, group_name=GROUP, kinds={"python", "opencv"})
def camera_language(
    context: dg.AssetExecutionContext, shots: pd.DataFrame, frame_signals: pd.DataFrame, keyframes: pd.DataFrame, store: MediaStore
) -> pd.DataFrame:
    """Per shot, measured from pixels: camera movement (static, pan, tilt, push-in, pull-out,
    handheld, complex) with speed, shot scale from detected faces and people, lighting key,
    brightness, contrast, saturation, colour temperature, a small palette, and motion energy."""
    report(context.partition_key, "camera language")
    with film_errors(context, store):
        df = lib.measure_camera_language(shots, frame_signals, _keyframe_jpegs(store, keyframes))
    context.add_output_metadata(
        {
            "shots_measured": len(df),
            "movements": dg.MetadataValue.json(df["movement"].value_counts().to_dict()),
            "shot_scales": dg.MetadataValue.json(df["shot_scale"].value_counts().to_dict()),
            "preview": _md_table(df[["shot_index", "movement", "movement_speed", "shot_scale", "lighting_key", "colour_temperature_k"]]),
        }
    )
    return df


@dg.asset(partitions_def=films, group_name=GROUP, kinds={"python", "opencv"})
def reference_sequences(
    context: dg.AssetExecutionContext,
    shots: pd.DataFrame,
    film_rhythm: dict,
    keyframes: pd.DataFrame,
    camera_language: pd.DataFrame,
    shot_embeddings: pd.DataFrame,
    store: MediaStore,
) -> pd.DataFrame:
    """Consecutive shots grouped into sequences (a scene, a beat of action) by several continuity
    signals across each cut: keyframe structure (feature matches, structural similarity), colour,
    the shot-scale chain, the soundtrack carrying on across the cut and, with real weights, CLIP;
    a shot that returns to an earlier set-up (A-B-A) stays in its sequence, a fade starts a new
    one. Each sequence carries its camera-language chain (e.g. wide static -> medium pan_right ->
    close_up static): the units the planner retrieves per scene."""
    film = context.partition_key
    report(film, "sequences")
    with film_errors(context, store):
        audio = lib.audio_continuity(film_rhythm)
        vectors = {int(i): np.asarray(v, np.float32) for i, v in zip(shot_embeddings["shot_index"], shot_embeddings["vector"])}
        seqs = lib.build_sequences(film, shots, camera_language, _keyframe_jpegs(store, keyframes), audio, vectors or None)
    context.add_output_metadata(
        {
            "sequence_count": len(seqs),
            "soundtrack_used": any(v is not None for v in audio.values()),
            "clip_vectors_used": bool(vectors),
            "preview": _md_table(seqs[["sequence_id", "shot_count", "duration_s", "break_reason", "camera_chain"]]),
        }
    )
    return seqs


@dg.asset(partitions_def=films, group_name=GROUP, kinds={"python", "pytorch"})
def shot_embeddings(context: dg.AssetExecutionContext, keyframes: pd.DataFrame, embedder: ShotEmbedder, store: MediaStore) -> pd.DataFrame:
    """open_clip image embeddings of each shot's primary keyframe: one L2-normalised vector per
    shot. With no real weights configured this writes no vectors and says so: random vectors
    must never pass as semantic ones."""
    film = context.partition_key
    empty = pd.DataFrame({"shot_index": pd.Series(dtype="int64"), "vector": pd.Series(dtype="object")})
    if not embedder.available:
        context.add_output_metadata({"status": "no vectors", "reason": embedder.why_unavailable, "vectors": 0})
        return empty
    report(film, "embeddings")
    with film_errors(context, store):
        primary = _keyframe_jpegs(store, keyframes[keyframes["primary"]])
        t0 = time.perf_counter()
        vectors = embedder.embed_images([kf.decode_jpeg_rgb(bytes(j)) for j in primary["jpeg"]])
    df = pd.DataFrame({"shot_index": primary["shot_index"].to_numpy(), "vector": [v.tolist() for v in vectors]})
    context.add_output_metadata(
        {
            "status": "embedded",
            "model": embedder.identity,
            "vectors": len(df),
            "dim": int(vectors.shape[1]) if len(vectors) else 0,
            "seconds": round(time.perf_counter() - t0, 3),
        }
    )
    return df


@dg.asset(partitions_def=films, group_name=GROUP, kinds={"lancedb"}, pool="lancedb_writer")
def reference_index(
    context: dg.AssetExecutionContext,
    film_source: dict,
    shots: pd.DataFrame,
    keyframes: pd.DataFrame,
    camera_language: pd.DataFrame,
    film_rhythm: dict,
    reference_sequences: pd.DataFrame,
    shot_embeddings: pd.DataFrame,
    reference_index: ReferenceIndex,
    store: MediaStore,
) -> dict:
    """The film's rows in the LanceDB ``shots`` and ``sequences`` tables: every measurement, a
    plain-language description, and the CLIP vector when real weights are configured. Upserted
    with ``merge_insert`` keyed by ``shot_id``, replacing exactly this film's rows; an unchanged
    film commits nothing."""
    film = context.partition_key
    report(film, "indexing")
    sha = film_source["sha256"]
    with film_errors(context, store, film_source["path"]):
        per_shot = pd.DataFrame(film_rhythm.get("per_shot") or {"shot_index": shots["shot_index"]})
        rows = lib.shot_records(shots, camera_language, per_shot, keyframes, reference_sequences, sha)
        vectors = dict(zip(shot_embeddings["shot_index"], shot_embeddings["vector"])) if len(shot_embeddings) else {}
        rows["vector"] = [vectors.get(i) for i in rows["shot_index"]]
        seqs = reference_sequences.assign(source_sha256=sha)
        # upsert_film also creates any missing index: FTS and scalar ones at once, the vector index
        # the first time enough rows have a vector (later rows are folded in by the compaction job)
        result = reference_index.open().upsert_film(film, rows, seqs)
    context.add_output_metadata(
        {
            "shot_rows": len(rows),
            "sequence_rows": len(seqs),
            "vectors": int(sum(v is not None for v in rows["vector"])),
            "source_sha256": sha,
            "source_size": int(film_source.get("source_size", 0)),
            "source_mtime_ns": int(film_source.get("source_mtime_ns", 0)),
            "source_path": dg.MetadataValue.path(film_source["path"]),
            "table_version": dg.MetadataValue.json(result),
            "uri": reference_index.uri,
            "preview": _md_table(rows[["shot_id", "description"]]),
        }
    )
    scalars = {k: v for k, v in result.items() if isinstance(v, (int, str, float, bool))}
    return {"film": film, "source_sha256": sha, "shot_ids": list(rows["shot_id"]), "sequence_ids": list(seqs["sequence_id"]), **scalars}


library_assets = [film_source, decode_pass, keyframes, camera_language, reference_sequences, shot_embeddings, reference_index]
