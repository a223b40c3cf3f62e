"""What the Explorer hands the callbacks: one validated view in, one result per panel out."""

from __future__ import annotations

from dataclasses import dataclass

import plotly.graph_objects as go

from dashboard import figures
from dashboard.capture.predict import ClassScore
from dashboard.i18n import N_, _, ngettext
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


MSG_NOT_A_CLASSIFIER = N_("This model's output is not a class vector; no predictions.")
MSG_RANDOM_WEIGHTS = N_("Random weights: these predictions mean nothing.")


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
        return PredictionView((), _(MSG_NOT_A_CLASSIFIER))
    names = model.classes or ()
    ranked = tuple(
        RankedClass(
            names[s.index] if s.index < len(names) else _("class {index}").format(index=s.index),
            s.probability,
            s.logit,
            s.index,
        )
        for s in scores
    )
    return PredictionView(ranked, "" if model.trained else _(MSG_RANDOM_WEIGHTS))


def describe(model: LoadedModel, layer: ConvLayer, geometry: figures.FeatureGeometry) -> str:
    """One line about what the grids show, including what is left out."""
    parts = [f"{model.label} ({model.weights}) · {layer.label}"]
    if geometry.factor > 1:
        f = geometry.factor
        parts.append(
            _(
                "feature-map overview at 1/{f} resolution (each cell is the mean of {f}×{f}); "
                "click a map for it at full resolution"
            ).format(f=f)
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
    return _("{height}×{width} px").format(height=box.height, width=box.width)


def explanation_sentences(
    parts, shown: float, measured, theoretical, input_size: tuple[int, int], plain: bool
) -> list[str]:
    """What the explanation panel says in words: the sum, and the receptive field."""
    n = len(parts.terms)
    total = ngettext(
        "Channel {channel} at row {row}, col {col}: the term of {n} input channel ({terms}) "
        "plus the bias ({bias}) make {value}; the map shows {shown} there (difference "
        "{difference}: float32 against float64 arithmetic).",
        "Channel {channel} at row {row}, col {col}: the terms of {n} input channels ({terms}) "
        "plus the bias ({bias}) make {value}; the map shows {shown} there (difference "
        "{difference}: float32 against float64 arithmetic).",
        n,
    ).format(
        channel=parts.channel,
        row=parts.row,
        col=parts.col,
        n=n,
        terms=f"{float(parts.terms.sum()):.7g}",
        bias=f"{parts.bias:.7g}",
        value=f"{parts.value:.7g}",
        shown=f"{shown:.7g}",
        difference=f"{abs(parts.value - shown):.1e}",
    )
    height, width = input_size
    if measured is None:
        field = _(
            "Receptive field: this value does not depend on the input at all here (its "
            "gradient is zero everywhere, e.g. a ReLU on its path is off)."
        )
    else:
        field = _(
            "Receptive field (red box on the input): {size} of the {height}×{width} input, "
            "measured from the gradient of this value."
        ).format(size=_size(measured), height=height, width=width)
    if theoretical is not None:
        field += " " + _(
            "Theoretical field of this plain stack (dashed): {size} within the image."
        ).format(size=_size(theoretical))
    elif not plain:
        field += " " + _("No theoretical size: the way to this layer is not a plain stack.")
    return [total, field]


MAX_NAMED_DEAD = 10  # dead channels named in the statistics' sentence


def dead_sentence(dead: list[int], rectified: bool) -> str:
    """What the statistics panel says of the layer's dead channels (named, up to 10)."""
    if not dead:
        return _("No channel is dead on this image.")
    named = ", ".join(str(c) for c in dead[:MAX_NAMED_DEAD])
    if len(dead) > MAX_NAMED_DEAD:
        named += " " + _("… and {count} more").format(count=len(dead) - MAX_NAMED_DEAD)
    if rectified:
        text = ngettext(
            "{n} channel is dead on this image (zero everywhere): {named}.",
            "{n} channels are dead on this image (zero everywhere): {named}.",
            len(dead),
        )
    else:
        text = ngettext(
            "{n} channel is dead on this image (one constant value everywhere): {named}.",
            "{n} channels are dead on this image (one constant value everywhere): {named}.",
            len(dead),
        )
    return text.format(n=len(dead), named=named)
