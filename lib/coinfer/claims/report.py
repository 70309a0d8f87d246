"""The words of the claims report: one sentence per claim, the Markdown report and the readings matrix.

Pure functions of the claim dictionaries (``claims.json``); nothing here reads ``data/``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np


def finite(obj):
    """JSON has no infinity: state it in words.

    Recursively: dictionary keys become strings, ``+inf`` becomes ``"infeasible"`` (an infinite objective is an
    infeasible design), ``-inf`` and NaN their ``str``, and numpy scalars Python ones.

    Parameters
    ----------
    obj : object
        A claim dictionary, list or value.

    Returns
    -------
    object
        The same structure with only JSON-writable finite numbers.
    """
    if isinstance(obj, dict):
        return {str(k): finite(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [finite(v) for v in obj]
    if isinstance(obj, float) and not np.isfinite(obj):
        return "infeasible" if obj > 0 else str(obj)
    if isinstance(obj, (np.integer, np.floating, np.bool_)):
        return finite(obj.item())
    return obj


def _pct(value: Any) -> str:
    return f"{100 * value:.1f} %" if isinstance(value, (int, float)) and np.isfinite(value) else str(value)


def _by_model(values: dict) -> str:
    return ", ".join(f"{model} {_pct(v)}" for model, v in values.items())


def _ci(interval: Any, kind: str = "95 % CI", fmt: Callable[[Any], str] = _pct) -> str:
    """`` (95 % CI a-b)`` for an interval, nothing when there is none (a claims.json from before the intervals)."""
    if not isinstance(interval, list) or len(interval) != 2:
        return ""
    return f" ({kind} {fmt(interval[0])}-{fmt(interval[1])})"


#: How a bracket from comparisons decided by two designs' intervals is named in the sentences (model.md 1.1).
BRACKET = "by the measured 95 % intervals"
#: Appended to the sentences of claims measured over complete grids (model.md section 1.1).
GRID_NOTE = " (grid shares, no sampling interval)"


def _sentence_c1(m: dict) -> str:
    ci = m["first_order_holding_share_large_ratio_ci95"]
    shares = ", ".join(
        f"{model} {_pct(v)} (95 % CI {_pct(ci[model][0])}-{_pct(ci[model][1])})"
        for model, v in m["first_order_holding_share_large_ratio"].items()
    )
    text = (
        f"{m['exact_violations']} violations in {m['exact_checks']:,} exact checks; the first-order bound with H "
        f"fitted per ratio holds on {shares} of held-out pairs at large ratios; the scale-free form on "
        f"{_by_model(m['first_order_scale_free_share_large_ratio'])}"
    )
    old = m.get("first_order_max_over_ratios_share_large_ratio")
    text += f" (one H over all ratios, the old fit: {_by_model(old)})" if old else ""
    clustered = m.get("first_order_holding_share_large_ratio_cluster_ci95")
    if clustered:
        units = m["first_order_clusters_large_ratio"]
        text += "; resampling whole inputs (photos for crops), the 95 % CI is " + ", ".join(
            f"{model} {_pct(low)}-{_pct(high)} ({units[model]} clusters)" for model, (low, high) in clustered.items()
        )
        spread = {
            model: f"{_pct(min(v.values()))}-{_pct(max(v.values()))}"
            for model, v in m["first_order_holding_share_large_ratio_by_source"].items()
            if len(v) > 1
        }
        if spread:
            text += "; per source (photo): " + ", ".join(f"{model} {r}" for model, r in spread.items())
    return text + "."


def _sentence_c1b(m: dict) -> str:
    """C1b's numbers: per model with score data, coverage against its guarantee; else the committed reading."""
    found = [
        f"{model} {_pct(v['share'])}{_ci(v.get('ci95'))} against the guarantee {_pct(v['guarantee'])} "
        f"({v['n_calibration_min']} calibration inputs)"
        for model, v in m.get("by_model", {}).items()
        if "share" in v
    ]
    old = m.get("committed_reading", {})
    if old.get("share"):
        intervals = old.get("ci95", {})
        found.append(
            "committed data (H = the largest of n = "
            + "/".join(str(n) for n in sorted(set(old["n_calibration"].values())))
            + " calibration inputs, guarantee n/(n+1)): "
            + ", ".join(
                f"{model} {_pct(v)}{_ci(intervals.get(model), 'held-out-only CI')} against "
                f"{_pct(old['guarantee'][model])}"
                for model, v in old["share"].items()
            )
        )
    return "; ".join(found)


