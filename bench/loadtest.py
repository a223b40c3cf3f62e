"""``python -m bench.loadtest``: the load test's entry point; the code is in ``bench.load``."""

import sys

from bench.load.__main__ import main

if __name__ == "__main__":
    sys.exit(main())
