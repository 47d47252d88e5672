"""Asset checks of the reference library, evaluated per film partition."""

import warnings

import dagster as dg
import pandas as pd

from .partitions import films
from .resources.index import ReferenceIndex

# Partitioned asset checks are a preview feature of Dagster 1.13; we rely on them knowingly.
warnings.filterwarnings("ignore", category=dg.PreviewWarning, message=".*partitions_def on an AssetCheckSpec.*")


@dg.asset_check(asset="keyframes", partitions_def=films, additional_ins={"shots": dg.AssetIn("shots")})
def every_shot_has_keyframes(keyframes: pd.DataFrame, shots: pd.DataFrame) -> dg.AssetCheckResult:
    """Each shot of the film has at least one keyframe."""
    missing = sorted(set(shots["shot_index"]) - set(keyframes["shot_index"]))
    return dg.AssetCheckResult(passed=not missing, metadata={"shots": len(shots), "missing": str(missing[:20])})


@dg.asset_check(asset="camera_language", partitions_def=films, additional_ins={"shots": dg.AssetIn("shots")})
def every_shot_is_measured(camera_language: pd.DataFrame, shots: pd.DataFrame) -> dg.AssetCheckResult:
    """Each shot has a camera-language record with a movement and lighting measurement."""
    measured = camera_language.dropna(subset=["movement", "brightness"])
    missing = sorted(set(shots["shot_index"]) - set(measured["shot_index"]))
    return dg.AssetCheckResult(passed=not missing, metadata={"shots": len(shots), "missing": str(missing[:20])})


@dg.asset_check(asset="shots", partitions_def=films, additional_ins={"film_source": dg.AssetIn("film_source")})
def shot_durations_sum_to_film(shots: pd.DataFrame, film_source: dict) -> dg.AssetCheckResult:
    """Shot durations add up to the film's duration within one frame, with no gap or overlap."""
    frame = 1.0 / float(film_source["frame_rate"])
    total = float(shots["duration_s"].sum())
    contiguous = bool((shots["start_frame"].iloc[1:].to_numpy() == shots["end_frame"].iloc[:-1].to_numpy()).all())
    error = abs(total - float(film_source["duration_s"]))
    return dg.AssetCheckResult(
        passed=error <= frame + 1e-6 and contiguous,
        metadata={"sum_of_shots_s": total, "film_duration_s": film_source["duration_s"], "error_s": error, "contiguous": contiguous},
    )


@dg.asset_check(asset="reference_index", partitions_def=films, additional_ins={"shots": dg.AssetIn("shots")})
def index_rows_match_shots(
    context: dg.AssetCheckExecutionContext, shots: pd.DataFrame, reference_index: ReferenceIndex
) -> dg.AssetCheckResult:
    """The film's rows in LanceDB equal its shots, and no shot_id appears twice in the table."""
    film = context.partition_key
    index = reference_index.open()
    rows = index.film_rows(film)
    duplicates = index.duplicate_shot_ids()
    expected = {f"{film}/{i:04d}" for i in shots["shot_index"]}
    got = set(rows["shot_id"])
    return dg.AssetCheckResult(
        passed=got == expected and len(rows) == len(expected) and len(duplicates) == 0,
        metadata={"shots": len(expected), "index_rows": len(rows), "duplicate_shot_ids": len(duplicates)},
    )


library_checks = [every_shot_has_keyframes, every_shot_is_measured, shot_durations_sum_to_film, index_rows_match_shots]
