"""Layer 5, the claims: one verdict per paper claim C1-C4 (model.md section 1) and per question of the
artifact's own (L1, E1-E3), computed from ``data/`` alone, and the words of the claims report.

It may import :mod:`coinfer.base`, :mod:`coinfer.model` and, for a study's own rules (thresholds, summaries),
:mod:`coinfer.studies` (inside the functions that need them, so that reading a verdict loads no solver); never
a figure or the pipeline.

One module per job:

- :mod:`~coinfer.claims.statements`: what each claim says;
- :mod:`~coinfer.claims.verdicts`: verdicts in three values (``holds`` true, false or null) and the conjunction
  of a claim's parts;
- :mod:`~coinfer.claims.paper`: C1-C4, their thresholds (:class:`Thresholds`, fixed before the full data
  existed) and the readings a referee would try;
- :mod:`~coinfer.claims.model_size`: L1 (notebook 08, model.md section 10);
- :mod:`~coinfer.claims.multi_user`: M1 (notebook 09, model.md section 13.9);
- :mod:`~coinfer.claims.deployed_designs`: E1-E3 on the deployed designs (notebook 07, model.md section 9);
- :mod:`~coinfer.claims.report`: the sentences, the Markdown report and the readings matrix;
- this package: :func:`evaluate_claims` and :func:`write_claims_report` (what notebook 11 calls), and every
  public name of the modules above.

A claim that fails is reported as failing; nothing here is tuned to the results.
"""

from __future__ import annotations

from collections.abc import Callable

from coinfer.base.paths import data_dir, write_json, write_text
from coinfer.claims import decoding, deployed_designs, model_size, multi_user, paper, report, statements, verdicts
from coinfer.claims.decoding import claim_d1, d1_verdict
from coinfer.claims.deployed_designs import (
    DECISION_COLUMNS,
    DEPLOYED_FIGURES,
    DEPLOYED_FILE,
    DEPLOYED_NOTEBOOK,
    EXTENSION_THRESHOLDS,
    EXTENSIONS,
    OUTCOMES_FILE,
    ExtensionThresholds,
    PerInput,
    claim_e1,
    claim_e2,
    claim_e3,
    e1_verdict,
    e2_verdict,
    e3_verdict,
    judged_pairs,
    measured_intervals,
    operating_regime_lines,
    usable_points,
)
from coinfer.claims.model_size import (
    claim_l1,
    l1_decided_points,
    l1_labelled_points,
    l1_labelled_verdict,
    l1_verdict,
)
from coinfer.claims.multi_user import (
    claim_m1,
    m1_verdict,
)
from coinfer.claims.paper import (
    ACROSS_RATIOS_READING,
    C1_INTERVALS,
    CLUSTERED_READING,
    EXTREME_SCHEMES,
    FIRST_ORDER_CLUSTERS_FILE,
    FIRST_ORDER_COLUMNS,
    FIRST_ORDER_MODELS,
    FIRST_ORDER_SCORE_COLUMNS,
    FIRST_ORDER_SCORES_FILE,
    OLD_C1B_READING,
    PRETRAINED_MODELS,
    SAMPLED_CONSTANTS_INTERVAL,
    SCALE_FREE_READING,
    SENSITIVITY_MIN_SHARE,
    SOLVER_BENCHMARKS,
    THRESHOLDS,
    Thresholds,
    c1b_across_ratios,
    c1b_judge,
    c1b_model,
    c3_parts,
    c3_verdict,
    c4_binding_verdict,
    c4_verdict,
    claim_c1,
    claim_c2,
    claim_c3,
    claim_c4,
    sampled_constants_entries,
    sampled_constants_entry,
    single_start_rates,
    sweep_readings,
)
from coinfer.claims.report import (
    BRACKET,
    GRID_NOTE,
    SENTENCES,
    finite,
    model_comparison_lines,
    part_line,
    parts_text,
    reading_verdict,
    render_markdown,
    robustness_matrix,
    sampled_constants_lines,
)
from coinfer.claims.statements import (
    EXTENSION_PREFIX,
    STATEMENTS,
    TITLES,
)
from coinfer.claims.verdicts import (
    NEEDS_DATA,
    VERDICTS,
    conjunction,
    disagreements,
    from_point,
    holds_value,
    settle,
)

#: What the intervals of each claim's ``measured`` resample (model.md section 1.1 table); parts and the
#: sampled-constants readings state their own.
INTERVALS = {
    "C1": "old criterion (b): Clopper-Pearson over held-out pairs as independent; *_cluster_ci95: percentile "
    "bootstrap (2000, seed 0) over held-out inputs, photos for crops, H held fixed",
    "C2": "none: complete enumerations (layers, measured points)",
    "C3": "sweep shares: none (complete grids); single_start_success_ci95: Clopper-Pearson over random starts",
    "C4": "none: a complete grid of settings",
    "L1": "paired tests of the members on the same labelled inputs (exact McNemar; paired bootstrap, 2000, seed 0, "
    "over inputs or whole sources for seed means, topics, photos); the share over usable points is a bracket of "
    "ties counted both ways (as first stated: the members' unpaired 95 % intervals)",
    "E1": "each pair: paired test on the same inputs (exact McNemar for digits; paired bootstrap, 2000, seed 0, "
    "clustered by photo or topic); the share of pairs not lost: Clopper-Pearson over distinct pairs",
    "E2": "Spearman: percentile bootstrap (2000, seed 0) over distinct decisions; concordance within points: "
    "Clopper-Pearson over pairs of distinct decisions",
    "E3": "each point: paired test of measured distortion (paired bootstrap clustered by source); exact sign test "
    "over the decided points",
    "M1": "none: every population of the grid solved once by each design (a complete enumeration)",
    "D1": "none: every split solved at every point of the grid (a complete enumeration of a deterministic model)",
}

