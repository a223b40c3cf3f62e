"""Model names and labels, and the ModelRegistry that builds and keeps models for one app."""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

from torch import nn

from dashboard.caching import ComputeOnceCache
from dashboard.errors import ModelError, WeightsError
from dashboard.i18n import _
from dashboard.models import presets, zoo
from dashboard.models.checkpoints import LoadReport, apply_plan, plan_load
from dashboard.models.hub_cache import download_status
from dashboard.models.later import Later
from dashboard.models.loaded import LoadedModel
from dashboard.models.seeding import freeze
from dashboard.models.state_dicts import limits_for, read_weights_bytes

if TYPE_CHECKING:
    from dashboard.shared import SharedStore

logger = logging.getLogger(__name__)

USER_MODEL = "user"
Builder = Callable[..., LoadedModel]  # builder(allow_download=...) -> LoadedModel
# What register_forward_hook writes to (torch 2.x); capture only uses forward hooks.
_FORWARD_HOOK_DICTS = (
    "_forward_hooks",
    "_forward_hooks_with_kwargs",
    "_forward_hooks_always_called",
)

# name -> (label, builder), in dropdown order.
SPECS: dict[str, tuple[str, Builder]] = {
    "tinyvgg": (presets.TINYVGG_LABEL, presets.build_tinyvgg),
    "custom": (presets.CUSTOM_LABEL, presets.build_custom),
    **{
        name: (label, functools.partial(zoo.build_zoo, name))
        for name, label in zoo.ZOO_LABELS.items()
    },
}


def _shared_key(key: str) -> str:
    """The shared store's key of uploaded weights ``key``: "weights:<name>:upload:<sha>"."""
    return "weights:" + key


def pack_upload(filename: str, data: bytes) -> bytes:
    """An uploaded file as one value: its name as JSON, a newline, its bytes."""
    return json.dumps({"filename": filename}).encode() + b"\n" + data


def unpack_upload(value: bytes) -> tuple[str, bytes] | None:
    """(filename, bytes) of what :func:`pack_upload` wrote; None for anything else."""
    head, sep, data = value.partition(b"\n")
    try:
        filename = json.loads(head)["filename"] if sep else None
    except (ValueError, TypeError, KeyError):
        filename = None
    return (filename, data) if isinstance(filename, str) else None


def copy_without_hooks(module: nn.Module) -> nn.Module:
    """A deep copy of ``module`` without its forward hooks (pre-hooks, e.g. weight_norm, stay).

    A capture may have hooks on the shared module while this runs; through deepcopy's memo
    the copy gets fresh empty dicts, so the live hook dicts are never read.
    """
    memo: dict[int, object] = {}
    for sub in module.modules():
        for name in _FORWARD_HOOK_DICTS:
            hooks = getattr(sub, name, None)
            if isinstance(hooks, dict):
                memo[id(hooks)] = type(hooks)()
    return copy.deepcopy(module, memo)


def _with_upload(base: LoadedModel, key: str, module: nn.Module, report: LoadReport) -> LoadedModel:
    if report.complete:
        weights = Later(lambda: _("uploaded {file}").format(file=report.source))
    else:
        weights = Later(
            lambda: _("uploaded {file} ({counts})").format(file=report.source, counts=report.counts)
        )
    return dataclasses.replace(
        base,
        key=key,
        module=module,
        weights=weights,
        notice=Later(report.sentence) if report.sentence() else None,
        upgradable=None,
        initial_tensors=report.kept,
        # the user's weights for every tensor are trained weights; a partial file on random
        # weights leaves part random (the notice says which)
        trained=report.complete or base.trained,
    )


