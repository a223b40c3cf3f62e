"""Explain one activation: its exact per-channel decomposition and its receptive field.

Pure functions over a model and tensors (torch and numpy only, no dash or plotly).
"""

from dashboard.analysis.decompose import Contributions, Term, contributions, ranked
from dashboard.analysis.receptive import (
    Box,
    Field,
    receptive_field,
    theoretical_box,
    theoretical_field,
)

__all__ = [
    "Box",
    "Contributions",
    "Field",
    "Term",
    "contributions",
    "ranked",
    "receptive_field",
    "theoretical_box",
    "theoretical_field",
]
