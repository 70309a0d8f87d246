# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 07 Closing the loop: the designs of notebook 06, deployed and measured
#
# **Order.** This notebook runs after `06_joint_optimisation` (it reads
# `data/opt_budget_sweep.csv`) and before `11_report`, which redraws every figure and
# writes the claims report; the numbers follow the run order (`coinfer.base.notebooks.NOTEBOOKS`).
#
# **The question (the artifact's own, not a claim of the paper; model.md section 9).** Every
# scheme of notebook 06 is judged by the objective it minimises, the rate-distortion lower
# bound $D_{LB}$ averaged over the weights. That bound sits orders of magnitude below the
# distortion pruning actually causes. Are the designs that minimise it also better in practice?
#
# **Method.** For every model, sweep point and scheme of `opt_budget_sweep.csv` (12 schemes:
# the proposed design, ten benchmarks and `proposed_magnitude`, the proposed design
# re-optimised with the magnitude objective $D_{mag}$), the decision $(s, \rho_d, \rho_s)$ is
# built on the real weights by `coinfer.studies.deployed_designs.measure_designs`:
#
# 1. the device part (stem and blocks $1..s$) is magnitude-pruned at $\rho_d$ and the server
#    part at $\rho_s$, each over its own weights (one global magnitude order per side,
#    sorted once per model);
# 2. the kept weights are quantised to `bits` (the `quantised_8bit` / `quantised_4bit`
#    benchmarks use 8 and 4);
# 3. the feature sent at $0 < s < L$ is rounded to `feature_bits` per element;
# 4. held-out inputs run through it, and we measure the relative output distortion
#    $\lVert f - \hat f \rVert_1 / \lVert f \rVert_1$ (mean over inputs) and the task metric:
#    digits accuracy against the true labels, EfficientNet-Lite0 top-1 agreement with the
#    unpruned model, MiniLM cosine similarity to the unpruned embedding **and**
#    `topic_accuracy`: which documentation topic a sentence comes from, by the nearest class
#    centroid of the unpruned model's embeddings of *other* sentences of the `n_topics`
#    largest topics (`coinfer.nets.inputs.topic_task`).
#
# Infeasible rows stay in the table with their status and no measurement. Every distinct
# decision's score on every input is kept in `data/deployed_outcomes.csv` (keyed by the
# decision's columns of `deployed_designs.csv` and the input's index, with its source: the
# photo of a crop, the topic of a sentence, the digit itself), so that two designs can be
# compared on the same inputs (paired tests, model.md section 1.1). MiniLM's
# sentences run in chunks padded to the chunk's longest sentence (the embeddings do not
# depend on padding; model.md section 9). Identical decisions
# (same split, weight bits and numbers of pruned weights per side) are measured once.
#
# **Verdicts** (criteria fixed in `coinfer.claims.ExtensionThresholds` before their data;
# model.md section 9), on distinct decisions at usable points only, by paired tests on
# the same inputs: E1, per model the proposed design is not decided worse than a benchmark
# at $\ge$ 90 % of the pairs; E2, the bound ranks distinct decisions as measurement does
# (Spearman $\ge$ 0.5, and $\ge$ 60 % of the pairs within a sweep point); E3, the sign
# test over the points does not decide for the magnitude objective.

# %% tags=["parameters"]
seed = 0  # seed of the held-out draws and of the topic task's split
models = ["minilm", "efficientnet_lite0", "digits_cnn"]  # models of opt_budget_sweep.csv to deploy (zoo models only)
n_digits = 540  # digits inputs: the whole test split (540 samples; there are no more)
n_text = 200  # MiniLM: topic-task evaluation sentences (279 exist for 12 topics; each costs compute per design)
n_images = 32  # EfficientNet-Lite0: seeded crops of the 7 held-out photos (any number can be drawn; see below)
n_topics = 12  # MiniLM topic task: the classes are the largest documentation topics
bits = 16  # bits of the kept weights (schemes that fix their own bits keep them)
feature_bits = 16  # bits per element of the feature sent at the split
workers = 0  # parallel workers (a task per split): 0 $COINFER_WORKERS or every core, -1 every core, 1 in this process
scheduler_address = ""  # "tcp://host:8786": that Dask cluster; "": $COINFER_SCHEDULER_ADDRESS or local processes
device = "cpu"  # where the deployed designs run: "cpu" or "cuda" (same tables within coinfer.pipeline.verify.DEVICE)
frontier_models = ["minilm", "efficientnet_lite0", "digits_cnn"]  # models whose frontiers are searched
frontier_levels = [0.99, 0.95, 0.90]  # shares of the unpruned task quality to keep, each in (0, 1]
frontier_fixed_points = 3  # budgets held fixed per kind: values of the family grid (its tightest left out)
frontier_grid_points = 17  # log-spaced values of the searched budget, first feasible to loosest of the family grid
frontier_coarse_points = 5  # grid values measured before bisecting (first and last included)
frontier_local_starts = 3  # random starts of local_nonconvex per split in the frontier solves (notebook 06's)
frontier_headline_level = 0.95  # the level of the headline sentence per model

