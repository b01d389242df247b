"""Which parts of a speaker's motion style does the model copy? Feature by feature, against the truth.

    python benchmarks/style_features.py [--checkpoint DIR --vocoder DIR] --corpus runs/corpus-kokoro --n 12

The eval's style rank-1 is one number over nine features (eval/metrics.STYLE_FEATURES). For n
held-out sources (cases dealt as `omnitalker eval` deals them, one each, both languages), this
prints per feature: the generated clip's distance from its ground truth, in units of the
feature's spread across held-out speakers; the same for the reference (the 5 s the model copies
from); the mean of each; and how generated and true values correlate over the clips. A feature
the model copies has a small distance and a high correlation. Last, the share of head-yaw power
above 1 Hz (which raises the tempo feature, a spectral centroid), and the generated and the
reference's yaw power in six bands as multiples of the truth's: a share can rise by too much fast
motion or by too little slow motion, and only the bands tell which. Figures only.
"""

from __future__ import annotations

import json

import numpy as np
from corpus_listening import listening_parser, load

from avatar_omnitalker.data.splits import HELD_OUT
from avatar_omnitalker.eval.metrics import STYLE_FEATURES, rank1, style_stats, yaw_spectrum
from avatar_omnitalker.eval.report import cases, style_centroids


def yaw_power_above(motion: np.ndarray, hz: float = 1.0) -> float:
    """Share of head-yaw power (above 0.05 Hz) that lies above `hz`, in the tempo feature's spectrum."""
    freqs, amplitude = yaw_spectrum(motion)
    power = amplitude**2
    return float(power[freqs > hz].sum() / max(power[freqs > 0.05].sum(), 1e-12))


BANDS_HZ = ((0.05, 0.5), (0.5, 1.0), (1.0, 2.0), (2.0, 4.0), (4.0, 8.0), (8.0, 12.5))


def yaw_band_power(motion: np.ndarray) -> np.ndarray:
    """(len(BANDS_HZ),) head-yaw power per band, in the tempo feature's spectrum."""
    freqs, amplitude = yaw_spectrum(motion)
    return np.array([(amplitude[(freqs > lo) & (freqs <= hi)] ** 2).sum() for lo, hi in BANDS_HZ])


def main() -> None:
    args = listening_parser(checkpoint_required=False).parse_args()
    corpus, pipe, _ = load(args)
    held_out = corpus.split(HELD_OUT)
    centroids, scale = style_centroids(corpus, sorted({s.speaker_id for s in held_out}))
    stats: dict[str, list[np.ndarray]] = {"generated": [], "reference": [], "truth": []}
    hits: dict[str, list[bool]] = {k: [] for k in stats}
    jitter: dict[str, list[float]] = {k: [] for k in stats}
    bands: dict[str, list[np.ndarray]] = {k: [] for k in stats}
    for case in cases(corpus, 1, sources=held_out[: args.n]):
        pipe.set_reference(case.reference)
        result = pipe.generate(case.text, progress=False)
        motions = {"generated": result.motion, "reference": case.reference.motion, "truth": case.gt_motion}
        for name, motion in motions.items():
            stats[name].append(style_stats(motion))
            hits[name].append(rank1(stats[name][-1], centroids, scale) == case.source.speaker_id)
            jitter[name].append(yaw_power_above(motion))
            bands[name].append(yaw_band_power(motion))
    gen, ref, truth = (np.stack(stats[k]) for k in ("generated", "reference", "truth"))
    table = {
        feature: {
            "generated_gap": round(float(np.mean(np.abs(gen[:, k] - truth[:, k]) / scale[k])), 3),
            "reference_gap": round(float(np.mean(np.abs(ref[:, k] - truth[:, k]) / scale[k])), 3),
            "generated_mean": round(float(gen[:, k].mean()), 4),
            "truth_mean": round(float(truth[:, k].mean()), 4),
            "correlation": round(float(np.corrcoef(gen[:, k], truth[:, k])[0, 1]), 2),
        }
        for k, feature in enumerate(STYLE_FEATURES)
    }
    print(json.dumps(table, indent=1))
    print(json.dumps({f"rank1_{k}": round(float(np.mean(v)), 3) for k, v in hits.items()} | {"n": len(gen)}))
    print(json.dumps({f"yaw_power_above_1hz_{k}": round(float(np.mean(v)), 4) for k, v in jitter.items()}))
    truth_bands = np.mean(bands["truth"], 0)
    print(
        json.dumps(
            {"yaw_band_power_vs_truth_hz": [f"{lo}-{hi}" for lo, hi in BANDS_HZ]}
            | {k: np.round(np.mean(bands[k], 0) / truth_bands, 2).tolist() for k in ("generated", "reference")}
        )
    )


if __name__ == "__main__":
    main()
