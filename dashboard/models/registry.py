"""Model names, labels and the process-wide model cache (LRU, one build per key)."""

from __future__ import annotations

import copy
import dataclasses
import functools
import hashlib
import logging
import os
import threading
from collections.abc import Callable

from cachetools import LRUCache
from torch import nn

from dashboard.models import presets, zoo
from dashboard.models.loaded import LoadedModel
from dashboard.models.seeding import freeze
from dashboard.models.state_dicts import load_checked, read_weights_bytes
from dashboard.models.weights_store import download_status as _status

logger = logging.getLogger(__name__)

DEFAULT_MODEL = "tinyvgg"
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


@dataclasses.dataclass
class _KeyLock:
    lock: threading.Lock = dataclasses.field(default_factory=threading.Lock)
    users: int = 0


class ModelCache:
    """Thread-safe LRU of LoadedModels; concurrent misses on one key build it once."""

    def __init__(self, maxsize: int) -> None:
        self._lru: LRUCache[str, LoadedModel] = LRUCache(maxsize=maxsize)
        self._lock = threading.Lock()
        self._key_locks: dict[str, _KeyLock] = {}

    def _fresh(self, key: str, stale: Callable[[LoadedModel], bool] | None) -> LoadedModel | None:
        with self._lock:
            hit = self._lru.get(key)
        return None if hit is None or (stale is not None and stale(hit)) else hit

    def get_or_build(
        self,
        key: str,
        build: Callable[[], LoadedModel],
        stale: Callable[[LoadedModel], bool] | None = None,
    ) -> LoadedModel:
        """The cached value for `key`, else `build()` once (other callers wait for it)."""
        if (hit := self._fresh(key, stale)) is not None:
            return hit
        with self._lock:
            entry = self._key_locks.setdefault(key, _KeyLock())
            entry.users += 1
        try:
            with entry.lock:
                if (hit := self._fresh(key, stale)) is not None:
                    return hit
                value = build()
                with self._lock:
                    self._lru[key] = value
                return value
        finally:
            with self._lock:
                entry.users -= 1
                if entry.users == 0:
                    del self._key_locks[key]

    def peek(self, key: str) -> LoadedModel | None:
        with self._lock:
            return self._lru.get(key)

    def clear(self) -> None:
        with self._lock:
            self._lru.clear()

    def cached_keys(self) -> list[str]:
        with self._lock:
            return list(self._lru.keys())

    def values(self) -> list[LoadedModel]:
        with self._lock:
            return list(self._lru.values())


def _maxsize_from_env() -> int:
    raw = os.environ.get("CONVSCOPE_MODEL_CACHE", "4")
    try:
        return max(1, int(raw))
    except ValueError:
        logger.warning("CONVSCOPE_MODEL_CACHE=%r is not a number; using 4", raw)
        return 4


CACHE = ModelCache(_maxsize_from_env())
# Uploaded weights get their own slots so base models switching in and out never evict them.
UPLOADS = ModelCache(2)
_user_model: LoadedModel | None = None


def available_models() -> list[tuple[str, str]]:
    """(name, label) in dropdown order: the user's model first when one is registered."""
    models = [(name, label) for name, (label, _builder) in SPECS.items()]
    if _user_model is not None:
        models.insert(0, (USER_MODEL, _user_model.label))
    return models


def default_model() -> str:
    """The model the page opens with: the user's model when one is registered, else TinyVGG."""
    return USER_MODEL if _user_model is not None else DEFAULT_MODEL


def register_user_model(loaded: LoadedModel) -> None:
    """Make `loaded` (from load_user_model) available as get_model("user")."""
    global _user_model
    _user_model = dataclasses.replace(loaded, name=USER_MODEL)


def clear_user_model() -> None:
    """Forget the registered user model (tests; a server registers one at start-up)."""
    global _user_model
    _user_model = None


def get_model(name: str, *, allow_download: bool = False) -> LoadedModel:
    """The model `name`, built once per process and kept in the LRU cache.

    A model that fell back to random weights is rebuilt when its real weights have
    appeared since, or when downloads are now allowed and were not tried.

    Raises:
        ValueError: unknown name.
    """
    if name == USER_MODEL and _user_model is not None:
        return _user_model
    if name not in SPECS:
        choices = ", ".join(n for n, _label in available_models())
        raise ValueError(f"Unknown model '{name}'. Choose one of: {choices}.")
    _label, builder = SPECS[name]

    def stale(model: LoadedModel) -> bool:
        return model.upgradable is not None and model.upgradable(allow_download)

    return CACHE.get_or_build(name, lambda: builder(allow_download=allow_download), stale)


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


def with_uploaded_weights(name: str, data: bytes, filename: str) -> LoadedModel:
    """Model `name`'s architecture with uploaded weights (safetensors or a weights-only .pt).

    Cached under f"{name}:upload:{sha256(data)[:16]}". Arbitrary pickles are refused.

    Raises:
        ValueError: unknown name, an unreadable or unsafe file, or weights that do not fit
            (missing/unexpected keys, shape mismatches, NaN or infinite values).
    """
    base = get_model(name)
    key = f"{name}:upload:{hashlib.sha256(data).hexdigest()[:16]}"

    def build() -> LoadedModel:
        state = read_weights_bytes(data, filename)
        if name in zoo.ZOO_LABELS:  # no copy of the (possibly huge) base model's weights
            pretrained = not base.key.endswith(":random")
            module = zoo.load_into_architecture(name, state, filename, pretrained=pretrained)
        else:
            module = load_checked(copy_without_hooks(base.module), state, filename, base.label)
        module = freeze(module)
        return dataclasses.replace(
            base,
            key=key,
            module=module,
            weights=f"uploaded {filename}",
            notice=None,
            upgradable=None,
        )

    return UPLOADS.get_or_build(key, build)


def uploaded_model(key: str) -> LoadedModel:
    """The model built by `with_uploaded_weights` under `key`, while still cached.

    Raises:
        ValueError: it has been evicted (the page asks for the upload again).
    """
    model = UPLOADS.peek(key) if ":upload:" in key else None
    if model is None:
        raise ValueError(
            "Your uploaded weights are no longer held by the server; please upload them again."
        )
    return model


def cached_models() -> list[LoadedModel]:
    """The models currently held by the process-wide cache (and the user's model)."""
    models = CACHE.values() + UPLOADS.values()
    return models if _user_model is None else [*models, _user_model]


def download_status(name: str) -> tuple[int, int | None] | None:
    """(done_bytes, total_bytes or None) while model `name`'s weights download, else None."""
    return _status(name)


def clear_cache() -> None:
    """Forget every cached model and upload (the registered user model stays)."""
    CACHE.clear()
    UPLOADS.clear()
