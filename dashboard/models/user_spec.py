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
# Also in `python -m dashboard --help` (tests check that both say it; the sentences below
# spell it out so that translators see whole sentences).
NO_HOOKS = "TorchScript modules do not run the forward hooks that read each layer"


def _refuse_model_file(path: Path) -> ModelError:
    """Why a model file cannot be used; its content is only listed, never loaded."""
    if not path.is_file():
        return ModelError("The model file {path} does not exist.", path=str(path))
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
        if any("/code/" in n or n.endswith("constants.pkl") for n in names):
            return ModelError(
                "{file} is a TorchScript file, which ConvScope cannot inspect: TorchScript "
                "modules do not run the forward hooks that read each layer; pass the model's "
                "code as 'package.module:factory' and its weights with --weights.",
                file=path.name,
            )
        if any(n.endswith("data.pkl") for n in names):
            return ModelError(
                "{file} was saved with torch.save and ConvScope never unpickles model files; "
                "pass the model's code as 'package.module:factory' and its weights with "
                "--weights (a state dict or .safetensors file).",
                file=path.name,
            )
    return ModelError(
        "{file} is not a model ConvScope can use; pass the model's code as "
        "'package.module:factory' and its weights with --weights.",
        file=path.name,
    )


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
        raise ModelError(
            "Could not import {module} for the model {spec}: {error}.",
            module=module_part,
            spec=spec,
            error=exc,
        ) from exc


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
        raise ModelError(
            "The model {spec} should look like 'package.module:factory'.", spec=repr(spec)
        )
    factory = getattr(_import_factory_module(module_part, spec), attr, None)
    if factory is None:
        raise ModelError(
            "{module} has no {name} to build the model {spec}.",
            module=module_part,
            name=attr,
            spec=spec,
        )
    if not callable(factory):
        raise ModelError(
            "{spec} is a {type}, not a function returning a model.",
            spec=spec,
            type=type(factory).__name__,
        )
    try:
        model = factory()
    except Exception as exc:
        raise ModelError(
            "Building the model {spec} failed: {kind}: {error}",
            spec=spec,
            kind=type(exc).__name__,
            error=exc,
        ) from exc
    if not isinstance(model, nn.Module):
        raise ModelError(
            "{spec}() returned a {type}, not a torch.nn.Module.",
            spec=spec,
            type=type(model).__name__,
        )
    if type(model).__module__.startswith("torch.jit"):
        raise ModelError(
            "{spec}() returned a TorchScript module, which ConvScope cannot inspect: "
            "TorchScript modules do not run the forward hooks that read each layer; "
            "return the eager module (the one given to torch.jit.script).",
            spec=spec,
        )
    return model


def first_conv_channels(model: nn.Module, label: str, requested: int | None) -> int:
    first = next((m for m in model.modules() if isinstance(m, nn.Conv2d)), None)
    if first is None:
        others = sorted(
            {type(m).__name__ for m in model.modules() if isinstance(m, nn.Conv1d | nn.Conv3d)}
        )
        if others:
            raise ModelError(
                "The model {model} has no Conv2d layer to show (it has {others} layers; "
                "ConvScope shows image models).",
                model=label,
                others=", ".join(others),
            )
        raise ModelError("The model {model} has no Conv2d layer to show.", model=label)
    channels = first.in_channels
    if requested is not None and requested != channels:
        raise ModelError(
            "The model {model} takes {channels}-channel input (its first Conv2d), "
            "not {requested} channels.",
            model=label,
            channels=channels,
            requested=requested,
        )
    if channels not in DEFAULT_SIZE:
        raise ModelError(
            "The model {model} takes {channels}-channel input; ConvScope feeds images "
            "with 1 (grayscale) or 3 (RGB) channels.",
            model=label,
            channels=channels,
        )
    return channels
