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
# # 01 Output distortion is bounded by parameter distortion (claim C1)
#
# Claim **C1** of the paper: the output distortion of a pruned model is upper-bounded by
# its parameter distortion (a theorem), and in experiments the parameter distortion is a
# reliable bound. This notebook states the theorem as reconstructed in model.md section 3,
# sketches its proof, and checks it numerically, many thousands of times, on random
# networks and on a trained classifier.
#
# **Theorem (model.md section 3).** Let $h_l = \sigma_l(W_l h_{l-1} + b_l)$, $h_0 = x$, $l = 1..L$, with
# activations $\sigma_l$ that are 1-Lipschitz in $\ell_1$ elementwise (ReLU, ReLU6, tanh,
# identity), and let $\hat W_l$ be modified weights with the same biases. Then
#
# $$\|f(x; W) - f(x; \hat W)\|_1 \;\le\; \sum_{l=1}^{L} \Big(\prod_{k>l} \|W_k\|_{1\to 1}\Big)
#   \,\|W_l - \hat W_l\|_{1\to 1}\, \|h_{l-1}(x)\|_1 ,$$
#
# where $\|A\|_{1\to1} = \max_j \sum_i |a_{ij}|$ (largest column abs-sum) and $h_{l-1}(x)$
# is the activation of the **unpruned** network.
#
# **Proof sketch.** Write $d_l = \|h_l - \hat h_l\|_1$. Because $\sigma_l$ is 1-Lipschitz
# and the biases cancel,
# $d_l \le \|W_l h_{l-1} - \hat W_l \hat h_{l-1}\|_1
#      = \|(W_l - \hat W_l) h_{l-1} + \hat W_l (h_{l-1} - \hat h_{l-1})\|_1
#      \le \|W_l - \hat W_l\|_{1\to1} \|h_{l-1}\|_1 + \|\hat W_l\|_{1\to1}\, d_{l-1}$.
# With $d_0 = 0$, unrolling (telescoping) this recursion gives the sum above with
# $\prod_{k>l}\|\hat W_k\|$; for 0/1 masks $\|\hat W_k\|_{1\to1} \le \|W_k\|_{1\to1}$.
# (The implementation uses $\max(\|W_k\|, \|\hat W_k\|)$, which equals $\|W_k\|$ for masks
# and keeps the bound valid for quantised weights too.) Since
# $\|A\|_{1\to1} \le \sum_{ij}|a_{ij}|$, replacing $\|W_l - \hat W_l\|_{1\to1}$ by the
# **entrywise** $\|W_l - \hat W_l\|_1$ gives the weaker "parameter distortion" form: a
# weighted sum of layer parameter distortions. Convolutions are linear maps too; their
# $\ell_1$ operator norm is at most $\max_i \sum_{o,k_h,k_w} |w_{o,i,k_h,k_w}|$, and
# eval-mode BatchNorm is folded into the preceding layer (`coinfer.model.bounds`).
#
# **What is checked.** Every check compares the exact output distortion (computed in
# float64) with both forms of the bound for one input sample. A check fails when
# $\text{out} > \text{bound}\,(1 + 10^{-9})$: the only slack is a relative $10^{-9}$ for
# floating-point rounding. Any failure would be a bug, and the notebook stops on one.

# %% tags=["parameters"]
seed = 0  # seed of every random network, mask and input
n_networks = 300  # random MLPs (depth, width, scale, bias, activation drawn per network)
n_cnns = 30  # random Conv-BN-ReLU networks (conv norm upper bound, BatchNorm folding)
n_inputs = 6  # input samples per network (each one check per mask and ratio)
depths = [2, 3, 4, 6, 8]  # number of Linear layers to draw from
widths = [4, 16, 64, 128]  # hidden widths to draw from
weight_scales = [0.5, 1.0, 2.0]  # weight std times sqrt(fan_in), drawn per network
ratios = [0.0, 0.05, 0.1, 0.2, 0.3, 0.5, 0.7, 0.8, 0.9, 0.95, 0.99]  # pruning ratios of the random networks
digits_ratio_points = 34  # pruning ratios 0..0.99 for the trained digits MLP

# %%
import coinfer.pipeline.notebook_params

params = coinfer.pipeline.notebook_params.check_namespace("01_distortion_bound", globals())
params_file = coinfer.pipeline.notebook_params.record("01_distortion_bound", params)  # for the figure captions

# %%
import numpy as np
import pandas as pd
from IPython.display import display

import coinfer.figures
from coinfer.base import paths, threads
from coinfer.model import bounds
from coinfer.nets import zoo
from coinfer.studies import distortion_bound

