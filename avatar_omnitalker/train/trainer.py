"""One training loop for a single process and for `torchrun` DDP (gloo on CPU, NCCL on GPU).

A step consumes `micro_batches` micro-batches, split evenly over the ranks, and averages their
gradients; every random draw of micro-batch j of step s (data order, t, noise, CFG dropout,
dropout masks) derives from (seed, s, j). Hence: two ranks compute what one process computes,
and a resumed run continues the very same loss curve.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import os
import threading
import time
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import torch
import torch.distributed as dist
from loguru import logger
from tqdm import tqdm

from avatar_omnitalker import spec
from avatar_omnitalker.data.dataset import PairDataset, collate, dynamic_batches
from avatar_omnitalker.data.shards import Corpus
from avatar_omnitalker.data.splits import TRAIN
from avatar_omnitalker.model.cfm import FlowMatching
from avatar_omnitalker.model.checkpoint import init_from_checkpoint, save_checkpoint
from avatar_omnitalker.model.f5_compat import audio_branch_parameters, load_f5_into
from avatar_omnitalker.text.modes import tokenizer_for, vocab_for_mode
from avatar_omnitalker.train.config import TrainConfig
from avatar_omnitalker.train.state import latest_checkpoint, load_state, mark_latest, save_state


class MicroBatchStream:
    """Global micro-batch g -> examples, through deterministic epochs.

    With `prefetch` > 0, background threads load the next micro-batches while the device trains
    (a GPU step is shorter than loading a batch in Python); the batches are the same either way."""

    def __init__(self, dataset: PairDataset, cfg: TrainConfig) -> None:
        self.dataset, self.cfg = dataset, cfg
        self._epochs: dict[int, tuple[list, list[list[int]]]] = {}
        self._starts = [0]
        self._lock = threading.Lock()
        self._pool = ThreadPoolExecutor(cfg.prefetch) if cfg.prefetch else None
        self._ahead: dict[int, Future] = {}

    def _epoch_locked(self, e: int):
        """Epoch e's (pairs, batches); the caller holds self._lock (loader threads share it)."""
        if e not in self._epochs:
            pairs = self.dataset.pairs(e)
            lengths = [self._length(p) for p in pairs]
            self._epochs[e] = (
                pairs,
                dynamic_batches(lengths, self.cfg.max_frames, self.cfg.max_samples, self.cfg.seed, e),
            )
            if len(self._epochs) > 3:
                self._epochs.pop(min(self._epochs))
        return self._epochs[e]

    def _length(self, pair) -> int:
        segs = self.dataset.sources[pair.source].meta["segments"]
        frames = sum(segs[b - 1]["end"] - segs[a]["start"] for a, b in (pair.ref, pair.target))
        return spec.mel_frames_for_motion(frames)

    def get(self, g: int):
        if self._pool is None:
            return self._load(g)
        for k in range(g, g + self.cfg.prefetch + 1):
            if k not in self._ahead:
                self._ahead[k] = self._pool.submit(self._load, k)
        for k in [k for k in self._ahead if k < g]:  # a resume or a skip: drop what is behind
            self._ahead.pop(k).cancel()
        return self._ahead.pop(g).result()

    def _load(self, g: int):
        e = 0
        while True:
            with self._lock:
                if len(self._starts) <= e + 1:
                    self._starts.append(self._starts[e] + len(self._epoch_locked(e)[1]))
                known = g < self._starts[e + 1]
                if known:
                    pairs, batches = self._epoch_locked(e)
                    chosen = [pairs[i] for i in batches[g - self._starts[e]]]
            if known:
                return collate([self.dataset.load(p) for p in chosen])
            e += 1

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)


def _lr_factor(cfg: TrainConfig, step: int) -> float:
    if step < cfg.warmup:
        return (step + 1) / cfg.warmup
    if cfg.decay == "constant":
        return 1.0
    progress = min(1.0, (step - cfg.warmup) / max(1, cfg.steps - cfg.warmup))
    shape = 0.5 * (1 + math.cos(math.pi * progress)) if cfg.decay == "cosine" else 1 - progress
    return cfg.min_lr_ratio + (1 - cfg.min_lr_ratio) * shape


def _seed(cfg: TrainConfig, step: int, j: int) -> int:
    return (cfg.seed * 1_000_003 + step * 1009 + j) % (2**63)


