"""ConvScope's performance benchmark on VGG16: ``python -m bench`` (see bench.__main__)."""
