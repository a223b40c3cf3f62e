"""Per layer, side by side: matplotlib, naive make_subplots, ConvScope's figures + JSON."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from plotly.io.json import to_json_plotly

from bench.baselines import matplotlib_grid, subplots_grid
from bench.timing import summary, timed
from dashboard import figures
from dashboard.explorer import Explorer
from dashboard.views import View

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Repeats:
    """How often each way is timed; matplotlib on wide layers is the slow part of a run."""

    convscope: int
    baselines: int
    matplotlib_wide: int  # layers with more than WIDE maps
    wide: int = 128

    def matplotlib(self, channels: int) -> int:
        return self.baselines if channels <= self.wide else self.matplotlib_wide

    def subplots(self, channels: int) -> int:
        return self.baselines if channels < 512 else min(self.baselines, 2)


def bench_layer(explorer: Explorer, model: str, layer: str, image: str, repeats: Repeats) -> dict:
    """Time the three ways on one layer's real activations, interleaved round by round."""
    loaded = explorer.model(model)
    maps = explorer.layer_outputs(loaded, image)[layer]
    view = View(model, layer, image)
    feature_ms: list[float] = []
    kernel_ms: list[float] = []
    both_ms: list[float] = []
    naive_ms: list[float] = []
    mpl_ms: list[float] = []
    sizes: dict[str, int] = {}
    channels = maps.shape[0]
    rounds = max(repeats.convscope, repeats.subplots(channels), repeats.matplotlib(channels))
    for index in range(rounds):
        if index < repeats.convscope:
            feature, f_ms = timed(
                lambda: to_json_plotly(figures.feature_grid(maps, selected=0, layer=layer)).encode()
            )
            kernel, k_ms = timed(lambda: to_json_plotly(explorer.kernel_view(view).figure).encode())
            feature_ms.append(f_ms)
            kernel_ms.append(k_ms)
            both_ms.append(f_ms + k_ms)
            sizes.update(feature_json=len(feature), kernel_json=len(kernel))
        if index < repeats.subplots(channels):
            naive, n_ms = timed(lambda: subplots_grid(maps).encode())
            naive_ms.append(n_ms)
            sizes["subplots_json"] = len(naive)
        if index < repeats.matplotlib(channels):
            png, m_ms = timed(lambda: matplotlib_grid(maps))
            mpl_ms.append(m_ms)
            sizes["matplotlib_png"] = len(png)
        log.info(
            "%s round %d: convscope %.0f ms, subplots %s, matplotlib %s",
            layer,
            index,
            both_ms[-1] if index < repeats.convscope else float("nan"),
            f"{naive_ms[-1]:.0f} ms" if index < repeats.subplots(channels) else "-",
            f"{mpl_ms[-1]:.0f} ms" if index < repeats.matplotlib(channels) else "-",
        )
    return {
        "maps_shape": list(maps.shape),
        "kernel_shape": list(explorer.kernel_weights(loaded, explorer.layer(loaded, layer)).shape),
        "matplotlib_ms": summary(mpl_ms),
        "subplots_ms": summary(naive_ms),
        "convscope_feature_ms": summary(feature_ms),
        "convscope_kernel_ms": summary(kernel_ms),
        "convscope_ms": summary(both_ms),
        "bytes": sizes,
    }
