"""The inference pipeline: text (whole or streamed) + a Reference -> audio, motion, frames.

One `Pipeline` owns the model, the vocoder, the renderer and one avatar's reference. The
OpenAvatarChat handler drives `stream()`/`synthesize()`; `omnitalker generate` drives `generate()`.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Iterator

import numpy as np
import torch
from loguru import logger
from tqdm import tqdm

from avatar_omnitalker import spec
from avatar_omnitalker.audio.vocoder import Vocoder, decode_to_frames, load_vocoder
from avatar_omnitalker.infer.chunking import TextChunker
from avatar_omnitalker.infer.idle import IdleMotion
from avatar_omnitalker.infer.joiner import Joiner
from avatar_omnitalker.infer.reference import Reference
from avatar_omnitalker.infer.settings import GenerationSettings
from avatar_omnitalker.infer.conditioning import AlignedText, ImplicitText
from avatar_omnitalker.model.cfm import FlowMatching
from avatar_omnitalker.model.checkpoint import load_checkpoint
from avatar_omnitalker.model.config import load_config
from avatar_omnitalker.render.base import Renderer
from avatar_omnitalker.text.phonemes import PHONEME_VOCAB, PhonemeTokenizer
from avatar_omnitalker.text.tokenizer import Tokenizer, Vocab


@dataclass
class Segment:
    """Playable output, in order: audio of exactly len(motion) frames, and the text it completes."""

    audio: np.ndarray  # (frames * 960,) float32
    motion: np.ndarray  # (frames, 61) float32, raw
    text: str = ""

    @property
    def frames(self) -> int:
        return self.motion.shape[0]


@dataclass
class Result:
    audio: np.ndarray
    motion: np.ndarray
    text: str

    @property
    def duration(self) -> float:
        return self.motion.shape[0] / spec.FPS


class Pipeline:
    def __init__(
        self,
        model: FlowMatching,
        vocoder: Vocoder,
        reference: Reference,
        tokenizer: Tokenizer | PhonemeTokenizer | None = None,
        renderer: Renderer | None = None,
        settings: GenerationSettings = GenerationSettings(),
        chunker: TextChunker | None = None,
    ) -> None:
        self.model = model.eval()
        self.vocoder = vocoder
        self.tokenizer = tokenizer or tokenizer_for(model)
        self.aligned = isinstance(self.tokenizer, PhonemeTokenizer)
        if len(self.tokenizer) != model.config.model.text_vocab_size:
            raise ValueError(f"the vocab has {len(self.tokenizer)} tokens, the model expects {model.config.model.text_vocab_size}")
        self.renderer = renderer
        self.settings = settings
        self.chunker_factory = lambda: dataclasses.replace(chunker) if chunker else TextChunker()
        self.set_reference(reference)

    # ------------------------------------------------------------------ construction
    @classmethod
    def load(
        cls,
        checkpoint: str | Path | None = None,
        reference: str | Path | Reference | None = None,
        vocoder: str | Path | None = None,
        renderer: str | Renderer | None = "parametric",
        size: int = 512,
        device: str = "cpu",
        settings: GenerationSettings = GenerationSettings(),
    ) -> "Pipeline":
        from avatar_omnitalker.infer import defaults

        if checkpoint is None:
            checkpoint = defaults.default_checkpoint()
        if checkpoint is None or str(checkpoint).startswith("random:"):
            preset = str(checkpoint).split(":", 1)[1] if checkpoint else "tiny"
            logger.warning("using the UNTRAINED {!r} network (random weights): output is noise, not speech", preset)
            model = FlowMatching(load_config(preset))
            checkpoint = None
        else:
            model = load_checkpoint(checkpoint)
            logger.info("model: {} ({})", checkpoint, model.config.name)
        model = model.to(device)
        if vocoder is None:
            vocoder = defaults.default_vocoder()
            if vocoder is None and checkpoint is not None and (Path(checkpoint) / "vocoder" / "config.yaml").is_file():
                vocoder = Path(checkpoint) / "vocoder"
        voc = load_vocoder(vocoder, device)
        if reference is None:
            ref = defaults.builtin_reference()
        elif isinstance(reference, Reference):
            ref = reference
        else:
            ref = Reference.load(reference)
        rend = make_renderer(renderer, ref, size) if renderer is not None else None
        return cls(model, voc, ref, renderer=rend, settings=settings)

    def set_reference(self, reference: Reference) -> None:
        if self.aligned:
            self.text = AlignedText(self.tokenizer, reference)
        else:
            unknown = self.tokenizer.unknown_symbols(reference.transcript)
            if unknown:
                raise ValueError(f"the reference transcript has symbols outside the model's vocab: {unknown}")
            self.text = ImplicitText(self.tokenizer, reference)
        self.reference = reference
        stats = self.model.stats
        self._ref_mel = torch.from_numpy(reference.mel)[None]  # (1, Mr, 100)
        self._ref_motion = stats.normalize(torch.from_numpy(reference.motion))[None]  # (1, Kr, 61)
        self.idle = IdleMotion(reference.motion)

    # ------------------------------------------------------------------ generation
    def speakable(self, text: str) -> str:
        """The text with symbols the vocab cannot encode removed, each removal logged."""
        if self.aligned:
            return text
        unknown = self.tokenizer.unknown_symbols(text)
        if not unknown:
            return text
        logger.warning("not speaking symbols outside the vocab: {}", ", ".join(repr(u) for u in unknown))
        for u in unknown:
            text = text.replace(u, " ")
        return text if not self.tokenizer.unknown_symbols(text) else ""

    def synthesize(self, texts: list[str], seeds: list[int] | None = None) -> list[tuple[np.ndarray, np.ndarray]]:
        """Several chunks in one batched model call -> [(audio, motion)] of the generated parts."""
        ref = self.reference
        seeds = seeds or [self.settings.seed + i for i in range(len(texts))]
        out: list[tuple[np.ndarray, np.ndarray] | None] = [None] * len(texts)
        jobs = []
        for i, text in enumerate(texts):
            clean = self.speakable(text).strip()
            if not any(ch.isalnum() for ch in clean):
                out[i] = (np.zeros(0, np.float32), np.zeros((0, spec.MOTION_DIM), np.float32))
                continue
            ids, total = self.text.request(clean, self.settings.speed)
            jobs.append((i, ids, total))
        if jobs:
            b = len(jobs)
            nt = max(len(j[1]) for j in jobs)
            text_t = torch.full((b, nt), -1, dtype=torch.long)
            for row, (_, ids, _) in enumerate(jobs):
                text_t[row, : len(ids)] = torch.tensor(ids)
            s = self.settings
            sample = self.model.sample(
                self._ref_mel.expand(b, -1, -1), self._ref_motion.expand(b, -1, -1), text_t,
                torch.tensor([j[2] for j in jobs]), ref_frames=ref.frames, steps=s.nfe, cfg_strength=s.cfg,
                sway=s.sway, method=s.method, seed=[seeds[j[0]] for j in jobs],
            )
            stats = self.model.stats
            ref_mel = spec.mel_frames_for_motion(ref.frames)
            for row, (i, _, total) in enumerate(jobs):
                gen_frames = total - ref.frames
                mel = sample.mel[row, ref_mel: spec.mel_frames_for_motion(total)].float().cpu()
                motion = stats.denormalize(sample.motion[row, ref.frames: total].float().cpu()).numpy()
                motion[:, spec.BLENDSHAPES] = np.clip(motion[:, spec.BLENDSHAPES], 0.0, 1.0)
                audio = decode_to_frames(self.vocoder, mel, gen_frames)
                out[i] = (audio, motion.astype(np.float32))
        return out  # type: ignore[return-value]

    def stream(self, pieces: Iterable[str]) -> Iterator[Segment]:
        """Text as it arrives -> playable segments; "".join(seg.text) equals the input text."""
        chunker = self.chunker_factory()
        joiner = Joiner()
        index = 0
        for piece in pieces:
            for chunk in chunker.feed(piece):
                yield self._spoken(chunk, joiner, index)
                index += 1
        for chunk in chunker.flush():
            yield self._spoken(chunk, joiner, index)
        audio, motion = joiner.flush()
        if motion.shape[0]:
            yield Segment(audio, motion, "")

    def _spoken(self, chunk: str, joiner: Joiner, index: int) -> Segment:
        audio, motion = self.synthesize([chunk], seeds=[self.settings.seed + index])[0]
        audio, motion = joiner.push(audio, motion)
        return Segment(audio, motion, chunk)

    def generate(self, text: str, progress: bool = True) -> Result:
        """A whole text -> one utterance (chunked internally, joined seamlessly)."""
        if not text.strip():
            raise ValueError("nothing to say: the text is empty")
        chunker = self.chunker_factory()
        chunks = chunker.feed(text) + chunker.flush()
        audio_parts, motion_parts = [], []
        with tqdm(total=len(chunks), desc="generate", unit="chunk", disable=not progress or len(chunks) < 2) as bar:
            for seg in self.stream(chunks):
                audio_parts.append(seg.audio)
                motion_parts.append(seg.motion)
                if seg.text:
                    bar.update(1)
        audio = np.concatenate(audio_parts) if audio_parts else np.zeros(0, np.float32)
        motion = np.concatenate(motion_parts) if motion_parts else np.zeros((0, spec.MOTION_DIM), np.float32)
        return Result(audio, motion, text)

    def frames(self, motion: np.ndarray) -> Iterator[np.ndarray]:
        if self.renderer is None:
            raise ValueError("this pipeline has no renderer (motion-only output)")
        return self.renderer.frames(motion)


def tokenizer_for(model: FlowMatching) -> Tokenizer | PhonemeTokenizer:
    name = model.config.vocab
    path = Path(name)
    vocab = Vocab.from_file(path) if path.suffix == ".txt" else Vocab.builtin(name)
    return PhonemeTokenizer(vocab) if name == PHONEME_VOCAB else Tokenizer(vocab)


def make_renderer(kind: str | Renderer, reference: Reference, size: int) -> Renderer:
    if isinstance(kind, Renderer):
        return kind
    if kind == "parametric":
        from avatar_omnitalker.render.parametric import ParametricRenderer

        return ParametricRenderer(size, reference.appearance)
    if str(kind).endswith(".onnx"):
        from avatar_omnitalker.render.onnx_renderer import OnnxRenderer

        return OnnxRenderer(kind, reference.appearance, size)
    raise ValueError(f"unknown renderer {kind!r}: use 'parametric', a path to an .onnx renderer, or none")