#: The claims whose data are always there (L1 and M1 answer ``None`` without their data files).
CLAIMS: dict[str, Callable[[Thresholds], dict | None]] = {
    "C1": claim_c1,
    "C2": claim_c2,
    "C3": claim_c3,
    "C4": claim_c4,
    "L1": claim_l1,
    "M1": claim_m1,
    "D1": claim_d1,
}


def evaluate_claims(t: Thresholds = THRESHOLDS, e: ExtensionThresholds = EXTENSION_THRESHOLDS) -> list[dict]:
    """Every claim's verdict, computed from ``data/`` alone; an extension whose data is absent is skipped.

    Parameters
    ----------
    t : Thresholds
        The thresholds of C1-C4.
    e : ExtensionThresholds
        The thresholds of E1-E3.

    Returns
    -------
    list of dict
        One dictionary per claim; each claim, part and reading carries ``verdict`` (one of
        :data:`~coinfer.claims.verdicts.VERDICTS`) and ``holds`` (true, false or null) that agree.
    """
    found = {cid: evaluate(t) for cid, evaluate in CLAIMS.items()}
    claims = [{"statement": STATEMENTS[cid], **claim} for cid, claim in found.items() if claim is not None]
    if (data_dir() / DEPLOYED_FILE).exists() and (data_dir() / OUTCOMES_FILE).exists():
        claims += [{"statement": STATEMENTS[eid], **evaluate(e)} for eid, evaluate in EXTENSIONS.items()]
    for claim in claims:
        # a verdict in words and holds true, false or null that agrees with it, for the claim, parts and readings
        settle(claim)
        claim.setdefault("interval", INTERVALS[claim["id"]])
    return claims


def write_claims_report(t: Thresholds = THRESHOLDS, e: ExtensionThresholds = EXTENSION_THRESHOLDS) -> list[dict]:
    """Write ``data/claims.json`` and ``data/claims.md``; return the claims (E1-E3 when their data exist).

    Parameters
    ----------
    t : Thresholds
        The thresholds of C1-C4.
    e : ExtensionThresholds
        The thresholds of E1-E3.

    Returns
    -------
    list of dict
        :func:`evaluate_claims`'s claims after :func:`finite` (what ``claims.json`` holds).

    References
    ----------
    docs/model.md, section 1 (what the paper claims).
    """
    claims = finite(evaluate_claims(t, e))
    write_json(claims, "claims.json")
    write_text(data_dir() / "claims.md", render_markdown(claims))
    return claims


__all__ = [
    "decoding",
    "deployed_designs",
    "model_size",
    "multi_user",
    "paper",
    "report",
    "statements",
    "verdicts",
    "BRACKET",
    "C1_INTERVALS",
    "FIRST_ORDER_SCORE_COLUMNS",
    "FIRST_ORDER_SCORES_FILE",
    "INTERVALS",
    "NEEDS_DATA",
    "OLD_C1B_READING",
    "SAMPLED_CONSTANTS_INTERVAL",
    "SOLVER_BENCHMARKS",
    "VERDICTS",
    "c1b_judge",
    "c1b_across_ratios",
    "c1b_model",
    "c3_parts",
    "conjunction",
    "disagreements",
    "from_point",
    "holds_value",
    "settle",
    "CLAIMS",
    "ACROSS_RATIOS_READING",
    "CLUSTERED_READING",
    "DECISION_COLUMNS",
    "DEPLOYED_FIGURES",
    "DEPLOYED_FILE",
    "DEPLOYED_NOTEBOOK",
    "EXTENSIONS",
    "EXTENSION_PREFIX",
    "EXTENSION_THRESHOLDS",
    "EXTREME_SCHEMES",
    "ExtensionThresholds",
    "FIRST_ORDER_CLUSTERS_FILE",
    "FIRST_ORDER_COLUMNS",
    "FIRST_ORDER_MODELS",
    "GRID_NOTE",
    "PRETRAINED_MODELS",
    "SCALE_FREE_READING",
    "SENSITIVITY_MIN_SHARE",
    "SENTENCES",
    "STATEMENTS",
    "TITLES",
    "THRESHOLDS",
    "Thresholds",
    "sampled_constants_entries",
    "c3_verdict",
    "c4_binding_verdict",
    "c4_verdict",
    "claim_c1",
    "claim_c2",
    "claim_c3",
    "claim_c4",
    "claim_e1",
    "claim_e2",
    "claim_e3",
    "claim_l1",
    "claim_d1",
    "claim_m1",
    "d1_verdict",
    "e1_verdict",
    "e2_verdict",
    "e3_verdict",
    "evaluate_claims",
    "finite",
    "part_line",
    "parts_text",
    "l1_decided_points",
    "l1_labelled_points",
    "l1_labelled_verdict",
    "l1_verdict",
    "m1_verdict",
    "judged_pairs",
    "measured_intervals",
    "operating_regime_lines",
    "usable_points",
    "OUTCOMES_FILE",
    "PerInput",
    "model_comparison_lines",
    "reading_verdict",
    "render_markdown",
    "robustness_matrix",
    "sampled_constants_entry",
    "sampled_constants_lines",
    "sweep_readings",
    "single_start_rates",
    "write_claims_report",
]
