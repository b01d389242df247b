"""Train a Vocos-architecture vocoder on a corpus's audio (reconstruction losses only).

The result is a folder in the public Vocos checkpoint's layout (config.yaml with class paths +
weights), loaded by the same code as charactr/vocos-mel-24khz. Losses: L1 between log-mels and a
multi-resolution STFT loss (spectral convergence + log magnitude). No discriminator: on a CPU
budget the adversarial terms cost more than they return; the README says what that leaves.
"""

from __future__ import annotations

import json
import math
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
import yaml
from loguru import logger
from safetensors.torch import save_file
from tqdm import tqdm

from avatar_omnitalker import spec
from avatar_omnitalker.audio.mel import MelExtractor
from avatar_omnitalker.data.shards import Corpus
from avatar_omnitalker.data.splits import TRAIN
from avatar_omnitalker.fileio import atomic_path

RESOLUTIONS = ((512, 128), (1024, 256), (2048, 512))


@dataclass(frozen=True)
class VocoderConfig:
    dim: int = 256
    intermediate_dim: int = 768
    num_layers: int = 6
    segment_s: float = 1.0
    batch: int = 8
    steps: int = 2000
    lr: float = 5e-4
    mel_weight: float = 45.0
    seed: int = 0
    save_every: int = 200

    def hparams(self) -> dict:
        return {
            "feature_extractor": {
                "class_path": "vocos.feature_extractors.MelSpectrogramFeatures",
                "init_args": {
                    "sample_rate": spec.SAMPLE_RATE,
                    "n_fft": spec.N_FFT,
                    "hop_length": spec.HOP_LENGTH,
                    "n_mels": spec.N_MELS,
                    "padding": "center",
                },
            },
            "backbone": {
                "class_path": "vocos.models.VocosBackbone",
                "init_args": {
                    "input_channels": spec.N_MELS,
                    "dim": self.dim,
                    "intermediate_dim": self.intermediate_dim,
                    "num_layers": self.num_layers,
                },
            },
            "head": {
                "class_path": "vocos.heads.ISTFTHead",
                "init_args": {"dim": self.dim, "n_fft": spec.N_FFT, "hop_length": spec.HOP_LENGTH, "padding": "same"},
            },
        }


def stft_loss(x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    loss = x.new_zeros(())
    for n_fft, hop in RESOLUTIONS:
        window = torch.hann_window(n_fft, device=x.device)
        sx = torch.stft(x, n_fft, hop, window=window, return_complex=True).abs().clamp(min=1e-7)
        sy = torch.stft(y, n_fft, hop, window=window, return_complex=True).abs().clamp(min=1e-7)
        loss = loss + torch.linalg.norm(sy - sx) / torch.linalg.norm(sy) + F.l1_loss(sx.log(), sy.log())
    return loss / len(RESOLUTIONS)


def train_vocoder(
    corpus_dir: str,
    out: str,
    cfg: VocoderConfig = VocoderConfig(),
    max_minutes: float | None = None,
    init: str | None = None,
) -> Path:
    """`init`: a vocoder folder to fine-tune (new voices adapt in minutes instead of hours);
    its config.yaml must equal the one `cfg` makes."""
    from vocos import Vocos

    out_dir = Path(out)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "config.yaml").write_text(yaml.safe_dump(cfg.hparams(), sort_keys=False))
    torch.manual_seed(cfg.seed)
    model = Vocos.from_hparams(str(out_dir / "config.yaml"))
    if init:
        from avatar_omnitalker.audio.vocoder import VocoderError, VocosVocoder

        if yaml.safe_load((Path(init) / "config.yaml").read_text()) != cfg.hparams():
            raise VocoderError(f"{init}: its config.yaml is not the architecture train-vocoder builds")
        model.load_state_dict(VocosVocoder.from_folder(init).model.state_dict())
        model.train()
    corpus = Corpus(corpus_dir)
    corpus.require_audio("vocoder training")
    audio = [corpus.arrays(s)["audio"] for s in corpus.split(TRAIN)]
    mel = MelExtractor()
    opt = torch.optim.AdamW(model.parameters(), lr=cfg.lr, betas=(0.8, 0.99))
    seg = int(cfg.segment_s * spec.SAMPLE_RATE) // spec.HOP_LENGTH * spec.HOP_LENGTH
    rng = np.random.default_rng(cfg.seed)
    start = time.time()
    log = []
    for step in tqdm(range(1, cfg.steps + 1), desc="vocoder", unit="step"):
        lr = cfg.lr * 0.5 * (1 + math.cos(math.pi * step / cfg.steps))
        for g in opt.param_groups:
            g["lr"] = lr
        clips = []
        for _ in range(cfg.batch):
            a = audio[int(rng.integers(len(audio)))]
            o = int(rng.integers(0, max(1, a.size - seg)))
            clips.append(a[o : o + seg])
        wav = torch.from_numpy(np.stack(clips))
        features = mel(wav)  # (B, 100, T+1)
        pred = model.head(model.backbone(features[..., : seg // spec.HOP_LENGTH]))  # decode() is inference-only
        loss_mel = F.l1_loss(mel(pred), features)
        loss = cfg.mel_weight * loss_mel + stft_loss(pred, wav)
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        log.append(
            {"step": step, "loss": loss.item(), "mel_l1": loss_mel.item(), "seconds": round(time.time() - start, 1)}
        )
        if step % cfg.save_every == 0 or step == cfg.steps:
            _save(model, out_dir, log, cfg)
        if max_minutes is not None and time.time() - start > 60 * max_minutes:
            logger.info("vocoder: time budget reached at step {}", step)
            _save(model, out_dir, log, cfg)
            break
    return out_dir


def _save(model, out_dir: Path, log: list[dict], cfg: VocoderConfig) -> None:
    state = {
        k: v.detach().contiguous() for k, v in model.state_dict().items() if not k.startswith("feature_extractor.")
    }
    with atomic_path(out_dir / "model.safetensors") as tmp:
        save_file(
            state, tmp, metadata={"format": "vocos", "steps": str(log[-1]["step"]), "config": json.dumps(asdict(cfg))}
        )
    with atomic_path(out_dir / "loss.jsonl") as tmp:
        Path(tmp).write_text("".join(json.dumps(r) + "\n" for r in log))
