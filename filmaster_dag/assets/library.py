"""Reference library assets: one partition per film, from the source file to the LanceDB index.

Thin Dagster wiring over :mod:`filmaster_dag.cinema.library`. Media (frames, keyframes, contact
sheets, per-frame signals) go to the MediaStore under ``library/<film>/``; the assets return
small tables that the IO manager persists, plus metadata for the UI.
"""


import base64
import time

import dagster as dg
import pandas as pd

from ..cinema import keyframes as kf
from ..cinema import library as lib
from ..cinema.media import FilmError, FilmProbe, probe
from ..partitions import films
from ..resources.detection import ShotDetection
from ..resources.embedder import ShotEmbedder
from ..resources.inbox import FilmInbox
from ..resources.index import ReferenceIndex
from ..resources.storage import MediaStore

GROUP = "reference_library"


def _film_failure(err: FilmError, film: str) -> dg.Failure:
    """The film's one-line error (film, file name, problem, fix) as this partition's failure."""
    if err.film != film:
        err = FilmError(err.path, err.problem, err.fix, film)
    return dg.Failure(description=str(err), allow_retries=False)


def _md_table(df: pd.DataFrame, limit: int = 20) -> dg.MetadataValue:
    return dg.MetadataValue.md(df.head(limit).to_markdown(index=False))


def _source(film_source: dict) -> tuple[str, FilmProbe]:
    """Path and probe of a film as recorded by ``film_source`` (no re-probe)."""
    return film_source["path"], film_source["_probe"]


@dg.asset(
    partitions_def=films,
    group_name=GROUP,
    kinds={"python", "pyav"},
)
def film_source(context: dg.AssetExecutionContext, inbox: FilmInbox, store: MediaStore) -> dict:
    """The film file as the container describes it, probed with PyAV: container, codecs, size,
    display aspect, rotation, frame rate (constant or variable), duration, frame count, audio
    streams, file size and sha256. Fails its own partition with a one-line message for empty,
    truncated, non-video or audio-only files."""
    film = context.partition_key
    path = inbox.path_for(film)
    try:
        info = probe(path, film)
    except FilmError as err:
        raise _film_failure(err, film) from err
    record = info.to_record()
    swept = store.sweep_partials("library", film)
    store.write_json(record, "library", film, "source.json")
    context.add_output_metadata(
        {
            "path": dg.MetadataValue.path(str(path)),
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
            "sha256": info.sha256,
            "partial_files_swept": swept,
        }
    )
    return {**record, "_probe": info}


@dg.asset(partitions_def=films, group_name=GROUP, kinds={"python", "scenedetect"})
def shots(context: dg.AssetExecutionContext, film_source: dict, detection: ShotDetection, store: MediaStore) -> pd.DataFrame:
    """Shot boundaries with exact frame indices and times, each boundary's kind (cut, dissolve,
    fade) and confidence. This asset decodes the film exactly once and feeds every frame analyser
    from that pass: the shot detector, the per-frame camera signals (motion, colour, sharpness)
    and the keyframe candidates, which are stored for ``keyframes`` and ``camera_language``."""
    film = context.partition_key
    path, info = _source(film_source)
    try:
        pictures = lib.analyse_pictures(path, film, info, detection.config(), detection.analysis_width)
    except FilmError as err:
        raise _film_failure(err, film) from err
    store.write_table(pictures.signals, "library", film, "signals.parquet")
    store.write_table(pictures.candidates, "library", film, "keyframe_candidates.parquet")
    store.write_table(pictures.shots, "library", film, "shots.parquet")
    df = pictures.shots
    d = pictures.decode
    context.add_output_metadata(
        {
            "shot_count": len(df),
            "cuts": int((df["transition_in"] == "cut").sum()),
            "gradual_transitions": int(df["transition_in"].isin(["dissolve", "fade"]).sum()),
            "opens_with_fade_in": bool(df["transition_in"].iloc[0] == "fade_in"),
            "detector": detection.detector,
            "frames_decoded": d.frame_count,
            "decode_pass_s": round(d.wall_seconds, 3),
            "analysers_s": round(d.analyse_seconds, 3),
            "film_s_per_wall_s": round(d.duration_s / max(d.wall_seconds, 1e-9), 1),
            "notes": "; ".join(d.notes) or "none",
            "preview": _md_table(df[["shot_index", "start_frame", "end_frame", "start_s", "duration_s", "transition_in", "transition_in_confidence"]]),
        }
    )
    return df


