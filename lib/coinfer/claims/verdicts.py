"""Verdicts in three values (model.md section 1.2): a verdict string, and ``holds`` true, false or null.

A part of a claim, a claim and each of its readings carries ``verdict`` (one
of :data:`VERDICTS`) and ``holds``, which is ``True`` for "holds", ``False``
for "does not hold" and ``None`` (JSON ``null``) for "inconclusive" and
"needs data": ``holds`` never says more than the verdict. A paper claim split
in parts is their conjunction (:func:`conjunction`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

#: Not decided because the data that decide it are not in ``data/`` (named in the part's ``needs``).
NEEDS_DATA = "needs data"
#: Every verdict and its ``holds`` value.
VERDICTS: dict[str, bool | None] = {"holds": True, "does not hold": False, "inconclusive": None, NEEDS_DATA: None}


def holds_value(verdict: str) -> bool | None:
    """The ``holds`` value of ``verdict``.

    Parameters
    ----------
    verdict : str
        One of :data:`VERDICTS`.

    Returns
    -------
    bool or None
        ``True`` (holds), ``False`` (does not hold) or ``None`` (inconclusive, needs data).
    """
    if verdict not in VERDICTS:
        raise ValueError(f"verdict: {verdict!r}; allowed: {', '.join(map(repr, VERDICTS))}")
    return VERDICTS[verdict]


def from_point(holds: bool) -> str:
    """The verdict of a criterion decided without a sampling interval (a grid share, a count).

    Parameters
    ----------
    holds : bool
        Whether the criterion's number meets its threshold.

    Returns
    -------
    str
        "holds" or "does not hold".
    """
    return "holds" if holds else "does not hold"


def conjunction(verdicts: Iterable[str]) -> str:
    """The verdict of a claim that needs every one of ``verdicts`` (its parts).

    Any part that does not hold decides "does not hold"; else any inconclusive
    part makes it "inconclusive"; else any part that needs data makes it
    "needs data"; else "holds". No parts: "needs data".

    Parameters
    ----------
    verdicts : iterable of str
        The parts' verdicts, each one of :data:`VERDICTS`.

    Returns
    -------
    str
        One of :data:`VERDICTS`.
    """
    found = list(verdicts)
    for verdict in found:
        holds_value(verdict)  # refuses a verdict that is not one of VERDICTS
    for decisive in ("does not hold", "inconclusive", NEEDS_DATA):
        if decisive in found:
            return decisive
    return "holds" if found else NEEDS_DATA


def settle(entry: dict[str, Any]) -> dict[str, Any]:
    """Make ``entry`` (a claim, a part or a reading) carry a verdict and the ``holds`` that agrees with it.

    An entry without ``verdict`` was decided without a sampling interval: its
    boolean ``holds`` becomes the verdict. The point-estimate ``holds`` of an
    entry whose verdict came from an interval is kept as
    ``meets_threshold_at_point_estimate`` when it says more than the verdict.
    Parts and readings are settled too.

    Parameters
    ----------
    entry : dict
        A claim dictionary of ``claims.json``, a part or a reading; changed in place.

    Returns
    -------
    dict
        ``entry``.
    """
    for key in ("parts", "robustness"):
        for sub in entry.get(key, []):
            settle(sub)
    if "verdict" not in entry:
        entry["verdict"] = from_point(bool(entry["holds"]))
    value = holds_value(entry["verdict"])
    point = entry.get("holds")
    if isinstance(point, bool) and point != value:
        entry["meets_threshold_at_point_estimate"] = point
    entry["holds"] = value
    return entry


def disagreements(entry: Mapping[str, Any]) -> list[str]:
    """Where ``holds`` and ``verdict`` of ``entry``, its parts or readings disagree (empty: all agree).

    Parameters
    ----------
    entry : mapping
        A claim dictionary of ``claims.json``.

    Returns
    -------
    list of str
        One line per disagreement, naming the entry.
    """
    found = []
    for key in ("parts", "robustness"):
        for sub in entry.get(key, []):
            found += disagreements(sub)
    name = entry.get("id") or entry.get("reading")
    if entry.get("verdict") not in VERDICTS or entry.get("holds") is not VERDICTS[entry["verdict"]]:
        found.append(f"{name}: verdict {entry.get('verdict')!r}, holds {entry.get('holds')!r}")
    return found


__all__ = ["NEEDS_DATA", "VERDICTS", "conjunction", "disagreements", "from_point", "holds_value", "settle"]
