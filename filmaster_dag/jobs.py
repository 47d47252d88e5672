"""Jobs over the asset graph."""

import dagster as dg

from .resources.index import ReferenceIndex

library_job = dg.define_asset_job(
    "reference_library_job",
    selection=dg.AssetSelection.groups("reference_library"),
    description="Ingest one film into the reference library: probe, decode pass (shots, frame signals, keyframe candidates), "
    "keyframes, camera language, rhythm, sequences, embeddings, index. Runs in one process: see definitions.py.",
    executor_def=dg.in_process_executor,
)

production_job = dg.define_asset_job(
    "production_job",
    selection=dg.AssetSelection.groups("production", "post_production"),
    description="Produce one brief, brief to film: the brief read and checked, the script, scene-level references from the library, "
    "the coordinated shot plan and the generated shots (clips cached by content); then the rough cut, the audience review, "
    "the fine cut, the sound design and mix, the final film, the editor's deliverables and the film's evaluation.",
    executor_def=dg.in_process_executor,
)

saved_searches_job = dg.define_asset_job(
    "saved_searches_job",
    selection=dg.AssetSelection.groups("library_search"),
    description="Run every saved search against the reference library: hits and a contact sheet per search, shown in the UI.",
    executor_def=dg.in_process_executor,
)


@dg.op
def compact_reference_index(context: dg.OpExecutionContext, reference_index: ReferenceIndex) -> None:
    """Compact the LanceDB tables, prune old versions past the retention window and refresh indexes."""
    stats = reference_index.open().optimize()
    context.log.info(f"reference index optimised: {stats}")


@dg.job(description="Compact and re-index the LanceDB reference library.")
def library_maintenance_job():
    compact_reference_index()
