"""Mirror image keys and the compare controls' edge readers."""

from __future__ import annotations

import pytest
import torch

from dashboard import edge
from dashboard.config import Config
from dashboard.explorer import Explorer
from dashboard.modes import Compare
from dashboard.samples import ImageStore, is_mirror, mirror_key


def test_ck01_mirror_of_a_mirror_is_the_image() -> None:
    assert mirror_key("sample:chelsea.png") == "mirror:sample:chelsea.png"
    assert mirror_key(mirror_key("random")) == "random"
    assert is_mirror("mirror:random") and not is_mirror("random")


def test_ck02_edge_takes_one_mirror_and_known_choices_only() -> None:
    assert edge.image_key("mirror:upload:ab12") == "mirror:upload:ab12"
    with pytest.raises(edge.InvalidInput):
        edge.image_key("mirror:mirror:random")
    known = ["random", "sample:chelsea.png"]
    assert edge.compare(None, known) == Compare.OFF
    assert edge.compare("mirror", known) == Compare.MIRROR
    assert edge.compare("sample:chelsea.png", known) == "sample:chelsea.png"
    for forged in ("sample:other.png", "", 3, ["off"], {"value": "off"}):
        with pytest.raises(edge.InvalidInput):
            edge.compare(forged, known)
    assert edge.same_scale(None) is False and edge.same_scale([]) is False
    assert edge.same_scale(["shared"]) is True
    for forged in (True, "shared", ["tile"], [["shared"]]):
        with pytest.raises(edge.InvalidInput):
            edge.same_scale(forged)


def test_ck03_mirror_input_is_the_input_flipped_left_right(models) -> None:
    explorer = Explorer(Config(cache_mb=64), models, ImageStore())
    model = models.get("tinyvgg")
    for key in ("random", "sample:chelsea.png"):
        x = explorer.input_tensor(model, key)
        mirrored = explorer.input_tensor(model, mirror_key(key))
        assert torch.equal(mirrored, torch.flip(x, dims=(-1,)))
        assert not torch.equal(mirrored, x)