def part_line(part: dict) -> str:
    """One part of a claim in words: ``C1b **needs data** (numbers) Needs: ...``.

    Parameters
    ----------
    part : dict
        A part of a claim of ``claims.json`` (``id``, ``verdict``, ``measured``, optionally ``needs``).

    Returns
    -------
    str
        Markdown: the part's id, its verdict in bold, its numbers where :data:`PART_SENTENCES` has a sentence,
        and what data it needs.
    """
    numbers = PART_SENTENCES.get(part["id"], lambda m: "")(part["measured"])
    needs = f" Needs: {part['needs']}." if part.get("needs") else ""
    return f"{part['id']} **{part['verdict']}**" + (f" ({numbers})" if numbers else "") + needs


def parts_text(claim: dict, separator: str = "; ") -> str:
    """The parts of a claim with their verdicts, then the conjunction; empty for a claim in one part.

    Parameters
    ----------
    claim : dict
        A claim of ``claims.json``.
    separator : str
        Between the parts (``"; "`` in running text, ``"<br>"`` in a Markdown table cell).

    Returns
    -------
    str
        Markdown, or ``""`` when the claim has no ``parts``.
    """
    parts = claim.get("parts", [])
    if not parts:
        return ""
    return separator.join(part_line(p) for p in parts) + f"{separator}conjunction: **{claim['verdict']}**"


def _sentence_c2(m: dict) -> str:
    return (
        f"Laplace-like layers hold {_by_model(m['laplace_weight_share'])} of the prunable weights; the bound "
        f"D_LB is met at {_pct(m['bound_holding_share'])} of measured points{GRID_NOTE}."
    )


def _sentence_c3(m: dict) -> str:
    beaten = ", ".join(f"{s} {_pct(v['share_beaten'])}" for s, v in m["by_benchmark"].items())
    return (
        f"Worse than a benchmark at {m['points_where_proposed_is_worse']} points; beats each benchmark at this "
        f"share of its feasible points: {beaten}{GRID_NOTE}."
    )


def _sentence_c3b(m: dict) -> str:
    return ", ".join(
        f"{model}: better extreme beaten at {_pct(v['share_beating_better_extreme'])}, strongest baseline "
        f"({v['strongest_baseline']}) at {_pct(v['share_beating_strongest_baseline'])}"
        + (
            f" ({v['degenerate_channel_points_left_out']} channel points binding nothing or infeasible left out)"
            if v.get("degenerate_channel_points_left_out")
            else ""
        )
        + (
            f" ({v['unusable_points_left_out']} points where every measured design is below half the unpruned "
            "quality left out)"
            if v.get("unusable_points_left_out")
            else ""
        )
        for model, v in m["by_model"].items()
    )


