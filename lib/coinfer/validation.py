"""One-line parameter errors.

Every user-facing input (notebook parameters, ``Problem`` fields, command-line
files) is checked with these helpers. They raise :class:`ParameterError`,
whose message names the parameter, the offending value and what is allowed,
on one line; entry points print it without a traceback and exit with code 2.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

#: Exit code of every entry point for bad input.
EXIT_BAD_INPUT = 2


class ParameterError(ValueError):
    """A user input is invalid; ``str(error)`` is a complete one-line message."""


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def require_number(name: str, value: Any, *, integer: bool = False) -> float | int:
    """Return ``value`` if it is a finite real number (an ``int`` when ``integer``)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = "an integer" if integer else "a finite number"
        raise ParameterError(f"{name}: got {_show(value)} ({type(value).__name__}); expected {kind}")
    if integer and not isinstance(value, int):
        if float(value).is_integer():
            return int(value)
        raise ParameterError(f"{name}: got {_show(value)}; expected an integer")
    if not math.isfinite(value):
        raise ParameterError(f"{name}: got {value}; expected a finite number")
    return value


def require_range(
    name: str,
    value: Any,
    low: float | None = None,
    high: float | None = None,
    *,
    low_open: bool = False,
    high_open: bool = False,
    integer: bool = False,
) -> float | int:
    """Return ``value`` if it is a finite number in the stated interval."""
    value = require_number(name, value, integer=integer)
    below = low is not None and (value <= low if low_open else value < low)
    above = high is not None and (value >= high if high_open else value > high)
    if below or above:
        raise ParameterError(f"{name}: got {_show(value)}; allowed {describe_interval(low, high, low_open, high_open)}")
    return value


def describe_interval(
    low: float | None, high: float | None, low_open: bool = False, high_open: bool = False
) -> str:
    """Human-readable interval, e.g. ``(0, 1)`` or ``>= 0``."""
    if low is not None and high is not None:
        return f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {low:g}"
    if high is not None:
        return f"{'<' if high_open else '<='} {high:g}"
    return "any finite number"


def require_choice(name: str, value: Any, choices: Sequence[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``."""
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ParameterError(f"{name}: got {_show(value)}; allowed one of {allowed}")
    return value


def require_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is a bool (YAML ``true``/``false``)."""
    if not isinstance(value, bool):
        raise ParameterError(f"{name}: got {_show(value)}; expected true or false")
    return value


def require_known(kind: str, names: Iterable[str], allowed: Iterable[str]) -> None:
    """Reject names that are not in ``allowed`` (``kind`` says what they are)."""
    unknown = sorted(set(names) - set(allowed))
    if unknown:
        raise ParameterError(
            f"{kind} {unknown[0]!r} is not known; allowed: {', '.join(sorted(allowed))}"
        )


@dataclass(frozen=True)
class Spec:
    """The type and allowed values of one parameter.

    ``kind`` is ``"int"``, ``"float"``, ``"bool"``, ``"str"`` or, for lists,
    ``"list[int]"``, ``"list[float]"``, ``"list[str]"`` (each element checked
    against ``low``/``high``/``choices``; lists must be non-empty).
    """

    kind: str
    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False
    choices: tuple[Any, ...] | None = None

    def check(self, name: str, value: Any) -> Any:
        """Return the validated (possibly normalised) value or raise :class:`ParameterError`."""
        if self.kind.startswith("list["):
            if not isinstance(value, (list, tuple)) or len(value) == 0:
                raise ParameterError(f"{name}: got {_show(value)}; expected a non-empty list")
            element = Spec(self.kind[5:-1], self.low, self.high, self.low_open, self.high_open, self.choices)
            return [element.check(f"{name}[{i}]", item) for i, item in enumerate(value)]
        if self.kind == "bool":
            return require_bool(name, value)
        if self.kind == "str":
            if not isinstance(value, str):
                raise ParameterError(f"{name}: got {_show(value)}; expected a string")
            return require_choice(name, value, self.choices) if self.choices else value
        if self.kind in ("int", "float"):
            checked = require_range(
                name, value, self.low, self.high,
                low_open=self.low_open, high_open=self.high_open, integer=self.kind == "int",
            )
            if self.choices is not None:
                require_choice(name, checked, self.choices)
            return float(checked) if self.kind == "float" else checked
        raise TypeError(f"unknown Spec kind {self.kind!r}")
