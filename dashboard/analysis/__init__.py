"""Explain one activation: its exact per-channel decomposition and its receptive field.

Pure functions over a model and tensors (torch and numpy only, no dash or plotly).
"""

from dashboard.analysis.chain import (
    activation_chain,
    after_activation,
    describe_chain,
    is_rectified,
)
from dashboard.analysis.decompose import Contributions, Term, contributions, ranked
from dashboard.analysis.maximise import (
    DEFAULT_STEPS,
    Cancelled,
    FeatureVis,
    feature_visualisation,
)
from dashboard.analysis.receptive import (
    Box,
    Field,
    receptive_field,
    theoretical_box,
    theoretical_field,
)
from dashboard.analysis.stats import (
    SORT_KEYS,
    ChannelStats,
    channel_stats,
    channels_in_range,
    sort_order,
)

__all__ = [
    "DEFAULT_STEPS",
    "SORT_KEYS",
    "Box",
    "Cancelled",
    "ChannelStats",
    "Contributions",
    "FeatureVis",
    "Field",
    "Term",
    "activation_chain",
    "after_activation",
    "channel_stats",
    "channels_in_range",
    "contributions",
    "describe_chain",
    "feature_visualisation",
    "is_rectified",
    "ranked",
    "receptive_field",
    "sort_order",
    "theoretical_box",
    "theoretical_field",
]
