"""Figures of notebook 09_multi_user (many users, one edge server, model.md section 13.9)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from coinfer.figures.registry import register
from coinfer.figures.style import new_figure, palette_colour

#: The notebook computing the data of every figure of this module.
NOTEBOOK = "09_multi_user"
POPULATIONS = "multi_user_populations.csv"
USERS = "multi_user_users.csv"
#: Schemes in plotting order, with their labels.
SCHEMES = {
    "joint": "joint design",
    "equal_shares": "equal shares",
    "proportional_shares": "proportional shares",
    "uncoordinated": "uncoordinated",
    "no_pruning": "no pruning",
    "shared_ratio": "shared ratio",
}
MARKERS = ("o", "s", "^", "D", "v", "P")
KINDS = {"on_device": "on the device", "split": "split", "on_server": "on the server"}


def _feasible(table: pd.DataFrame) -> pd.Series:
    return table["status"].isin(["optimal", "feasible"])


@register(
    "multi_user_objective",
    data=(POPULATIONS,),
    notebook=NOTEBOOK,
    claim="M1",
    description="mean normalised distortion of the joint design and of each baseline against the number of users",
)
def objective_vs_users(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Draw figure ``multi_user_objective`` (notebook 09).

    Left: objective (median over populations, range shaded) per scheme; infeasible populations as crosses at the top.
    Right: the joint design's certified relative gap (objective minus lower bound, over the objective).

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        The data files the figure reads (``multi_user_populations.csv``), by their names in ``data/``, as read back by
        :func:`coinfer.base.paths.read_csv`; each column's unit is in its name or in the data dictionary [-].
    params : mapping of str to object
        The validated parameters of notebook ``09_multi_user`` (``data/parameters_09_multi_user.json``), each in the
        unit of its profile entry [-].

    Returns
    -------
    matplotlib.figure.Figure
        The drawn figure, without its caption footer (:func:`coinfer.figures.registry.save` adds it).

    References
    ----------
    docs/model.md section 13.9, claim M1.
    """
    table = tables[POPULATIONS]
    fig, axes = new_figure(1, 2, width=4.6, height=3.2)
    ax = axes[0, 0]
    top = float(table.loc[_feasible(table), "objective"].max()) if _feasible(table).any() else 1.0
    for i, (scheme, label) in enumerate(SCHEMES.items()):
        rows = table[table["scheme"] == scheme]
        if rows.empty:
            continue
        ok = rows[_feasible(rows)]
        stats = ok.groupby("users")["objective"].agg(["median", "min", "max"])
        colour = palette_colour(i)
        ax.plot(stats.index, stats["median"], marker=MARKERS[i], markersize=3, color=colour, label=label)
        ax.fill_between(stats.index, stats["min"], stats["max"], color=colour, alpha=0.12)
        bad = rows[~_feasible(rows)].groupby("users").size()
        if len(bad):
            ax.scatter(bad.index, np.full(len(bad), top * 1.6 * (1 + 0.15 * i)), marker="x", color=colour, s=14)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("users K [count]")
    ax.set_ylabel("mean normalised distortion [1]")
    ax.set_title("objective (crosses: some population infeasible)", fontsize=9)
    ax.legend(fontsize=7, loc="lower right")
    ax = axes[0, 1]
    joint = table[(table["scheme"] == "joint") & _feasible(table)]
    gap = joint.groupby("users")["relative_gap"].agg(["median", "max"])
    if gap["max"].notna().any():
        ax.plot(gap.index, gap["max"].clip(lower=1e-16), marker="o", markersize=3, color=palette_colour(0),
                label="largest")  # fmt: skip
        ax.plot(gap.index, gap["median"].clip(lower=1e-16), marker="s", markersize=3, color=palette_colour(6),
                label="median")  # fmt: skip
        ax.axhline(1e-6, color="0.5", linestyle=":", linewidth=1)
        ax.set_yscale("log")
        ax.legend(fontsize=7)
    else:  # no lower bound in any population (e.g. every problem with shared ratios, model.md 13.5)
        ax.text(0.5, 0.5, "no lower bound\n(model.md 13.5)", ha="center", va="center",
                transform=ax.transAxes, fontsize=8)  # fmt: skip
    ax.set_xscale("log")
    ax.set_xlabel("users K [count]")
    ax.set_ylabel("certified relative gap [1]")
    ax.set_title("joint design: gap to its lower bound (dotted: 1e-6)", fontsize=9)
    fig.suptitle(
        f"Many users on one server: {params['populations']} populations per size, weighting {params['weighting']}",
        fontsize=10,
    )
    return fig


