"""Read weights files safely (safetensors or weights-only torch.load) and load them with checks.

Arbitrary pickles are never unpickled: torch.load always runs with weights_only=True,
which refuses any object other than tensors and plain containers. Uploaded bytes are
inspected first (weights_checks), so no loader allocates or parses more than the model needs.
"""

from __future__ import annotations

import io
import logging
import math
from collections.abc import Callable, Mapping
from pathlib import Path

import torch
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import load_file as load_safetensors_file
from torch import nn

from dashboard.errors import WeightsError
from dashboard.i18n import _
from dashboard.models.weights_checks import (
    GENERIC_LIMITS,
    WeightsLimits,
    check_safetensors_header,
    check_tensor_count,
    check_torch_zip,
    is_safetensors,
    is_zip,
    refuse_other_format,
    shown_name,
    unreadable,
)

log = logging.getLogger(__name__)

StateDict = dict[str, torch.Tensor]
_WRAPPER_KEYS = ("state_dict", "model_state_dict", "model")
_SHOW = 3
_PLAIN_TYPES = (torch.Tensor, nn.Parameter)
_INTEGER_DTYPES = frozenset(
    {torch.bool, torch.uint8, torch.int8, torch.int16, torch.int32, torch.int64}
    | {torch.uint16, torch.uint32, torch.uint64}
)
_ISFINITE_DTYPES = frozenset({torch.float16, torch.bfloat16, torch.float32, torch.float64})


def limits_for(module: nn.Module, max_bytes: int) -> WeightsLimits:
    """The limits for weights meant for `module`, which may take `max_bytes` once loaded."""
    return WeightsLimits(max_tensors=len(module.state_dict()), max_bytes=max_bytes)


def _guarded(source: str, load: Callable[[], object]) -> object:
    """Run a loader on untrusted bytes; whatever it raises, the user reads one sentence."""
    try:
        return load()
    except Exception as exc:  # UnpicklingError, RuntimeError, KeyError('F4'), TypeError, ...
        log.info("weights file %s refused by its loader: %r", source, exc)
        raise unreadable(source) from exc


def read_weights_file(path: Path) -> StateDict:
    """Read a trusted local .safetensors file or weights-only torch checkpoint."""
    with path.open("rb") as f:
        head = f.read(16)
    if is_safetensors(head):
        obj = _guarded(path.name, lambda: load_safetensors_file(str(path)))
    else:
        obj = _guarded(path.name, lambda: torch.load(path, map_location="cpu", weights_only=True))
    return as_state_dict(obj, path.name)


def read_weights_bytes(
    data: bytes, filename: str, limits: WeightsLimits | None = None
) -> StateDict:
    """Read uploaded bytes (safetensors or a torch.save zip) into a state dict.

    The container is checked before a loader sees it, the result again after.

    Args:
        data: the upload.
        filename: only used in messages.
        limits: from `limits_for` the target model; None applies generic sanity caps only.

    Raises:
        WeightsError: an unreadable, unsafe or oversized file, or one that is not a state dict.
    """
    limits = limits or GENERIC_LIMITS
    if is_safetensors(data):
        check_safetensors_header(data, filename, limits)
        obj = _guarded(filename, lambda: load_safetensors_bytes(data))
    elif is_zip(data):
        check_torch_zip(data, filename, limits)
        obj = _guarded(
            filename,
            lambda: torch.load(io.BytesIO(data), map_location="cpu", weights_only=True),
        )
    else:
        raise refuse_other_format(data, filename)
    state = as_state_dict(obj, filename)
    check_tensor_count(len(state), filename, limits)
    # Counted in the file's own dtypes: a stride-0 view costs nothing until it is copied.
    check_materialised(
        sum(t.numel() * t.element_size() for t in state.values()), limits.max_bytes, filename
    )
    return state


