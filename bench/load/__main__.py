"""Load test: the server exactly as the Procfile runs it, many browser-like sessions, on loopback.

``python -m bench.loadtest`` (or ``python -m bench.load``) with the flags below; the table goes
to stdout, the JSON report to ``--out``; exit status 0 when the run is OK.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys
from pathlib import Path

from bench.load.options import DEFAULT_OUT, MODEL_MIX, LoadOptions
from bench.load.report import summary
from bench.load.run import run


def parse_args(argv: list[str] | None = None) -> LoadOptions:
    parser = argparse.ArgumentParser(
        prog="python -m bench.loadtest", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--sessions", type=int, default=LoadOptions.sessions)
    parser.add_argument("--seconds", type=float, default=LoadOptions.seconds)
    parser.add_argument("--port", type=int, default=0, help="0: a free loopback port")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="JSON report ('-': none)")
    parser.add_argument("--models", default=",".join(MODEL_MIX), help="comma-separated")
    parser.add_argument("--cache-mb", type=int, default=LoadOptions.cache_mb)
    parser.add_argument("--model-cache", type=int, default=LoadOptions.model_cache)
    parser.add_argument("--max-requests", type=int, default=LoadOptions.max_requests)
    parser.add_argument("--think-ms", type=float, default=LoadOptions.think_ms)
    parser.add_argument("--connections", type=int, default=LoadOptions.connections)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--keep-log", action="store_true")
    parser.add_argument(
        "--processes", type=int, default=1, help="web processes; requests spread, not sticky"
    )
    parser.add_argument(
        "--redis",
        action="store_true",
        help="start a private redis-server and the Procfile's worker; REDIS_URL for all",
    )
    parser.add_argument(
        "--env", action="append", default=[], metavar="KEY=VALUE", help="extra server env"
    )
    parser.add_argument(
        "--server-args",
        "--gunicorn-args",
        default="",
        help="extra server options after the Procfile's, e.g. '--threads 8' (experiments)",
    )
    args = parser.parse_args(argv)
    if any("=" not in item for item in args.env):
        parser.error("--env takes KEY=VALUE")
    return LoadOptions(
        sessions=args.sessions,
        seconds=args.seconds,
        port=args.port,
        out=None if str(args.out) == "-" else args.out,
        models=tuple(m for m in args.models.split(",") if m),
        cache_mb=args.cache_mb,
        model_cache=args.model_cache,
        max_requests=args.max_requests,
        think_ms=args.think_ms,
        connections=args.connections,
        seed=args.seed,
        keep_log=args.keep_log,
        processes=args.processes,
        redis=args.redis,
        server_args=tuple(shlex.split(args.server_args)),
        extra_env=tuple(tuple(item.split("=", 1)) for item in args.env),
    )


def main(argv: list[str] | None = None) -> int:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s")
    options = parse_args(argv)
    report = run(options)
    print(summary(report))
    if options.out is not None:
        print(f"report: {options.out}")
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
