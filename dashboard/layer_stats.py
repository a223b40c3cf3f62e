"""Per-channel statistics of the layers a page shows, taken after each conv's activation
chain (its BatchNorm and ReLU, say), which one hooked pass per model finds."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from dashboard.analysis.chain import (
    activation_chain,
    after_activation,
    describe_chain,
    is_rectified,
)
from dashboard.analysis.stats import ChannelStats, channel_stats
from dashboard.caching import ComputeOnceCache
from dashboard.capture import InferenceQueue
from dashboard.i18n import _
from dashboard.models import ConvLayer, LoadedModel
from dashboard.models.later import Later

STATS_LANE = "/stats"  # a session's tracing pass queues beside its activation pass


class LayerStatistics:
    """Statistics per (model, image, layer) and activation chains per model, cached."""

    def __init__(
        self,
        queue: InferenceQueue,
        input_tensor: Callable[[LoadedModel, str], torch.Tensor],
    ) -> None:
        self.queue = queue
        self.input_tensor = input_tensor
        # Per-channel statistics per (model key, image, layer): a few KB each.
        self._stats: ComputeOnceCache[ChannelStats] = ComputeOnceCache(64)
        # The modules applied to each conv's output, per model key.
        self._chains: ComputeOnceCache[dict[str, tuple[str, ...]]] = ComputeOnceCache(16)

    def chains(self, model: LoadedModel, image: str, session: str) -> dict[str, tuple[str, ...]]:
        """Every conv layer's activation chain, traced once per model on ``image``."""
        return self._chains.get_or_compute(
            model.key,
            lambda: self.queue.run(
                session + STATS_LANE,
                ("chains", model.key),
                lambda: activation_chain(
                    model.module,
                    [c.name for c in model.conv_layers],
                    self.input_tensor(model, image),
                ),
                what=_("Tracing {model}").format(model=model.label),
            ),
        )

    def known_chain(self, model: LoadedModel, layer: str) -> tuple[str, ...] | None:
        """The layer's chain if it was traced already (None: not yet), without a pass."""
        chains = self._chains.peek(model.key)
        return None if chains is None else chains.get(layer, ())

    def of(
        self, model: LoadedModel, layer: ConvLayer, maps: np.ndarray, image: str, session: str
    ) -> ChannelStats:
        """Per-channel statistics of ``maps`` (the layer's output on ``image``) after the
        layer's activation chain."""

        def compute() -> ChannelStats:
            chain = self.chains(model, image, session).get(layer.name, ())
            return channel_stats(
                after_activation(model.module, chain, maps),
                # kept for every visitor: worded in each one's language when shown
                source=Later(lambda: describe_chain(model.module, chain)),
                rectified=is_rectified(model.module, chain),
            )

        return self._stats.get_or_compute((model.key, image, layer.name), compute)
