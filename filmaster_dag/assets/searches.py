"""Saved searches of the reference library as an asset: each search's hits and contact sheet in the UI.

Thin wiring over :mod:`filmaster_dag.index.search` (the same :func:`find_shots` and
:func:`hits_sheet` the ``filmaster search`` command uses, so a saved search shows exactly the hits
the command printed). Re-materialized whenever the library changes (the
``saved_searches_on_library_change`` sensor, on by default) and by ``filmaster search ... --save NAME``.
"""

import dagster as dg
import pandas as pd

from ..index.search import SearchError, find_shots, hits_sheet
from ..resources.embedder import ShotEmbedder
from ..resources.index import ReferenceIndex
from ..resources.searches import SavedSearchError, SavedSearches, load_search
from ..resources.storage import MediaStore
from .library import _md_table, jpeg_markdown

GROUP = "library_search"
SEARCHES = "searches"
#: Run when any film's index rows change (or the asset was never made); unlike ``eager()`` a film
#: that failed (no index rows) does not hold the searches back.
LIBRARY_CHANGED = (
    (dg.AutomationCondition.missing() | dg.AutomationCondition.any_deps_updated()).since_last_handled()
    & ~dg.AutomationCondition.in_progress()
).with_label("the library changed")

#: Evaluates :data:`LIBRARY_CHANGED` (on by default, unlike Dagster's default automation sensor).
saved_searches_sensor = dg.AutomationConditionSensorDefinition(
    "saved_searches_on_library_change",
    target=dg.AssetSelection.groups(GROUP),
    default_status=dg.DefaultSensorStatus.RUNNING,
    minimum_interval_seconds=60,
    description="Re-runs the saved searches when any film's rows in the library change.",
)

COLUMNS = ["search", "rank", "score", "shot_id", "film", "timecode", "duration_s", "keyframe", "description", "alike", "sheet"]


@dg.asset(
    group_name=GROUP,
    kinds={"lancedb"},
    deps=[dg.AssetKey("reference_index")],
    automation_condition=LIBRARY_CHANGED,
)
def saved_searches(
    context: dg.AssetExecutionContext, searches: SavedSearches, reference_index: ReferenceIndex, embedder: ShotEmbedder, store: MediaStore
) -> pd.DataFrame:
    """Every saved search (``FILMASTER_SEARCHES``, default ``examples/searches``) run against the
    library: one row per hit (search, rank, score, shot, film, SMPTE timecode, keyframe) and, per
    search, a contact sheet of its hits in the MediaStore (``searches/<name>.jpg``) shown here.
    A search file that cannot be read or run is listed with its one-line error (and fails the
    ``every_saved_search_runs`` check); the other searches still run."""
    index = reference_index.open()
    frames, errors, meta = [], {}, {}
    found = searches.scan()
    for name, path in found.items():
        try:
            result = find_shots(index, load_search(path), embedder)
        except (SavedSearchError, SearchError) as err:
            errors[name] = str(err)
            continue
        table = result.table()
        sheet = hits_sheet(result, store.read_path)
        sheet_path = store.write_bytes(sheet, SEARCHES, f"{name}.jpg") if sheet else ""
        frames.append(table.assign(search=name, sheet=sheet_path))
        title = result.query.title or name
        read_as = f" (read as: {result.read_as})" if result.read_as else ""
        picture = jpeg_markdown(sheet, name) + "\n\n" if sheet else ""
        listing = table.drop(columns=["description", "keyframe"]).to_markdown(index=False) if len(table) else "no shot matches"
        meta[f"search: {name}"] = dg.MetadataValue.md(
            f"**{title}**: {len(table)} hits, ranked by {result.ranked_by}{read_as}\n\n{picture}{listing}"
        )
    hits = pd.concat(frames, ignore_index=True).reindex(columns=COLUMNS).fillna({"alike": ""}) if frames else pd.DataFrame(columns=COLUMNS)
    context.add_output_metadata(
        {
            "searches": len(found),
            "hits": len(hits),
            "folder": dg.MetadataValue.path(str(searches.root)),
            "errors": dg.MetadataValue.json(errors),
            **meta,
            "preview": _md_table(hits.drop(columns=["description", "keyframe", "sheet"]), limit=40),
        }
    )
    context.log.info(f"{len(frames)} saved searches ran, {len(errors)} could not: {'; '.join(errors.values()) or 'none'}")
    failed = pd.DataFrame({"search": list(errors), "error": list(errors.values())}, columns=[*COLUMNS, "error"])
    return pd.concat([hits.assign(error=""), failed], ignore_index=True)


@dg.asset_check(asset=saved_searches, description="Every saved-search file reads and runs (a bad one is named, with its error).")
def every_saved_search_runs(saved_searches: pd.DataFrame) -> dg.AssetCheckResult:
    failed = saved_searches[saved_searches["error"].fillna("") != ""]
    return dg.AssetCheckResult(
        passed=failed.empty,
        metadata={"failed": dg.MetadataValue.json(dict(zip(failed["search"], failed["error"])))},
        description="; ".join(failed["error"]) or "every saved search ran",
    )


search_assets = [saved_searches]
search_checks = [every_saved_search_runs]
