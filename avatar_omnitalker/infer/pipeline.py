"""The inference pipeline: text (whole or streamed) + a Reference -> audio and motion.

One `Pipeline` owns the model, the vocoder and one avatar's reference, all chosen by one
`PipelineConfig`. Turning motion into pixels is the renderer's job (render/), one layer up. The
real-time session drives `synthesize()`; `omnitalker generate` drives `generate()`.
"""

from __future__ import annotations

import copy
import dataclasses
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from loguru import logger
from tqdm import tqdm

from avatar_omnitalker import spec
from avatar_omnitalker.audio.vocoder import Vocoder, decode_to_frames, load_vocoder
from avatar_omnitalker.infer.chunking import TextChunker
from avatar_omnitalker.infer.conditioning import AlignedText, ImplicitText
from avatar_omnitalker.infer.config import PipelineConfig
from avatar_omnitalker.infer.joiner import Joiner
from avatar_omnitalker.infer.prompt import prompt_of
from avatar_omnitalker.infer.reference import Reference
from avatar_omnitalker.model.cfm import FlowMatching
from avatar_omnitalker.model.checkpoint import load_checkpoint
from avatar_omnitalker.model.config import load_config
from avatar_omnitalker.model.duration import Durations, beside
from avatar_omnitalker.model.graphs import GraphSampler
from avatar_omnitalker.text.clean import has_words, strip_control
from avatar_omnitalker.text.modes import AnyTokenizer, mode_of, mode_of_vocab, tokenizer_for


@dataclass
class Segment:
    """Playable output, in order: audio of exactly len(motion) frames, and the text it completes."""

    audio: np.ndarray  # (frames * 960,) float32
    motion: np.ndarray  # (frames, 61) float32, raw
    text: str = ""

    @property
    def frames(self) -> int:
        return self.motion.shape[0]


@dataclass(frozen=True)
class _Job:
    index: int  # position in the batch's request list
    ids: list[int]  # text ids of reference + new text
    total_frames: int  # motion frames of reference + generated part


@dataclass
class Result:
    audio: np.ndarray
    motion: np.ndarray
    text: str

    @property
    def duration(self) -> float:
        return self.motion.shape[0] / spec.FPS


def onnx_engine_for(model: FlowMatching, device: str):
    """The model's guided velocity on ONNX Runtime, exported on first use into the user cache
    (keyed by a hash of the weights and config, so a changed model is exported anew)."""
    from avatar_omnitalker.fileio import atomic_path, state_digest, user_cache
    from avatar_omnitalker.model.onnx_engine import GRAPH_VERSION, OnnxVelocity, export_velocity

    digest = state_digest(model.state_dict(), f"{model.config!r} graph {GRAPH_VERSION}")
    path = user_cache("onnx", f"{model.config.name}-{digest}.onnx")
    if not path.is_file():
        with atomic_path(path) as tmp:
            export_velocity(copy.deepcopy(model).cpu(), tmp)
    return OnnxVelocity(path, device)


def cpu_has_bf16_matmul() -> bool:
    """Whether this CPU multiplies bfloat16 matrices in hardware (Intel AMX tiles). There the
    built-in model runs about 2x faster in bfloat16 than in float32; elsewhere bfloat16 is emulated
    and slower."""
    probe = getattr(torch.cpu, "_is_amx_tile_supported", None)
    return bool(probe and probe())


def model_dtype(dtype: str, device: str, engine: str = "torch") -> torch.dtype:
    """'auto': bfloat16 on CUDA (the tensor cores' format) and on CPUs with AMX, float32 elsewhere
    and for ONNX."""
    if dtype == "auto":
        if engine == "onnx":
            return torch.float32
        native = device.startswith("cuda") or (device == "cpu" and cpu_has_bf16_matmul())
        return torch.bfloat16 if native else torch.float32
    return {"float32": torch.float32, "bfloat16": torch.bfloat16}[dtype]


def resolve_device(device: str) -> str:
    """'auto' -> the first CUDA device when torch sees one, else the CPU; a CUDA device that is not
    there is an error, not a crash later."""
    if device == "auto":
        return "cuda:0" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda"):
        index = int(device.split(":")[1]) if ":" in device else 0
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r}: torch sees no CUDA GPU here (use 'auto' or 'cpu')")
        if index >= torch.cuda.device_count():
            raise ValueError(f"device {device!r}: only {torch.cuda.device_count()} CUDA device(s) here")
    return device


def _durations(option: str, checkpoint: str | Path | None, model: FlowMatching) -> Durations | None:
    """config.durations -> the duration model to time aligned text with (None: espeak's timings)."""
    if option == "espeak":
        return None
    if option != "auto":
        return Durations.load(option)
    if checkpoint is None or str(checkpoint).startswith("random:") or mode_of_vocab(model.config.vocab) != "aligned":
        return None
    found = beside(checkpoint)
    if found is None:
        return None
    logger.info("durations: {}", found)
    return Durations.load(found)


