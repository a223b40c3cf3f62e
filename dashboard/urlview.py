"""A link's view checked against what this app has: every field resolved to a value the
page can show (its default where the link's is unknown), with a sentence for each
value that could not be used. No dash here: the callbacks in ``callbacks/url.py`` route it.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, replace

from dashboard.explorer import Explorer
from dashboard.i18n import N_, _, current_language
from dashboard.modes import KernelScale, Look, ScaleMode, SortKey
from dashboard.urlstate import UPLOAD, ParsedUrl, UrlState, image_key, image_param

# what each query parameter is, for the sentence about a value the page cannot use
FIELD_NAMES = {
    "model": N_("model"),
    "layer": N_("layer"),
    "channel": N_("channel"),
    "image": N_("image"),
    "scale": N_("colour mode"),
    "kernels": N_("kernel view"),
    "kscale": N_("kernel colour"),
    "look": N_("look"),
    "sort": N_("order"),
    "zoom": N_("zoom window"),
    "lang": N_("language"),
}
SHOWN_VALUE = 40  # characters of a bad value quoted back


@dataclass(frozen=True)
class Resolved:
    """The view a link opens: ``state`` complete but for ``kernels`` (None: the layer's
    size decides) and ``zoom``; ``image`` is the image key to show."""

    state: UrlState
    image: str
    sentences: tuple[str, ...] = ()


def quoted(value: str) -> str:
    """A value from the address bar, safe to quote in a sentence: printable and short."""
    text = "".join(ch for ch in value if unicodedata.category(ch)[0] != "C").strip()
    return text if len(text) <= SHOWN_VALUE else text[: SHOWN_VALUE - 1] + "…"


def _unknown(param: str, value: str, shown: object) -> str:
    return _(
        "This link asks for the {field} “{value}”, which ConvScope does not have; "
        "showing {shown} instead."
    ).format(field=_(FIELD_NAMES[param]), value=quoted(value), shown=shown)


def resolve(
    parsed: ParsedUrl,
    explorer: Explorer,
    current_image: str,
    weights: dict | None = None,
) -> Resolved:
    """The view ``parsed`` asks for, on this app; ``current_image`` keeps an upload the page
    already shows when the link says ``image=upload``.

    Raises:
        ModelError: the (valid) model cannot be built.
    """
    default_model, default_image = explorer.first_view()
    state = parsed.state
    sentences = []
    if parsed.unreadable:
        sentences.append(
            _(
                "This link's query string is too long or malformed to read; "
                "showing the default view."
            )
        )
    # defaults for what a link leaves out or gets wrong
    bad = dict(parsed.rejected)
    for param, value in parsed.rejected:
        if param not in ("model", "layer", "channel", "image"):
            sentences.append(_unknown(param, value, _("the default")))
    model = state.model
    if model is not None and model not in explorer.models.names:
        bad["model"] = model
    if "model" in bad:
        label = dict(explorer.models.available()).get(default_model, default_model)
        sentences.append(_unknown("model", bad["model"], label))
        model = None
    model = model or default_model
    loaded = explorer.model(model, weights)
    layers = {layer.name: layer for layer in loaded.conv_layers}
    first = loaded.conv_layers[0]
    layer_name = state.layer
    if "model" in bad:  # the link's layer and channel were the unknown model's
        layer_name, channel = None, None
    else:
        if layer_name is not None and layer_name not in layers:
            bad["layer"] = layer_name
        channel = state.channel
        if "layer" in bad:  # the channel was the unknown layer's
            sentences.append(_unknown("layer", bad["layer"], first.name))
            layer_name, channel = None, None
    layer = layers[layer_name] if layer_name is not None else first
    if "layer" not in bad and (
        "channel" in bad or (channel is not None and channel >= layer.out_channels)
    ):
        sentences.append(_unknown("channel", bad.get("channel", str(channel)), 0))
        channel = None
    image, image_sentence = _image(explorer, state.image, bad.get("image"), current_image)
    if image is None:
        image = default_image
    if image_sentence:
        sentences.append(image_sentence)
    resolved = replace(
        state,
        model=model,
        layer=layer.name,
        channel=channel or 0,
        image=image_param(image),
        scale=state.scale or ScaleMode.TILE,
        kernel_scale=state.kernel_scale or KernelScale.TILE,
        look=state.look or Look.DIVERGING,
        sort=state.sort or SortKey.CHANNEL,
        lang=state.lang or current_language(),  # no lang in the link: as the server answers
    )
    return Resolved(resolved, image, tuple(sentences))


def _image(
    explorer: Explorer, param: str | None, bad: str | None, current: str
) -> tuple[str | None, str]:
    """(image key or None for the default, a sentence or "")."""
    _model, default_image = explorer.first_view()
    default_label = dict(explorer.sample_choices())[default_image]
    if param == UPLOAD:
        if image_param(current) == UPLOAD:  # back/forward in the page that has it
            return current, ""
        return None, _(
            "This link was made with an uploaded image, which links cannot carry; showing "
            "the sample {sample} instead. Upload the image to see it."
        ).format(sample=default_label)
    if bad is None and param is not None:
        key = image_key(param)
        if key in dict(explorer.sample_choices()):
            return key, ""
        bad = param
    if bad is not None:
        return None, _unknown("image", bad, default_label)
    return None, ""