class Trainer:
    def __init__(self, cfg: TrainConfig) -> None:
        self.cfg = cfg.validate()
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        if cfg.micro_batches % self.world:
            raise ValueError(
                f"micro_batches ({cfg.micro_batches}) must be a multiple of the number of processes ({self.world})"
            )
        if cfg.threads:
            torch.set_num_threads(cfg.threads)
        device = cfg.device
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        if device.startswith("cuda") and self.world > 1:
            device = f"cuda:{int(os.environ.get('LOCAL_RANK', '0'))}"
        self.device = torch.device(device)
        if self.device.type == "cuda" and self.device.index is None:  # set_device needs an index
            self.device = torch.device("cuda", torch.cuda.current_device())
        if self.world > 1 and not dist.is_initialized():
            dist.init_process_group("nccl" if self.device.type == "cuda" else "gloo")
        if self.device.type == "cuda":
            torch.cuda.set_device(self.device)
        self.out = Path(cfg.out)
        self.corpus = Corpus(cfg.corpus)
        stats = self.corpus.motion_stats(TRAIN)
        model_cfg = cfg.model_config()
        vocab_name = vocab_for_mode(cfg.text_mode, model_cfg.vocab)
        tokenizer = tokenizer_for(vocab_name)
        model_cfg = dataclasses.replace(
            model_cfg, vocab=vocab_name, model=dataclasses.replace(model_cfg.model, text_vocab_size=len(tokenizer))
        )
        torch.manual_seed(cfg.seed)  # the initial weights are part of the run's reproducibility
        self.model = FlowMatching(model_cfg, stats).to(self.device)
        if cfg.init_from:
            start = latest_checkpoint(Path(cfg.init_from)) or cfg.init_from  # a run folder or a checkpoint
            grown = init_from_checkpoint(self.model, start)
            logger.info("fine-tuning from {}{}", start, f" (grew {grown})" if grown else "")
        if cfg.init_f5:
            load_f5_into(self.model.backbone, cfg.init_f5)
        if cfg.freeze_audio:
            for p in audio_branch_parameters(self.model.backbone):
                p.requires_grad_(False)
        self.dataset = PairDataset(self.corpus, TRAIN, stats, tokenizer, cfg.seed, cfg.max_ref_s, cfg.max_target_s)
        self.stream = MicroBatchStream(self.dataset, cfg)
        params = [p for p in self.model.parameters() if p.requires_grad]
        self.optimizer = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay, betas=(0.9, 0.98))
        self.ema = {k: v.detach().clone().float() for k, v in self.model.state_dict().items()}
        self.step = 0
        self._resume()
        self.net = self.model
        if self.world > 1:
            ids = [self.device.index] if self.device.type == "cuda" else None
            self.net = torch.nn.parallel.DistributedDataParallel(self.model, device_ids=ids)

    # ------------------------------------------------------------------ state
    def _resume(self) -> None:
        folder = latest_checkpoint(self.out)
        if folder is None:
            return
        self.step, extra = load_state(folder, self.model, self.ema, self.optimizer)
        log = self.out / "loss.jsonl"
        if self.rank == 0 and log.is_file():  # steps logged after the checkpoint will be run again
            kept = [
                line for line in log.read_text().splitlines() if line.strip() and json.loads(line)["step"] <= self.step
            ]
            log.write_text("".join(line + "\n" for line in kept))
        if extra.get("config") and extra["config"].get("seed") != self.cfg.seed:
            logger.warning("resuming a run made with another seed: the curve will not continue exactly")
        logger.info("resumed from {} at step {}", folder, self.step)

    def save(self) -> Path:
        folder = self.out / "checkpoints" / f"step-{self.step:07d}"
        folder.mkdir(parents=True, exist_ok=True)
        save_state(folder, self.model, self.ema, self.optimizer, self.step, {"config": dataclasses.asdict(self.cfg)})
        export = FlowMatching(self.model.config, self.model.stats)
        export.load_state_dict({k: v.to(export.state_dict()[k].dtype) for k, v in self.ema.items()})
        save_checkpoint(
            export, folder, extra={"step": self.step, "ema_decay": self.cfg.ema_decay, "text_mode": self.cfg.text_mode}
        )
        mark_latest(self.out, folder)
        self._plot()
        return folder

    # ------------------------------------------------------------------ loop
    def train(self) -> list[dict]:
        cfg = self.cfg
        local = cfg.micro_batches // self.world
        log: list[dict] = []
        autocast = (
            torch.autocast("cuda", dtype=torch.bfloat16)
            if (self.device.type == "cuda" and cfg.bf16)
            else contextlib.nullcontext()
        )
        if self.rank == 0:
            self.out.mkdir(parents=True, exist_ok=True)
        bar = tqdm(total=cfg.steps, initial=self.step, desc="train", unit="step", disable=self.rank != 0)
        started = time.time()
        while self.step < cfg.steps:
            self.net.train()
            for group in self.optimizer.param_groups:
                group["lr"] = cfg.lr * _lr_factor(cfg, self.step)
            totals = torch.zeros(4, device=self.device)
            for k in range(local):
                j = self.rank + k * self.world
                seed = _seed(cfg, self.step, j)
                torch.manual_seed(seed)  # dropout masks
                batch = self.stream.get(self.step * cfg.micro_batches + j).to(self.device)
                sync = k == local - 1 or self.world == 1
                ctx = self.net.no_sync() if (self.world > 1 and not sync) else contextlib.nullcontext()
                with ctx, autocast:
                    out = self.net(batch, torch.Generator().manual_seed(seed))
                    (out.loss / local).backward()
                totals += torch.stack(
                    [out.loss.detach().float(), out.audio.float(), out.motion.float(), out.motion_delta.float()]
                )
            if self.world > 1:
                dist.all_reduce(totals)
            totals /= cfg.micro_batches
            grad_norm = torch.nn.utils.clip_grad_norm_(
                [p for p in self.model.parameters() if p.requires_grad], cfg.grad_clip
            )
            self.optimizer.step()
            self.optimizer.zero_grad(set_to_none=True)
            self._update_ema()
            self.step += 1
            record = {
                "step": self.step,
                "loss": round(totals[0].item(), 6),
                "audio": round(totals[1].item(), 6),
                "motion": round(totals[2].item(), 6),
                "motion_delta": round(totals[3].item(), 6),
                "lr": self.optimizer.param_groups[0]["lr"],
                "grad_norm": round(float(grad_norm), 4),
                "seconds": round(time.time() - started, 2),
            }
            log.append(record)
            if self.rank == 0:
                bar.update(1)
                bar.set_postfix(loss=f"{record['loss']:.3f}")
                if self.step % cfg.log_every == 0 or self.step == cfg.steps:
                    with open(self.out / "loss.jsonl", "a") as f:
                        f.write(json.dumps(record) + "\n")
                saved = self.step % cfg.save_every == 0 or self.step == cfg.steps
                if saved:
                    self.save()
            if cfg.time_limit_s and self.step < cfg.steps and self._out_of_time(started):
                if self.rank == 0:
                    logger.info("time limit: stopping at step {} after {:.0f} s", self.step, time.time() - started)
                    if not saved:
                        self.save()
                break
        bar.close()
        self.stream.close()
        if self.world > 1:
            dist.barrier()
        return log

    def _out_of_time(self, started: float) -> bool:
        """Past time_limit_s on any rank's clock: all ranks stop at the same step, none waits alone."""
        late = torch.tensor([float(time.time() - started >= self.cfg.time_limit_s)], device=self.device)
        if self.world > 1:
            dist.all_reduce(late, op=dist.ReduceOp.MAX)
        return bool(late.item())

    @torch.no_grad()
    def _update_ema(self) -> None:
        decay = min(self.cfg.ema_decay, (1 + self.step) / (10 + self.step))
        floats, model_floats = [], []
        for k, v in self.model.state_dict().items():
            if v.dtype.is_floating_point:
                floats.append(self.ema[k])
                model_floats.append(v.detach().float())
            else:
                self.ema[k].copy_(v)
        torch._foreach_mul_(floats, decay)  # one kernel per group, not per tensor, on a GPU
        torch._foreach_add_(floats, model_floats, alpha=1 - decay)

    def _plot(self) -> None:
        path = self.out / "loss.jsonl"
        if not path.is_file():
            return
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
        fig, ax = plt.subplots(figsize=(8, 4))
        for key in ("loss", "audio", "motion", "motion_delta"):
            if any(key in r for r in rows):  # logs written before the delta term lack it
                ax.plot([r["step"] for r in rows if key in r], [r[key] for r in rows if key in r], label=key)
        ax.set_xlabel("step")
        ax.set_ylabel("flow-matching MSE")
        ax.set_yscale("log")
        ax.legend()
        ax.grid(alpha=0.3)
        fig.tight_layout()
        fig.savefig(self.out / "loss.png", dpi=90)
        plt.close(fig)


def train(cfg: TrainConfig) -> list[dict]:
    trainer = Trainer(cfg)
    try:
        return trainer.train()
    finally:
        if trainer.world > 1 and dist.is_initialized():
            dist.destroy_process_group()
