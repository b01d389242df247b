"""`omnitalker eval`: a checkpoint against held-out speakers saying held-out sentences.

For every held-out source of a corpus, its first sentences (up to 5 s) are the reference and a
sentence of `eval/heldout/` is the text to say: sentences written for evaluation, outside the
corpus generator. The ground truth is the same sentence spoken by the engine and voice that made
the source (recorded in the corpus), through the same vocoder, with the motion the corpus rules
give it. Both are heard by free-vocabulary whisper and embedded by two speaker encoders.
"""

from __future__ import annotations

import importlib.resources
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
from avatar_omnitalker.audio.resample import resample
from avatar_omnitalker.audio.vocoder import decode_to_frames
from avatar_omnitalker.data.corpus import make_engine, synthesize
from avatar_omnitalker.data.shards import Corpus, Source
from avatar_omnitalker.data.splits import HELD_OUT
from avatar_omnitalker.data.style import EMOTIONS, SpeakerStyle, face_motion
from avatar_omnitalker.eval.dvector import DVectorEncoder
from avatar_omnitalker.eval.ear import Ear, error_rate
from avatar_omnitalker.eval.metrics import (
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
from avatar_omnitalker.text.espeak import VoiceSettings

REF_SECONDS = 5.0
SETS = {"en": ("en",), "zh": ("zh", "mixed")}  # corpus language -> held-out sentence sets
EMBEDDERS = ("resemblyzer", "dvector")


def heldout_sentences(name: str) -> list[str]:
    """eval/heldout/NAME.txt: one sentence a line, # comments."""
    text = (importlib.resources.files("avatar_omnitalker.eval") / "heldout" / f"{name}.txt").read_text("utf-8")
    return [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]


@dataclass
class Case:
    source: Source
    reference: Reference
    text: str
    sentence_set: str  # "en" | "zh" | "mixed"
    gt_audio: np.ndarray  # the corpus engine's speech at 24 kHz, whole frames
    gt_motion: np.ndarray

    @property
    def ear_lang(self) -> str:
        """Mixed sentences are Mandarin with English words: the multilingual ear, scored by characters."""
        return "en" if self.sentence_set == "en" else "zh"


def _voice(meta: dict):
    if meta.get("engine", "espeak") == "espeak":
        return VoiceSettings(**meta["voice"])
    from avatar_omnitalker.data.kokoro import KokoroVoice

    v = meta["voice"]
    return KokoroVoice(v["lang"], tuple(v["voices"]), tuple(v["weights"]), float(v["speed"]))


def source_reference(corpus: Corpus, source: Source) -> Reference:
    """The reference a corpus source gives in evaluation: its opening REF_SECONDS, a flat face
    (benchmarks that compare against the eval use the same)."""
    audio, motion, transcript = corpus.opening(source, REF_SECONDS)
    appearance = np.full((64, 64, 3), 128, np.uint8)  # eval scores sound and motion, not pixels
    return Reference.prepare(audio, spec.SAMPLE_RATE, motion, transcript, appearance, name=source.meta["speaker_id"])


def check_sentence_offset(sentence_offset: int) -> None:
    if sentence_offset < 0:
        raise ValueError(f"the sentence offset must be 0 or more, got {sentence_offset}")


def cases(
    corpus: Corpus,
    per_source: int = 1,
    sets: tuple[str, ...] = ("en", "zh", "mixed"),
    sources: list[Source] | None = None,
    sentence_offset: int = 0,
) -> list[Case]:
    """Held-out sentences dealt round-robin over the held-out sources (or those a benchmark
    passes), each pool from its sentence `sentence_offset` on (a validation run chooses settings
    on sentences the reported run does not hear); ground truth made anew."""
    sources = corpus.split(HELD_OUT) if sources is None else sources
    if not sources:
        raise ValueError(f"{corpus.root}: no held-out (test split) sources to evaluate on")
    check_sentence_offset(sentence_offset)
    engines: dict[str, object] = {}
    pools = {name: heldout_sentences(name) for name in sets}
    dealt = dict.fromkeys(pools, sentence_offset)
    out = []
    for source in tqdm(sources, desc="ground truth", unit="source"):
        meta = source.meta
        reference = source_reference(corpus, source)
        engine_name = meta.get("engine", "espeak")
        engine = engines.setdefault(engine_name, make_engine(engine_name, threads=2))
        voice = _voice(meta)
        emotion = EMOTIONS[meta["emotion"]]
        style = SpeakerStyle(**meta["style"])
        for k in range(per_source):
            names = [n for n in SETS[meta["lang"]] if n in pools]
            if not names:
                continue
            name = names[k % len(names)]
            text = pools[name][dealt[name] % len(pools[name])]
            dealt[name] += 1
            utt = synthesize(engine, text, voice)
            audio = resample(utt.audio, utt.sample_rate, spec.SAMPLE_RATE)
            frames = -(-audio.size // spec.SAMPLES_PER_FRAME)
            audio = np.pad(audio, (0, spec.samples_for_frames(frames) - audio.size))
            rng = np.random.default_rng([len(out), 7])
            motion = face_motion(utt.phonemes, frames, style, emotion, rng)
            out.append(Case(source, reference, text, name, audio, motion))
    if not out:
        raise ValueError(f"{corpus.root}: the held-out sources speak none of {sets}")
    return out


def voice_parts(meta: dict) -> frozenset[str]:
    """The base voices a source's speaker is made of (Kokoro voices of a blend, or the espeak
    voice): held-out speakers that share one cannot be told apart by timbre alone."""
    voice = meta["voice"]
    return frozenset(voice["voices"]) if "voices" in voice else frozenset([voice["voice"]])


def _closer_to_own(
    emb: np.ndarray, own: str, refs: dict[str, np.ndarray], parts: dict[str, frozenset[str]]
) -> tuple[float, bool, bool]:
    """(cosine to own reference, closer than to every other reference, closer than to every
    reference made of other base voices)."""
    sims = {k: cosine(emb, e) for k, e in refs.items()}
    others = [v for k, v in sims.items() if k != own]
    distinct = [v for k, v in sims.items() if k != own and not parts[k] & parts[own]]
    return sims[own], bool(not others or sims[own] > max(others)), bool(not distinct or sims[own] > max(distinct))


def style_centroids(corpus: Corpus, speakers: list[str]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Each held-out speaker's true motion style (style_stats over all their corpus motion), and
    each feature's spread across those speakers: what style rank-1 identifies a clip against."""
    held_out = corpus.split(HELD_OUT)
    centroids = {
        s: np.mean([style_stats(corpus.arrays(src)["motion"]) for src in held_out if src.speaker_id == s], 0)
        for s in speakers
    }
    return centroids, np.std(np.stack(list(centroids.values())), 0) + 1e-6


def evaluate(pipeline: Pipeline, corpus: Corpus, per_source: int = 1, sentence_offset: int = 0) -> dict:
    corpus.require_audio("evaluation (references and ground truth)")
    all_cases = cases(corpus, per_source, sentence_offset=sentence_offset)
    ears = {lang: Ear(lang) for lang in {c.ear_lang for c in all_cases}}
    embedders = {"resemblyzer": SpeakerEncoder(), "dvector": DVectorEncoder()}
    mel = MelExtractor()
    speakers = sorted({c.source.speaker_id for c in all_cases})

    gt_style, scale = style_centroids(corpus, speakers)
    refs = {c.reference.name: c.reference for c in all_cases}
    parts = {c.reference.name: voice_parts(c.source.meta) for c in all_cases}
    ref_embed = {e: {k: enc.embed(r.audio) for k, r in refs.items()} for e, enc in embedders.items()}

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
        row = {"speaker": case.source.speaker_id, "set": case.sentence_set, "text": case.text}
        ear = ears[case.ear_lang]
        for name, audio, motion in (("gen", result.audio, result.motion), ("gt", gt_voc, case.gt_motion)):
            row[f"{name}_heard"] = ear.transcribe(audio)
            row[f"{name}_err"] = error_rate(ear.lang, case.text, row[f"{name}_heard"])
            for e, enc in embedders.items():
                try:
                    (row[f"{name}_{e}_own"], row[f"{name}_{e}_closer"], row[f"{name}_{e}_distinct"]) = _closer_to_own(
                        enc.embed(audio), case.reference.name, ref_embed[e], parts
                    )
                except ValueError:  # nothing voiced to embed counts as a miss
                    row[f"{name}_{e}_own"], row[f"{name}_{e}_closer"], row[f"{name}_{e}_distinct"] = (
                        float("nan"),
                        False,
                        False,
                    )
            curve = sync_curve(motion, audio)
            curves[name].append(curve)
            row[f"{name}_lag"], row[f"{name}_sync_corr"] = pooled_lip_sync([curve])
            stats = style_stats(motion)
            row[f"{name}_style_dist"] = style_distance(stats, gt_style[row["speaker"]], scale)
            row[f"{name}_rank1"] = rank1(stats, gt_style, scale) == row["speaker"]
        rows.append(row)
    return {"summary": summarise(rows, curves, gen_seconds / max(gen_audio, 1e-9), len(speakers)), "rows": rows}


def summarise(rows: list[dict], curves: dict[str, list[np.ndarray]], rtf: float, speakers: int) -> dict:
    def mean(key: str, subset: str | None = None) -> float:
        vals = [r[key] for r in rows if key in r and r[key] == r[key] and (subset is None or r["set"] == subset)]
        return float(np.mean(vals)) if vals else float("nan")

    summary: dict = {}
    for name in ("gen", "gt"):
        summary[name] = {
            "wer_en": mean(f"{name}_err", "en"),
            "cer_zh": mean(f"{name}_err", "zh"),
            "cer_mixed": mean(f"{name}_err", "mixed"),
            **{f"closer_to_own_{e}": mean(f"{name}_{e}_closer") for e in EMBEDDERS},
            **{f"closer_than_distinct_{e}": mean(f"{name}_{e}_distinct") for e in EMBEDDERS},
            **{f"sim_own_{e}": mean(f"{name}_{e}_own") for e in EMBEDDERS},
            "lag_frames": pooled_lip_sync(curves[name])[0],
            "sync_corr": pooled_lip_sync(curves[name])[1],
            "clip_abs_lag_frames": float(np.mean([abs(r[f"{name}_lag"]) for r in rows])),
            "style_dist": mean(f"{name}_style_dist"),
            "style_rank1": mean(f"{name}_rank1"),
        }
    summary["gen"]["rtf"] = rtf
    summary["cases"] = len(rows)
    summary["cases_by_set"] = {s: sum(r["set"] == s for r in rows) for s in sorted({r["set"] for r in rows})}
    summary["speakers"] = speakers
    return summary


def table(report: dict) -> str:
    s = report["summary"]
    lines = [f"{'metric':<40}{'generated':>12}{'ground truth':>14}", "-" * 66]
    for key, label in (
        ("wer_en", "WER en (whisper tiny.en)"),
        ("cer_zh", "CER zh (whisper base)"),
        ("cer_mixed", "CER zh/en mixed (whisper base)"),
        ("closer_to_own_resemblyzer", "closer to own ref., resemblyzer"),
        ("closer_to_own_dvector", "closer to own ref., d-vector"),
        ("closer_than_distinct_resemblyzer", "... than other-voice refs, resemblyzer"),
        ("closer_than_distinct_dvector", "... than other-voice refs, d-vector"),
        ("sim_own_resemblyzer", "cosine to own ref., resemblyzer"),
        ("sim_own_dvector", "cosine to own ref., d-vector"),
        ("lag_frames", "lip-sync lag, pooled (frames)"),
        ("sync_corr", "mouth/envelope corr. at that lag"),
        ("clip_abs_lag_frames", "per-clip |lag| (frames)"),
        ("style_dist", "style distance to speaker"),
        ("style_rank1", "style rank-1 speaker id"),
    ):
        lines.append(f"{label:<40}{s['gen'][key]:>12.3f}{s['gt'][key]:>14.3f}")
    lines.append(f"{'real-time factor (generation)':<40}{s['gen']['rtf']:>12.3f}{'':>14}")
    lines.append(f"{s['cases']} cases, {s['speakers']} held-out speakers")
    return "\n".join(lines)


def run_eval(config: PipelineConfig, corpus_dir: str, out: str, per_source: int = 1, sentence_offset: int = 0) -> dict:
    check_sentence_offset(sentence_offset)  # the arguments and the corpus fail before the model loads
    corpus = Corpus(corpus_dir)
    pipeline = Pipeline.load(config)
    report = evaluate(pipeline, corpus, per_source, sentence_offset)
    report["sentence_offset"] = sentence_offset
    report["checkpoint"] = str(config.checkpoint or "built-in")
    report["durations"] = pipeline.durations.source if pipeline.durations else "espeak"  # what timed the text
    report["nfe"] = config.nfe
    report["cfg"], report["cfg_motion"] = config.cfg, config.cfg_motion
    with atomic_path(Path(out)) as tmp:
        Path(tmp).write_text(json.dumps(report, indent=1, ensure_ascii=False))
    logger.info("wrote {}", out)
    return report
