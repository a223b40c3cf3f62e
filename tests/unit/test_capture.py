"""Hooked inference returns exactly what torch computes, leaks no hooks, isolates threads."""

from __future__ import annotations

import threading

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from torch import nn

from dashboard.capture import capture_activations


class Counting(nn.Module):
    """A head that counts how often it runs."""

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.calls += 1
        return x.mean()


def small_net(seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(8, 4, 5, stride=2, padding=2),
        nn.ReLU(),
        nn.Conv2d(4, 6, 1),
        Counting(),
    ).eval()


def all_hooks(model: nn.Module) -> list[int]:
    return [len(m._forward_hooks) + len(m._forward_pre_hooks) for m in model.modules()]


def test_cap01_outputs_equal_direct_computation() -> None:
    model = small_net()
    x = torch.randn(1, 3, 17, 13, generator=torch.Generator().manual_seed(1))
    got = capture_activations(model, x, ["0", "2", "4"])
    with torch.no_grad():
        a = F.conv2d(x, model[0].weight, model[0].bias, padding=1)
        b = F.conv2d(a.relu(), model[2].weight, model[2].bias, stride=2, padding=2)
        c = F.conv2d(b.relu(), model[4].weight, model[4].bias)
    for name, want in {"0": a, "2": b, "4": c}.items():
        assert got[name].dtype == np.float32
        assert got[name].shape == tuple(want.shape[1:])
        np.testing.assert_allclose(got[name], want[0].numpy(), rtol=1e-5, atol=1e-6)


def test_cap02_stops_after_last_requested_layer() -> None:
    model = small_net()
    capture_activations(model, torch.randn(1, 3, 8, 8), ["0", "2"])
    assert model[5].calls == 0
    capture_activations(model, torch.randn(1, 3, 8, 8), ["4"])
    assert model[5].calls == 0


def test_cap03_no_hooks_left_also_when_forward_raises() -> None:
    model = small_net()
    before = all_hooks(model)
    capture_activations(model, torch.randn(1, 3, 8, 8), ["0", "4"])
    assert all_hooks(model) == before
    with pytest.raises(RuntimeError):
        capture_activations(model, torch.randn(1, 5, 8, 8), ["4"])  # wrong channel count
    assert all_hooks(model) == before
    with pytest.raises(ValueError, match="no layer named 'nope'"):
        capture_activations(model, torch.randn(1, 3, 8, 8), ["nope"])
    assert all_hooks(model) == before


def test_cap04_results_are_detached_copies() -> None:
    model = small_net()
    x = torch.randn(1, 3, 8, 8)
    out = capture_activations(model, x, ["0"])["0"]
    assert out.base is None and out.flags.owndata  # no view of a torch tensor kept alive
    out[:] = 0
    again = capture_activations(model, x, ["0"])["0"]
    assert np.abs(again).sum() > 0


def test_cap05_rejects_batches() -> None:
    with pytest.raises(ValueError, match="one image"):
        capture_activations(small_net(), torch.randn(2, 3, 8, 8), ["0"])


def test_cap06_concurrent_threads_never_see_each_others_activations() -> None:
    """One shared model, 8 threads on different inputs and layers at once."""
    model = small_net()
    layers = ["0", "2", "4"]
    inputs = [
        torch.randn(1, 3, 24, 24, generator=torch.Generator().manual_seed(i)) for i in range(8)
    ]
    with torch.no_grad():
        expected = [{name: model[: int(name) + 1](x)[0].numpy() for name in layers} for x in inputs]
    barrier = threading.Barrier(8)
    errors: list[BaseException] = []

    def worker(i: int) -> None:
        try:
            barrier.wait()
            for round_ in range(25):
                wanted = [layers[(i + round_) % 3]] if i % 2 else layers
                got = capture_activations(model, inputs[i], wanted)
                assert set(got) == set(wanted)
                for name in wanted:
                    np.testing.assert_allclose(got[name], expected[i][name], rtol=1e-5, atol=1e-5)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert all(n == 0 for n in all_hooks(model))


def test_cap07_hundred_runs_leave_nothing_behind() -> None:
    model = small_net()
    x = torch.randn(1, 3, 32, 32)
    import gc

    gc.collect()
    tensors_before = sum(type(o) is torch.Tensor for o in gc.get_objects())
    for _ in range(100):
        capture_activations(model, x, ["0", "2", "4"])
    gc.collect()
    tensors_after = sum(type(o) is torch.Tensor for o in gc.get_objects())
    assert tensors_after - tensors_before < 5
    assert all(n == 0 for n in all_hooks(model))
