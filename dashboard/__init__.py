"""ConvScope: see a CNN's kernels and the feature maps they produce."""