class Pipeline:
    def __init__(
        self,
        model: FlowMatching,
        vocoder: Vocoder,
        reference: Reference,
        config: PipelineConfig = PipelineConfig(),
        tokenizer: AnyTokenizer | None = None,
        chunker: TextChunker | None = None,
        durations: Durations | None = None,
    ) -> None:
        self.model = model.eval()
        self.vocoder = vocoder
        self.tokenizer = tokenizer or tokenizer_for(model.config.vocab, model.config.model.text_vocab_size)
        self.text_mode = mode_of(self.tokenizer)
        if len(self.tokenizer) != model.config.model.text_vocab_size:
            raise ValueError(
                f"the vocab has {len(self.tokenizer)} tokens, the model expects {model.config.model.text_vocab_size}"
            )
        if durations is not None and self.text_mode != "aligned":
            raise ValueError("a duration model times aligned text; this model reads implicit (F5-TTS) text")
        self.durations = durations  # None: espeak-ng's timings, scaled to the reference's rate
        self.config = config
        self.engine = None  # None: the torch backbone; else a velocity engine (model/onnx_engine.py)
        self.sampler: FlowMatching | GraphSampler = model  # what solves: the model, or its graph replayer
        self.chunker_factory = lambda: dataclasses.replace(chunker) if chunker else TextChunker()
        self.set_reference(reference)

    # ------------------------------------------------------------------ construction
    @classmethod
    def load(cls, config: PipelineConfig = PipelineConfig(), reference: Reference | None = None) -> Pipeline:
        """The model, vocoder and reference the config names (the built-in ones where it names none).
        `reference` overrides config.reference with an already loaded one."""
        from avatar_omnitalker.infer import defaults

        device = resolve_device(config.device)
        checkpoint = config.checkpoint if config.checkpoint is not None else defaults.default_checkpoint()
        if checkpoint is None:
            raise FileNotFoundError("this build ships no built-in model: name a checkpoint (or random:PRESET)")
        if str(checkpoint).startswith("random:"):
            preset = str(checkpoint).split(":", 1)[1]
            logger.warning("using the UNTRAINED {!r} network (random weights): output is noise, not speech", preset)
            model = FlowMatching(load_config(preset))
            checkpoint = None
        else:
            model = load_checkpoint(checkpoint)
            logger.info("model: {} ({})", checkpoint, model.config.name)
        model = model.to(device=device, dtype=model_dtype(config.dtype, device, config.engine))
        vocoder = config.vocoder
        if vocoder is None:
            vocoder = defaults.default_vocoder()
            if vocoder is None and checkpoint is not None and (Path(checkpoint) / "vocoder" / "config.yaml").is_file():
                vocoder = Path(checkpoint) / "vocoder"
        voc = load_vocoder(vocoder, device)
        if reference is None:
            reference = defaults.builtin_reference() if config.reference is None else Reference.load(config.reference)
        pipeline = cls(model, voc, reference, config, durations=_durations(config.durations, checkpoint, model))
        if config.engine == "graphs":
            if not device.startswith("cuda"):
                logger.warning("engine 'graphs' on {}: no CUDA graphs there, the padded solve runs eagerly", device)
            pipeline.sampler = GraphSampler(model)
        if config.engine == "onnx":
            from avatar_omnitalker.audio.onnx_vocoder import onnx_vocoder_for

            pipeline.engine = onnx_engine_for(model, device)
            pipeline.vocoder = onnx_vocoder_for(voc, device)
        return pipeline

    def set_reference(self, reference: Reference) -> None:
        """The avatar to speak as: its appearance and idle motion are the whole reference's; the
        model hears its prompt (config.prompt_s)."""
        prompt = prompt_of(reference, self.config.prompt_s)
        if self.text_mode == "aligned":
            self.text = AlignedText(self.tokenizer, prompt, self.durations)
        else:
            unknown = self.tokenizer.unknown_symbols(prompt.transcript)
            if unknown:
                raise ValueError(f"the reference transcript has symbols outside the model's vocab: {unknown}")
            self.text = ImplicitText(self.tokenizer, prompt)
        self.reference, self.prompt = reference, prompt
        stats = self.model.stats
        self._ref_mel = torch.from_numpy(prompt.mel)[None]  # (1, Mr, 100)
        self._ref_motion = stats.normalize(torch.from_numpy(prompt.motion))[None]  # (1, Kr, 61)

    # ------------------------------------------------------------------ generation
    def speakable(self, text: str, log: bool = True) -> str:
        """The text without what cannot be spoken: control characters (a NUL would cut espeak-ng's
        input short) and, in implicit mode, symbols the vocab cannot encode; each removal logged
        unless log is False (planning asks about the same text many times before speaking it)."""
        text, control = strip_control(text)
        if control and log:
            logger.warning("removed control characters from the text: {}", ", ".join(repr(c) for c in control))
        if self.text_mode == "aligned":
            return text
        unknown = self.tokenizer.unknown_symbols(text)
        if not unknown:
            return text
        if log:
            logger.warning("not speaking symbols outside the vocab: {}", ", ".join(repr(u) for u in unknown))
        for u in unknown:
            text = text.replace(u, " ")
        return text if not self.tokenizer.unknown_symbols(text) else ""

    def synthesize(self, texts: list[str], seeds: list[int] | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
        """Several chunks in one batched model call -> [(audio, motion)] of the generated parts."""
        ref = self.prompt
        seeds = seeds or [self.config.seed + i for i in range(len(texts))]
        out: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(texts)
        jobs: list[_Job] = []
        for i, text in enumerate(texts):
            clean = self.speakable(text).strip()
            if not has_words(clean):
                out[i] = (np.zeros(0, np.float32), np.zeros((0, spec.MOTION_DIM), np.float32))
                continue
            ids, total = self.text.request(clean, self.config.speed)
            jobs.append(_Job(i, ids, total))
        if jobs:
            text_ids = torch.full((len(jobs), max(len(job.ids) for job in jobs)), -1, dtype=torch.long)  # (b, nt)
            for row, job in enumerate(jobs):
                text_ids[row, : len(job.ids)] = torch.tensor(job.ids)
            c = self.config
            sample = self.sampler.sample(
                self._ref_mel.expand(len(jobs), -1, -1),
                self._ref_motion.expand(len(jobs), -1, -1),
                text_ids,
                torch.tensor([job.total_frames for job in jobs]),
                ref_frames=ref.frames,
                steps=c.nfe,
                cfg_strength=c.cfg,
                motion_cfg_strength=c.cfg_motion,
                sway=c.sway,
                method=c.method,
                seed=[seeds[job.index] for job in jobs],
                engine=self.engine,
            )
            stats = self.model.stats
            ref_mel = spec.mel_frames_for_motion(ref.frames)
            for row, job in enumerate(jobs):
                total = job.total_frames
                mel = sample.mel[row, ref_mel : spec.mel_frames_for_motion(total)].float().cpu()
                motion = stats.denormalize(sample.motion[row, ref.frames : total].float().cpu()).numpy()
                motion[:, spec.BLENDSHAPES] = np.clip(motion[:, spec.BLENDSHAPES], 0.0, 1.0)
                audio = decode_to_frames(self.vocoder, mel, total - ref.frames)
                out[job.index] = (audio, motion.astype(np.float32))
        return [o for o in out if o is not None]  # every index was filled above

    def stream(self, pieces: Iterable[str]) -> Iterator[Segment]:
        """Text as it arrives -> playable segments; "".join(seg.text) equals the input text."""
        chunker = self.chunker_factory()

        def chunks() -> Iterator[str]:
            for piece in pieces:
                yield from chunker.feed(piece)
            yield from chunker.flush()

        return self.speak(chunks())

    def speak(self, chunks: Iterable[str]) -> Iterator[Segment]:
        """Chunks, each one model call, in order -> playable segments joined without seams."""
        joiner = Joiner()
        for index, chunk in enumerate(chunks):
            audio, motion = self.synthesize([chunk], seeds=[self.config.seed + index])[0]
            audio, motion = joiner.push(audio, motion)
            yield Segment(audio, motion, chunk)
        audio, motion = joiner.flush()
        if motion.shape[0]:
            yield Segment(audio, motion, "")

    def chunk(self, text: str) -> list[str]:
        """A whole text cut as the streaming path would cut it: "".join(chunks) == text."""
        chunker = self.chunker_factory()
        return chunker.feed(text) + chunker.flush()

    def plan(self, text: str) -> list[str]:
        """A whole text cut for offline speech: the streaming cut, then neighbours joined while the
        joined speech lasts at most config.offline_chunk_s. Streaming cuts early to start talking
        soon; offline nothing waits, and each call also runs the whole reference prompt, so fewer,
        longer calls cost less. "".join(plan) == text."""
        planned: list[str] = []
        for chunk in self.chunk(text):
            if planned and self.seconds(planned[-1] + chunk) <= self.config.offline_chunk_s:
                planned[-1] += chunk
            else:
                planned.append(chunk)
        return planned

    def seconds(self, text: str) -> float:
        """How long the model will speak `text` for (its planned length; 0 for nothing speakable)."""
        clean = self.speakable(text, log=False).strip()
        if not has_words(clean):
            return 0.0
        _, total = self.text.request(clean, self.config.speed)
        return (total - self.prompt.frames) / spec.FPS

    def generate(self, text: str, progress: bool = True) -> Result:
        """A whole text -> one utterance (cut by plan(), joined seamlessly)."""
        if not text.strip():
            raise ValueError("nothing to say: the text is empty")
        chunks = self.plan(text)
        audio_parts, motion_parts = [], []
        with tqdm(total=len(chunks), desc="generate", unit="chunk", disable=not progress or len(chunks) < 2) as bar:
            for seg in self.speak(chunks):
                audio_parts.append(seg.audio)
                motion_parts.append(seg.motion)
                if seg.text:
                    bar.update(1)
        audio = np.concatenate(audio_parts) if audio_parts else np.zeros(0, np.float32)
        motion = np.concatenate(motion_parts) if motion_parts else np.zeros((0, spec.MOTION_DIM), np.float32)
        return Result(audio, motion, text)
