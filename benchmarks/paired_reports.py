"""Is setting B better than setting A, beyond the noise of a few dozen cases? Paired eval reports.

    python benchmarks/paired_reports.py A1.json B1.json [A2.json B2.json ...] [--boot 5000]

Each pair is two `omnitalker eval` reports of the same cases (same corpus, seed, sentence offset)
under two settings. Differences are taken case by case and pooled over the pairs: the error rate
per sentence set, then over all cases the per-clip measures a checkpoint choice also trades
(style distance and rank-1, voice similarity to the own reference, lip-to-speech correlation);
the 95 % interval of their mean comes from a bootstrap over cases. A pair whose cases differ is
refused. Figures only.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

SETS = ("en", "zh", "mixed")
# (report row key, label, +1 where higher is better / -1 where lower is)
CLIP_MEASURES = (
    ("gen_style_dist", "style distance", -1),
    ("gen_rank1", "style rank-1", +1),
    ("gen_resemblyzer_own", "voice cos, resemblyzer", +1),
    ("gen_dvector_own", "voice cos, d-vector", +1),
    ("gen_sync_corr", "lip-to-speech corr., clip", +1),
)


def paired_differences(
    pairs: list[tuple[dict, dict]], key: str = "gen_err", by_set: bool = True
) -> dict[str, np.ndarray]:
    """B - A of each case's `key`, pooled over the pairs (checked in main to hold the same
    cases), by sentence set (or all as "all"); cases where either report has no value (a clip
    too short to correlate) are left out."""
    out: dict[str, list[float]] = {s: [] for s in SETS} if by_set else {"all": []}
    for a, b in pairs:
        for ra, rb in zip(a["rows"], b["rows"]):
            va, vb = ra.get(key), rb.get(key)
            if va is None or vb is None or not np.isfinite(float(va)) or not np.isfinite(float(vb)):
                continue
            out[ra["set"] if by_set else "all"].append(float(vb) - float(va))
    return {s: np.asarray(v) for s, v in out.items() if len(v)}


def interval(diffs: np.ndarray, boot: int, rng: np.random.Generator) -> tuple[float, float]:
    means = rng.choice(diffs, (boot, len(diffs))).mean(1)
    return float(np.percentile(means, 2.5)), float(np.percentile(means, 97.5))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("reports", nargs="+", help="A1 B1 [A2 B2 ...]: report .json files, settings A and B in turn")
    p.add_argument("--boot", type=int, default=5000, help="bootstrap resamples")
    args = p.parse_args()
    if len(args.reports) % 2:
        raise SystemExit("give reports in pairs: A1 B1 [A2 B2 ...]")
    loaded = [json.loads(Path(path).read_text("utf-8")) for path in args.reports]
    pairs = list(zip(loaded[::2], loaded[1::2]))
    if any([r["text"] for r in a["rows"]] != [r["text"] for r in b["rows"]] for a, b in pairs):
        raise SystemExit("a pair of reports holds different cases: pair runs of one corpus, seed and offset")
    diffs = paired_differences(pairs)
    rng = np.random.default_rng(0)
    print(f"{'set':<7}{'cases':>6}{'B - A':>9}{'95 % interval':>22}{'better':>8}{'worse':>7}")
    for name, d in diffs.items():
        lo, hi = interval(d, args.boot, rng)
        print(f"{name:<7}{len(d):>6}{d.mean():>+9.4f}   ({lo:+.4f} to {hi:+.4f}){(d < 0).sum():>8}{(d > 0).sum():>7}")
    corr = [(a["summary"]["gen"]["sync_corr"], b["summary"]["gen"]["sync_corr"]) for a, b in pairs]
    print("lip-to-speech correlation, mean over pairs: A {:.3f}, B {:.3f}".format(*np.mean(corr, 0)))
    print(f"\n{'all cases':<25}{'cases':>6}{'B - A':>9}{'95 % interval':>22}{'better':>8}{'worse':>7}")
    for key, label, sign in CLIP_MEASURES:
        d = paired_differences(pairs, key, by_set=False).get("all")
        if d is None:
            continue
        lo, hi = interval(d, args.boot, rng)
        better, worse = (d * sign > 0).sum(), (d * sign < 0).sum()
        print(f"{label:<25}{len(d):>6}{d.mean():>+9.4f}   ({lo:+.4f} to {hi:+.4f}){better:>8}{worse:>7}")


if __name__ == "__main__":
    main()
