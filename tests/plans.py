"""Shot plans for tests: planned shots grouped into their scenes, as the planner would return them."""

from __future__ import annotations

from filmaster_dag.cinema.planning.models import PlannedShot, Provenance, ScenePlan, ShotPlan


def shot_plan(
    shots: list[PlannedShot], fps: str, *, production: str = "test", target_duration_s: float, width: int = 64, height: int = 48
) -> ShotPlan:
    """A plan of ``shots`` (in film order) at ``fps``: one scene per ``scene_id`` (in order of first appearance), each
    lasting its shots' length, written by the rules."""
    scenes: dict[str, list[PlannedShot]] = {}
    for shot in shots:
        scenes.setdefault(shot.scene_id, []).append(shot)
    return ShotPlan(
        production=production,
        frame_rate=fps,
        width=width,
        height=height,
        target_duration_s=target_duration_s,
        scenes=[
            ScenePlan(scene_id=k, duration_s=sum(s.duration_s for s in v), shots=v, provenance=Provenance(by="rules"))
            for k, v in scenes.items()
        ],
    )
