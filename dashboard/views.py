"""What the Explorer hands the callbacks: one validated view in, one result per panel out."""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go

from dashboard import figures
from dashboard.capture.predict import ClassScore
from dashboard.models import ConvLayer, LoadedModel
from dashboard.modes import KernelMode, KernelScale, Look, ScaleMode

ANONYMOUS = "anonymous"  # the session of a request that carries none


@dataclass(frozen=True)
class View:
    """One session's choices, as kept in the page (already validated)."""

    model: str
    layer: str | None
    image: str
    channel: int = 0
    scale: ScaleMode = ScaleMode.TILE
    kernel_view: KernelMode | None = KernelMode.GRID  # None: chosen for the layer's size
    kernel_scale: KernelScale = KernelScale.TILE
    look: Look = Look.DIVERGING
    weights: dict | None = None  # {"model": name, "key": cache key} after a weights upload
    session: str = ANONYMOUS
    page: int | None = None  # kernel page shown; None: the page holding the channel
    feature_px: tuple[int, int] | None = None  # the feature grid's size on screen
    kernel_px: tuple[int, int] | None = None  # the kernel grid's size on screen


@dataclass
class KernelView:
    """The kernel panel: its figure and the controls that go with what is drawn."""

    figure: go.Figure | dict
    channel: int
    mode: KernelMode  # what is drawn: RGB falls back to the grid on other layers
    rgb_available: bool
    pages: int
    page: int = 0

    @property
    def show_pager(self) -> bool:
        return self.mode == KernelMode.GRID and self.pages > 1


@dataclass
class Selection:
    """What changes when the selected channel changes."""

    channel: int
    kernel_figure: go.Figure | dict | None  # None: the page stays, only kernel_shapes change
    kernel_shapes: list[dict]
    feature_shapes: list[dict]
    page: int = 0  # the kernel page shown after the selection


@dataclass
class DetailView:
    figure: go.Figure
    input_key: str  # the input image drawn beside the map: the same for every layer


@dataclass
class FeatureView:
    figure: go.Figure
    channel: int
    info: str


MSG_NOT_A_CLASSIFIER = "This model's output is not a class vector; no predictions."
MSG_RANDOM_WEIGHTS = "Random weights: these predictions mean nothing."


@dataclass(frozen=True)
class RankedClass:
    name: str  # the class name, or "class 17" where the model has none
    probability: float
    logit: float
    index: int


@dataclass(frozen=True)
class PredictionView:
    """The predictions panel: the top classes, most probable first, and what to say beside
    them ("" when nothing needs saying)."""

    classes: tuple[RankedClass, ...]
    note: str


def prediction_view(model: LoadedModel, scores: tuple[ClassScore, ...]) -> PredictionView:
    """The panel for ``scores``; none means the model's output is not a class vector."""
    if not scores:
        return PredictionView((), MSG_NOT_A_CLASSIFIER)
    names = model.classes or ()
    ranked = tuple(
        RankedClass(
            names[s.index] if s.index < len(names) else f"class {s.index}",
            s.probability,
            s.logit,
            s.index,
        )
        for s in scores
    )
    return PredictionView(ranked, "" if model.trained else MSG_RANDOM_WEIGHTS)


def describe(model: LoadedModel, layer: ConvLayer, geometry: figures.FeatureGeometry) -> str:
    """One line about what the grids show, including what is left out."""
    parts = [f"{model.label} ({model.weights}) · {layer.label}"]
    if geometry.factor > 1:
        f = geometry.factor
        parts.append(
            f"feature-map overview at 1/{f} resolution (each cell is the mean of {f}×{f}); "
            "click a map for it at full resolution"
        )
    return " — ".join(parts)
