"""ConvScope's own models: the trained TinyVGG (default) and the one-conv "custom" demo."""

from __future__ import annotations

import logging

from torch import nn

from dashboard.errors import UserError
from dashboard.i18n import N_, _
from dashboard.models import tinyvgg
from dashboard.models.later import Later
from dashboard.models.layers import conv_layers
from dashboard.models.loaded import LoadedModel, standard_transform
from dashboard.models.preprocessing import describe_standard
from dashboard.models.seeding import freeze, random_weights, seeded

logger = logging.getLogger(__name__)

TINYVGG_LABEL = "TinyVGG"
CUSTOM_LABEL = N_("Custom conv 1→4 3×3")
CUSTOM_SIZE = 28


def build_tinyvgg(*, allow_download: bool = False) -> LoadedModel:
    """TinyVGG with the shipped trained weights; seeded random weights and a notice if absent."""
    del allow_download  # the weights ship with the app
    size = (tinyvgg.INPUT_SIZE, tinyvgg.INPUT_SIZE)
    notice = None
    try:
        module: nn.Module = tinyvgg.load_trained()
        key, text = "tinyvgg:shipped", Later(lambda: _("trained on ConvScope shapes"))
    except Exception as exc:  # missing or broken file: the default model must still show
        logger.warning("TinyVGG weights unusable: %s", exc)
        module = seeded(tinyvgg.TinyVGG)
        key, text = "tinyvgg:random", random_weights()
        why = Later(exc.translated) if isinstance(exc, UserError) else str(exc)
        notice = Later(
            lambda: _("{error} Showing random TinyVGG weights until then.").format(error=why)
        )
    module = freeze(module)
    mean, std = tuple(tinyvgg.MEAN), tuple(tinyvgg.STD)
    return LoadedModel(
        key=key,
        name="tinyvgg",
        label=TINYVGG_LABEL,
        module=module,
        conv_layers=conv_layers(module, (3, *size), model_name="TinyVGG"),
        input_channels=3,
        input_size=size,
        weights=text,
        notice=notice,
        transform=standard_transform(size, mean, std, crop=True),
        mean=mean,
        std=std,
        upgradable=(lambda _allow: tinyvgg.WEIGHTS_PATH.is_file()) if notice else None,
        classes=tuple(tinyvgg.CLASSES),
        trained=notice is None,
        preprocessing=Later(lambda: describe_standard(3, size, crop=True, mean=mean, std=std)),
    )


def custom_module() -> nn.Sequential:
    """nn.Sequential(Conv2d(1, 4, 3, padding=1)): call under seeded() for the shared kernels."""
    return nn.Sequential(nn.Conv2d(1, 4, kernel_size=3, padding=1))


def build_custom(*, allow_download: bool = False) -> LoadedModel:
    """One Conv2d(1, 4, 3×3) initialised as under torch.manual_seed(0): same kernels for all."""
    del allow_download
    module = freeze(seeded(custom_module))
    size = (CUSTOM_SIZE, CUSTOM_SIZE)
    return LoadedModel(
        key="custom:random",
        name="custom",
        label=Later(lambda: _(CUSTOM_LABEL)),
        module=module,
        conv_layers=conv_layers(module, (1, *size), model_name=CUSTOM_LABEL),
        input_channels=1,
        input_size=size,
        weights=random_weights(),
        transform=standard_transform(size, None, None, crop=False),
        trained=False,
        preprocessing=Later(lambda: describe_standard(1, size, crop=False)),
    )
