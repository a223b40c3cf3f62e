"""The compare map: the view's layer, weights and channel on a second image.

Every pass goes through the Explorer's queue and activation cache, keyed by image key; the
mirror of the current image is the derived key ``samples.mirror_key(image)``, which the
Explorer resolves by flipping the model's input.
"""

from __future__ import annotations

import plotly.graph_objects as go

from dashboard import figures
from dashboard.explorer import Explorer
from dashboard.i18n import _
from dashboard.modes import Compare
from dashboard.samples import mirror_key
from dashboard.views import CompareView, View

# The compare pass queues in a lane of its own: it is asked for while the session's pass
# for the first map may still be waiting, and must not be refused as "your previous image".
COMPARE_LANE = "/compare"


def compare_choices(explorer: Explorer) -> list[str]:
    """The image keys "Compare with" offers besides off and the mirror."""
    return [key for key, _label in explorer.sample_choices()]


def detail_range(explorer: Explorer, view: View) -> tuple[float, float]:
    """(zmin, zmax) of the view's detail map on its own, as ``Explorer.detail`` draws it."""
    _model, _layer, maps, view = explorer.maps(view)
    return colour_range(figures.feature_detail(maps[view.channel], channel=0, layer=""))


def compare(explorer: Explorer, view: View, choice: str, shared: bool) -> CompareView:
    """The view's layer and channel on a second image, beside that image, and the colour
    range the first map takes: the union of both maps' ranges when ``shared``, else its own.

    Args:
        choice: a key of ``compare_choices``, or ``Compare.MIRROR`` (never ``Compare.OFF``).
    """
    if choice == Compare.OFF:
        raise ValueError("compare() needs an image to compare with")
    model, layer, _maps, view = explorer.maps(view)
    main = detail_range(explorer, view)
    if choice == Compare.MIRROR:
        other, name = mirror_key(view.image), _("mirror of this image")
    else:
        other, name = choice, dict(explorer.sample_choices())[choice]
    maps = explorer.layer_output(model, other, layer.name, view.session + COMPARE_LANE)
    figure = figures.feature_detail(
        maps[view.channel],
        channel=view.channel,
        layer=layer.name,
        image=explorer.display_image(model, other),
        heading=_("Compared: {name}").format(name=name),
    )
    if not shared:
        return CompareView(figure, main)
    zmin, zmax = colour_range(figure)
    both = (min(zmin, main[0]), max(zmax, main[1]))
    figure.data[0].update(zmin=both[0], zmax=both[1])
    return CompareView(figure, both)


def colour_range(figure: go.Figure) -> tuple[float, float]:
    """(zmin, zmax) of a detail figure's map (its first trace)."""
    trace = figure.data[0]
    return float(trace.zmin), float(trace.zmax)