def _sentence_c4(m: dict) -> str:
    if any("binding_points" in v for v in m["by_model"].values()):  # the criterion where budgets bind
        return (
            "; ".join(
                f"{model}: {v['binding_points']} of {v['grid_points']} grid points bind with >= 2 feasible splits, "
                f"{v['binding_distinct_best_splits']} distinct best splits, intermediate at "
                + (_pct(v["binding_interior_share"]) if v["binding_interior_share"] is not None else "no point")
                for model, v in m["by_model"].items()
            )
            + " (a grid of settings, no sampling interval)."
        )
    parts = []
    for model, v in m["by_model"].items():
        regret = v["best_fixed_split_worst_regret"]  # "infeasible" where the best fixed split fails somewhere
        if not isinstance(regret, float):
            loss = "is infeasible somewhere"
        elif not np.isfinite(regret):
            loss = "has no feasible setting"
        elif regret == 0:
            loss = "is among the best at every setting"
        elif regret < 0.01:
            loss = f"is within {100 * regret:.2g} % of the best objective"
        else:
            loss = f"reaches up to {1 + regret:.3g}x the best objective"
        parts.append(f"{model}: {v['distinct_winning_splits']} distinct best splits; the best fixed split {loss}")
    return "; ".join(parts) + " (a grid of settings, no sampling interval)."


def _undecided(count: Any, what: str) -> str:
    return f", {count} {what} undecided" if isinstance(count, int) and count else ""


def _decided_bracket(interval: Any, count: Any, what: str) -> str:
    """`` (by the measured 95 % intervals a-b, n what undecided)``; nothing without a bracket (model.md 1.1)."""
    bracket = _ci(interval, BRACKET)
    return bracket[:-1] + _undecided(count, what) + ")" if bracket else ""


def _sentence_e1(m: dict) -> str:
    if "pairs_distinct" not in m:  # a claims.json from before the paired E1 (issue 23)
        return _sentence_e1_unpaired(m)
    by_model = "; ".join(
        f"{model}: {v['wins']} wins, {v['losses']} losses, {v['ties']} ties of {v['pairs_distinct']} distinct pairs "
        f"(not lost {_pct(v['share_not_lost'])}{_ci(v.get('share_not_lost_ci95'))}; {v['pairs_identical']} identical "
        f"decisions not counted; {v['points_no_usable_design']} points with no usable design left out)"
        for model, v in m["by_model"].items()
    )
    return f"Paired on the same inputs, the proposed design against each benchmark: {by_model}."


def _sentence_e2(m: dict) -> str:
    if any("concordance" not in v for v in m["by_model"].values()):  # before issue 23
        return _sentence_e2_pooled(m)
    parts = "; ".join(
        f"{model}: Spearman "
        + (
            f"{v['spearman']:.2f}{_ci(v.get('spearman_ci95'), fmt=lambda x: f'{x:.2f}')}"
            if isinstance(v["spearman"], float) and np.isfinite(v["spearman"])
            else "n/a"
        )
        + f" over {v['decisions']} distinct decisions, within points {v['concordant']} of {v['pairs_within_points']} "
        f"pairs concordant ({_pct(v['concordance'])}); {v['points_no_usable_design']} points with no usable design "
        "left out"
        for model, v in m["by_model"].items()
    )
    return f"The bound against measured distortion: {parts}."


def _sentence_e3(m: dict) -> str:
    if "sign_test_p" not in m:  # before issue 23
        return _sentence_e3_share(m)
    named = {"rd_bound": "the rd_bound objective", "magnitude": "the magnitude objective"}
    better = named.get(m["better_objective"], "neither objective (the sign test does not decide)")
    return (
        f"At {m['points_distinct']} usable points with distinct decisions, rd_bound is decided better at "
        f"{m['points_rd_bound_better']}, magnitude at {m['points_magnitude_better']}, {m['points_tied']} tie "
        f"(sign test p = {m['sign_test_p']:.2g}): {better} is better; {m['points_identical']} points deploy one "
        f"decision and {m['points_no_usable_design']} have no usable design (left out)."
    )


#: The sentences of E1-E3 in a claims.json written before issue 23 (the committed one until it is rerun).
def _sentence_e1_unpaired(m: dict) -> str:
    by_model = ", ".join(
        f"{model} {_pct(v['share_at_least_as_good'])}{_ci(v.get('share_at_least_as_good_ci95'), 'bracket')}"
        for model, v in m["by_model"].items()
    )
    bracket = _decided_bracket(m.get("share_at_least_as_good_ci95"), m.get("pairs_undecided"), "pairs")
    return (
        f"Deployed, the proposed design's task metric is at least a benchmark's (within the noise margin) in "
        f"{_pct(m['share_at_least_as_good'])}{bracket} of {m['pairs']} pairs ({by_model})."
    )


