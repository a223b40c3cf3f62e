"""torchvision classification models, with ImageNet weights from the local hub cache.

Weights are never fetched by torchvision itself: we look for the checkpoint where torch
hub keeps it, optionally download it ourselves (with a timeout and progress), load it
with weights_only=True, and fall back to seeded random weights with a notice saying why.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from pathlib import Path

import torch
from torch import nn
from torchvision.models import get_model as tv_get_model
from torchvision.models import get_model_weights

from dashboard.errors import UserError
from dashboard.i18n import _
from dashboard.models.hub_cache import failure_reason, fetch, hub_checkpoint, tracked
from dashboard.models.later import Later
from dashboard.models.layers import conv_layers
from dashboard.models.loaded import LoadedModel
from dashboard.models.preprocessing import describe_torchvision
from dashboard.models.seeding import freeze, random_weights, seeded
from dashboard.models.state_dicts import StateDict, load_checked, read_weights_file

logger = logging.getLogger(__name__)

# Dropdown order after the presets ("vgg16" is a preset but built here too).
ZOO_LABELS: dict[str, str] = {
    "vgg16": "VGG16",
    "vgg11": "VGG11",
    "alexnet": "AlexNet",
    "resnet18": "ResNet-18",
    "resnet50": "ResNet-50",
    "googlenet": "GoogLeNet",
    "mobilenet_v2": "MobileNetV2",
    "mobilenet_v3_small": "MobileNetV3-Small",
    "squeezenet1_1": "SqueezeNet 1.1",
    "efficientnet_b0": "EfficientNet-B0",
    "densenet121": "DenseNet-121",
    "convnext_tiny": "ConvNeXt-Tiny",
    "regnet_y_400mf": "RegNetY-400MF",
}
# allow_download in a web process whose workers download (preparing.py): never here
ON_WORKER = "worker"
# Old DenseNet checkpoints name "norm.1" what is now "norm1" (as torchvision's loader fixes).
_DENSENET_OLD_KEY = re.compile(
    r"^(.*denselayer\d+\.(?:norm|relu|conv))\.((?:[12])\.(?:weight|bias|running_mean|running_var))$"
)


def architecture(name: str, *, pretrained: bool = False) -> nn.Module:
    """The bare torchvision model `name` (weights=None), laid out as its checkpoint expects.

    GoogLeNet's ImageNet checkpoint was trained with `transform_input`; its auxiliary
    heads are training-only and left out (their checkpoint keys are dropped on load).
    """
    kwargs: dict[str, object] = {}
    if name == "googlenet":
        kwargs = {
            "aux_logits": False,
            "init_weights": not pretrained,
            "transform_input": pretrained,
        }
    return tv_get_model(name, weights=None, **kwargs)


def adapt_state_dict(name: str, state: StateDict) -> StateDict:
    """Rename or drop checkpoint keys the way torchvision's own builders do."""
    if name == "googlenet":
        return {k: v for k, v in state.items() if not k.startswith(("aux1.", "aux2."))}
    if name.startswith("densenet"):
        renamed = {}
        for key, value in state.items():
            match = _DENSENET_OLD_KEY.match(key)
            renamed[match.group(1) + match.group(2) if match else key] = value
        return renamed
    return state


def load_into_architecture(
    name: str,
    state: StateDict,
    source: str,
    *,
    pretrained: bool = True,
    max_bytes: int | None = None,
) -> nn.Module:
    """Build `name` without random init where possible and load `state` (checked) into it.

    Raises:
        WeightsError: the state dict does not fit (see state_dicts.check_state_dict).
    """
    state = adapt_state_dict(name, state)
    try:
        # Skip the random init (seconds for VGG): parameters are assigned from `state`.
        with torch.device("meta"):
            module = architecture(name, pretrained=pretrained)
        assign = True
    except (NotImplementedError, RuntimeError):  # builders that compute with tensors (RegNet)
        # seeded: a random init must not interleave with another thread's seeded build
        module = seeded(lambda: architecture(name, pretrained=pretrained))
        assign = False
    return load_checked(module, state, source, ZOO_LABELS[name], assign=assign, max_bytes=max_bytes)


