"""One simulated user: actions picked from ``ACTION_MIX`` until the deadline (run in a thread)."""

from __future__ import annotations

import re
import time

import numpy as np
from safetensors.torch import save

from bench.load.options import ACTION_MIX, MODEL_MIX, SAMPLES
from bench.load.oracle import ImageRef
from bench.load.tab import GENERIC_ERROR, WORKER_CALLBACKS, Stop
from bench.load.uploads import bad_images, bad_weights, custom_weights, generated_image
from bench.load.views import CheckedTab
from tests.wire import cell_data, data_url, encoded


class Session(CheckedTab):
    """One user in one tab; each action is a method named in ACTION_MIX, ``run`` the loop."""

    def open_model(self, model: str) -> None:
        self.values["model-select.value"] = model
        out = self.call("on_model", ["model-select.value"])
        if out is None:
            return
        if not self.v("layer-select.value"):
            # Evicted uploaded weights: the user reloads the page, which forgets them.
            self.values["weights-store.data"] = None
            out = self.call("on_model", ["model-select.value"])
            if not out or not self.v("layer-select.value"):
                return
        self.first_pass(["model-select.value"])
        self.views(["model-select.value", "layer-select.value"])

    def first_pass(self, changed: list[str]) -> None:
        """As the page does with workers (REDIS_URL): when a big model has not yet run on
        this image, ask a worker to run it and follow the job before drawing the views."""
        if WORKER_CALLBACKS["on_need"] not in self.client.deps:
            return
        out = self.call("on_need", changed)
        if out and out.get("prepare-request.data"):
            self.call("on_prepare", ["prepare-start.n_clicks"])

    def switch_model(self) -> None:
        models = list(self.options.models)  # run() has checked they are all in MODEL_MIX
        names = [m for m in models if m != self.v("model-select.value")] or models
        weights = [MODEL_MIX[m] for m in names]
        self.open_model(self.pick.choices(names, weights)[0])

    def switch_layer(self) -> None:
        options = self.v("layer-select.options") or []
        layers = [o["value"] for o in options if o["value"] != self.v("layer-select.value")]
        if not layers:
            return self.switch_model()
        self.values["layer-select.value"] = self.pick.choice(layers)
        self.views(["layer-select.value"])

    def choose_sample(self) -> None:
        keys = ["random", *(p.relative_to(SAMPLES).as_posix() for p in SAMPLES.glob("*.png"))]
        key = self.pick.choice([k if k == "random" else f"sample:{k}" for k in keys])
        self.values["sample-select.value"] = key
        out = self.call("on_image", ["sample-select.value"], "on_image(sample)")
        if out and out.get("image-store.data") == key:
            self.first_pass(["image-store.data"])
            self.views(["image-store.data"])

    def upload_image(self) -> None:
        self.uploads += 1
        fmt = self.pick.choice(["PNG", "JPEG"])
        payload = encoded(generated_image(self.rng), fmt, quality=self.pick.randint(70, 95))
        name = f"s{self.index}-{self.uploads}.{fmt.lower().replace('jpeg', 'jpg')}"
        self.values["image-upload.filename"] = name
        self.values["image-upload.contents"] = data_url(payload, f"image/{fmt.lower()}")
        out = self.call("on_image", ["image-upload.contents"], "on_image(upload)")
        if out is None:
            return
        key = out.get("image-store.data")
        if not isinstance(key, str) or not key.startswith("upload:"):
            text = str(out.get("upload-status.children"))
            self.recorder.error("unexpected_messages", "on_image(upload)", text)
            return
        self.images[key] = ImageRef(key, payload)
        self.first_pass(["image-store.data"])
        self.views(["image-store.data"])

    def click_feature(self) -> None:
        if self.feature_cd is None:
            return self.switch_layer()
        self._click("feature-grid", self.feature_cd, 1)

    def click_kernel(self) -> None:
        if self.kernel_cd is None or self.v("kernel-view.value") != "grid":
            return self.switch_layer()
        self._click("kernel-grid", self.kernel_cd, 2)  # kernels, not the gaps between bands

    def _click(self, grid: str, trace: dict, channel_at: int) -> None:
        """Click a random cell whose customdata[channel_at] is a channel (not -1)."""
        cd = cell_data(trace)  # as the browser holds it
        rows, cols = np.nonzero(cd[..., channel_at] >= 0)
        pick = self.pick.randrange(len(rows))
        row, col = int(rows[pick]), int(cols[pick])
        channel = int(cd[row, col, channel_at])
        point = {
            "curveNumber": 0,
            "pointNumber": [row, col],
            "pointIndex": [row, col],
            "x": col,
            "y": row,
            "customdata": {str(i): float(v) for i, v in enumerate(cd[row, col])},
        }
        self.values[f"{grid}.clickData"] = {"points": [point]}
        out = self.call("on_select", [f"{grid}.clickData"], "on_select(click)")
        if out is None or channel < 0 or out.get("status.children"):
            return  # refused with a sentence (e.g. evicted weights): counted by _scan_messages
        got = out.get("channel-store.data", self.v("channel-store.data"))
        if got != channel:
            self.recorder.error("wrong_channel", "on_select(click)", f"{got} != {channel}")
            return
        self.recorder.note("checks", "clicks")
        if "feature-detail.figure" in out:  # on_select redraws the detail in its answer
            self.check_detail_shown()

    def page_kernels(self) -> None:
        if self.v("kernel-pager.hidden") is True:  # one page only: no buttons to press
            return self.switch_layer()
        button = self.pick.choice(["kernel-page-next", "kernel-page-prev"])
        self.values[f"{button}.n_clicks"] = int(self.v(f"{button}.n_clicks") or 0) + 1
        out = self.call("on_select", [f"{button}.n_clicks"], "on_select(page)")
        if out and "channel-store.data" in out:
            self.detail(["channel-store.data"])

    def toggle_scale(self) -> None:
        scale = "shared" if self.v("scale-select.value") == "tile" else "tile"
        self.values["scale-select.value"] = scale
        self.features(["scale-select.value"])

    def upload_weights(self) -> None:
        if self.v("model-select.value") != "custom":
            return self.open_model("custom")
        state = custom_weights(self.rng)
        self.values["weights-upload.filename"] = f"s{self.index}.safetensors"
        self.values["weights-upload.contents"] = data_url(save(state), "application/octet-stream")
        out = self.call("on_weights", ["weights-upload.contents"])
        stored = (out or {}).get("weights-store.data")
        if not isinstance(stored, dict):
            if out is not None:
                text = str(out.get("weights-status.children"))
                self.recorder.error("unexpected_messages", "on_weights", text)
            return
        self.oracle.register_weights(str(stored["key"]), "custom", state)
        if self.call("on_model", ["weights-store.data"]) is not None:
            self.views(["weights-store.data"])

    def _refusal(self, callback: str, component: str, output: str, store: str, cases: list) -> None:
        """Upload one of ``cases``; the page must keep ``store`` and say why in ``output``."""
        kind = f"{callback}(bad)"
        filename, contents = self.pick.choice(cases)
        self.values[f"{component}.filename"] = filename
        self.values[f"{component}.contents"] = contents
        before = self.v(store)
        out = self.call(callback, [f"{component}.contents"], kind)
        if out is None:
            return
        text = out.get(output)
        if store in out or self.v(store) != before:
            self.recorder.error("unclear_refusals", kind, f"{filename} changed {store}")
        elif not isinstance(text, str) or not re.search(r"\w.*[.!?]$", text.strip()):
            self.recorder.error("unclear_refusals", kind, f"{filename}: {text!r}")
        elif GENERIC_ERROR in text or "Traceback" in text:
            self.recorder.error("unexpected_messages", kind, f"{filename}: {text!r}")
        else:
            self.recorder.note("checks", "refusals")

    def bad_image(self) -> None:
        self._refusal(
            "on_image",
            "image-upload",
            "upload-status.children",
            "image-store.data",
            bad_images(self.rng),
        )

    def bad_weights(self) -> None:
        self._refusal(
            "on_weights",
            "weights-upload",
            "weights-status.children",
            "weights-store.data",
            bad_weights(self.rng),
        )

    def run(self, deadline: float) -> None:
        """Act until ``deadline`` (a ``time.monotonic()`` value) or the request budget ends."""
        self.deadline = deadline
        actions = list(ACTION_MIX)
        weights = [ACTION_MIX[a] for a in actions]
        try:
            first = self.options.models[self.index % len(self.options.models)]
            self.open_model("custom" if first == "vgg16" else first)
            while True:
                action = self.pick.choices(actions, weights)[0]
                try:
                    getattr(self, action)()
                except Stop:
                    raise
                except Exception as exc:  # a load-tester bug or a malformed answer
                    self.recorder.error("client_exceptions", action, repr(exc))
                pause = self.pick.uniform(0, 2 * self.options.think_ms) / 1000
                if time.monotonic() + pause >= self.deadline:
                    break
                time.sleep(pause)
        except Stop:
            pass
        finally:
            self.close()