def _sentence_e2_pooled(m: dict) -> str:
    parts = ", ".join(
        f"{model} {v['spearman']:.2f}{_ci(v.get('spearman_ci95'), fmt=lambda x: f'{x:.2f}')}"
        if isinstance(v["spearman"], float) and np.isfinite(v["spearman"])
        else f"{model} n/a"
        for model, v in m["by_model"].items()
    )
    return f"Spearman rank correlation of the bound with measured distortion: {parts}."


def _sentence_e3_share(m: dict) -> str:
    bracket = _decided_bracket(m.get("share_rd_bound_not_worse_ci95"), m.get("points_undecided"), "points")
    return (
        f"The rd_bound design measures no worse than the magnitude design at {_pct(m['share_rd_bound_not_worse'])}"
        f"{bracket} of {m['points']} points (magnitude no worse at {_pct(m['share_magnitude_not_worse'])}); "
        f"better objective: {m['better_objective']}."
    )


def _sentence_l1(m: dict) -> str:
    if any("usable_points" in v for v in m["by_family"].values()):
        return _sentence_l1_labelled(m)
    parts = []
    for family, v in m["by_family"].items():
        moves = ", ".join(f"{c['from']} -> {c['to']} at {c['sweep']} {c['budget']:.3g}" for c in v["winner_changes"])
        parts.append(
            f"{family}: the largest ({v['largest']}) is best at {v['largest_best_points']} of "
            f"{v['feasible_points']} feasible budget points ({_pct(v['largest_best_share'])}"
            + (
                f"; {BRACKET} {_pct(v['largest_best_share_ci95'][0])}-{_pct(v['largest_best_share_ci95'][1])}"
                f"{_undecided(v.get('points_undecided'), 'points')}"
                if isinstance(v.get("largest_best_share_ci95"), list)
                else ""
            )
            + ")"
            + (f"; winner changes: {moves}" if moves else "; the winner never changes")
        )
    return "; ".join(parts) + "." if parts else "No family with a measured task metric."


def _sentence_l1_labelled(m: dict) -> str:
    parts = []
    for family, v in m["by_family"].items():
        if v.get("members", 2) < 2:
            parts.append(f"{family}: one member ({v['largest']}), nothing to compare: {v['verdict']}")
            continue
        others = ", ".join(f"{name} {n}" for name, n in v["won_by_other"].items()) or "none"
        parts.append(
            f"{family}: {v['no_usable_points']} of {v['points']} budget points have no usable member (left out); "
            f"of the {v['usable_points']} usable, the largest ({v['largest']}) wins {v['won_by_largest']} by a "
            f"paired test, other members win {others}, {v['ties']} are ties"
            + (
                f" (share {_pct(v['bracket'][0])}-{_pct(v['bracket'][1])}, open ties counted both ways)"
                if v["usable_points"]
                else ""
            )
            + f": {v['verdict']}"
        )
    return "; ".join(parts) + "." if parts else "No family with a labelled task."


def _sentence_m1(m: dict) -> str:
    parts = []
    for name, v in m["by_baseline"].items():
        if not v["decides"]:
            parts.append(f"{name}: no difference ({v['tie']} ties, {v['undecided']} both infeasible)")
            continue
        parts.append(
            f"{name}: beaten at {v['beaten'] + v['beaten_infeasible']} of {v['decided']} populations "
            f"({_pct(v['beaten_share'])}; {v['beaten_infeasible']} with the baseline infeasible), {v['tie']} ties, "
            f"joint worse at {v['worse']}"
        )
    return "; ".join(parts) + "." if parts else "No population with two or more users."


