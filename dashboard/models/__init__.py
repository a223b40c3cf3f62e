"""Models by name: build or load them, list their conv layers, preprocess their inputs.

Never imports dash or plotly. See registry.get_model for the cache, zoo for torchvision
models and their ImageNet weights, user for the user's own model.
"""

from dashboard.models.layers import ConvLayer, ForwardError, conv_layers
from dashboard.models.loaded import LoadedModel
from dashboard.models.registry import (
    DEFAULT_MODEL,
    available_models,
    cached_models,
    clear_cache,
    clear_user_model,
    default_model,
    download_status,
    get_model,
    register_user_model,
    uploaded_model,
    with_uploaded_weights,
)
from dashboard.models.user import load_user_model

__all__ = [
    "DEFAULT_MODEL",
    "ConvLayer",
    "ForwardError",
    "LoadedModel",
    "available_models",
    "cached_models",
    "clear_cache",
    "clear_user_model",
    "conv_layers",
    "default_model",
    "download_status",
    "get_model",
    "load_user_model",
    "register_user_model",
    "uploaded_model",
    "with_uploaded_weights",
]
