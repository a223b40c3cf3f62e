"""ConvScope: see a CNN's kernels and the feature maps they produce."""

__version__ = "0.1.0"  # Dash fingerprints the URLs of our static bundle with it
