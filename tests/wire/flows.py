"""What a user does on the explorer page, step by step, through one tab.

Each step fires the callbacks the renderer fires after it, in the same order, with the
same changed props, and returns their replies (timed) for the caller to check or measure.
"""

from __future__ import annotations

from PIL import Image

from tests.wire.client import DashClient, Reply, Tab
from tests.wire.probes import encoded
from tests.wire.protocol import data_url


def initial_values(client: DashClient, model: str, image: str) -> dict[str, object]:
    """One page load's values (its own ``GET /_dash-layout``) before any callback ran,
    with ``model`` and ``image`` chosen."""
    values = client.layout_values()
    values.update(
        {
            "model-select.value": model,
            "layer-select.value": None,
            "sample-select.value": image,
            "image-store.data": image,
        }
    )
    return values


class ExplorerTab(Tab):
    """One tab on the explorer page, driven one user step at a time."""

    def open_model(self, model: str) -> list[Reply]:
        """Choose a model: its layer list, then the first layer's views."""
        changed = self.set({"model-select.value": model})
        first = self.fire("layer-select.options", changed)
        return [first, *self.switch_layer(str(self.values["layer-select.value"]))]

    def switch_layer(self, layer: str) -> list[Reply]:
        """on_kernels, on_features and on_detail: all on the new layer, in one round trip."""
        changed = self.set({"layer-select.value": layer})
        kernels = self.fire("kernel-grid.figure", changed)
        features = self.fire("feature-grid.figure", changed)
        detail = self.fire("feature-detail.figure", changed)
        return [kernels, features, detail]

    def upload(self, image: Image.Image, filename: str) -> Reply:
        """on_image with an upload: the image lands in the server's store under a digest key.

        Raises:
            RuntimeError: the page refused the upload (its sentence is in the message).
        """
        self.values["image-upload.filename"] = filename
        contents = data_url(encoded(image, "PNG"), "image/png")
        reply = self.fire("image-store.data", self.set({"image-upload.contents": contents}))
        if "image-store.data" not in reply.outputs:
            raise RuntimeError(f"upload refused: {reply.outputs.get('upload-status.children')}")
        return reply

    def new_image(self) -> list[Reply]:
        """The callbacks that fire after the image changed: on_features and on_detail."""
        changed = ["image-store.data"]
        features = self.fire("feature-grid.figure", changed)
        detail = self.fire("feature-detail.figure", changed)
        return [features, detail]