# %%
import coinfer.pipeline.notebook_params

params = coinfer.pipeline.notebook_params.check_namespace("07_deployed_designs", globals())
params_file = coinfer.pipeline.notebook_params.record("07_deployed_designs", params)  # for the figure captions

# %%
import time

import pandas as pd
from IPython.display import Markdown, display

import coinfer.claims
import coinfer.figures
from coinfer.base import parallel, paths
from coinfer.studies import deployed_designs

pd.set_option("display.width", 180, "display.max_columns", 24, "display.max_rows", 60)

sweep_table = paths.read_csv("opt_budget_sweep.csv")
inputs_per_model = {"minilm": n_text, "efficientnet_lite0": n_images, "digits_cnn": n_digits, "digits_mlp": n_digits}
absent = sorted(set(models) - set(sweep_table.model))
assert not absent, f"models without rows in opt_budget_sweep.csv (add them to notebook 06): {absent}"

# %% [markdown]
# ## Deploy and measure every design
#
# One model at a time; the table grows by one block per model. Within a model, the
# decisions of each split are one task (`coinfer.base.parallel`: local processes, or a Dask
# cluster with `scheduler_address`); tasks run torch on one thread, so the table does
# not depend on where they ran. The progress bar counts splits.

# %%
run_on = {"workers": workers or None, "scheduler_address": scheduler_address or None}
print("decisions run on", parallel.describe(**run_on))
frames, outcome_frames = [], []
for name in models:
    start = time.perf_counter()
    frame, outcomes = deployed_designs.measure_designs_outcomes(
        sweep_table,
        name,
        n_inputs=inputs_per_model[name],
        seed=seed,
        bits=bits,
        feature_bits=feature_bits,
        n_topics=n_topics,
        device=device,
        **run_on,
    )
    feasible = frame[frame.status == "optimal"]
    distinct = len(feasible[["split", "bits", "pruned_device", "pruned_server"]].drop_duplicates())
    print(
        f"{name}: {len(frame)} rows, {len(feasible)} feasible, {distinct} distinct decisions measured on "
        f"{int(frame.n_inputs.iloc[0])} inputs in {time.perf_counter() - start:.1f} s"
    )
    frames.append(frame)
    outcome_frames.append(outcomes)
table = pd.concat(frames, ignore_index=True)
paths.write_csv(table, deployed_designs.DEPLOYED_FILE)
outcome_table = pd.concat(outcome_frames, ignore_index=True)
written = paths.write_csv(outcome_table, deployed_designs.OUTCOMES_FILE)
print(f"{deployed_designs.OUTCOMES_FILE}: {len(outcome_table)} rows, {written.stat().st_size / 1e6:.2f} MB")

# %% [markdown]
# ## What each scheme delivers
#
# Mean over the sweep points where the scheme is feasible: the objective it was judged by,
# the measured distortion and the task metric(s). The unpruned model's metric is in the
# last columns.

# %%
summary = (
    table[table.status == "optimal"]
    .groupby(["model", "scheme"], sort=False)[
        ["objective", "measured_distortion", "task_metric", "topic_accuracy", "unpruned_task_metric"]
    ]
    .mean()
)
display(summary)

