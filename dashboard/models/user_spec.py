"""Build the user's model from "package.module:factory", or say why a model file is refused.

`spec` is "package.module:factory" (or "path/to/file.py:factory"); factory() must return
an eager nn.Module. Model files (TorchScript, torch.export, pickled modules) are refused
with a sentence saying why: ConvScope reads layers through forward hooks, which
TorchScript modules do not support, and it never unpickles model files.
"""

from __future__ import annotations

import importlib
import importlib.util
import zipfile
from pathlib import Path

from torch import nn

from dashboard.errors import ModelError

MODEL_FILE_SUFFIXES = (".pt", ".pth", ".pt2", ".ts", ".torchscript", ".zip", ".pkl")
DEFAULT_SIZE = {1: 28, 3: 224}
_FACTORY_HINT = "pass the model's code as 'package.module:factory' and its weights with --weights"
# Also in `python -m dashboard --help` (tests check that both say it).
NO_HOOKS = "TorchScript modules do not run the forward hooks that read each layer"


def _refuse_model_file(path: Path) -> ModelError:
    """Why a model file cannot be used; its content is only listed, never loaded."""
    if not path.is_file():
        return ModelError(f"The model file {path} does not exist.")
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        if any("/code/" in n or n.endswith("constants.pkl") for n in names):
            return ModelError(
                f"{path.name} is a TorchScript file, which ConvScope cannot inspect: {NO_HOOKS}; "
                f"{_FACTORY_HINT}."
            )
        if any(n.endswith("data.pkl") for n in names):
            return ModelError(
                f"{path.name} was saved with torch.save and ConvScope never unpickles model "
                f"files; {_FACTORY_HINT} (a state dict or .safetensors file)."
            )
    return ModelError(f"{path.name} is not a model ConvScope can use; {_FACTORY_HINT}.")


def _import_factory_module(module_part: str, spec: str) -> object:
    try:
        if module_part.endswith(".py"):
            path = Path(module_part)
            file_spec = importlib.util.spec_from_file_location(f"convscope_user_{path.stem}", path)
            if file_spec is None or file_spec.loader is None or not path.is_file():
                raise ImportError(f"no Python file at {path}")
            module = importlib.util.module_from_spec(file_spec)
            file_spec.loader.exec_module(module)
            return module
        return importlib.import_module(module_part)
    except ImportError as exc:
        raise ModelError(f"Could not import {module_part} for the model {spec}: {exc}.") from exc


def build_from_spec(spec: str) -> nn.Module:
    """Call the factory named by "package.module:factory" and check it gave an nn.Module.

    Raises:
        ModelError: a model file instead of a factory, a malformed spec, an import failure,
            a factory that is not callable or did not return an eager nn.Module.
    """
    module_part, _, attr = spec.rpartition(":")
    if spec.lower().endswith(MODEL_FILE_SUFFIXES) or (not module_part and Path(spec).exists()):
        raise _refuse_model_file(Path(spec))
    if not module_part or not attr.isidentifier():
        raise ModelError(f"The model {spec!r} should look like 'package.module:factory'.")
    factory = getattr(_import_factory_module(module_part, spec), attr, None)
    if factory is None:
        raise ModelError(f"{module_part} has no {attr} to build the model {spec}.")
    if not callable(factory):
        raise ModelError(f"{spec} is a {type(factory).__name__}, not a function returning a model.")
    try:
        model = factory()
    except Exception as exc:
        raise ModelError(f"Building the model {spec} failed: {type(exc).__name__}: {exc}") from exc
    if not isinstance(model, nn.Module):
        raise ModelError(f"{spec}() returned a {type(model).__name__}, not a torch.nn.Module.")
    if type(model).__module__.startswith("torch.jit"):
        raise ModelError(
            f"{spec}() returned a TorchScript module, which ConvScope cannot inspect: {NO_HOOKS}; "
            "return the eager module (the one given to torch.jit.script)."
        )
    return model


def first_conv_channels(model: nn.Module, label: str, requested: int | None) -> int:
    first = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    if first is None:
        others = sorted(
            {type(m).__name__ for m in model.modules() if isinstance(m, nn.Conv1d | nn.Conv3d)}
        )
        extra = (
            f" (it has {', '.join(others)} layers; ConvScope shows image models)" if others else ""
        )
        raise ModelError(f"The model {label} has no Conv2d layer to show{extra}.")
    channels = first.in_channels
    if requested is not None and requested != channels:
        raise ModelError(
            f"The model {label} takes {channels}-channel input (its first Conv2d), "
            f"not {requested} channels."
        )
    if channels not in DEFAULT_SIZE:
        raise ModelError(
            f"The model {label} takes {channels}-channel input; ConvScope feeds images "
            "with 1 (grayscale) or 3 (RGB) channels."
        )
    return channels
