"""Read weights files safely (safetensors or weights-only torch.load) and load them with checks.

Arbitrary pickles are never unpickled: torch.load always runs with weights_only=True,
which refuses any object other than tensors and plain containers.
"""

from __future__ import annotations

import io
import math
from collections.abc import Mapping
from pathlib import Path

import torch
from safetensors import SafetensorError
from safetensors.torch import load as load_safetensors_bytes
from safetensors.torch import load_file as load_safetensors_file
from torch import nn

StateDict = dict[str, torch.Tensor]
_WRAPPER_KEYS = ("state_dict", "model_state_dict", "model")
_SHOW = 3


def _unreadable(source: str) -> ValueError:
    return ValueError(
        f"{source} is not a weights file ConvScope can read: use a .safetensors file or a "
        "state dict saved with torch.save(model.state_dict()) (other pickles are never loaded)."
    )


def _is_safetensors(head: bytes) -> bool:
    """safetensors: 8-byte little-endian header length, then a JSON header."""
    if len(head) < 9:
        return False
    header_len = int.from_bytes(head[:8], "little")
    return 0 < header_len < 100_000_000 and head[8:9] == b"{"


def _torch_load(source: str, file: Path | io.BytesIO) -> object:
    try:
        return torch.load(file, map_location="cpu", weights_only=True)
    except Exception as exc:  # UnpicklingError, corrupt zip (RuntimeError), EOFError, ...
        raise _unreadable(source) from exc


def read_weights_file(path: Path) -> StateDict:
    """Read a .safetensors file or a weights-only torch checkpoint into a state dict."""
    with path.open("rb") as f:
        head = f.read(16)
    if _is_safetensors(head):
        try:
            return as_state_dict(load_safetensors_file(str(path)), path.name)
        except SafetensorError as exc:
            raise _unreadable(path.name) from exc
    return as_state_dict(_torch_load(path.name, path), path.name)


def read_weights_bytes(data: bytes, filename: str) -> StateDict:
    """Like read_weights_file, for uploaded bytes; `filename` is only used in messages."""
    if _is_safetensors(data[:16]):
        try:
            return as_state_dict(load_safetensors_bytes(data), filename)
        except SafetensorError as exc:
            raise _unreadable(filename) from exc
    return as_state_dict(_torch_load(filename, io.BytesIO(data)), filename)


def as_state_dict(obj: object, source: str) -> StateDict:
    """Unwrap {"state_dict": ...} style checkpoints, check str -> Tensor, drop "module."."""
    if isinstance(obj, Mapping):
        for key in _WRAPPER_KEYS:
            inner = obj.get(key)
            if isinstance(inner, Mapping):
                obj = inner
                break
    if not isinstance(obj, Mapping) or not obj:
        raise ValueError(f"{source} does not hold a state dict (a mapping of names to tensors).")
    bad = [str(k) for k, v in obj.items() if not isinstance(k, str) or not torch.is_tensor(v)]
    if bad:
        raise ValueError(
            f"{source} is not a plain state dict: {', '.join(bad[:_SHOW])} "
            "do not map a name to a tensor."
        )
    state = dict(obj)
    if all(k.startswith("module.") for k in state):  # saved from DataParallel
        state = {k.removeprefix("module."): v for k, v in state.items()}
    return state


def _few(keys: list[str]) -> str:
    shown = ", ".join(keys[:_SHOW])
    return f"{shown}, …" if len(keys) > _SHOW else shown


def _dims(shape: torch.Size) -> str:
    return "×".join(str(s) for s in shape) or "scalar"


def check_state_dict(module: nn.Module, state: StateDict, source: str, label: str) -> StateDict:
    """Check `state` fits `module` exactly and is finite; return it cast to the module's dtypes.

    Raises:
        ValueError: missing or unexpected keys (a few are named), a shape mismatch (key and
            both shapes), or a tensor holding NaN or infinite values (named).
    """
    expected = module.state_dict()
    state = dict(state)
    for key in expected:
        # Checkpoints from before BatchNorm counted batches lack the counter (torch fills it too).
        if key.endswith(".num_batches_tracked") and key not in state:
            state[key] = torch.zeros((), dtype=torch.long)
    missing = [k for k in expected if k not in state]
    unexpected = [k for k in state if k not in expected]
    if missing or unexpected:
        parts = []
        if missing:
            parts.append(f"{len(missing)} missing key(s) ({_few(missing)})")
        if unexpected:
            parts.append(f"{len(unexpected)} unexpected key(s) ({_few(unexpected)})")
        raise ValueError(f"The weights in {source} do not fit {label}: {'; '.join(parts)}.")
    for key, want in expected.items():
        got = state[key]
        if got.shape != want.shape:
            raise ValueError(
                f"The weights in {source} do not fit {label}: {key} has shape {_dims(got.shape)} "
                f"in the file but the model expects {_dims(want.shape)}."
            )
    for key, tensor in state.items():
        if tensor.is_floating_point() and tensor.numel() and not torch.isfinite(tensor).all():
            raise ValueError(f"The weights in {source} contain NaN or infinite values in {key}.")
    return {k: state[k].to(dtype=expected[k].dtype).contiguous() for k in expected}


def load_checked(
    module: nn.Module, state: StateDict, source: str, label: str, *, assign: bool = False
) -> nn.Module:
    """check_state_dict then load_state_dict(strict=True); `assign` for meta-device modules."""
    module.load_state_dict(check_state_dict(module, state, source, label), assign=assign)
    if assign:
        left = [n for n, t in [*module.named_parameters(), *module.named_buffers()] if t.is_meta]
        if left:
            raise RuntimeError(f"{label} has tensors the weights do not set: {_few(left)}.")
    return module


def tensor_bytes(module: nn.Module) -> int:
    """Bytes held by a module's parameters and buffers (for logs and memory notes)."""
    tensors = [*module.parameters(), *module.buffers()]
    return sum(math.prod(t.shape) * t.element_size() for t in tensors)