# %% [markdown]
# ## Where the bound-optimal design measures worse than a benchmark
#
# Every (benchmark, sweep point) pair, both feasible, judged as E1 judges it: identical
# decisions and points where no compared design keeps half the unpruned quality are
# counted apart; every other pair is a win, a loss or a tie of the proposed design by a
# paired test on the same inputs (`coinfer.model.stats.paired_comparison`, clustered by
# photo or topic). The losses follow, largest paired difference first. Why it can
# happen although the proposed design has the lower objective: $D_{LB}$ weighs every pruned
# weight alike (parameter-weighted over the two sides, section 4) and knows nothing of how
# sensitive the output is to each layer. So the proposed design prunes hardest where the
# bound finds pruning cheapest per unit of latency or energy saved, which is often a thin
# early part (few weights, each one influential: the device side at a middle split, or
# EfficientNet's stem), while a benchmark with a shared ratio or without pruning (8- or
# 4-bit weights) spreads or avoids the damage. With few inputs (the quick profile) the
# paired tests decide little and most distinct pairs are ties; the 32 crops of the full
# profile come from only 7 photos, and the test resamples photos, so a crop-level
# difference is decided only when it holds across photos.
#
# *Inputs and cost.* Each distinct decision costs one forward pass of the server part (and
# of the device part once per device ratio) over all inputs; MiniLM's 200 sentences and
# EfficientNet's 32 crops keep the full profile within a few minutes on 2 cores. More
# crops can be drawn (`n_images`), but they are seeded crops of only 7 photos.

# %%
pairs = coinfer.claims.judged_pairs(table, outcome_table, coinfer.claims.EXTENSION_THRESHOLDS)
print(pairs.groupby("model", sort=False)["outcome"].value_counts().unstack(fill_value=0))
losses = pairs[pairs.outcome == "loss"].sort_values("difference")
print(f"{len(losses)} distinct (benchmark, usable point) pairs decided against the proposed design")
display(losses.drop(columns=["mine", "theirs", "same", "usable"]).head(40))

# %% [markdown]
# ## Figures
#
# The measured counterpart of `opt_budget_sweep`: task metric and measured distortion of
# every scheme against each sweep (dotted: the unpruned model), then the bound objective
# against the measured distortion of every feasible (scheme, point) pair with its Spearman
# rank correlation.

# %%
coinfer.figures.show("deployed_metric_sweep")

# %%
coinfer.figures.show("deployed_distortion_sweep")

# %%
coinfer.figures.show("deployed_bound_vs_measured")

# %% [markdown]
# ## Verdicts E1-E3 (the artifact's own questions)
#
# Computed from `data/deployed_designs.csv` and `data/deployed_outcomes.csv` alone by
# `coinfer.claims.claim_e1/e2/e3`, with the thresholds fixed in
# `coinfer.claims.ExtensionThresholds`; `11_report` puts them in the claims report after
# C1-C4, with the operating regime of each model (the last lines).

# %%
for claim in coinfer.claims.EXTENSIONS.values():
    verdict = claim(coinfer.claims.EXTENSION_THRESHOLDS)
    sentence = coinfer.claims.SENTENCES[verdict["id"]](verdict["measured"])
    display(Markdown(f"**{verdict['id']}** **{verdict['verdict']}**. Criterion: {verdict['criterion']}.\n\n{sentence}"))
display(Markdown("\n".join(f"- {line}" for line in coinfer.claims.operating_regime_lines(table))))

# %% [markdown]
# ## Quality-versus-cost frontiers (issue 23; model.md section 9.1)
#
# The comparisons above judge every scheme at the same budgets, mostly where no design is usable.
# Here the question is turned round: **how much energy (at a fixed latency budget), or how much
# latency (at a fixed energy budget), does each scheme need before its deployed design keeps at
# least 99 %, 95 % or 90 % of the unpruned model's task quality?** For every model of
# `frontier_models` and every scheme of notebook 06 (`coinfer.optimise.SCHEMES` and
# `proposed_magnitude`), under the physical system model (model.md section 2.7, notebook 06's
# settings read from its recorded parameters), `coinfer.studies.frontiers.model_frontiers`
# solves the scheme at a budget pair, deploys its decision on the real weights
# (`coinfer.nets.deploy.measure_decisions`, sort-once orders, identical decisions measured once)
# and measures the task quality on the held-out inputs above.
#
# *Task quality*: digits accuracy (true labels); EfficientNet-Lite0 top-1 agreement with the
# unpruned model (no labels offline); MiniLM topic accuracy (true topic labels; the cosine to
# the unpruned embedding is a distortion, not a task). *Budgets*: the fixed ones are values of
# the model's family grid (model.md 7.3); the searched one runs over `frontier_grid_points`
# log-spaced values from the grid's first feasible budget to its loosest (the published anchor
# where it lies above). *Search*: `frontier_coarse_points` grid values first, then bisection
# below the least passing one; the answer is a bracket `(bracket_low, bracket_high]` one grid
# step wide (`grid_step`), flagged `non_monotone` where a looser measured budget loses the
# quality again. Statuses: reached; reached at the first feasible budget (feasibility, not
# quality, binds); not reached at the loosest budget; infeasible.
#
# *Cost*: each round solves the new budget pairs (all schemes at once, in parallel) and deploys
# the new distinct decisions; the time per model is printed. The grid sizes are chosen so that
# the whole notebook stays within 12 minutes in the full profile on 2 cores (measured in the
# quick profile and extrapolated per solve and per deployed decision; README).

