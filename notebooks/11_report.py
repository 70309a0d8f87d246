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
# # 11 Every figure, and the claims report
#
# This notebook recomputes **nothing**. It redraws every figure of the artifact from the
# tidy tables in `data/` alone and states, per claim of model.md section 1, what the data say.
#
# * **One plotting library.** Each figure is one function of `coinfer.figures`
#   that takes the tables exactly as written to `data/` and the notebook's recorded
#   parameters (`data/parameters_<notebook>.json`, written by
#   `coinfer.pipeline.notebook_params.record` right after each notebook validates its parameters).
#   The computing notebooks 01-06 call the same functions (`coinfer.figures.show`) on the
#   same files, so a figure redrawn here is byte-identical to the one its notebook saved
#   (`tests/figures/test_figures.py` checks this for notebooks 01 and 02).
# * **One style.** `coinfer.figures.style.set_style` (seaborn, colour-blind palette); a
#   scheme, model or bit width has the same colour and marker in every figure.
# * **Captions state the parameters.** Every PDF/PNG in `figures/` carries a caption line
#   with the parameters of the notebook that produced its data, and the data files it was
#   drawn from.
# * **The claims report.** `coinfer.claims` evaluates each claim C1-C4 against a criterion
#   fixed in advance, from `data/` only, and writes `data/claims.json` and `data/claims.md`.

# %% tags=["parameters"]
skip_missing = False  # True: skip figures whose data files are missing (partial runs) instead of failing

# %%
import coinfer.pipeline.notebook_params

params = coinfer.pipeline.notebook_params.check_namespace("11_report", globals())
params_file = coinfer.pipeline.notebook_params.record("11_report", params)  # data/parameters_11_report.json

# %%
import pandas as pd
from IPython.display import Markdown, display

import coinfer.claims
import coinfer.figures
from coinfer.base import paths

pd.set_option("display.width", 160, "display.max_colwidth", 120, "display.max_rows", 100)

# %% [markdown]
# ## The figure registry
#
# Which figure is drawn from which data files, with whose parameters, for which claim.

# %%
registry = coinfer.figures.registry_table()
display(registry)

# %% [markdown]
# ## Redraw every figure from `data/`

# %%
written = coinfer.figures.regenerate_all(skip_missing=skip_missing)
drawn = sorted({path.stem for path in written})
print(f"{len(drawn)} of {len(registry)} figures redrawn ({len(written)} files in figures/)")
if not skip_missing:
    assert drawn == sorted(registry.figure), sorted(set(registry.figure) - set(drawn))
assert all(path.stat().st_size > 0 for path in written)

# %% [markdown]
# ## The claims report
#
# One row per claim: the criterion (fixed before the full-profile data existed), the
# measured value and the verdict. Written to `data/claims.json` and `data/claims.md`.

# %%
claims = {claim["id"]: claim for claim in coinfer.claims.write_claims_report()}
display(Markdown((paths.data_dir() / "claims.md").read_text(encoding="utf-8")))
cited = {figure for claim in claims.values() for figure in claim.get("figures", [])}
assert cited <= set(registry.figure), f"claims cite unregistered figures: {sorted(cited - set(registry.figure))}"

# %% [markdown]
# ## C1: output distortion is bounded by parameter distortion
#
# *Theorem (model.md section 3) and its use as a practical bound.* The first figure plots, for random
# networks and for the trained digits MLP, the output distortion divided by each form of
# the bound: every curve below 1 means not one of the checks violated the theorem; the
# distance below 1 is how loose it is. The second puts the raw parameter distortion next
# to the output distortion of the digits MLP, with the accuracy that is lost. The
# first-order form on the pretrained transformer and CNN (where the theorem's
# assumptions do not hold) is in notebook 04's figure.

# %%
coinfer.figures.display_claim("C1", claims)

# %% [markdown]
# ## C2: a rate-distortion lower bound; are weights Laplacian?
#
# The rate-distortion bound $D_{LB}(\rho) = b\,2^{-R(\rho)}$ (model.md section 4) is a theorem for
# Laplace weights only. The figures show the closed forms against Monte Carlo and against
# real weights, then whether the pretrained weights are Laplace-like at all (histograms
# with both fitted densities, and per-layer log-likelihood and KS comparisons), and the
# measured distortion of magnitude pruning plus $q$-bit quantisation of the pretrained
# models relative to the bound.

# %%
coinfer.figures.display_claim("C2", claims)

# %% [markdown]
# ## C3: the joint optimisation beats the benchmarks
#
# The proposed design (pruning ratios, transmit power, CPU frequencies and split point
# chosen jointly) against fully on-device, fully on-server, a fixed pruning ratio, maximum
# resources, a shared ratio and a local solver on the non-convex original variables,
# across latency and energy budgets, bandwidths and distances, and under Rayleigh fading.
# Lower distortion is better; crosses along the bottom edge of a panel mark instances where
# that scheme is infeasible.

# %%
coinfer.figures.display_claim("C3", claims)

# %% [markdown]
# ## C4: the split point matters
#
# The objective of every split at a few bandwidths and latency budgets, and which split
# wins where: in resource-limited, heterogeneous settings the best split moves, and a
# split fixed in advance loses.

# %%
coinfer.figures.display_claim("C4", claims)

# %% [markdown]
# ## Extensions E1-E3: the designs deployed on the real weights
#
# *The artifact's own questions, not claims of the paper* (model.md section 9, notebook
# `07_deployed_designs`): does the proposed design measure at least as well as the
# benchmarks once deployed (E1), does the bound rank designs the way measurement does (E2),
# and does the bound's design measure better than the magnitude objective's (E3)? Shown
# only when `data/deployed_designs.csv` exists.

# %%
for extension in ("E1", "E2", "E3"):
    if extension in claims:
        coinfer.figures.display_claim(extension, claims)

# %% [markdown]
# ## Other figures
#
# Figures that support no single claim (for example the workload profiles that every
# optimisation figure is built on).

# %%
coinfer.figures.display_claim("", claims)
