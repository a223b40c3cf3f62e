"""Explain what the Explorer shows: one activation, one channel over the image, the layer's
statistics, and what a channel looks for.

Like the Explorer it only routes: the work lives in ``analysis`` (torch) and ``figures``
(plotly). Every forward or backward pass here goes through the Explorer's inference queue,
in a lane of the session's own, so hooks never meet another pass on the shared model.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np
import plotly.graph_objects as go
import torch

from dashboard import analysis, figures
from dashboard.analysis.maximise import MAX_SIDE, FeatureVis, feature_visualisation
from dashboard.analysis.path import LayerInput, layer_input
from dashboard.analysis.stats import channels_in_range, sort_order
from dashboard.caching import ComputeOnceCache
from dashboard.errors import ModelError
from dashboard.explained import Explained, UnitRecord, explained_from, unit_record
from dashboard.explorer import Explorer, overview_cells
from dashboard.exporting import ExplanationRecord
from dashboard.figures.highlight import channels_outline
from dashboard.i18n import _
from dashboard.jobs import Jobs
from dashboard.models import ConvLayer, LoadedModel
from dashboard.views import (
    ExplanationView,
    FeatureVisView,
    StatsView,
    View,
    explanation_sentences,
)

EXPLAIN_LANE = "/explain"
TOP_TERMS = 3  # input channels drawn as patch, kernel and product


class Explainer:
    """The explanation panel, the overlay, the layer statistics and feature visualisations."""

    def __init__(self, explorer: Explorer, jobs: Jobs) -> None:
        self.explorer = explorer
        self.jobs = jobs
        # What a layer received for (model key, image, layer): a few MB at most, reused by
        # every click on the same map.
        self._inputs: ComputeOnceCache[LayerInput] = ComputeOnceCache(8)
        # The last units explained: a few KB each; an export reads the one just shown. With
        # a shared store every process reads what one computed (``explained.py``).
        self._units: ComputeOnceCache[Explained] = ComputeOnceCache(16)

    def _layer_input(self, view: View, model, layer, x: torch.Tensor) -> LayerInput:
        key = (model.key, view.image, layer.name)
        found = self._inputs.peek(key)
        if found is not None:
            return found
        return self.explorer.queue.run(
            view.session + EXPLAIN_LANE,
            ("input", *key),
            lambda: self._inputs.get_or_compute(
                key, lambda: layer_input(model.module, layer.name, x)
            ),
            what=_("Running {model} up to {layer}").format(model=model.label, layer=layer.name),
        )

    def _explained(self, view: View, row: int, col: int) -> Explained:
        """Unit (view.channel, row, col) of the view's layer, decomposed and its receptive
        field measured: once per (weights, image, layer, unit), for the panel and export."""
        model, layer, maps, view = self.explorer.maps(view)
        _channels, height, width = maps.shape
        if not (0 <= row < height and 0 <= col < width):
            raise ModelError(
                "Row {row}, col {col} is outside the {height}×{width} map; click inside it.",
                row=row,
                col=col,
                height=height,
                width=width,
            )
        key = (model.key, view.image, layer.name, view.channel, row, col)
        found = self._units.peek(key)
        if found is not None:
            return found

        def compute() -> Explained:
            results = self.explorer.results
            shared = (model.shared_key, *key[1:])  # the weights' fingerprint, not their name
            stored = None if results is None else results.record(shared, UnitRecord)
            if stored is not None:
                return explained_from(stored, view)
            unit = decompose()
            if results is not None:
                results.put_record(shared, unit_record(unit))
            return unit

        def decompose() -> Explained:
            x = self.explorer.input_tensor(model, view.image)
            seen = self._layer_input(view, model, layer, x)
            conv = model.module.get_submodule(layer.name)
            parts = analysis.contributions(conv, seen.tensor, view.channel, row, col)
            measured = self.explorer.queue.run(
                view.session + EXPLAIN_LANE,
                ("field", *key),
                lambda: analysis.receptive_field(
                    model.module, layer.name, x, view.channel, row, col
                ),
                what=_("Measuring the receptive field in {model}").format(model=model.label),
            )
            theoretical = None
            if seen.path is not None:
                field = analysis.theoretical_field(seen.path)
                theoretical = analysis.theoretical_box(field, row, col, tuple(x.shape[-2:]))
            shown = float(maps[view.channel, row, col])
            size = tuple(x.shape[-2:])
            return Explained(
                view, layer.name, parts, shown, measured, theoretical, size, seen.path is not None
            )

        return self._units.get_or_compute(key, compute)

    def explain(self, view: View, row: int, col: int) -> ExplanationView:
        """Unit (view.channel, row, col) of the view's layer: its exact decomposition into
        one term per input channel plus the bias, and its receptive field."""
        unit = self._explained(view, row, col)
        parts = unit.parts
        figure = figures.explanation_figure(
            value=parts.value,
            bias=parts.bias,
            terms=parts.terms,
            input_channels=parts.input_channels,
            patch=parts.patch,
            kernel=parts.kernel,
            channel=parts.channel,
            row=row,
            col=col,
            layer=unit.layer,
            top=TOP_TERMS,
        )
        shapes = figures.field_shapes(_edges(unit.measured), _edges(unit.theoretical))
        shapes.append(figures.pixel_marker(row, col))
        return ExplanationView(
            figure=figure,
            total=parts.value,
            shown=unit.shown,
            sentences=explanation_sentences(
                parts, unit.shown, unit.measured, unit.theoretical, unit.input_size, unit.plain
            ),
            shapes=shapes,
        )

    def explanation_record(self, view: View, row: int, col: int) -> ExplanationRecord:
        """The numbers the explanation panel shows for that unit, for export."""
        unit = self._explained(view, row, col)
        parts = unit.parts
        return ExplanationRecord(
            model=unit.view.model,
            layer=unit.layer,
            channel=parts.channel,
            row=row,
            col=col,
            total=parts.value,
            shown=unit.shown,
            bias=parts.bias,
            terms=parts.terms,
            input_channels=parts.input_channels,
            top_channels=figures.top_rows(parts.terms, TOP_TERMS),
            patch=parts.patch,
            kernel=parts.kernel,
            measured_field=_edges(unit.measured),
            theoretical_field=_edges(unit.theoretical),
        )

    def overlay(self, view: View, opacity: float) -> go.Figure:
        """The selected map stretched over the input image the model saw."""
        model, layer, maps, view = self.explorer.maps(view)
        return figures.overlay_figure(
            maps[view.channel],
            self.explorer.display_image(model, view.image),
            channel=view.channel,
            layer=layer.name,
            opacity=opacity,
        )

    def stats(self, view: View) -> StatsView:
        """The layer's per-channel statistics, its histogram, and the grid's order."""
        _, layer, _, view = self.explorer.maps(view)
        stats = self.explorer.layer_stats(view)
        order = sort_order(stats, view.sort)
        bars = figures.channel_stats_figure(
            stats.mean,
            stats.maximum,
            stats.std,
            stats.zeros,
            stats.dead,
            key=view.sort,
            order=order,
            layer=layer.name,
            source=stats.source,
        )
        histogram = figures.activation_histogram(
            stats.edges, stats.total, layer=layer.name, source=stats.source
        )
        dead = np.flatnonzero(stats.dead)
        return StatsView(bars, histogram, stats.source, [int(c) for c in dead], stats.rectified)

    def outline_range(self, view: View, lo: float, hi: float) -> tuple[list[dict], list[int]]:
        """The feature grid's shapes for the channels with values in [lo, hi] (to the
        histogram's bins), with the selection's outline; and those channels."""
        _, _, maps, view = self.explorer.maps(view)
        stats = self.explorer.layer_stats(view)
        channels = [int(c) for c in channels_in_range(stats, lo, hi)]
        geometry = figures.feature_geometry(maps.shape, overview_cells(view))
        order = self.explorer.channel_order(view)
        shapes = figures.feature_outline(geometry, view.channel, order=order)
        return shapes + channels_outline(geometry, channels, order=order), channels

    def _featurevis_key(self, view: View) -> tuple[tuple, LoadedModel, ConvLayer, View]:
        model, layer = self.explorer.resolve(view)
        if not 0 <= view.channel < layer.out_channels:
            view = replace(view, channel=0)
        steps = self.explorer.config.featurevis_steps
        # kept for days (disk or Redis): under the weights' fingerprint, not only their name
        key = ("featurevis", model.shared_key, layer.name, view.channel, steps, MAX_SIDE)
        return key, model, layer, view

    def feature_vis(self, view: View, progress=None) -> FeatureVisView:
        """What the selected channel responds to most: gradient ascent on the input,
        stored per (weights, layer, channel, steps). Runs in a job process, where no pass
        may go through the inference queue: its threads stay in the web process."""
        key, model, layer, view = self._featurevis_key(view)

        def compute():
            return feature_visualisation(
                model.module,
                layer.name,
                view.channel,
                input_shape=model.input_shape,
                mean=model.mean,
                std=model.std,
                pixel_max=model.pixel_max,
                steps=self.explorer.config.featurevis_steps,
                progress=progress,
                chain=self.explorer.statistics.known_chain(model, layer.name),
            )

        result = self.jobs.result(key, compute, FeatureVis)
        return FeatureVisView(
            figures.feature_vis_figure(result.image, layer=layer.name, channel=view.channel),
            result,
        )

    def stored_feature_vis(self, view: View) -> FeatureVisView | None:
        """The stored visualisation of the view's channel, if one was computed."""
        key, _, layer, view = self._featurevis_key(view)
        result = self.jobs.stored(key, FeatureVis)
        if result is None:
            return None
        return FeatureVisView(
            figures.feature_vis_figure(result.image, layer=layer.name, channel=view.channel),
            result,
        )


def _edges(box: analysis.Box | None) -> tuple[int, int, int, int] | None:
    return None if box is None else (box.top, box.left, box.bottom, box.right)