# %%
from coinfer.base.threads import single_thread
from coinfer.nets.zoo import load_model
from coinfer.studies import frontiers, joint_optimisation

opt = paths.read_json("parameters_06_joint_optimisation.json")  # notebook 06's settings: the same schemes and model
frontier_study = joint_optimisation.Study(
    paths.read_csv("profiles.csv"),
    frontier_models,
    base={"energy_scope": opt["energy_scope"], "distortion_model": opt["distortion_model"]},
    rho_fixed=opt["rho_fixed"],
    local_starts=frontier_local_starts,
    seed=opt["seed"],
    latency_budget=opt["latency_budget_s"],
    energy_budget=opt["energy_budget_j"],
    points=opt["sweep_points"],
)
frontier_tables, frontier_point_tables = [], []
frontier_start = time.perf_counter()
for name in frontier_models:
    start = time.perf_counter()
    model = load_model(name)
    with single_thread():  # the reference outputs' bytes must not depend on the thread count
        evaluation = deployed_designs.evaluation_set(model, inputs_per_model[name], seed, n_topics=n_topics)
    found, measured_points = frontiers.model_frontiers(
        frontier_study,
        model,
        evaluation,
        scheme_bits=deployed_designs.SCHEME_WEIGHT_BITS,
        levels=frontier_levels,
        fixed_points=frontier_fixed_points,
        grid_points=frontier_grid_points,
        coarse_points=frontier_coarse_points,
        local_starts=frontier_local_starts,
        bits=bits,
        feature_bits=feature_bits,
        progress=False,
        **run_on,
    )
    print(
        f"{name}: {found.attrs['solves']} budget pairs solved, {found.attrs['deployed']} distinct decisions deployed "
        f"in {found.attrs['rounds']} rounds, {time.perf_counter() - start:.1f} s"
    )
    frontier_tables.append(found)
    frontier_point_tables.append(measured_points)
frontier_table = pd.concat(frontier_tables, ignore_index=True)
paths.write_csv(frontier_table, frontiers.FRONTIER_FILE)
paths.write_csv(pd.concat(frontier_point_tables, ignore_index=True), frontiers.POINTS_FILE)
print(f"frontiers: {time.perf_counter() - frontier_start:.1f} s")
display(frontier_table.groupby(["model", "level", "fixed_budget", "status"]).size().unstack("status", fill_value=0))

# %% [markdown]
# ### Which scheme reaches a usable model at the least cost
#
# Per model, at the headline level: the least energy at each fixed latency budget, and the
# least latency at each fixed energy budget; schemes whose brackets overlap the leader's are
# tied with it (`frontiers.frontier_leaders`). Non-monotone brackets are counted below.

# %%
for kind in frontiers.KINDS:
    for sentence in frontiers.headline_sentences(frontier_table, frontier_headline_level, kind).values():
        display(Markdown(sentence))
print(f"{int(frontier_table.non_monotone.sum())} of {len(frontier_table)} frontier rows have a non-monotone bracket")
display(frontiers.frontier_leaders(frontier_table, frontier_headline_level))

# %% [markdown]
# ### Figure
#
# Task quality kept against the energy budget at the loosest fixed latency budget, one panel
# per model: one line per scheme (the measured budgets only), dotted lines at the levels, and
# an open circle at each scheme's least energy per level (the top of its bracket).

# %%
coinfer.figures.show("deployed_frontiers")