@dg.asset(partitions_def=films, group_name=GROUP, kinds={"python", "opencv"})
def keyframes(context: dg.AssetExecutionContext, film_source: dict, shots: pd.DataFrame, store: MediaStore) -> pd.DataFrame:
    """Up to three sharp, representative keyframes per shot (never inside a transition, never a
    black or motion-blurred frame when a better one exists) as JPEGs in the MediaStore, and a
    contact sheet of the film (one tile per shot) shown here."""
    film = context.partition_key
    path, info = _source(film_source)
    candidates = store.read_table("library", film, "keyframe_candidates.parquet")
    table, missing = lib.choose_keyframes(shots, candidates, path=path, film=film, probe=info)
    keep = set()
    paths = []
    for r in table.itertuples(index=False):
        name = f"shot{r.shot_index:04d}_{r.rank}_f{r.frame:06d}.jpg"
        keep.add(name)
        paths.append(store.write_bytes(bytes(r.jpeg), "library", film, "keyframes", name))
    for stale in set(store.list("library", film, "keyframes")) - keep:
        store.remove("library", film, "keyframes", stale)
    table = table.assign(path=paths)
    prim = table[table["primary"]].merge(shots[["shot_index", "start_s"]], on="shot_index")
    sheet = kf.contact_sheet([(f"#{r.shot_index} {r.start_s:.2f}s", bytes(r.jpeg)) for r in prim.itertuples()])
    sheet_path = store.write_bytes(sheet, "library", film, "contact_sheet.jpg")
    small = kf.contact_sheet([(f"#{r.shot_index}", bytes(r.jpeg)) for r in prim.itertuples()], columns=6, thumb_width=120)
    context.add_output_metadata(
        {
            "keyframe_count": len(table),
            "shots_with_keyframes": int(table["shot_index"].nunique()),
            "shots_without_keyframes": len(missing),
            "contact_sheet_path": dg.MetadataValue.path(sheet_path),
            "contact_sheet": dg.MetadataValue.md(f"![contact sheet](data:image/jpeg;base64,{base64.b64encode(small).decode()})"),
        }
    )
    return table.drop(columns=["jpeg"])


def _keyframe_jpegs(store: MediaStore, keyframes: pd.DataFrame) -> pd.DataFrame:
    """The keyframe table with its JPEG bytes read back from the MediaStore."""
    return keyframes.assign(jpeg=[store.read_path(p) for p in keyframes["path"]])


@dg.asset(partitions_def=films, group_name=GROUP, kinds={"python", "opencv"})
def camera_language(context: dg.AssetExecutionContext, shots: pd.DataFrame, keyframes: pd.DataFrame, store: MediaStore) -> pd.DataFrame:
    """Per shot, measured from pixels: camera movement (static, pan, tilt, push-in, pull-out,
    handheld, complex) with speed, shot scale from detected faces and people, lighting key,
    brightness, contrast, saturation, colour temperature, a small palette, and motion energy."""
    film = context.partition_key
    signals = store.read_table("library", film, "signals.parquet")
    df = lib.measure_camera_language(shots, signals, _keyframe_jpegs(store, keyframes))
    store.write_table(df, "library", film, "camera_language.parquet")
    context.add_output_metadata(
        {
            "shots_measured": len(df),
            "movements": dg.MetadataValue.json(df["movement"].value_counts().to_dict()),
            "shot_scales": dg.MetadataValue.json(df["shot_scale"].value_counts().to_dict()),
            "preview": _md_table(df[[c for c in ("shot_index", "movement", "movement_speed", "shot_scale", "lighting_key", "colour_temperature_k") if c in df]]),
        }
    )
    return df


@dg.asset(partitions_def=films, group_name=GROUP, kinds={"python", "librosa"})
def film_rhythm(context: dg.AssetExecutionContext, film_source: dict, shots: pd.DataFrame, store: MediaStore) -> dict:
    """The film's rhythm: average/median shot length and the shot-length distribution; from the
    soundtrack (librosa) the tempo, beat times, per-shot onset strength and loudness, and the
    fraction of cuts that land on a beat."""
    film = context.partition_key
    path, _ = _source(film_source)
    try:
        soundtrack = lib.analyse_soundtrack(path, film)
    except FilmError as err:
        raise _film_failure(err, film) from err
    result = lib.measure_rhythm(shots, film_source["duration_s"], soundtrack)
    summary = {
        **result.stats.__dict__,
        "tempo_bpm": result.tempo_bpm,
        "beat_count": len(result.beat_times_s),
        "beat_times_s": result.beat_times_s,
        "cuts_on_beat_fraction": result.cuts_on_beat_fraction,
        "cut_beat_offsets_s": result.cut_beat_offsets_s,
        "has_audio": result.has_audio,
    }
    store.write_json(summary, "library", film, "rhythm.json")
    store.write_table(result.per_shot, "library", film, "rhythm_per_shot.parquet")
    context.add_output_metadata(
        {
            "average_shot_length_s": round(result.stats.average_shot_length_s, 3),
            "median_shot_length_s": round(result.stats.median_shot_length_s, 3),
            "cuts_per_minute": round(result.stats.cuts_per_minute, 2),
            "tempo_bpm": round(result.tempo_bpm, 1) if result.tempo_bpm else "no soundtrack",
            "cuts_on_beat_fraction": result.cuts_on_beat_fraction if result.cuts_on_beat_fraction is not None else "n/a",
            "has_audio": result.has_audio,
        }
    )
    return {**summary, "per_shot": result.per_shot}