@register(
    "multi_user_fairness",
    data=(USERS,),
    notebook=NOTEBOOK,
    claim="M1",
    description="spread of the users' normalised distortion (10th, 50th, 90th percentile) against the number of users",
)
def fairness(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Draw figure ``multi_user_fairness`` (notebook 09).

    Per scheme, the 10th-90th percentile band and the median of every user's normalised distortion ``D / b`` over all
    populations of a size (feasible answers only).

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        The data files the figure reads (``multi_user_users.csv``), by their names in ``data/``, as read back by
        :func:`coinfer.base.paths.read_csv`; each column's unit is in its name or in the data dictionary [-].
    params : mapping of str to object
        The validated parameters of notebook ``09_multi_user`` (``data/parameters_09_multi_user.json``), each in the
        unit of its profile entry [-].

    Returns
    -------
    matplotlib.figure.Figure
        The drawn figure, without its caption footer (:func:`coinfer.figures.registry.save` adds it).

    References
    ----------
    docs/model.md section 13.9, claim M1.
    """
    table = tables[USERS]
    shown = [s for s in ("joint", "equal_shares", "proportional_shares") if s in set(table["scheme"])]
    fig, axes = new_figure(1, 1, width=5.2, height=3.2)
    ax = axes[0, 0]
    for scheme in shown:
        i = list(SCHEMES).index(scheme)
        rows = table[(table["scheme"] == scheme) & table["normalised_distortion"].notna()]
        q = rows.groupby("users")["normalised_distortion"].quantile([0.1, 0.5, 0.9]).unstack()
        colour = palette_colour(i)
        ax.plot(q.index, q[0.5], marker=MARKERS[i], markersize=3, color=colour, label=f"{SCHEMES[scheme]} (median)")
        ax.fill_between(q.index, q[0.1], q[0.9], color=colour, alpha=0.15)
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("users K [count]")
    ax.set_ylabel("user's normalised distortion D / b [1]")
    ax.legend(fontsize=7)
    fig.suptitle("Fairness: each user's distortion,\n10th to 90th percentile over users and populations", fontsize=10)
    return fig


@register(
    "multi_user_splits",
    data=(USERS,),
    notebook=NOTEBOOK,
    claim="M1",
    description="where the joint design runs each user (on the device, split, on the server) as the server crowds",
)
def splits(tables: Mapping[str, pd.DataFrame], params: Mapping[str, Any]) -> Figure:
    """Left: share of users per kind of split (joint design). Right: mean server share per user on the server.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        The data files the figure reads (``multi_user_users.csv``), by their names in ``data/``, as read back by
        :func:`coinfer.base.paths.read_csv`; each column's unit is in its name or in the data dictionary [-].
    params : mapping of str to object
        The validated parameters of notebook ``09_multi_user`` (``data/parameters_09_multi_user.json``), each in the
        unit of its profile entry [-].

    Returns
    -------
    matplotlib.figure.Figure
        The drawn figure, without its caption footer (:func:`coinfer.figures.registry.save` adds it).

    References
    ----------
    docs/model.md section 13.9, claim M1.
    """
    table = tables[USERS]
    rows = table[(table["scheme"] == "joint") & (table["split_kind"] != "")]
    fig, axes = new_figure(1, 2, width=4.4, height=3.2)
    ax = axes[0, 0]
    share = rows.groupby("users")["split_kind"].value_counts(normalize=True).unstack(fill_value=0.0)
    bottom = np.zeros(len(share))
    for i, (kind, label) in enumerate(KINDS.items()):
        values = share[kind].to_numpy() if kind in share else np.zeros(len(share))
        ax.fill_between(share.index, bottom, bottom + values, step=None, color=palette_colour(i), alpha=0.7,
                        label=label)  # fmt: skip
        bottom = bottom + values
    ax.set_xscale("log")
    ax.set_ylim(0, 1)
    ax.set_xlabel("users K [count]")
    ax.set_ylabel("share of users [fraction]")
    ax.legend(fontsize=7, loc="lower left")
    ax = axes[0, 1]
    served = rows[rows["f_server_share"] > 0]
    by_model = served.groupby(["users", "model"])["f_server_share"].mean().unstack()
    for i, model in enumerate(by_model.columns):
        ax.plot(by_model.index, by_model[model] / 1e9, marker=MARKERS[i % len(MARKERS)], markersize=3,
                color=palette_colour(i), label=model)  # fmt: skip
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("users K [count]")
    ax.set_ylabel("server share per served user [GHz]")
    ax.legend(fontsize=7)
    fig.suptitle("Where the joint design runs the users as the server gets crowded", fontsize=10)
    return fig
