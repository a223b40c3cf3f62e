"""A model that does not run at the asked size: the error names the sizes it runs on."""

from __future__ import annotations

import itertools

import pytest
import torch
from torch import nn

from dashboard.errors import ModelError
from dashboard.models import load_user_model
from dashboard.models.size_hints import (
    COMMON_SIDES,
    candidate_sizes,
    declared_sizes,
    size_hint,
    working_sizes,
)
from tests.fixtures import one_size_net
from tests.fixtures.one_size_net import OneSizeNet

torch.set_num_threads(2)
FIXTURE = "tests.fixtures.one_size_net"


def test_sh01_default_size_fails_and_the_error_names_the_one_that_works() -> None:
    with pytest.raises(ModelError) as info:
        load_user_model(f"{FIXTURE}:build")  # RGB: 224×224 by default
    assert str(info.value) == (
        f"The model Your model ({FIXTURE}:build) could not run on a 3×224×224 input (mat1 and "
        "mat2 shapes cannot be multiplied (1x25088 and 512x4)). It runs on 32×32: pass "
        "--input-size 32."
    )
    loaded = load_user_model(f"{FIXTURE}:build", input_size=32)
    assert loaded.input_size == (32, 32)


def test_sh02_several_working_sizes_are_listed() -> None:
    model = nn.Sequential(nn.Conv2d(1, 2, 3), nn.MaxPool2d(16)).eval()  # needs ≥ 18 pixels
    assert size_hint(model, 1, (8, 8)) == "It runs on 24×24, 28×28 and 32×32: pass --input-size 24."


@pytest.mark.parametrize(
    "factory, hint",
    [
        ("build_with_min_size", "It runs on 40×40: pass --input-size 40."),
        ("build_with_input_size", "It runs on 40×24: pass --input-size 40x24."),
        ("build_with_transforms", "It runs on 40×40: pass --input-size 40."),
    ],
)
def test_sh03_sizes_the_model_declares_are_tried_first(factory: str, hint: str) -> None:
    with pytest.raises(ModelError) as info:
        load_user_model(f"{FIXTURE}:{factory}")
    assert str(info.value).endswith(hint)


def test_sh04_declared_sizes_read_timm_configs_and_ignore_junk() -> None:
    net = OneSizeNet()
    net.pretrained_cfg = {"input_size": (3, 48, 48), "test_input_size": (3, 64, 64)}
    net.min_size = "big"  # not a size: ignored
    assert declared_sizes(net) == [(48, 48), (64, 64)]
    sizes = candidate_sizes(net, tried=[(12, 12)])
    assert sizes[:3] == [(48, 48), (64, 64), (16, 16)]
    assert len(sizes) == len(set(sizes)) == 2 + len(COMMON_SIDES) - 3  # 12, 48, 64 once


def test_sh05_a_model_that_runs_at_no_square_size_gets_both_hints() -> None:
    with pytest.raises(ModelError) as info:
        load_user_model(f"{FIXTURE}:build_broken", input_size=32)
    message = str(info.value)
    assert "could not run on a 3×32×32 input (this forward never works)." in message
    assert message.endswith(
        f"It did not run on any of the {len(COMMON_SIDES) - 1} sizes tried either (12×12 to "
        "512×512): if it was trained on another size, e.g. a non-square one, pass it with "
        "--input-size HxW (112x96 is 112 high, 96 wide); otherwise check the model's forward()."
    )


def test_sh06_probing_stops_at_the_time_budget_and_after_enough_sizes() -> None:
    model = nn.Sequential(nn.Conv2d(1, 1, 1)).eval()  # runs on anything
    works, tried = working_sizes(model, 1, [(s, s) for s in COMMON_SIDES], enough=2)
    assert works == tried == [(12, 12), (16, 16)]
    ticks = itertools.count(step=2.0)  # every probe "takes" 2 s
    works, tried = working_sizes(
        OneSizeNet(), 3, [(s, s) for s in COMMON_SIDES], budget_s=5.0, clock=lambda: next(ticks)
    )
    assert works == [] and tried == [(12, 12), (16, 16)]  # the third starts at 6 s


def test_sh07_probing_leaves_the_model_as_it_was() -> None:
    model = one_size_net.build().eval()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    size_hint(model, 3, (224, 224))
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
    assert all(not m._forward_hooks for m in model.modules())
