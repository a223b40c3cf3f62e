"""Words worded when shown: text kept with a model (cached for every visitor) is made in the
language of the request that shows it, not of the one that happened to build the model."""

from __future__ import annotations

from collections.abc import Callable


class Later:
    """``Later(lambda: _("… {x} …").format(x=x))``: ``str()`` and ``format()`` call it then."""

    __slots__ = ("_make",)

    def __init__(self, make: Callable[[], str]) -> None:
        self._make = make

    def __str__(self) -> str:
        return self._make()

    def __format__(self, spec: str) -> str:
        return format(self._make(), spec)

    def __repr__(self) -> str:
        return repr(self._make())

    def __eq__(self, other: object) -> bool:
        return str(self) == (str(other) if isinstance(other, Later | str) else other)

    def __hash__(self) -> int:
        return hash(str(self))


class _Worded(str):
    """The text as worded now, remembering what it was worded from: ``dataclasses.replace``
    reads a :class:`Shown` field and sets it again, which must keep it worded when shown."""

    source: Later


class Shown:
    """A dataclass field the page shows: set to a str or a :class:`Later` (or None), read
    as a str in the current request's language. Without ``default`` the field is required."""

    _NONE = object()

    def __init__(self, default: str | object | None = _NONE) -> None:
        self.default = default

    def __set_name__(self, owner: type, name: str) -> None:
        self._attr = f"_{name}_text"

    def __get__(self, obj: object, owner: type | None = None) -> str | None:
        if obj is None:
            if self.default is Shown._NONE:
                raise AttributeError(self._attr)  # dataclasses: no default
            return self.default  # type: ignore[return-value]
        value = getattr(obj, self._attr)
        if not isinstance(value, Later):
            return value
        worded = _Worded(value)
        worded.source = value
        return worded

    def __set__(self, obj: object, value: str | Later | None) -> None:
        if isinstance(value, _Worded):
            value = value.source
        object.__setattr__(obj, self._attr, value)