def _sentence_d1(m: dict) -> str:
    parts = []
    for part, v in m["parts"].items():
        wins = v["interior_access_latencies"]
        where = (
            f" (access latencies {', '.join(f'{a * 1e3:g}' for a in wins)} ms; round trips "
            f"{v['interior_round_trips'][0] * 1e3:.3g}-{v['interior_round_trips'][1] * 1e3:.3g} ms)"
            if wins
            else ""
        )
        parts.append(
            f"{part} ({v['scope']} scope): an interior split is best at {v['interior_best_points']} of "
            f"{v['feasible_points']} feasible grid points of {v['grid_points']}{where}"
        )
    return "; ".join(parts) + "."


#: One sentence per claim, in words a person reads (the full numbers stay in ``claims.json``).
SENTENCES: dict[str, Callable[[dict], str]] = {
    "C1": _sentence_c1,
    "C2": _sentence_c2,
    "C3": _sentence_c3,
    "C4": _sentence_c4,
    "E1": _sentence_e1,
    "E2": _sentence_e2,
    "E3": _sentence_e3,
    "L1": _sentence_l1,
    "M1": _sentence_m1,
    "D1": _sentence_d1,
}


#: The numbers of a claim's part, where its claim's sentence does not already say them.
PART_SENTENCES: dict[str, Callable[[dict], str]] = {
    "C1a": lambda m: f"{m['exact_violations']} violations in {m['exact_checks']:,} exact checks",
    "C1b": _sentence_c1b,
    "C2a": lambda m: f"Laplace-like layers hold {_by_model(m['laplace_weight_share'])} of the weights",
    "C2b": lambda m: f"D_LB met at {_pct(m['bound_holding_share'])} of points",
    "C3a": lambda m: f"worse than a benchmark at {m['points_where_proposed_is_worse']} points",
    "C3b": _sentence_c3b,
}


def reading_verdict(entry: Mapping[str, Any]) -> str:
    """The verdict of a claim or of one of its readings: the judged ``verdict`` if stated, else from ``holds``.

    Parameters
    ----------
    entry : mapping
        A claim or a robustness entry, with ``verdict`` or ``holds``.

    Returns
    -------
    str
        ``verdict``, else "holds" or "does not hold" from ``holds``.

    References
    ----------
    docs/model.md, section 1.2 (verdicts in three values).
    """
    return str(entry.get("verdict") or ("holds" if entry["holds"] else "does not hold"))


def sampled_constants_lines(claims: list[dict]) -> list[str]:
    """Per claim with a sampled-constants reading: its shares per model with their 95 % intervals, and verdict.

    Parameters
    ----------
    claims : list of dict
        The claims of :func:`coinfer.claims.evaluate_claims`.

    Returns
    -------
    list of str
        One line per sampled-constants reading: claim id, criterion, share [%] and interval per model, verdict.

    References
    ----------
    docs/model.md, sections 1.1 and 7.4.
    """
    lines = []
    for claim in claims:
        for entry in claim.get("robustness", []):
            if not str(entry["reading"]).startswith("sampled constants"):
                continue
            intervals = entry.get("measured_ci95", {})
            shares = ", ".join(
                f"{model} {_pct(share)}{_ci(intervals.get(model))}" for model, share in entry["measured"].items()
            )
            lines.append(
                f"{claim['id']}, {entry.get('criterion', entry['reading'])}: {shares}; {reading_verdict(entry)}"
            )
    return lines


#: The robustness reading of the paper's model (model.md section 2.7's physical terms at zero; issue 22 item 4), as
#: named by :func:`coinfer.studies.joint_optimisation.readings` (matched by this prefix).
PAPER_MODEL_PREFIX = "the paper's model"


def _inline(sentence: str) -> str:
    """A sentence set inside parentheses: no final full stop, lower-case first letter."""
    text = sentence.rstrip(".")
    return text[:1].lower() + text[1:]