def check_materialised(nbytes: int, max_bytes: int, source: str, label: str | None = None) -> None:
    """Refuse weights from ``source`` (for the model ``label``) over ``max_bytes`` once loaded."""
    if nbytes <= max_bytes:
        return
    sizes = {"size": _megabytes(nbytes), "limit": _megabytes(max_bytes)}
    if label is None:
        raise WeightsError(
            "The weights in {source} would take {size} once loaded, more than the {limit} "
            "ConvScope accepts.",
            source=source,
            **sizes,
        )
    raise WeightsError(
        "The weights in {source} for {label} would take {size} once loaded, more than the "
        "{limit} ConvScope accepts.",
        source=source,
        label=label,
        **sizes,
    )


def _megabytes(nbytes: int) -> str:
    return f"{nbytes / 1e6:,.1f} MB"


def as_state_dict(obj: object, source: str) -> StateDict:
    """Unwrap {"state_dict": ...} style checkpoints (nested too), check str -> Tensor.

    Names are left as saved: `checkpoints.align_names` strips "module." and the like
    when it knows which model they are for.
    """
    for _depth in range(3):  # {"model": {"state_dict": ...}} is as deep as it gets
        wrapped = [obj.get(k) for k in _WRAPPER_KEYS] if isinstance(obj, Mapping) else []
        inner = next((v for v in wrapped if isinstance(v, Mapping)), None)
        if not isinstance(inner, Mapping):
            break
        obj = inner
    if not isinstance(obj, Mapping) or not obj:
        raise WeightsError(
            "{source} does not hold a state dict (a mapping of names to tensors).", source=source
        )
    bad = [str(k) for k, v in obj.items() if not isinstance(k, str) or not torch.is_tensor(v)]
    if bad:
        raise WeightsError(
            "{source} is not a plain state dict: {names} do not map a name to a tensor.",
            source=source,
            names=few_names(bad),
        )
    odd = [k for k, v in obj.items() if not _is_plain(v)]
    if odd:
        raise WeightsError(
            "{source} holds {names} as sparse, quantized, nested or meta tensors, "
            "which ConvScope does not load; save plain dense tensors.",
            source=source,
            names=few_names(odd),
        )
    return dict(obj)


def _is_plain(tensor: torch.Tensor) -> bool:
    """A dense tensor with its data in memory (weights_only also rebuilds exotic ones)."""
    return (
        type(tensor) in _PLAIN_TYPES
        and tensor.layout == torch.strided
        and tensor.device.type == "cpu"
        and not (tensor.is_nested or tensor.is_quantized)
    )


def few_names(keys: list[str]) -> str:
    """The first few names, then how many more: "a, b, c and 5 more" (current language)."""
    shown = ", ".join(shown_name(k) for k in keys[:_SHOW])
    if len(keys) <= _SHOW:
        return shown
    return _("{names} and {n} more").format(names=shown, n=len(keys) - _SHOW)


def describe_shape(shape: torch.Size) -> str:
    return "×".join(str(s) for s in shape) or _("scalar")


def _dtype_name(dtype: torch.dtype) -> str:
    return str(dtype).removeprefix("torch.")