def _file_stamp(path: Path) -> tuple[int, int] | None:
    """(mtime_ns, size) of a file, None if absent: a broken file is not retried until it changes."""
    try:
        stat = path.stat()
    except OSError:
        return None
    return (stat.st_mtime_ns, stat.st_size)


def download_message(label: str, reason: str | Later) -> Later:
    return Later(
        lambda: _(
            "Could not download the ImageNet weights for {model} ({reason}): showing random "
            "weights."
        ).format(model=label, reason=reason)
    )


def offline_message(label: str) -> Later:
    return Later(
        lambda: _(
            "ImageNet weights for {model} are not in the local cache (TORCH_HOME) and downloads "
            "are off (set CONVSCOPE_ALLOW_DOWNLOAD=1): showing random weights."
        ).format(model=label)
    )


def worker_message(label: str) -> Later:
    return Later(
        lambda: _(
            "ImageNet weights for {model} are not in this server's cache (TORCH_HOME): a worker "
            "downloads them; until this server has them too it shows random weights."
        ).format(model=label)
    )


def unusable_message(label: str, file: str, exc: Exception) -> Later:
    why = Later(exc.translated) if isinstance(exc, UserError) else str(exc)
    return Later(
        lambda: _(
            "The cached ImageNet weights for {model} ({file}) could not be used, so it shows "
            "random weights: {error}"
        ).format(model=label, file=file, error=why)
    )


def build_zoo(name: str, *, allow_download: bool | str = False) -> LoadedModel:
    """Build torchvision model `name` with ImageNet weights if they can be had, else random.

    ``allow_download``: fetch a missing file; ``ON_WORKER``: a worker fetches it (the notice
    says so). Never raises for missing or broken weights: the LoadedModel's `notice` says why the
    weights are random. Download progress is visible through download_status(name).
    """
    label = ZOO_LABELS[name]
    weights = get_model_weights(name).DEFAULT
    path = hub_checkpoint(weights.url)
    notice: Later | None = None
    skipped_download = False  # the file was missing and downloads were off
    if not path.is_file():
        if allow_download == ON_WORKER:  # a web process with workers (preparing.py)
            notice = worker_message(label)
        elif allow_download:
            try:
                with tracked(name) as progress:
                    fetch(weights.url, path, progress=progress)
            except Exception as exc:  # any failure means random weights, never a crash
                logger.warning("download of %s failed: %r", weights.url, exc)
                notice = download_message(label, failure_reason(exc))
        else:
            notice, skipped_download = offline_message(label), True
    module: nn.Module | None = None
    if path.is_file():
        try:
            module = load_into_architecture(name, read_weights_file(path), path.name)
        except Exception as exc:
            logger.warning("cannot load %s: %r", path, exc)
            notice = unusable_message(label, path.name, exc)
    upgradable: Callable[[bool], bool] | None = None
    if module is not None:
        key, text = f"{name}:{weights.name}", f"ImageNet {weights.name}"
    else:
        module = seeded(lambda: architecture(name))
        key, text = (
            f"{name}:random",
            random_weights(),
        )

        seen = _file_stamp(path)

        def worth_retrying(allow: bool) -> bool:
            """A (new) checkpoint appeared, or downloads are now on and were not tried."""
            now = _file_stamp(hub_checkpoint(weights.url))
            return (now is not None and now != seen) or (allow is True and skipped_download)

        upgradable = worth_retrying

    module = freeze(module)
    transforms = weights.transforms()
    side = int(transforms.crop_size[0])
    return LoadedModel(
        key=key,
        name=name,
        label=label,
        module=module,
        conv_layers=conv_layers(module, (3, side, side), model_name=label),
        input_channels=3,
        input_size=(side, side),
        weights=text,
        notice=notice,
        transform=transforms,
        mean=tuple(transforms.mean),
        std=tuple(transforms.std),
        upgradable=upgradable,
        classes=tuple(weights.meta["categories"]),
        trained=upgradable is None,
        preprocessing=Later(lambda: describe_torchvision(transforms)),
    )
