"""`omnitalker eval`: a checkpoint against held-out speakers and sentences of a corpus.

For every held-out source: the first sentences (up to 5 s) are the reference, a later sentence
is the text to say. The generated speech and motion are scored beside the ground truth of the
same sentence (its audio put through the same vocoder, its true motion).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from loguru import logger
from tqdm import tqdm

from avatar_omnitalker import spec
from avatar_omnitalker.audio.mel import MelExtractor
from avatar_omnitalker.audio.vocoder import decode_to_frames
from avatar_omnitalker.data.sentences import english_grammar, english_vocabulary
from avatar_omnitalker.data.shards import Corpus, Source
from avatar_omnitalker.eval.metrics import (
    Recognizer,
    SpeakerEncoder,
    cosine,
    pooled_lip_sync,
    rank1,
    style_distance,
    style_stats,
    sync_curve,
)
from avatar_omnitalker.fileio import atomic_path
from avatar_omnitalker.infer.config import PipelineConfig
from avatar_omnitalker.infer.pipeline import Pipeline
from avatar_omnitalker.infer.reference import Reference

REF_SECONDS = 5.0


@dataclass
class Case:
    source: Source
    reference: Reference
    text: str
    gt_audio: np.ndarray
    gt_motion: np.ndarray


def cases(corpus: Corpus, per_source: int = 1) -> list[Case]:
    out = []
    for source in corpus.split("test"):
        segs = source.meta["segments"]
        arrays = corpus.arrays(source)
        audio = arrays["audio"]
        motion = arrays["motion"]
        n_ref = 1
        while n_ref < len(segs) - 1 and segs[n_ref]["end"] - segs[0]["start"] <= REF_SECONDS * spec.FPS:
            n_ref += 1
        a, b = segs[0]["start"], segs[n_ref - 1]["end"]
        text = " ".join(s["text"] for s in segs[:n_ref])
        appearance = np.full((64, 64, 3), 128, np.uint8)
        ref = Reference.prepare(
            audio[spec.samples_for_frames(a) : spec.samples_for_frames(b)],
            spec.SAMPLE_RATE,
            motion[a:b],
            text,
            appearance,
            name=source.meta["speaker_id"],
        )
        for seg in segs[n_ref : n_ref + per_source]:
            s, e = seg["start"], seg["end"]
            out.append(
                Case(
                    source,
                    ref,
                    seg["text"],
                    audio[spec.samples_for_frames(s) : spec.samples_for_frames(e)],
                    motion[s:e],
                )
            )
    if not out:
        raise ValueError(f"{corpus.root}: no held-out (test split) sources to evaluate on")
    return out


def evaluate(pipeline: Pipeline, corpus: Corpus, per_source: int = 1) -> dict:
    all_cases = cases(corpus, per_source)
    english = [c for c in all_cases if c.source.meta["lang"] == "en"]
    recognizer = Recognizer(english_vocabulary(), english_grammar()) if english else None
    encoder = SpeakerEncoder()
    mel = MelExtractor()
    speakers = sorted({c.source.speaker_id for c in all_cases})

    # style reference: each held-out speaker's true motion statistics
    gt_style = {
        s: np.mean(
            [style_stats(corpus.arrays(src)["motion"]) for src in corpus.split("test") if src.speaker_id == s], 0
        )
        for s in speakers
    }
    scale = np.std(np.stack(list(gt_style.values())), 0) + 1e-6
    ref_embed = {c.reference.name: encoder.embed(c.reference.audio) for c in all_cases}

    rows = []
    curves: dict[str, list[np.ndarray]] = {"gen": [], "gt": []}
    gen_seconds = gen_audio = 0.0
    for case in tqdm(all_cases, desc="eval", unit="case"):
        pipeline.set_reference(case.reference)
        start = time.perf_counter()
        result = pipeline.generate(case.text, progress=False)
        gen_seconds += time.perf_counter() - start
        gen_audio += result.duration
        gt_voc = decode_to_frames(
            pipeline.vocoder, mel.for_clip(torch.from_numpy(case.gt_audio)).numpy(), len(case.gt_motion)
        )
        row = {"speaker": case.source.speaker_id, "lang": case.source.meta["lang"], "text": case.text}
        for name, audio, motion in (("gen", result.audio, result.motion), ("gt", gt_voc, case.gt_motion)):
            if recognizer is not None and row["lang"] == "en":
                row[f"{name}_wer"] = recognizer.wer(case.text, audio)
            try:
                emb = encoder.embed(audio)
                own = cosine(emb, ref_embed[case.reference.name])
                others = [cosine(emb, e) for k, e in ref_embed.items() if k != case.reference.name]
                row[f"{name}_sim_own"], row[f"{name}_sim_other"] = (
                    own,
                    float(np.mean(others)) if others else float("nan"),
                )
                row[f"{name}_closer_to_own"] = bool(not others or own > max(others))
            except ValueError:
                row[f"{name}_sim_own"], row[f"{name}_sim_other"], row[f"{name}_closer_to_own"] = (
                    float("nan"),
                    float("nan"),
                    False,
                )
            curve = sync_curve(motion, audio)
            curves[name].append(curve)
            row[f"{name}_lag"], row[f"{name}_sync_corr"] = pooled_lip_sync([curve])
            stats = style_stats(motion)
            row[f"{name}_style_dist"] = style_distance(stats, gt_style[row["speaker"]], scale)
            row[f"{name}_rank1"] = rank1(stats, gt_style, scale) == row["speaker"]
        rows.append(row)

    def mean(key: str) -> float:
        vals = [r[key] for r in rows if key in r and r[key] == r[key]]
        return float(np.mean(vals)) if vals else float("nan")

    summary = {}
    for name in ("gen", "gt"):
        summary[name] = {
            "wer": mean(f"{name}_wer"),
            "sim_own": mean(f"{name}_sim_own"),
            "sim_other": mean(f"{name}_sim_other"),
            "closer_to_own": mean(f"{name}_closer_to_own"),
            "lag_frames": pooled_lip_sync(curves[name])[0],
            "sync_corr": pooled_lip_sync(curves[name])[1],
            "clip_abs_lag_frames": float(np.mean([abs(r[f"{name}_lag"]) for r in rows])),
            "style_dist": mean(f"{name}_style_dist"),
            "style_rank1": mean(f"{name}_rank1"),
        }
    summary["gen"]["rtf"] = gen_seconds / max(gen_audio, 1e-9)
    summary["cases"] = len(rows)
    summary["speakers"] = len(speakers)
    return {"summary": summary, "rows": rows}


def table(report: dict) -> str:
    s = report["summary"]
    lines = [f"{'metric':<34}{'generated':>12}{'ground truth':>14}", "-" * 60]
    for key, label in (
        ("wer", "WER (en, pocketsphinx)"),
        ("sim_own", "voice cosine to own reference"),
        ("sim_other", "voice cosine to other references"),
        ("closer_to_own", "closer to own reference (share)"),
        ("lag_frames", "lip-sync lag, pooled (frames)"),
        ("sync_corr", "mouth/envelope corr. at that lag"),
        ("clip_abs_lag_frames", "per-clip |lag| (frames)"),
        ("style_dist", "style distance to speaker"),
        ("style_rank1", "style rank-1 speaker id"),
    ):
        lines.append(f"{label:<34}{s['gen'][key]:>12.3f}{s['gt'][key]:>14.3f}")
    lines.append(f"{'real-time factor (generation)':<34}{s['gen']['rtf']:>12.3f}{'':>14}")
    lines.append(f"{s['cases']} cases, {s['speakers']} held-out speakers")
    return "\n".join(lines)


def run_eval(config: PipelineConfig, corpus_dir: str, out: str, per_source: int = 1) -> dict:
    pipeline = Pipeline.load(config)
    report = evaluate(pipeline, Corpus(corpus_dir), per_source)
    report["checkpoint"] = str(config.checkpoint)
    report["nfe"] = config.nfe
    with atomic_path(Path(out)) as tmp:
        Path(tmp).write_text(json.dumps(report, indent=1, ensure_ascii=False))
    logger.info("wrote {}", out)
    return report