pd.set_option("display.width", 160, "display.max_columns", 20, "display.max_rows", 200)

# %% [markdown]
# ## Random networks
#
# Each random network draws its depth, width, weight scale (weights i.i.d.
# $\mathcal N(0, s^2/\text{fan\_in})$), bias on/off and activation (ReLU, ReLU6 or tanh) from
# the lists above, seeded by `(seed, network index)`. Every ratio is applied twice: with a
# uniformly random mask and with per-layer magnitude pruning, each pruning exactly
# `round(ratio * n)` weights of every layer. The random CNNs
# (`Conv-BN-ReLU, Conv(stride 2)-BN-ReLU6, Flatten, Linear`, random BatchNorm statistics)
# exercise the conv norm bound and the BatchNorm folding.

# %%
random_checks = distortion_bound.random_network_checks(
    seed=seed,
    n_networks=n_networks,
    n_cnns=n_cnns,
    depths=depths,
    widths=widths,
    weight_scales=weight_scales,
    ratios=ratios,
    n_inputs=n_inputs,
)
paths.write_csv(random_checks, "bound_random_networks.csv")
n_random = int(random_checks.n_checks.sum())
violations_random = int((random_checks.violations_operator + random_checks.violations_entrywise).sum())
print(
    f"{n_random} checks on {n_networks} MLPs and {n_cnns} CNNs "
    f"({len(random_checks)} pruned networks x {n_inputs} inputs), {violations_random} violations"
)
assert violations_random == 0, random_checks[random_checks.violations_operator + random_checks.violations_entrywise > 0]
# the operator form is never looser than the entrywise form
assert (random_checks.bound_operator_mean <= random_checks.bound_entrywise_mean * (1 + 1e-12)).all()
# at ratio 0 nothing changes: zero distortion and a zero bound
unpruned = random_checks[random_checks.ratio == 0]
assert (unpruned.output_distortion_mean == 0).all() and (unpruned.bound_operator_mean == 0).all()

# %%
random_table = (
    random_checks[random_checks.ratio > 0]
    .groupby(["architecture", "mask", "ratio"])
    .agg(
        checks=("n_checks", "sum"),
        operator_median=("tightness_operator_median", "median"),
        operator_max=("tightness_operator_max", "max"),
        entrywise_median=("tightness_entrywise_median", "median"),
        entrywise_max=("tightness_entrywise_max", "max"),
    )
)
display(random_table)

# %% [markdown]
# Tightness against depth and weight scale (random MLPs, pruned, median over networks):
# the product of layer norms grows with every layer while the real distortion does not.

# %%
random_mlps = random_checks[(random_checks.ratio > 0) & (random_checks.architecture == "mlp")]
by_depth = random_mlps.groupby("depth").tightness_operator_median.median()
display(pd.DataFrame({"by_depth": by_depth}).T)
display(pd.DataFrame({"by_weight_scale": random_mlps.groupby("weight_scale").tightness_operator_median.median()}).T)

# %% [markdown]
# ## The trained digits MLP
#
# `coinfer.nets.zoo.digits_mlp`: a `64-128-64-10` ReLU MLP trained deterministically on
# scikit-learn's digits. It is magnitude-pruned at each ratio, per layer (`layer`) or with
# one global threshold (`global`), biases kept, and checked on every test image. The table
# also gives the test accuracy of the pruned model and the fraction of test images
# whose output distortion is at most the raw parameter distortion
# $\|W - \hat W\|_1$ (the "first-order" form with $H = 1$).

# %%
with threads.single_thread():  # tiny matrices: one thread is ~7x faster than two on a shared CPU
    mlp, digits = zoo.digits_mlp(seed)
digit_ratios = np.round(np.linspace(0.0, 0.99, digits_ratio_points), 6)
digits_samples, digits_table = distortion_bound.digits_bound_sweep(mlp, digits.x_test, digits.y_test, digit_ratios)
paths.write_csv(digits_table, "bound_digits_mlp.csv")
n_digits = int(digits_table.n_checks.sum())
violations_digits = int((digits_table.violations_operator + digits_table.violations_entrywise).sum())
print(f"{n_digits} checks on the digits MLP ({len(digits.y_test)} test images), {violations_digits} violations")
assert violations_digits == 0
display(
    digits_table[
        [
            "scope",
            "ratio",
            "accuracy",
            "param_distortion",
            "output_distortion_mean",
            "tightness_operator_median",
            "tightness_operator_max",
            "tightness_entrywise_max",
            "frac_output_le_param",
            "max_output_over_param",
        ]
    ].round(4)
)

