"""Models by name: build or load them, list their conv layers, preprocess their inputs.

Never imports dash or plotly. ``ModelRegistry`` builds and keeps the models of one app;
zoo has torchvision's models and their ImageNet weights, user the user's own model.
"""

from dashboard.models.layers import ConvLayer, ForwardError, conv_layers
from dashboard.models.loaded import LoadedModel
from dashboard.models.registry import USER_MODEL, ModelRegistry
from dashboard.models.user import load_user_model

__all__ = [
    "USER_MODEL",
    "ConvLayer",
    "ForwardError",
    "LoadedModel",
    "ModelRegistry",
    "conv_layers",
    "load_user_model",
]
