"""Train TinyVGG on the procedural shapes data set, save it as safetensors, write samples."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from torch import nn

from dashboard.models.tinyvgg import CLASSES, MEAN, STD, TinyVGG
from dashboard.training import shapes
from dashboard.training.kernel_metrics import low_frequency_fraction

logger = logging.getLogger(__name__)

# Seed of the held-out test set; training draws use SeedSequence([seed, epoch]), never this.
HELDOUT_SEED = 1_000_003
SAMPLES_SEED = 7


@dataclass(frozen=True)
class TrainConfig:
    """Everything that decides the trained weights (plus the thread count)."""

    seed: int = 0
    epochs: int = 10
    samples_per_epoch: int = 4096
    batch_size: int = 64
    lr: float = 5e-3
    weight_decay: float = 1e-4
    first_layer_decay: float = 1e-2  # extra decay on conv1 shrinks directions it never uses
    first_layer_init_scale: float = 0.1  # conv1 starts near 0: little init noise survives
    width: int = 16
    test_size: int = 1024
    threads: int = 2


@dataclass
class TrainResult:
    model: TinyVGG
    test_accuracy: float
    seconds: float
    epoch_losses: list[float] = field(default_factory=list)


def to_tensor(images: np.ndarray) -> torch.Tensor:
    """Images (N, H, W, 3) in [0, 1] -> normalised float32 tensor (N, 3, H, W)."""
    x = torch.from_numpy(np.ascontiguousarray(images, dtype=np.float32)).permute(0, 3, 1, 2)
    mean = torch.tensor(MEAN).view(1, 3, 1, 1)
    std = torch.tensor(STD).view(1, 3, 1, 1)
    return ((x - mean) / std).contiguous()


@torch.inference_mode()
def accuracy(model: nn.Module, images: np.ndarray, labels: np.ndarray, batch: int = 100) -> float:
    """Top-1 accuracy of model on images (N, H, W, 3) in [0, 1] with int labels (N,)."""
    model.eval()
    hits = 0
    for start in range(0, len(labels), batch):
        logits = model(to_tensor(images[start : start + batch]))
        hits += int((logits.argmax(1).numpy() == labels[start : start + batch]).sum())
    return hits / max(len(labels), 1)


def _initialised(model: TinyVGG, config: TrainConfig) -> TinyVGG:
    """He init keeps the signal alive through four ReLU convs without batch norm."""
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    with torch.no_grad():
        for conv in convs:
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            nn.init.zeros_(conv.bias)
        convs[0].weight.mul_(config.first_layer_init_scale)
    return model


def _optimizer(model: TinyVGG, config: TrainConfig) -> torch.optim.Optimizer:
    first = model.block1[0]
    rest = [p for name, p in model.named_parameters() if not name.startswith("block1.0.")]
    groups = [
        {"params": [first.weight], "weight_decay": config.first_layer_decay},
        {"params": [first.bias, *rest], "weight_decay": config.weight_decay},
    ]
    return torch.optim.AdamW(groups, lr=config.lr)


def train(config: TrainConfig) -> TrainResult:
    """Train a fresh TinyVGG from config.seed on freshly drawn shapes every epoch."""
    torch.set_num_threads(config.threads)
    torch.manual_seed(config.seed)
    model = _initialised(TinyVGG(num_classes=len(CLASSES), width=config.width), config)
    optimizer = _optimizer(model, config)
    steps_per_epoch = max(config.samples_per_epoch // config.batch_size, 1)
    schedule = torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=config.lr, total_steps=config.epochs * steps_per_epoch
    )
    order = torch.Generator().manual_seed(config.seed)
    loss_fn = nn.CrossEntropyLoss()
    losses: list[float] = []
    started = time.perf_counter()
    for epoch in range(config.epochs):
        images, labels = shapes.generate(
            steps_per_epoch * config.batch_size, np.random.SeedSequence([config.seed, epoch])
        )
        x, y = to_tensor(images), torch.from_numpy(labels)
        permutation = torch.randperm(len(y), generator=order)
        model.train()
        total = 0.0
        for step in range(steps_per_epoch):
            index = permutation[step * config.batch_size : (step + 1) * config.batch_size]
            loss = loss_fn(model(x[index]), y[index])
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            schedule.step()
            total += loss.item()
        losses.append(total / steps_per_epoch)
        logger.info(
            "epoch %d/%d: loss %.4f, conv1 low-frequency energy %.3f, %.0f s",
            epoch + 1,
            config.epochs,
            losses[-1],
            low_frequency_fraction(model.block1[0].weight.detach().numpy()),
            time.perf_counter() - started,
        )
    seconds = time.perf_counter() - started
    test_images, test_labels = shapes.generate(config.test_size, HELDOUT_SEED)
    result = TrainResult(model.eval(), accuracy(model, test_images, test_labels), seconds, losses)
    logger.info(
        "trained in %.0f s; held-out accuracy %.4f on %d images",
        seconds,
        result.test_accuracy,
        config.test_size,
    )
    return result


def save_weights(model: nn.Module, path: Path) -> None:
    """Write the state dict as float32 safetensors (creating the folder)."""
    from safetensors.torch import save_file

    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().to(torch.float32).contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(path), metadata={"format": "pt", "classes": ",".join(CLASSES)})


def write_samples(directory: Path, seed: int = SAMPLES_SEED) -> list[Path]:
    """Write one 64x64 PNG per class, ``shapes-<class>.png``; return their paths."""
    directory.mkdir(parents=True, exist_ok=True)
    images, labels = shapes.generate(len(CLASSES), seed)
    paths = []
    for image, label in zip(images, labels, strict=True):
        path = directory / f"shapes-{CLASSES[label]}.png"
        Image.fromarray(np.round(image * 255).astype(np.uint8)).save(path, optimize=True)
        paths.append(path)
    return sorted(paths)