def _num(value: Any) -> str:
    """A share as a percentage, a regret as a number, anything else as text."""
    return f"{value:.3g}" if isinstance(value, float) and np.isfinite(value) else str(value)


def _why_verdicts_differ(claim_id: str, physical: dict, paper: dict) -> str:
    """One sentence with the numbers that decide where a claim's verdict differs between the two system models."""
    here, there = physical.get("by_model", {}), paper.get("by_model", {})
    if claim_id == "C3":
        parts = []
        if physical.get("verdict_C3a") != paper.get("verdict_C3a"):
            parts.append(
                f"C3a: the proposed design is worse than a benchmark at {physical['points_where_proposed_is_worse']} "
                f"points (physical) against {paper['points_where_proposed_is_worse']} (paper's)"
            )
        for model in sorted(set(here) & set(there)):
            a, b = here[model], there[model]
            if a.get("holds") != b.get("holds"):
                parts.append(
                    f"{model} beats the better extreme at {_pct(a['share_beating_better_extreme'])} (physical) "
                    f"against {_pct(b['share_beating_better_extreme'])} (paper's), its strongest baseline at "
                    f"{_pct(a['share_beating_strongest_baseline'])} ({a['strongest_baseline']}) against "
                    f"{_pct(b['share_beating_strongest_baseline'])} ({b['strongest_baseline']})"
                )
        return "; ".join(parts)
    if claim_id == "C4":
        keys: tuple[str, ...] = ("distinct_winning_splits", "best_fixed_split_worst_regret")
        if any("binding_points" in v for v in here.values()):
            keys = ("binding_points", "binding_distinct_best_splits", "binding_interior_share")
        parts = [
            f"{model}: "
            + ", ".join(
                f"{key.replace('_', ' ')} {_num(here[model][key])} against {_num(there[model][key])}" for key in keys
            )
            for model in sorted(set(here) & set(there))
            if any(here[model].get(key) != there[model].get(key) for key in keys)
        ]
        return "; ".join(parts)
    return ""


def model_comparison_lines(claims: list[dict]) -> list[str]:
    """Per claim with a paper's-model reading: its verdict under the physical model and under the paper's model.

    Both are the robustness readings at the same resolution ("as run" is the physical model, section 2.7); where the
    verdicts differ, the line says so and gives each reading's numbers, so that the cause can be read off them.

    Parameters
    ----------
    claims : list of dict
        The claims of :func:`coinfer.claims.evaluate_claims`.

    Returns
    -------
    list of str
        One sentence per claim that has both readings.

    References
    ----------
    docs/model.md, sections 1.1 and 2.7.
    """
    lines = []
    for claim in claims:
        found = {str(entry["reading"]): entry for entry in claim.get("robustness", [])}
        paper = next((entry for name, entry in found.items() if name.startswith(PAPER_MODEL_PREFIX)), None)
        physical = found.get("as run")
        if paper is None or physical is None:
            continue
        sentence = SENTENCES[claim["id"]]
        same = reading_verdict(physical) == reading_verdict(paper)
        lines.append(
            f"{claim['id']} {reading_verdict(physical)} under the physical model "
            f"({_inline(sentence(physical['measured']))})"
            + (" and " if same else ", but ")
            + f"{reading_verdict(paper)} under the paper's model ({_inline(sentence(paper['measured']))})"
            + ("." if same else ": the verdict depends on the system model.")
        )
        why = "" if same else _why_verdicts_differ(str(claim["id"]), physical["measured"], paper["measured"])
        if why:  # issue 22 item 4: where the verdicts differ, why, with the numbers (physical against paper's)
            lines[-1] += f" Why: {why}."
    return lines


