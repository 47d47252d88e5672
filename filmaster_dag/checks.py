"""Asset checks of the reference library (per film) and of productions (per brief)."""

import warnings
from fractions import Fraction

import dagster as dg
import pandas as pd

from .assets.production import stored_brief
from .cinema.media import probe
from .cinema.planning import ShotPlan
from .cinema.planning.shots import plan_problems
from .partitions import films, productions
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


@dg.asset_check(asset="shot_plan", partitions_def=productions, additional_ins={"production_brief": dg.AssetIn("production_brief")})
def shot_plan_fits_the_brief(shot_plan: ShotPlan, production_brief: dict) -> dg.AssetCheckResult:
    """The plan's durations add up to the target within one second, every scene has a shot, every
    line has a shot long enough to say it, lengths are whole frames, words are the vocabulary's."""
    brief = stored_brief(production_brief)
    problems = plan_problems(shot_plan, brief)
    return dg.AssetCheckResult(
        passed=not problems,
        metadata={"duration_s": round(shot_plan.duration_s, 3), "target_s": brief.target_duration_s, "problems": "; ".join(problems[:5])},
    )


@dg.asset_check(asset="generated_shots", partitions_def=productions, additional_ins={"shot_plan": dg.AssetIn("shot_plan")})
def every_shot_generated_as_planned(generated_shots: pd.DataFrame, shot_plan: ShotPlan) -> dg.AssetCheckResult:
    """Each planned shot has a clip of its exact frame count, size and frame rate."""
    planned = {s.shot_id: s for s in shot_plan.shots}
    wrong = []
    for row in generated_shots.itertuples():
        shot = planned.get(row.shot_id)
        info = probe(row.path)
        if shot is None or info.width != shot_plan.width or info.height != shot_plan.height or info.frame_count != shot.frames:
            wrong.append(f"{row.shot_id}: {info.width}x{info.height} {info.frame_count} frames")
        elif abs(float(info.frame_rate) - float(shot_plan.fps)) > 1e-3:
            wrong.append(f"{row.shot_id}: {info.frame_rate} fps")
    missing = sorted(set(planned) - set(generated_shots["shot_id"]))
    return dg.AssetCheckResult(
        passed=not wrong and not missing,
        metadata={"clips": len(generated_shots), "wrong": "; ".join(wrong[:5]), "missing": str(missing[:10])},
    )


@dg.asset_check(asset="generated_shots", partitions_def=productions)
def no_shot_fell_back(generated_shots: pd.DataFrame) -> dg.AssetCheckResult:
    """Every shot came from the configured generator; a shot that failed and fell back to the
    ripomatic (or a slate) is listed with why (a warning: the production still has every shot)."""
    fell = generated_shots[generated_shots["fallback_reason"].astype(bool)]
    return dg.AssetCheckResult(
        passed=fell.empty,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "fallbacks": len(fell),
            "shots": ", ".join(fell["shot_id"].head(20)),
            "reasons": "; ".join(fell["fallback_reason"].head(5)),
        },
    )


production_checks = [shot_plan_fits_the_brief, every_shot_generated_as_planned, no_shot_fell_back]


@dg.asset_check(asset="final_film", partitions_def=productions, additional_ins={"sound_design": dg.AssetIn("sound_design")})
def final_film_matches_the_cut(final_film: dict, sound_design: dict) -> dg.AssetCheckResult:
    """The film decodes to exactly the timeline's frames, and its sound lasts as long as its picture (within one frame)."""
    probed = final_film["probe"]
    fps = float(Fraction(str(probed["frame_rate"])))
    frames_ok = int(probed["video_frames"]) == int(final_film["timeline_frames"])
    audio_ok = abs(float(probed["audio_s"]) - float(probed["video_s"])) <= 1.0 / fps + 1e-6
    return dg.AssetCheckResult(
        passed=frames_ok and audio_ok,
        metadata={
            "video_frames": int(probed["video_frames"]),
            "timeline_frames": int(final_film["timeline_frames"]),
            "video_s": float(probed["video_s"]),
            "audio_s": float(probed["audio_s"]),
            "mix": dg.MetadataValue.path(sound_design["mix"]),
        },
    )


@dg.asset_check(asset="sound_design", partitions_def=productions)
def mix_meets_the_loudness_target(sound_design: dict) -> dg.AssetCheckResult:
    """The mix is within 1 LU of its integrated-loudness target, its true peak at or under the ceiling, nothing clipped."""
    loud = sound_design["loudness"]
    target = float(loud["target_lufs"])
    within = abs(float(loud["integrated_lufs"]) - target) <= 1.0
    peak_ok = float(loud["true_peak_dbtp"]) <= float(loud["ceiling_dbtp"]) + 1e-6
    clipped = int(loud.get("clipped_samples", 0))
    return dg.AssetCheckResult(
        passed=within and peak_ok and clipped == 0,
        metadata={
            "integrated_lufs": loud["integrated_lufs"],
            "target_lufs": round(target, 2),
            "true_peak_dbtp": loud["true_peak_dbtp"],
            "clipped_samples": clipped,
        },
    )


@dg.asset_check(asset="deliverables", partitions_def=productions)
def deliverables_read_back(deliverables: dict) -> dg.AssetCheckResult:
    """The OTIO, FCP 7 XML, FCP X XML and EDL read back through OTIO with the same picture cut (clip names, in order)."""
    import opentimelineio as otio

    def names(path: str) -> list[str]:
        tl = otio.adapters.read_from_file(path)
        return [c.name for c in tl.video_tracks()[0].find_clips(shallow_search=True)]

    reference = names(deliverables["otio"])
    found = {}
    for key in ("fcp_xml", "fcpx_xml", "edl"):
        try:
            found[key] = names(deliverables[key])
        except Exception as err:  # a file no editor could open is exactly what this check reports
            found[key] = [f"unreadable: {type(err).__name__}: {err}"]
    same = {k: len(v) == len(reference) for k, v in found.items()}
    return dg.AssetCheckResult(
        passed=all(same.values()), metadata={"clips": len(reference), **{f"{k}_same_clip_count": v for k, v in same.items()}}
    )


post_production_checks = [final_film_matches_the_cut, mix_meets_the_loudness_target, deliverables_read_back]
