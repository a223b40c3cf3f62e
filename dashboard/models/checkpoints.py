"""Checkpoints as people save them: wrapper prefixes, and weights for part of a model.

A state dict read by `state_dicts` (already unwrapped from {"state_dict": ...} style
containers and checked to be plain tensors) is matched to a model here: names saved
through DataParallel ("module."), a Lightning or wrapper module ("model.") or nested
("state_dict.") are renamed when that fits more of the model, then every tensor whose
name and shape the model has is loaded; the rest of the model keeps its initial weights,
and the `LoadReport` says which. A file that fits nothing is an error, never random weights.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import torch
from torch import nn

from dashboard.errors import WeightsError
from dashboard.i18n import _, ngettext
from dashboard.models.later import Later
from dashboard.models.state_dicts import (
    StateDict,
    cast_checked,
    check_materialised,
    describe_shape,
    few_names,
)

PREFIXES = ("module.", "model.", "state_dict.")
_COUNTER = ".num_batches_tracked"  # BatchNorm's batch counter: no effect in eval mode
_SHAPES_SHOWN = 2


@dataclass(frozen=True)
class LoadReport:
    """What a weights file set in a model.

    Attributes:
        source: the file's name.
        loaded: model tensors set from the file, in the model's order.
        kept: model tensors the file does not set (absent or of another shape), which keep
            their initial values; BatchNorm batch counters are not listed.
        mismatched: (name, shape in the file, shape in the model) for same-named tensors.
        unexpected: names in the file the model does not have (after renaming).
        prefix: what was done to the file's names to fit the model, e.g. "removed 'module.'".
    """

    source: str
    loaded: tuple[str, ...]
    kept: tuple[str, ...] = ()
    mismatched: tuple[tuple[str, str, str], ...] = ()
    unexpected: tuple[str, ...] = ()
    prefix: str | Later | None = None

    @property
    def complete(self) -> bool:
        """Every tensor of the model came from the file."""
        return not self.kept

    @property
    def counts(self) -> str:
        """E.g. "6 of 8 tensors" (in the current language)."""
        total = len(self.loaded) + len(self.kept)
        return ngettext("{n} of {total} tensor", "{n} of {total} tensors", total).format(
            n=len(self.loaded), total=total
        )

    def sentence(self) -> str | None:
        """What the page should say about this load, in the current language; None when
        the file fit exactly."""
        if self.complete and not self.unexpected:
            return None
        source = self.source
        if self.prefix:
            source = _("{source} ({renamed})").format(source=source, renamed=self.prefix)
        if self.complete:
            text = ngettext(
                "Loaded the {n} tensor from {source}",
                "Loaded all {n} tensors from {source}",
                len(self.loaded),
            ).format(n=len(self.loaded), source=source)
        else:
            text = _(
                "Loaded {counts} from {source}; kept the model's initial weights for: {names}"
            ).format(counts=self.counts, source=source, names=few_names(list(self.kept)))
        if self.mismatched:
            shown = [
                _("{name} is {got} in the file but {want} in the model").format(
                    name=name, got=got, want=want
                )
                for name, got, want in self.mismatched[:_SHAPES_SHOWN]
            ]
            more = len(self.mismatched) - _SHAPES_SHOWN
            if more > 0:
                shown.append(
                    ngettext("{n} more shape differs", "{n} more shapes differ", more).format(
                        n=more
                    )
                )
            text = _("{text} ({shapes})").format(text=text, shapes=_("; ").join(shown))
        text = _("{text}.").format(text=text)
        if self.unexpected:
            n = len(self.unexpected)
            ignored = ngettext(
                "Ignored {n} tensor the model does not have: {names}.",
                "Ignored {n} tensors the model does not have: {names}.",
                n,
            ).format(n=n, names=few_names(list(self.unexpected)))
            text = _("{first} {second}").format(first=text, second=ignored)
        return text


def _renamings(state: Mapping[str, object], expected: Iterable[str]) -> list[tuple[str, dict]]:
    """(how, renamed keys) candidates: as saved, prefixes stripped (nested too) or added."""
    expected = list(expected)
    candidates: list[tuple[str, dict[str, str]]] = [("", {k: k for k in state})]
    frontier = candidates[:]
    for _depth in range(2):  # "module.model." is as deep as real checkpoints go
        grown = []
        for how, names in frontier:
            for prefix in PREFIXES:
                if any(new.startswith(prefix) for new in names.values()):
                    stripped = {old: new.removeprefix(prefix) for old, new in names.items()}
                    grown.append((f"{how}{prefix}", stripped))
        candidates += grown
        frontier = grown
    added = [
        (f"+{prefix}", {k: prefix + k for k in state})
        for prefix in PREFIXES
        if expected and all(k.startswith(prefix) for k in expected)
    ]
    return candidates + added


def align_names(state: StateDict, expected: Iterable[str]) -> tuple[StateDict, str | None]:
    """`state` renamed by the prefix change that fits the most of `expected`'s names.

    Returns:
        The renamed state dict, and None or a note such as "names without 'module.'".
    """
    expected = set(expected)
    best_how, best_names, best_hits = "", {k: k for k in state}, -1
    for how, names in _renamings(state, expected):
        if len(set(names.values())) != len(names):  # stripping made two names one
            continue
        hits = sum(new in expected for new in names.values())
        if hits > best_hits:  # ties keep the earlier, simpler candidate
            best_how, best_names, best_hits = how, names, hits
    renamed = {best_names[k]: v for k, v in state.items()}
    if not best_how:
        return renamed, None
    if best_how.startswith("+"):
        added = best_how[1:]
        return renamed, Later(lambda: _("names given the prefix '{prefix}'").format(prefix=added))
    return renamed, Later(lambda: _("names without the prefix '{prefix}'").format(prefix=best_how))


@dataclass(frozen=True)
class LoadPlan:
    """The tensors of a file that fit a model (renamed, not yet cast), and the report."""

    state: StateDict
    report: LoadReport


def plan_load(module: nn.Module, state: StateDict, source: str, label: str) -> LoadPlan:
    """Match `state` to `module` by name and shape; nothing is copied or cast yet.

    Raises:
        WeightsError: no tensor of the file fits the model (a few names of each are named).
    """
    expected = module.state_dict()
    renamed, prefix = align_names(state, expected)
    loaded, kept, mismatched = [], [], []
    for key, want in expected.items():
        got = renamed.get(key)
        if got is not None and got.shape == want.shape:
            loaded.append(key)
            continue
        if got is not None:
            mismatched.append((key, describe_shape(got.shape), describe_shape(want.shape)))
        if got is not None or not key.endswith(_COUNTER):
            kept.append(key)
    if not any(not key.endswith(_COUNTER) for key in loaded):
        raise _fits_nothing(source, label, state, expected, mismatched)
    unexpected = tuple(k for k in renamed if k not in expected)
    report = LoadReport(
        source=source,
        loaded=tuple(loaded),
        kept=tuple(kept),
        mismatched=tuple(mismatched),
        unexpected=unexpected,
        prefix=prefix,
    )
    return LoadPlan({k: renamed[k] for k in loaded}, report)


def _fits_nothing(
    source: str,
    label: str,
    state: StateDict,
    expected: Mapping[str, torch.Tensor],
    mismatched: list[tuple[str, str, str]],
) -> WeightsError:
    if mismatched:
        name, got, want = mismatched[0]
        return WeightsError(
            "The weights in {source} do not fit {label}: every tensor it shares a name with "
            "has another shape ({name} is {got} in the file but {want} in the model).",
            source=source,
            label=label,
            name=name,
            got=got,
            want=want,
        )
    return WeightsError(
        "The weights in {source} do not fit {label}: none of its {n} tensor names ({names}) "
        "is one of the model's ({expected}).",
        source=source,
        label=label,
        n=len(state),
        names=few_names(list(state)),
        expected=few_names(list(expected)),
    )


def load_matching(
    module: nn.Module,
    state: StateDict,
    source: str,
    label: str,
    *,
    max_bytes: int | None = None,
) -> LoadReport:
    """Load every tensor of `state` that fits `module` (in place); the rest stay as they are.

    Each loaded tensor is cast to the model's dtype and checked to be finite, as
    `state_dicts.check_state_dict` does for a whole file.

    Raises:
        WeightsError: nothing fits, too many bytes once loaded, an uncastable dtype,
            or NaN / infinite values in a tensor that would be loaded.
    """
    plan = plan_load(module, state, source, label)
    apply_plan(module, plan, max_bytes=max_bytes)
    return plan.report


def apply_plan(module: nn.Module, plan: LoadPlan, *, max_bytes: int | None = None) -> None:
    """Cast, check and load `plan`'s tensors into `module` (a real, not meta, module)."""
    expected = module.state_dict()
    if max_bytes is not None:
        nbytes = sum(t.numel() * expected[k].element_size() for k, t in plan.state.items())
        check_materialised(nbytes, max_bytes, plan.report.source)
    cast = {
        k: cast_checked(t, expected[k].dtype, plan.report.source, k) for k, t in plan.state.items()
    }
    missing, unexpected = module.load_state_dict(cast, strict=False)
    assert not unexpected and len(missing) == len(expected) - len(cast), (missing, unexpected)
