"""Retrain the shipped TinyVGG: ``python -m dashboard.training [--epochs N] [...]``.

Writes dashboard/models/weights/tinyvgg.safetensors and assets/samples/tinyvgg/*.png.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

from dashboard.models.tinyvgg import WEIGHTS_PATH
from dashboard.training.kernel_metrics import low_frequency_fraction, neighbour_correlation
from dashboard.training.train import TrainConfig, save_weights, train, write_samples

SAMPLES_DIR = Path(__file__).resolve().parents[2] / "assets" / "samples" / "tinyvgg"
logger = logging.getLogger("dashboard.training")


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    defaults = TrainConfig()
    parser = argparse.ArgumentParser(prog="python -m dashboard.training", description=__doc__)
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--epochs", type=int, default=defaults.epochs)
    parser.add_argument("--samples-per-epoch", type=int, default=defaults.samples_per_epoch)
    parser.add_argument("--batch-size", type=int, default=defaults.batch_size)
    parser.add_argument("--lr", type=float, default=defaults.lr)
    parser.add_argument("--weight-decay", type=float, default=defaults.weight_decay)
    parser.add_argument("--first-layer-decay", type=float, default=defaults.first_layer_decay)
    parser.add_argument("--width", type=int, default=defaults.width)
    parser.add_argument("--test-size", type=int, default=defaults.test_size)
    parser.add_argument("--threads", type=int, default=defaults.threads)
    parser.add_argument("--weights", type=Path, default=WEIGHTS_PATH, help="output .safetensors")
    parser.add_argument("--samples-dir", type=Path, default=SAMPLES_DIR, help="output PNG folder")
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> float:
    """Train, save weights and samples; return the held-out accuracy."""
    args = parse_args(argv)
    if not logging.getLogger().handlers:
        logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    config = TrainConfig(
        seed=args.seed,
        epochs=args.epochs,
        samples_per_epoch=args.samples_per_epoch,
        batch_size=args.batch_size,
        lr=args.lr,
        weight_decay=args.weight_decay,
        first_layer_decay=args.first_layer_decay,
        width=args.width,
        test_size=args.test_size,
        threads=args.threads,
    )
    result = train(config)
    save_weights(result.model, args.weights)
    samples = write_samples(args.samples_dir)
    conv1 = result.model.block1[0].weight.detach().numpy()
    logger.info(
        "wrote %s (%d bytes) and %d samples in %s; conv1 low-frequency energy %.3f, "
        "neighbour correlation %.3f",
        args.weights,
        args.weights.stat().st_size,
        len(samples),
        args.samples_dir,
        low_frequency_fraction(conv1),
        neighbour_correlation(conv1),
    )
    return result.test_accuracy


if __name__ == "__main__":
    main()