def check_state_dict(
    module: nn.Module,
    state: StateDict,
    source: str,
    label: str,
    max_bytes: int | None = None,
) -> StateDict:
    """Check `state` fits `module` exactly and is finite; return it cast to the module's dtypes.

    Args:
        max_bytes: if given, the most the weights may take once cast to the module's dtypes
            and made contiguous (checked before anything is copied: stride-0 views are tiny in
            a file and huge in memory).

    Raises:
        WeightsError: missing or unexpected keys (a few are named), a shape mismatch (key and
            both shapes), too many bytes once loaded, a dtype that cannot be cast to the
            module's (named), or a tensor holding NaN or infinite values once cast (named).
    """
    expected = module.state_dict()
    state = dict(state)
    for key in expected:
        # Checkpoints from before BatchNorm counted batches lack the counter (torch fills it too).
        if key.endswith(".num_batches_tracked") and key not in state:
            state[key] = torch.zeros((), dtype=torch.long)
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    where = {"source": source, "label": label}
    if missing and unexpected:
        raise WeightsError(
            "The weights in {source} do not fit {label}: {n} missing key(s) ({names}); "
            "{m} unexpected key(s) ({others}).",
            n=len(missing),
            names=few_names(missing),
            m=len(unexpected),
            others=few_names(unexpected),
            **where,
        )
    if missing:
        raise WeightsError(
            "The weights in {source} do not fit {label}: {n} missing key(s) ({names}).",
            n=len(missing),
            names=few_names(missing),
            **where,
        )
    if unexpected:
        raise WeightsError(
            "The weights in {source} do not fit {label}: {n} unexpected key(s) ({names}).",
            n=len(unexpected),
            names=few_names(unexpected),
            **where,
        )
    for key, want in expected.items():
        got = state[key]
        if got.shape != want.shape:
            got_shape, want_shape = describe_shape(got.shape), describe_shape(want.shape)
            raise WeightsError(
                "The weights in {source} do not fit {label}: {key} has shape {got} "
                "in the file but the model expects {want}.",
                source=source,
                label=label,
                key=key,
                got=got_shape,
                want=want_shape,
            )
    if max_bytes is not None:
        nbytes = sum(state[k].numel() * want.element_size() for k, want in expected.items())
        check_materialised(nbytes, max_bytes, source, label)
    return {k: cast_checked(state[k], want.dtype, source, k) for k, want in expected.items()}


def cast_checked(tensor: torch.Tensor, dtype: torch.dtype, source: str, key: str) -> torch.Tensor:
    """`tensor` as a contiguous `dtype` tensor, refused if it is not finite once cast."""
    # Complex casts drop the imaginary part (with only a warning); bit types cannot be cast.
    if not (tensor.dtype.is_floating_point or tensor.dtype in _INTEGER_DTYPES):
        raise _uncastable(tensor.dtype, dtype, source, key)
    try:
        cast = tensor.to(dtype=dtype).contiguous()
    except (RuntimeError, NotImplementedError, TypeError) as exc:  # e.g. float4 copy kernels
        raise _uncastable(tensor.dtype, dtype, source, key) from exc
    # Finite in float64 is not finite in float32 (1e300); integer targets wrap non-finite floats.
    probe = cast if cast.is_floating_point() else tensor if tensor.is_floating_point() else None
    if probe is not None and probe.numel() and not _all_finite(probe):
        raise WeightsError(
            "The weights in {source} contain NaN or infinite values in {key}.",
            source=source,
            key=key,
        )
    return cast


def _uncastable(got: torch.dtype, want: torch.dtype, source: str, key: str) -> WeightsError:
    return WeightsError(
        "The weights in {source} hold {key} as {got}, which ConvScope "
        "cannot convert to the model's {want}.",
        source=source,
        key=key,
        got=_dtype_name(got),
        want=_dtype_name(want),
    )


def _all_finite(tensor: torch.Tensor) -> bool:
    """torch.isfinite for every floating dtype (it has no float8 or float4 kernels)."""
    if tensor.dtype not in _ISFINITE_DTYPES:
        tensor = tensor.to(torch.float32)
    return bool(torch.isfinite(tensor).all())


def load_checked(
    module: nn.Module,
    state: StateDict,
    source: str,
    label: str,
    *,
    assign: bool = False,
    max_bytes: int | None = None,
) -> nn.Module:
    """check_state_dict then load_state_dict(strict=True); `assign` for meta-device modules."""
    checked = check_state_dict(module, state, source, label, max_bytes=max_bytes)
    module.load_state_dict(checked, assign=assign)
    if assign:
        left = [n for n, t in [*module.named_parameters(), *module.named_buffers()] if t.is_meta]
        if left:
            raise RuntimeError(f"{label} has tensors the weights do not set: {few_names(left)}.")
    return module


def tensor_bytes(module: nn.Module) -> int:
    """Bytes held by a module's parameters and buffers (for logs and memory notes)."""
    tensors = [*module.parameters(), *module.buffers()]
    return sum(math.prod(t.shape) * t.element_size() for t in tensors)