class ModelRegistry:
    """The models one app can show: built on first use, kept in LRUs, never module globals.

    Args:
        allow_download: fetch missing pretrained weights (else random weights + notice);
            ``zoo.ON_WORKER``: a worker fetches them (a web process with workers).
        cache_size: base models kept (VGG16 alone is 528 MB).
        upload_slots: models with uploaded weights kept, apart from the base models so
            switching models never evicts a visitor's upload.
        max_weights_bytes: cap on an uploaded weights file's materialised tensors.
        user_model: the model given with ``--model``, listed first as "user".
        shared: where uploaded weights are also kept, so that any process can rebuild
            them (None: this process only).
    """

    def __init__(
        self,
        *,
        allow_download: bool | str = False,
        cache_size: int = 4,
        upload_slots: int = 2,
        max_weights_bytes: int = 100 * 2**20,
        user_model: LoadedModel | None = None,
        specs: dict[str, tuple[str, Builder]] | None = None,
        shared: SharedStore | None = None,
    ) -> None:
        self.allow_download = allow_download
        self.max_weights_bytes = max_weights_bytes
        self.shared = shared
        self.specs = dict(SPECS if specs is None else specs)
        self._models: ComputeOnceCache[LoadedModel] = ComputeOnceCache(max(1, cache_size))
        self._uploads: ComputeOnceCache[LoadedModel] = ComputeOnceCache(max(1, upload_slots))
        self.user_model = (
            None if user_model is None else dataclasses.replace(user_model, name=USER_MODEL)
        )

    @property
    def names(self) -> list[str]:
        return [name for name, _label in self.available()]

    def available(self) -> list[tuple[str, str]]:
        """(name, label) in dropdown order: the user's model first when there is one."""
        models = [(name, _(label)) for name, (label, _builder) in self.specs.items()]
        if self.user_model is not None:
            models.insert(0, (USER_MODEL, self.user_model.label))
        return models

    def default_name(self, preferred: str) -> str:
        """The model the page opens with: the user's, else ``preferred`` if known, else first."""
        if self.user_model is not None:
            return USER_MODEL
        return preferred if preferred in self.specs else next(iter(self.specs))

    def get(self, name: str) -> LoadedModel:
        """The model ``name``, built once and kept in the LRU.

        A model that fell back to random weights is rebuilt when its real weights have
        appeared since, or when downloads are now allowed and were not tried.

        Raises:
            ModelError: unknown name.
        """
        if name == USER_MODEL and self.user_model is not None:
            return self.user_model
        if name not in self.specs:
            choices = ", ".join(label for _name, label in self.available())
            raise ModelError(
                "There is no model called '{name}'. Choose one of: {choices}.",
                name=name,
                choices=choices,
            )
        _label, builder = self.specs[name]
        allow = self.allow_download

        def stale(model: LoadedModel) -> bool:
            return model.upgradable is not None and model.upgradable(allow)

        return self._models.get_or_compute(name, lambda: builder(allow_download=allow), stale)

    def with_uploaded_weights(
        self, name: str, data: bytes, filename: str, *, share: bool = True
    ) -> LoadedModel:
        """Model ``name``'s architecture with uploaded weights (.safetensors or weights-only .pt).

        Kept under f"{name}:upload:{sha256(data)[:16]}". Arbitrary pickles are refused.
        Checkpoints are matched as ``checkpoints.plan_load`` does (wrapper prefixes such as
        "module." removed); tensors the file does not fit keep the base model's values, and
        the result's ``notice`` says which. With a shared store (and ``share``), the file is
        written there once it has loaded, so that any process can rebuild the model.

        Raises:
            ModelError: unknown name.
            WeightsError: an unreadable, unsafe or oversized file, or weights that fit
                nothing of the model, or hold NaN or infinite values.
            SharedStoreError: the shared store does not answer.
        """
        base = self.get(name)
        key = f"{name}:upload:{hashlib.sha256(data).hexdigest()[:16]}"
        limits = limits_for(base.module, self.max_weights_bytes)
        shared = self.shared if share else None
        if shared is not None and not shared.fits(len(data) + len(filename.encode()) + 64):
            raise WeightsError(
                "This weights file is larger than the server can share between its "
                "processes ({mb} MB); please upload a smaller one.",
                mb=format(shared.max_entry_bytes / 2**20, ".3g"),
            )

        def build() -> LoadedModel:
            state = read_weights_bytes(data, filename, limits)
            if name in zoo.ZOO_LABELS:
                state = zoo.adapt_state_dict(name, state)
            plan = plan_load(base.module, state, filename, base.label)
            if name in zoo.ZOO_LABELS and plan.report.complete:
                # no copy of the (possibly huge) base model's weights
                pretrained = not base.key.endswith(":random")
                module = zoo.load_into_architecture(
                    name, plan.state, filename, pretrained=pretrained, max_bytes=limits.max_bytes
                )
            else:  # what the file leaves out keeps the base model's values
                module = copy_without_hooks(base.module)
                apply_plan(module, plan, max_bytes=limits.max_bytes)
            return _with_upload(base, key, freeze(module), plan.report)

        model = self._uploads.get_or_compute(key, build)
        if shared is not None:  # only files that loaded; written again, the TTL restarts
            shared.put(_shared_key(key), pack_upload(filename, data))
        return model

    def uploaded(self, key: str) -> LoadedModel:
        """The model built by ``with_uploaded_weights`` under ``key``, while still kept here
        or in the shared store (then rebuilt from the stored file).

        Raises:
            WeightsError: it has been evicted (the page asks for the upload again).
            SharedStoreError: the shared store does not answer.
        """
        model = self._uploads.peek(key) if ":upload:" in key else None
        if model is None and ":upload:" in key and self.shared is not None:
            model = self._rebuild(key)
        elif model is not None and self.shared is not None:
            self.shared.touch(_shared_key(key))
        if model is None:
            raise WeightsError(
                "Your uploaded weights are no longer held by the server; please upload them again."
            )
        return model

    def _rebuild(self, key: str) -> LoadedModel | None:
        """The model under ``key`` from the file in the shared store, None without one."""
        stored = self.shared.get(_shared_key(key))
        unpacked = None if stored is None else unpack_upload(stored)
        name = key.split(":upload:", 1)[0]
        if unpacked is None or name not in self.specs:
            return None
        filename, data = unpacked
        model = self.with_uploaded_weights(name, data, filename, share=False)
        if model.key != key:  # not the file the key names
            logger.warning("shared store holds another file under %s", key)
            return None
        return model

    def cached(self) -> list[LoadedModel]:
        """The models held now (base, uploaded and the user's), for health and memory notes."""
        models = self._models.values() + self._uploads.values()
        return models if self.user_model is None else [*models, self.user_model]

    def download_status(self, name: str) -> tuple[int, int | None] | None:
        """(done_bytes, total_bytes or None) while model ``name``'s weights download."""
        return download_status(name)

    def clear(self) -> None:
        """Forget every kept model and upload (the user's model stays)."""
        self._models.clear()
        self._uploads.clear()
