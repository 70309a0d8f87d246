"""One-line parameter errors.

Every user-facing input (notebook parameters, ``Problem`` fields, command-line
files) is checked with these helpers. They raise :class:`ParameterError`,
whose message names the parameter, the offending value and what is allowed,
on one line; entry points print it without a traceback and exit with code 2.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, SupportsInt, cast

import yaml

#: Exit code of every entry point for bad input.
EXIT_BAD_INPUT = 2


class ParameterError(ValueError):
    """A user input is invalid; ``str(error)`` is a complete message, one line per problem.

    Most errors have one line. A check that collects several problems (every
    bad field of a problem file) joins them with newlines; :attr:`lines` lists
    them and entry points print each as its own ``error: <line>``.
    """

    @classmethod
    def from_lines(cls, lines: Sequence[str]) -> ParameterError:
        """One error carrying several one-line messages (in the given order).

        Parameters
        ----------
        lines : sequence of str
            One-line messages.

        Returns
        -------
        ParameterError
            The error.
        """
        return cls("\n".join(lines))

    @property
    def lines(self) -> list[str]:
        """The one-line messages, each with its inner whitespace collapsed to single spaces."""
        return [" ".join(line.split()) for line in str(self).splitlines() if line.strip()] or [""]


def show_value(value: Any) -> str:
    """``repr`` of ``value`` (so control characters are escaped), shortened to fit on one line.

    Parameters
    ----------
    value : object
        The value to show in an error message.

    Returns
    -------
    str
        ``repr(value)``, cut to 57 characters plus ``"..."`` when longer than 60.
    """
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def require_number(name: str, value: Any, *, integer: bool = False) -> float | int:
    """Return ``value`` as a finite Python ``float`` (an ``int`` when ``integer``); NumPy scalars are accepted.

    Parameters
    ----------
    name : str
        The parameter's name, for the error message.
    value : object
        The value to check, in the parameter's own unit (unchanged here) [-].
    integer : bool, optional
        Whether ``value`` must be a whole number.

    Returns
    -------
    float or int
        ``value`` converted, in its unit [-].

    Raises
    ------
    ParameterError
        If ``value`` is not a real number (a bool is not one), is not finite, or (``integer``) not a whole number.
    """
    kind = "an integer" if integer else "a finite number"
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ParameterError(f"{name}: got {show_value(value)} ({type(value).__name__}); expected {kind}")
    try:
        as_float = float(value)
    except OverflowError:  # an integer literal beyond the float range
        raise ParameterError(
            f"{name}: got an integer with {len(str(value))} digits; expected {kind} below 1.8e308 in magnitude"
        ) from None
    if not math.isfinite(as_float):
        raise ParameterError(f"{name}: got {as_float}; expected {kind}")
    if integer:
        if not as_float.is_integer():
            raise ParameterError(f"{name}: got {show_value(value)}; expected an integer")
        return int(cast(SupportsInt, value))  # the numbers.Real stub has no __int__; int, float, NumPy scalars do
    return as_float + 0.0  # also turns -0.0 into 0.0


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
    """Return ``value`` if it is a finite number in the stated interval.

    Parameters
    ----------
    name : str
        The parameter's name, used in the message.
    value : object
        The value checked (a Python or NumPy real number; not a bool) [unit of the parameter].
    low, high : float, optional
        The interval's ends; None for no bound [unit of the parameter].
    low_open, high_open : bool, default False
        Whether the end is excluded.
    integer : bool, default False
        Whether ``value`` must be a whole number.

    Returns
    -------
    float or int
        ``value`` as a Python float (an int when ``integer``).

    Raises
    ------
    ParameterError
        ``"<name>: got <value>; allowed <interval>"`` if it is not a finite number, not whole when ``integer``,
        or outside the interval.
    """
    value = require_number(name, value, integer=integer)
    below = low is not None and (value <= low if low_open else value < low)
    above = high is not None and (value >= high if high_open else value > high)
    if below or above:
        raise ParameterError(
            f"{name}: got {show_value(value)}; allowed {_describe_interval(low, high, low_open, high_open)}"
        )
    return value


def _describe_interval(low: float | None, high: float | None, low_open: bool = False, high_open: bool = False) -> str:
    """Human-readable interval, e.g. ``(0, 1)`` or ``>= 0``."""

    def show(x: float) -> str:  # whole numbers exactly (a seed's 4294967295, not 4.29497e+09)
        return str(int(x)) if float(x).is_integer() and abs(x) < 1e16 else f"{x:g}"

    if low is not None and high is not None:
        return f"{'(' if low_open else '['}{show(low)}, {show(high)}{')' if high_open else ']'}"
    if low is not None:
        return f"{'>' if low_open else '>='} {show(low)}"
    if high is not None:
        return f"{'<' if high_open else '<='} {show(high)}"
    return "any finite number"


def require_choice(name: str, value: Any, choices: Sequence[Any]) -> Any:
    """Return ``value`` if it is one of ``choices``.

    Parameters
    ----------
    name : str
        The parameter's name, used in the message.
    value : object
        The value checked.
    choices : sequence
        The allowed values.

    Returns
    -------
    object
        ``value`` unchanged.

    Raises
    ------
    ParameterError
        ``"<name>: got <value>; allowed one of <choices>"`` if it is not one of them.
    """
    if value not in choices:
        allowed = ", ".join(repr(c) for c in choices)
        raise ParameterError(f"{name}: got {show_value(value)}; allowed one of {allowed}")
    return value


def require_bool(name: str, value: Any) -> bool:
    """Return ``value`` if it is a bool (YAML ``true``/``false``).

    Parameters
    ----------
    name : str
        The parameter's name, for the error message.
    value : object
        The value to check.

    Returns
    -------
    bool
        ``value`` unchanged.

    Raises
    ------
    ParameterError
        If ``value`` is not a bool.
    """
    if not isinstance(value, bool):
        raise ParameterError(f"{name}: got {show_value(value)}; expected true or false")
    return value


def require_known(kind: str, names: Iterable[str], allowed: Iterable[str]) -> None:
    """Reject names that are not in ``allowed`` (``kind`` says what they are).

    Parameters
    ----------
    kind : str
        What the names are, for the error message (``"notebook"``, ``"parameter"`` ...).
    names : iterable of str
        The names given.
    allowed : iterable of str
        The names known.

    Returns
    -------
    None

    Raises
    ------
    ParameterError
        Naming the first unknown name (in sorted order) and listing the allowed ones.
    """
    allowed = {str(a) for a in allowed}
    unknown = sorted({str(n) for n in names} - allowed)
    if unknown:
        raise ParameterError(f"{kind} {show_value(unknown[0])} is not known; allowed: {', '.join(sorted(allowed))}")


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
        """Return the validated (possibly normalised) value or raise :class:`ParameterError`.

        Parameters
        ----------
        name : str
            The parameter's name.
        value : Any
            Its value (in the spec's unit).

        Returns
        -------
        Any
            The validated value.
        """
        if self.kind.startswith("list["):
            if not isinstance(value, (list, tuple)) or len(value) == 0:
                raise ParameterError(f"{name}: got {show_value(value)}; expected a non-empty list")
            element = Spec(self.kind[5:-1], self.low, self.high, self.low_open, self.high_open, self.choices)
            return [element.check(f"{name}[{i}]", item) for i, item in enumerate(value)]
        if self.kind == "bool":
            return require_bool(name, value)
        if self.kind == "str":
            if not isinstance(value, str):
                raise ParameterError(f"{name}: got {show_value(value)}; expected a string")
            return require_choice(name, value, self.choices) if self.choices else value
        if self.kind in ("int", "float"):
            checked = require_range(
                name,
                value,
                self.low,
                self.high,
                low_open=self.low_open,
                high_open=self.high_open,
                integer=self.kind == "int",
            )
            if self.choices is not None:
                require_choice(name, checked, self.choices)
            return float(checked) if self.kind == "float" else checked
        raise TypeError(f"unknown Spec kind {self.kind!r}")


# --------------------------------------------------------------------------- YAML input
class _DuplicateKey(yaml.YAMLError):
    pass


class StrictYamlLoader(yaml.SafeLoader):
    """Safe YAML with the YAML 1.2 core schema and no duplicate keys.

    PyYAML follows YAML 1.1, which reads ``1e9`` as a string, ``yes``/``on`` as
    true and ``1:30`` as 90; for parameter files those readings are traps, so
    only ``true``/``false`` are booleans and numbers follow YAML 1.2.
    """

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict:
        """A YAML mapping, with a one-line error on a duplicate key.

        Parameters
        ----------
        node : yaml.MappingNode
            The mapping node.
        deep : bool
            Construct nested objects at once.

        Returns
        -------
        dict
            The mapping.
        """
        seen = set()
        for key_node, _ in node.value:
            key = self.construct_object(key_node, deep=deep)
            if isinstance(key, (str, int, float, bool)) and key in seen:
                raise _DuplicateKey(f"duplicate key {key!r} at line {key_node.start_mark.line + 1}")
            seen.add(key)
        return super().construct_mapping(node, deep=deep)


StrictYamlLoader.yaml_implicit_resolvers = {}
for _tag, _pattern, _first in [
    ("bool", r"^(?:true|True|TRUE|false|False|FALSE)$", "tTfF"),
    ("null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
    ("int", r"^(?:[-+]?[0-9]+|0o[0-7]+|0x[0-9a-fA-F]+)$", "-+0123456789"),
    (
        "float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?"
        r"|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        "-+0123456789.",
    ),
]:
    StrictYamlLoader.add_implicit_resolver(f"tag:yaml.org,2002:{_tag}", re.compile(_pattern), list(_first))


def read_yaml(path: str | Path, what: str) -> Any:
    """Parse a YAML file with :class:`StrictYamlLoader`; every problem is a one-line :class:`ParameterError`.

    ``what`` names the input in messages (``"file"``, ``"profile"``). An empty
    or comment-only file gives ``None``.

    Parameters
    ----------
    path : str or pathlib.Path
        The YAML file (read as UTF-8, a byte-order mark allowed).
    what : str
        What the file is, the start of every message.

    Returns
    -------
    object
        The parsed content (duplicate keys rejected; ``yes``/``on`` stay strings); None for an empty file.

    Raises
    ------
    ParameterError
        If the file does not exist, is not a regular file, is not UTF-8 text or is not valid YAML (with its line).
    """
    path = Path(path)
    if not path.exists():
        raise ParameterError(f"{what}: {show_value(str(path))} does not exist")
    if not path.is_file():
        raise ParameterError(f"{what}: {show_value(str(path))} is not a regular file")
    try:
        text = path.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise ParameterError(
            f"{what}: cannot read {show_value(str(path))} as UTF-8 text ({type(error).__name__})"
        ) from None
    try:
        return yaml.load(text, Loader=StrictYamlLoader)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        detail = f": {error}" if isinstance(error, _DuplicateKey) else ""
        raise ParameterError(f"{what}: {show_value(str(path))} is not valid YAML{where}{detail}") from None
