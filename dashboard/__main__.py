"""``python -m dashboard``: start ConvScope on the embedded default (no network needed)."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import threading

from dashboard.config import ENV, Config, config_from_env
from dashboard.errors import UserError

log = logging.getLogger(__name__)
# Flags that describe --model's input; given without --model they change nothing.
USER_MODEL_INPUT = ("input_size", "mean", "std", "value_range", "classes")


def build_parser() -> argparse.ArgumentParser:
    """The options of ``python -m dashboard`` (each one also an environment variable)."""
    parser = argparse.ArgumentParser(
        prog="python -m dashboard",
        description="ConvScope: see a CNN's kernels and the feature maps they produce.",
        epilog="Every option can also be set by the environment variable named in brackets. "
        "Pretrained weights for an offline machine: python -m dashboard fetch --help.",
    )
    parser.add_argument("--host", help=f"interface to bind [{ENV['host']}, default 127.0.0.1]")
    parser.add_argument("--port", type=int, help=f"port [{ENV['port']}, default 8050]")
    parser.add_argument(
        "--model",
        dest="user_model",
        help="your own model as package.module:factory or path/to/file.py:factory, a function "
        "returning an eager torch.nn.Module. TorchScript is not supported (TorchScript modules do "
        "not run the forward hooks that read each layer) and model files saved whole with "
        f"torch.save are never unpickled [{ENV['user_model']}]",
    )
    parser.add_argument(
        "--weights",
        dest="user_weights",
        help="weights for --model: .safetensors or a state dict saved with torch.save (also "
        "wrapped as {'state_dict': ...}, {'model': ...} or {'model_state_dict': ...}, names "
        "with a 'module.' or 'model.' prefix); tensors that fit by name and shape are loaded, "
        f"the rest keep their initial weights and the page says which [{ENV['user_weights']}]",
    )
    parser.add_argument(
        "--classes",
        metavar="FILE",
        help="names of --model's outputs, one per line in output order, for the top-5 "
        f"predictions [{ENV['classes']}]",
    )
    parser.add_argument(
        "--input-size",
        metavar="H or HxW",
        help="input size in pixels for --model: 28 (square) or 112x96 (height 112, width 96); "
        f"default 224 for RGB models, 28 for grayscale [{ENV['input_size']}]",
    )
    parser.add_argument(
        "--value-range",
        metavar="{0-1,0-255}",
        help="pixel values for --model before normalisation: 0-1 (default) or 0-255 "
        f"[{ENV['value_range']}]",
    )
    parser.add_argument(
        "--mean",
        metavar="M or M1,M2,M3",
        help="per-channel mean subtracted from --model's input, in the units of --value-range "
        "(0.485,0.456,0.406 on 0-1; 127.5 on 0-255); default ImageNet's for RGB models on 0-1, "
        f"else 0 [{ENV['mean']}]",
    )
    parser.add_argument(
        "--std",
        metavar="S or S1,S2,S3",
        help="per-channel std the input is then divided by, in the same units (default ImageNet's "
        f"for RGB models on 0-1, else 1); --mean 0 --std 1 turns normalisation off [{ENV['std']}]",
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
        "--redis-url",
        metavar="URL",
        help="keep uploads in this Redis (redis://host:port/0) so that any process serves any "
        f"visitor [{ENV['redis_url']} or REDIS_URL; default: this process's memory]",
    )
    parser.add_argument(
        "--debug", action="store_true", default=None, help=f"Dash dev tools [{ENV['debug']}]"
    )
    return parser


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    return build_parser().parse_args(argv)


def config_overrides(args: argparse.Namespace) -> dict[str, object]:
    """The parsed flags that are Config fields (a subcommand's own options are not)."""
    names = {field.name for field in dataclasses.fields(Config)}
    return {k: v for k, v in vars(args).items() if k in names}


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["fetch"]:  # python -m dashboard fetch vgg16 …: pretrained weights
        from dashboard.fetch import main as fetch

        return fetch(argv[1:])
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    args = parse_args(argv)
    try:
        config = config_from_env(**config_overrides(args))
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return run(config)


def run(config: Config) -> int:
    """Start the app for ``config``; 2 when the user's model or weights cannot be used."""
    if config.user_model is None:
        default = Config()
        ignored = [
            name for name in USER_MODEL_INPUT if getattr(config, name) != getattr(default, name)
        ]
        if ignored:
            flags = ", ".join("--" + name.replace("_", "-") for name in ignored)
            log.warning("%s describe the input of --model; without --model they are ignored", flags)
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