# %%
summary = pd.DataFrame(
    [
        {
            "source": "random_networks",
            "n_checks": n_random,
            "violations": violations_random,
            "rtol": bounds.RTOL,
            "tightness_operator_max": float(random_checks.tightness_operator_max.max()),
            "tightness_entrywise_max": float(random_checks.tightness_entrywise_max.max()),
        },
        {
            "source": "digits_mlp",
            "n_checks": n_digits,
            "violations": violations_digits,
            "rtol": bounds.RTOL,
            "tightness_operator_max": float(digits_table.tightness_operator_max.max()),
            "tightness_entrywise_max": float(digits_table.tightness_entrywise_max.max()),
        },
    ]
)
paths.write_csv(summary, "bound_summary.csv")
display(summary)

# %% [markdown]
# ## How tight is the bound?
#
# Tightness is output distortion divided by the bound (1 would be tight; the bound is
# violated above 1). Left: the operator-norm form, right: the entrywise (parameter
# distortion) form, both on a log scale, for the random networks (median and maximum
# over networks and inputs) and the digits MLP (median over test images).

# %%
coinfer.figures.show("bound_tightness")

# %% [markdown]
# The digits MLP in one picture: its parameter distortion $\|W - \hat W\|_1$ stays above the
# mean output distortion at every ratio (left), while the test accuracy (right) collapses
# only at large ratios.

# %%
coinfer.figures.show("bound_digits_mlp")

# %% [markdown]
# ## Verdict on C1
#
# The numbers printed above (and written to `data/bound_summary.csv`) are the verdict:

# %%
tight_op = digits_table[digits_table.ratio > 0]
acc = digits_table.set_index(["scope", "ratio"]).accuracy
print(
    f"Theorem: {n_random + n_digits} checks, each of both forms, "
    f"{violations_random + violations_digits} violations (relative slack {bounds.RTOL:g})."
)
print(
    f"Operator form tightness: max {summary.tightness_operator_max.max():.3g} over all checks; "
    f"digits MLP median {tight_op.tightness_operator_median.min():.2g}..{tight_op.tightness_operator_median.max():.2g}."
)
print(f"Entrywise form tightness: max {summary.tightness_entrywise_max.max():.3g} over all checks.")
print(
    f"Digits MLP, raw parameter distortion as a bound (H = 1): holds on "
    f"{digits_table.frac_output_le_param.min():.1%}..{digits_table.frac_output_le_param.max():.1%} of test images "
    f"at every ratio; largest output/parameter distortion {digits_table.max_output_over_param.max():.3g}."
)
print(
    f"Random MLPs: median operator-form tightness {by_depth.iloc[0]:.2g} at depth {by_depth.index[0]}, "
    f"{by_depth.iloc[-1]:.2g} at depth {by_depth.index[-1]}."
)
for scope, group in digits_table.groupby("scope"):
    below = group[group.accuracy < 0.9]
    print(
        f"Digits MLP accuracy ({scope} scope): {group.accuracy.iloc[0]:.3f} unpruned, first below 0.9 at ratio "
        f"{below.ratio.min():.2f}, {group.accuracy.iloc[-1]:.3f} at {group.ratio.iloc[-1]:.2f}."
    )

# %% [markdown]
# * **The theorem holds**: no check of either form was violated, on random MLPs of every
#   depth, width, scale, bias and mask drawn, on Conv-BN networks, and on the trained
#   digits MLP at every pruning ratio.
# * **It is loose.** The operator-norm form overestimates the output distortion by two to
#   three orders of magnitude on the digits MLP (tightness ~1e-3..1e-2); the entrywise
#   "parameter distortion" form by a further one to two orders. The product of layer
#   norms $\prod_k \|W_k\|_{1\to1}$ grows with depth and does not see the cancellations
#   and ReLU sparsity of real activations, so tightness falls steeply with depth (median
#   ~2e-2 at depth 2 and ~2e-7 at depth 8 in the full run) and mildly with weight scale.
#   It is still a sharp inequality: for a single linear layer a basis-vector input attains
#   it exactly (`tests/model/test_bounds.py`), and the worst random case above reaches ~0.5.
# * **As a practical proxy** (C1's experimental part), the raw parameter distortion
#   $\|W - \hat W\|_1$ bounds the output distortion of the digits MLP at *every* ratio we
#   tried (the fraction above is 100%; output distortion is at most ~0.3x the parameter
#   distortion), not only above 0.5-0.7 as the paper reports for large models. On this
#   small MLP the bound is reliable but says nothing about where accuracy collapses, which
#   sets in from ratio ~0.55 (per-layer pruning) or ~0.7 (global pruning), numbers above.
#   Whether the first-order form holds on transformers is checked in notebook 04.
