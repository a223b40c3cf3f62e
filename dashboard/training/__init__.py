"""Train the shipped TinyVGG on procedural shapes: ``python -m dashboard.training``."""

import os

# Before torch loads OpenMP: on a busy shared CPU, spinning worker threads starve each other
# (measured 25-45 ms per image instead of 5-7 ms with 2 threads at load average 7).
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