@dg.asset(partitions_def=films, group_name=GROUP, kinds={"python"})
def reference_sequences(
    context: dg.AssetExecutionContext, shots: pd.DataFrame, keyframes: pd.DataFrame, camera_language: pd.DataFrame, store: MediaStore
) -> pd.DataFrame:
    """Consecutive shots grouped into sequences by visual continuity, each with its camera-language
    chain (e.g. wide static -> medium pan_right -> close_up static): the units the planner
    retrieves per scene."""
    film = context.partition_key
    seqs = lib.build_sequences(film, shots, camera_language, _keyframe_jpegs(store, keyframes[keyframes["primary"]]))
    store.write_table(seqs, "library", film, "sequences.parquet")
    context.add_output_metadata(
        {
            "sequence_count": len(seqs),
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
    if not embedder.available:
        store.remove("library", film, "embeddings.parquet")
        context.add_output_metadata({"status": "no vectors", "reason": embedder.why_unavailable, "vectors": 0})
        return pd.DataFrame({"shot_index": pd.Series(dtype="int64"), "vector": pd.Series(dtype="object")})
    primary = _keyframe_jpegs(store, keyframes[keyframes["primary"]])
    t0 = time.perf_counter()
    vectors = embedder.embed_images([kf.decode_jpeg_rgb(bytes(j)) for j in primary["jpeg"]])
    df = pd.DataFrame({"shot_index": primary["shot_index"].to_numpy(), "vector": list(vectors)})
    store.write_table(df.assign(vector=[v.tolist() for v in vectors]), "library", film, "embeddings.parquet")
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
) -> dict:
    """The film's rows in the LanceDB ``shots`` and ``sequences`` tables: every measurement, a
    plain-language description, and the CLIP vector when real weights are configured. Upserted
    with ``merge_insert`` keyed by ``shot_id``, replacing exactly this film's rows."""
    film = context.partition_key
    rows = lib.shot_records(shots, camera_language, film_rhythm["per_shot"])
    primary = keyframes[keyframes["primary"]].set_index("shot_index")["path"]
    rows["keyframe_path"] = rows["shot_index"].map(primary).fillna("")
    seq_of_shot = {sid: s for s, ids in zip(reference_sequences["sequence_id"], reference_sequences["shot_ids"]) for sid in ids}
    rows["sequence_id"] = rows["shot_id"].map(seq_of_shot).fillna("")
    rows["source_sha256"] = film_source["sha256"]
    vectors = dict(zip(shot_embeddings["shot_index"], shot_embeddings["vector"])) if len(shot_embeddings) else {}
    rows["vector"] = [vectors.get(i) for i in rows["shot_index"]]
    seqs = reference_sequences.assign(source_sha256=film_source["sha256"])
    index = reference_index.open()
    # upsert_film also creates any missing index: FTS and scalar ones at once, the vector index
    # the first time enough rows have a vector (later rows are folded in by the compaction job)
    result = index.upsert_film(film, rows.drop(columns=["usable_first_frame", "usable_last_frame"], errors="ignore"), seqs)
    context.add_output_metadata(
        {
            "shot_rows": len(rows),
            "sequence_rows": len(seqs),
            "vectors": int(sum(v is not None for v in rows["vector"])),
            "table_version": dg.MetadataValue.json(result),
            "uri": reference_index.uri,
            "preview": _md_table(rows[["shot_id", "description"]]),
        }
    )
    return {"film": film, "shot_ids": list(rows["shot_id"]), "sequence_ids": list(seqs["sequence_id"]), **{k: v for k, v in result.items() if isinstance(v, (int, str, float))}}


library_assets = [film_source, shots, keyframes, camera_language, film_rhythm, reference_sequences, shot_embeddings, reference_index]
