"""``python -m dashboard``: start ConvScope on the embedded default (no network needed)."""

from __future__ import annotations

import argparse
import logging
import sys

from dashboard.config import ENV, config_from_env


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m dashboard",
        description="ConvScope: see a CNN's kernels and the feature maps they produce.",
        epilog="Every option can also be set by the environment variable named in brackets.",
    )
    parser.add_argument("--host", help=f"interface to bind [{ENV['host']}, default 127.0.0.1]")
    parser.add_argument("--port", type=int, help=f"port [{ENV['port']}, default 8050]")
    parser.add_argument(
        "--model",
        dest="user_model",
        help=f"your own model: package.module:factory or a TorchScript file [{ENV['user_model']}]",
    )
    parser.add_argument(
        "--weights",
        dest="user_weights",
        help="weights for --model: .safetensors or a weights-only state dict "
        f"[{ENV['user_weights']}]",
    )
    parser.add_argument(
        "--input-size", type=int, help=f"input side in pixels for --model [{ENV['input_size']}]"
    )
    parser.add_argument(
        "--default-model", help=f"model shown first [{ENV['default_model']}, default tinyvgg]"
    )
    parser.add_argument(
        "--allow-download",
        action="store_true",
        default=None,
        help=f"download pretrained weights missing from TORCH_HOME [{ENV['allow_download']}]",
    )
    parser.add_argument("--cache-mb", type=int, help=f"activation cache budget [{ENV['cache_mb']}]")
    parser.add_argument(
        "--debug", action="store_true", default=None, help=f"Dash dev tools [{ENV['debug']}]"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = parse_args(argv)
    try:
        config = config_from_env(**vars(args))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    from dashboard.app import create_app

    try:
        app = create_app(config)
    except (ValueError, TypeError, RuntimeError) as exc:  # the user's model or weights
        print(f"error: {exc}", file=sys.stderr)
        return 2
    app.run(host=config.host, port=config.port, debug=config.debug)
    return 0


if __name__ == "__main__":
    sys.exit(main())
