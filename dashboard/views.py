"""What the Explorer hands the callbacks: one validated view in, one result per panel out."""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go

from dashboard import figures
from dashboard.capture.predict import ClassScore
from dashboard.models import ConvLayer, LoadedModel
from dashboard.modes import KernelMode, KernelScale, Look, ScaleMode, SortKey

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
    sort: SortKey = SortKey.CHANNEL  # the grids' order of channels


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
class CompareView:
    """The compare map (a second image's map of the same channel, beside that image) and
    the colour range the first map takes beside it (its own, or the one both share)."""

    figure: go.Figure
    main_range: tuple[float, float]


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


@dataclass
class ExplanationView:
    """One activation explained: the figure, the sum it adds up to, what the map shows
    there, sentences for beside it, and the shapes drawn on the detail figure (receptive
    field boxes on the input, the pixel on the map)."""

    figure: go.Figure
    total: float  # bias + the sum of the terms, in float64
    shown: float  # the map's value at that pixel, as the hover shows it
    sentences: list[str]
    shapes: list[dict]


@dataclass
class StatsView:
    bars: go.Figure
    histogram: go.Figure
    source: str  # which values: "after features.1 (ReLU)", ...
    dead: list[int]
    rectified: bool  # dead means all zero after a ReLU (True), else one constant value


@dataclass
class FeatureVisView:
    figure: go.Figure
    result: object  # analysis.maximise.FeatureVis


def _size(box) -> str:
    return f"{box.height}×{box.width} px"


def explanation_sentences(
    parts, shown: float, measured, theoretical, input_size: tuple[int, int], plain: bool
) -> list[str]:
    """What the explanation panel says in words: the sum, and the receptive field."""
    n = len(parts.terms)
    inputs = "input channel" if n == 1 else f"{n} input channels"
    difference = abs(parts.value - shown)
    total = (
        f"Channel {parts.channel} at row {parts.row}, col {parts.col}: "
        f"the terms of {inputs} ({float(parts.terms.sum()):.7g}) plus the bias "
        f"({parts.bias:.7g}) make {parts.value:.7g}; the map shows {shown:.7g} there "
        f"(difference {difference:.1e}: float32 against float64 arithmetic)."
    )
    height, width = input_size
    if measured is None:
        field = (
            "Receptive field: this value does not depend on the input at all here (its "
            "gradient is zero everywhere, e.g. a ReLU on its path is off)."
        )
    else:
        field = (
            f"Receptive field (red box on the input): {_size(measured)} of the "
            f"{height}×{width} input, measured from the gradient of this value."
        )
    if theoretical is not None:
        field += (
            f" Theoretical field of this plain stack (dashed): {_size(theoretical)}"
            " within the image."
        )
    elif not plain:
        field += " No theoretical size: the way to this layer is not a plain stack."
    return [total, field]


MAX_NAMED_DEAD = 10  # dead channels named in the statistics' sentence


def dead_sentence(dead: list[int], rectified: bool) -> str:
    """What the statistics panel says of the layer's dead channels (named, up to 10)."""
    if not dead:
        return "No channel is dead on this image."
    how = "zero everywhere" if rectified else "one constant value everywhere"
    named = ", ".join(str(c) for c in dead[:MAX_NAMED_DEAD])
    more = f" … and {len(dead) - MAX_NAMED_DEAD} more" if len(dead) > MAX_NAMED_DEAD else ""
    many = "channel is" if len(dead) == 1 else "channels are"
    return f"{len(dead)} {many} dead on this image ({how}): {named}{more}."