def robustness_matrix(claims: list[dict]) -> str:
    """Claims x readings: the verdict each claim's criterion gives under each alternative reading.

    Parameters
    ----------
    claims : list of dict
        The claims of :func:`coinfer.claims.evaluate_claims`.

    Returns
    -------
    str
        A Markdown table: one row per claim, its verdict as stated, then one column per reading (``n/a`` where the
        reading does not bear on the claim).
    """
    readings: list[str] = []
    for claim in claims:
        for entry in claim.get("robustness", []):
            if entry["reading"] not in readings:
                readings.append(entry["reading"])
    lines = ["| claim | as stated | " + " | ".join(readings) + " |", "|---|---|" + "---|" * len(readings)]
    for claim in claims:
        found = {entry["reading"]: reading_verdict(entry) for entry in claim.get("robustness", [])}
        cells = [found.get(r, "n/a") for r in readings]
        lines.append(f"| {claim['id']} | {reading_verdict(claim)} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def render_markdown(claims: list[dict]) -> str:
    """The claims report in Markdown (what the README links): verdicts, then the robustness matrix.

    Parameters
    ----------
    claims : list of dict
        The claims of :func:`coinfer.claims.evaluate_claims`.

    Returns
    -------
    str
        The whole ``claims.md`` text: a table of claims (statement, criterion, measured sentence, verdict, figures,
        notebooks) and :func:`robustness_matrix`.

    References
    ----------
    docs/model.md, sections 1.1 and 1.2.
    """
    lines = [
        "| claim | statement | criterion (fixed in advance) | measured | verdict | figures | notebooks |",
        "|---|---|---|---|---|---|---|",
    ]
    for claim in claims:
        figures = ", ".join(f"[{f}](../figures/{f}.png)" for f in claim["figures"])
        verdict = f"**{claim['verdict']}**" + (
            " (extension: the artifact's own question)" if claim.get("extension") else ""
        )
        criterion = "; ".join(f"{p['id']}: {p['criterion']}" for p in claim.get("parts", [])) or claim["criterion"]
        parts = parts_text(claim)
        lines.append(
            f"| {claim['id']} | {claim['statement']} | {criterion} "
            f"| {SENTENCES[claim['id']](claim['measured'])} | {parts + '<br>' if parts else ''}{verdict} "
            f"| {figures} | {', '.join(claim['notebooks'])} |"
        )
    return (
        "# Claims report\n\nGenerated by `notebooks/11_report.py` from `data/`; the full numbers are in "
        "`claims.json`. Every measured number carries its 95 % interval (`..._ci95`), or says it is a share of a "
        "complete grid without sampling error; a verdict whose interval straddles its threshold is inconclusive "
        "(the rule of model.md section 1.1, fixed before the intervals were computed). A paper claim in parts "
        "(model.md section 1.2) shows each part's verdict and, once, their conjunction; `holds` in `claims.json` is "
        "true, false or null (inconclusive, needs data).\n\n"
        + "\n".join(lines)
        + "\n\n## How the verdicts move under other readings\n\n"
        "Each claim's criterion applied unchanged to the evidence recomputed under an alternative reading a "
        "referee would try (n/a: the reading does not bear on that claim); a reading named after a part (C2a: ..., "
        "C2b: ...) gives that part's verdict, the other part as stated. The C3 and C4 readings rerun the "
        'sweeps of notebook 06 at fewer points (`robustness_sweep_points`), so "as run" there is the reading '
        "as stated at that resolution.\n\n"
        + robustness_matrix(claims)
        + "\n"
        + "".join(f"\n- {line}" for line in model_comparison_lines(claims))
        + ("\n" if model_comparison_lines(claims) else "")
        + _regime_section(claims)
    )


def _regime_section(claims: list[dict]) -> str:
    """The operating regime of each model (E1's ``operating_regime`` lines), or nothing without them."""
    lines = [line for claim in claims for line in claim.get("operating_regime", [])]
    if not lines:
        return ""
    return "\n## Operating regime of each model\n\n" + "".join(f"- {line}\n" for line in lines)
