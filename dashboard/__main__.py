"""``python -m dashboard``: start ConvScope on the embedded default (no network needed)."""

from __future__ import annotations

import argparse
import logging
import sys
import threading

from dashboard.config import ENV, Config, config_from_env
from dashboard.errors import UserError


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
        help="your own model as package.module:factory or path/to/file.py:factory, a function "
        "returning an eager torch.nn.Module (TorchScript and pickled model files are not "
        f"supported: their layers cannot be hooked) [{ENV['user_model']}]",
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
        "--threads", type=int, help=f"request threads of the web server [{ENV['threads']}, 8]"
    )
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
    except UserError as exc:  # the user's model or weights
        print(f"error: {exc}", file=sys.stderr)
        return 2
    # the first page's model and forward pass, computed while the server starts
    threading.Thread(target=app.explorer.warm, args=app.first_view, daemon=True).start()
    if config.debug:
        app.run(host=config.host, port=config.port, debug=True)
    else:
        serve(app.server, config)
    return 0


def serve(server, config: Config) -> None:
    """Serve with waitress: its I/O thread buffers whole requests before a worker thread
    sees them, so slow clients (a body trickling in byte by byte) hold no worker thread."""
    import waitress

    waitress.serve(
        server,
        host=config.host,
        port=config.port,
        threads=max(1, config.threads),
        max_request_body_size=config.max_request_bytes,
        connection_limit=1000,
        asyncore_use_poll=True,  # select() stops at 1,024 descriptors
        channel_timeout=60,
        ident="ConvScope",
    )


if __name__ == "__main__":
    sys.exit(main())
