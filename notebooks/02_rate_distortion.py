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
# # 02 A rate-distortion lower bound on parameter distortion (claim C2)
#
# Claim **C2** of the paper: rate-distortion theory gives a lower bound on the parameter
# distortion of a pruned model as a function of the pruning ratio, under a Laplace model of
# the weights. This notebook derives the bound as reconstructed in model.md section 4, checks
# the closed forms against Monte Carlo, and confronts them with the real weights of a
# trained network.
#
# **Source model.** Weights are i.i.d. Laplace$(0, b)$; the maximum-likelihood scale is
# $b = \operatorname{mean}|w - \operatorname{median}(w)|$. Distortion is $\ell_1$ per weight,
# $d = \mathbb E|w - \hat w|$. For this source and distortion the rate-distortion function is
#
# $$R(D) = \log_2 \frac{b}{D} \ \text{bits per weight}, \quad 0 < D \le b, \qquad
#   \text{equivalently}\quad D(R) = b\, 2^{-R}.$$
#
# **Rate of a pruned model.** A model pruned at ratio $\rho$ whose kept weights are stored
# with $q$ bits can be stored as a mask ($h_2(\rho)$ bits per weight, the binary entropy)
# plus the kept values ($(1 - \rho) q$), or densely at $q$ bits, so
# $R(\rho) = \min\{h_2(\rho) + (1 - \rho) q,\ q\}$ and **no** such model can have a
# parameter distortion below
#
# $$D_{LB}(\rho; q) = b\, 2^{-R(\rho)} .$$
#
# It is flat at $b 2^{-q}$ while $h_2(\rho) > \rho q$, then convex and increasing to
# $D_{LB}(1) = b$.
#
# **Magnitude pruning.** Pruning the fraction $\rho$ of smallest magnitudes zeroes every
# $|w| \le t$ with $P(|w| \le t) = 1 - e^{-t/b} = \rho$, i.e. $t = -b\ln(1 - \rho)$, so its
# expected distortion is
#
# $$D_{mag}(\rho) = \mathbb E\big[|w|\,\mathbb 1\{|w| \le t\}\big]
#   = b\,\big(1 - e^{-t/b}(1 + t/b)\big) = b\,\big(\rho + (1 - \rho)\ln(1 - \rho)\big).$$
#
# For small $\rho$, $D_{mag} \approx b\rho^2/2$ falls below the flat floor $b 2^{-q}$, so the
# "bound" $D_{mag} \ge D_{LB}$ must fail near $\rho = 0$: magnitude pruning alone keeps the
# surviving weights at full precision, which the $q$-bit rate does not pay for. Where
# exactly is one of the things measured below (model.md section 4.4 expects $\rho \approx 0.005$ for $q = 16$,
# $\approx 0.1$ for $q = 8$, never for $q = 32$).

# %% tags=["parameters"]
seed = 0  # seed of the synthetic Laplace weights and the KS subsample
bits = [8, 16, 32]  # bits per kept weight q of the lower bound (and of the quantiser on real weights)
rho_points = 201  # linear grid points in [0, 1] (plus half as many geometric ones in [1e-5, 0.2])
laplace_b = 0.05  # scale b of the synthetic Laplace weights
mc_weights = 2_000_000  # synthetic weights of the Monte Carlo check
se_tolerance = 5.0  # Monte Carlo must match D_mag within this many standard errors at every rho

# %%
import coinfer.pipeline.notebook_params

params = coinfer.pipeline.notebook_params.check_namespace("02_rate_distortion", globals())
params_file = coinfer.pipeline.notebook_params.record("02_rate_distortion", params)  # for the figure captions

# %%
import numpy as np
import pandas as pd
from IPython.display import display

import coinfer.figures
from coinfer.base import paths, threads
from coinfer.model import rate_distortion as rd
from coinfer.nets import split, zoo

pd.set_option("display.width", 160, "display.max_columns", 20, "display.max_rows", 200)
rho = rd.rho_grid(rho_points)

# %% [markdown]
# ## The closed forms
#
# Everything scales with $b$, so the curves are drawn for $b = 1$ (distortion in units of
# $b$). The assertions check the shape claims of model.md section 4 on the grid: endpoints, the flat
# part, monotonicity and convexity (second differences of the linear part of the grid).

# %%
distortion = np.geomspace(1e-12, 1.0, 400)
rate_function = pd.DataFrame({"distortion_over_b": distortion, "rate_bits": rd.rate_laplace(distortion, 1.0)})
paths.write_csv(rate_function, "rd_rate_function.csv")

curves = pd.concat(
    [
        pd.DataFrame(
            {
                "rho": rho,
                "q": q,
                "rate_bits": rd.pruned_rate(rho, q),
                "d_lb_over_b": rd.distortion_lower_bound(rho, 1.0, q),
                "d_mag_over_b": rd.magnitude_distortion(rho, 1.0),
            }
        )
        for q in bits
    ],
    ignore_index=True,
)
paths.write_csv(curves, "rd_curves.csv")

linear = np.linspace(0.0, 1.0, rho_points)
d_mag = rd.magnitude_distortion(linear, 1.0)
assert d_mag[0] == 0.0 and abs(d_mag[-1] - 1.0) < 1e-15
assert np.all(np.diff(d_mag) > 0) and np.all(np.diff(d_mag, 2) >= -1e-12)
for q in bits:
    d_lb = rd.distortion_lower_bound(linear, 1.0, q)
    assert abs(d_lb[-1] - 1.0) < 1e-15 and d_lb[0] == 2.0**-q
    assert np.all(np.diff(d_lb) >= -1e-15) and np.all(np.diff(d_lb, 2) >= -1e-12), q
    flat = rd.binary_entropy(rho) > rho * q
    assert np.allclose(rd.distortion_lower_bound(rho[flat], 1.0, q), 2.0**-q, rtol=1e-12, atol=0)
print("closed forms: endpoints, flat part, monotone and convex on the grid")

# %% [markdown]
# ## Where does magnitude pruning beat the "lower bound"?
#
# The gap $D_{mag}(\rho) - D_{LB}(\rho; q)$ is scale-free. `rate_distortion.bound_crossover`
# scans it on a fine grid (geometric from $10^{-12}$ and linear to 1) and refines the last
# sign change by bisection: $\rho^*$ is the smallest ratio from which on
# $D_{mag} \ge D_{LB}$ holds. The failure set turns out to be the single interval
# $[0, \rho^*)$.

# %%
expected = {8: "about 0.1", 16: "about 0.005", 32: "never fails"}
crossover_rows = []
fine = np.linspace(0.0, 1.0, 1_000_001)
for q in bits:
    rho_star = rd.bound_crossover(q)
    intervals = rd.failure_intervals(fine, rd.bound_gap(fine, q))
    assert len(intervals) == 1 and intervals[0][0] == 0.0 and intervals[0][1] < rho_star, (q, intervals)
    crossover_rows.append(
        {
            "source": "laplace_model",
            "layer": "",
            "quantised": False,
            "q": q,
            "rho_crossover": rho_star,
            "rho_crossover_approx": float(np.sqrt(2.0 ** (1 - q))),
            "expected": expected.get(q, ""),
        }
    )
crossover_laplace = pd.DataFrame(crossover_rows)
display(crossover_laplace)

# %% [markdown]
# `rho_crossover_approx` is $\sqrt{2 \cdot 2^{-q}}$, from $b\rho^2/2 = b 2^{-q}$: the crossing
# lies on the flat part of $D_{LB}$ for $q = 16$ and $q = 32$, while for $q = 8$ the bound
# has already started to rise, which moves the crossing out to about 0.097.

# %% [markdown]
# ## Monte Carlo: synthetic Laplace weights
#
# `mc_weights` i.i.d. Laplace$(0, b)$ weights (seeded) are magnitude-pruned at every grid
# ratio, pruning exactly `round(rho * n)` weights. The empirical distortion per weight is a
# trimmed mean; its standard error is the asymptotic one, $\operatorname{sd}(\min(|w|, t))/\sqrt n$
# (the influence function of $\int_0^\rho F^{-1}(u)\,du$). The closed form is evaluated at
# the realised ratio. The check fails if any grid point is off by more than
# `se_tolerance` standard errors. That standard error is asymptotic, so the check covers
# the ratios that prune at least `rate_distortion.MC_MIN_PRUNED` = 100 weights; the few
# smaller ratios of the geometric grid are kept in the data (column `pruned`), unchecked.

# %%
monte_carlo = rd.laplace_monte_carlo(rho, laplace_b, mc_weights, seed)
paths.write_csv(monte_carlo, "rd_monte_carlo.csv")
checked = monte_carlo[(monte_carlo.pruned >= rd.MC_MIN_PRUNED) | (monte_carlo.rho == 0)]
worst = checked.loc[checked.z.abs().idxmax()]
print(
    f"Monte Carlo: n = {mc_weights}, {len(checked)} of {len(monte_carlo)} ratios checked, "
    f"largest |z| = {abs(worst.z):.2f} at rho = {worst.rho:.3g}"
)
assert len(checked) >= len(monte_carlo) // 2
assert (checked.z.abs() <= se_tolerance).all(), checked[checked.z.abs() > se_tolerance]

synthetic = np.random.default_rng(seed).laplace(0.0, laplace_b, mc_weights)
fit_l, fit_g = rd.fit_laplace(synthetic, seed=seed), rd.fit_gaussian(synthetic, seed=seed)
print(
    f"fits of the synthetic weights: Laplace b = {fit_l.scale:.5f} (true {laplace_b}), "
    f"KS {fit_l.ks_statistic:.4f}; Gaussian KS {fit_g.ks_statistic:.4f}; "
    f"log-likelihood per weight {fit_l.loglik_per_weight:.4f} vs {fit_g.loglik_per_weight:.4f}"
)
assert abs(fit_l.scale / laplace_b - 1) < 5 / np.sqrt(mc_weights) and fit_l.loglik_per_weight > fit_g.loglik_per_weight

# %% [markdown]
# ## Real weights: the trained digits MLP
#
# The three weight matrices of `coinfer.nets.zoo.digits_mlp` (biases are not pruned). Each
# layer is fitted with a Laplace and a Gaussian (log-likelihood per weight, KS statistic),
# separately and pooled. Then every layer is magnitude-pruned at each ratio
# (`coinfer.model.pruning.MagnitudeSweep`, one sort per layer), with the kept weights either left
# at float32 or uniformly quantised to $q$ bits over the layer's largest kept magnitude
# (`coinfer.model.pruning`, $2^q$ levels). The empirical distortion per weight is compared with
# $D_{mag}$ and $D_{LB}$ at the fitted $b$ (per layer, and pooled for the whole model, as
# model.md section 5 uses it). Unquantised float32 weights are compared with the $q = 32$ bound.

# %%
with threads.single_thread():  # tiny matrices: one thread is ~7x faster than two on a shared CPU
    mlp, _ = zoo.digits_mlp(seed)
weights = split.prunable_of(mlp)
fit_rows = []
for name, w in [*weights.items(), ("all", weights)]:
    for fit in (rd.fit_laplace(w, seed=seed), rd.fit_gaussian(w, seed=seed)):
        fit_rows.append({"model": "digits_mlp", "layer": name, **fit.__dict__})
fits = pd.DataFrame(fit_rows)
paths.write_csv(fits, "rd_fits_digits_mlp.csv")
display(fits.pivot(index="layer", columns="family", values=["scale", "loglik_per_weight", "ks_statistic"]).round(4))

# %%
sweep = rd.layer_distortion_sweep(weights, rho, [None, *bits])
pooled = sweep.groupby(["rho", "bits"], as_index=False)[["n", "pruned", "abs_error"]].sum().assign(layer="all")
real = pd.concat([sweep, pooled], ignore_index=True)
scale = fits[fits.family == "laplace"].set_index("layer").scale
real["b"] = real.layer.map(scale)
real["distortion"] = real.abs_error / real.n
real["bound_bits"] = np.where(real.bits == 0, 32, real.bits)
real["d_mag_laplace"] = rd.magnitude_distortion(real.rho, 1.0) * real.b
real["d_lb"] = np.nan
for q in sorted(real.bound_bits.unique()):
    rows = real.bound_bits == q
    real.loc[rows, "d_lb"] = rd.distortion_lower_bound(real.rho[rows], 1.0, int(q)) * real.b[rows]
real["lb_holds"] = real.distortion >= real.d_lb
real = real[
    ["layer", "rho", "bits", "bound_bits", "n", "pruned", "b", "distortion", "d_mag_laplace", "d_lb", "lb_holds"]
]
real = real.sort_values(["layer", "bits", "rho"], kind="stable").reset_index(drop=True)
paths.write_csv(real, "rd_digits_mlp.csv")

# %% [markdown]
# Where does the bound fail on the real weights? For each layer and storage (float32 =
# `bits 0`, or $q$-bit quantised), the largest grid ratio at which the measured distortion
# is below $D_{LB}$, and the smallest ratio from which on it always holds.

# %%
fail_rows = []
for (layer, q_bits), group in real.groupby(["layer", "bits"], sort=True):
    failing = group[~group.lb_holds]
    fail_rows.append(
        {
            "source": "digits_mlp",
            "layer": layer,
            "quantised": bool(q_bits),
            "q": int(group.bound_bits.iloc[0]),
            "rho_crossover": float(group.rho[group.rho > failing.rho.max()].min()) if len(failing) else 0.0,
            "largest_failing_rho": float(failing.rho.max()) if len(failing) else float("nan"),
            "n_failing": len(failing),
            "n_rho": len(group),
            "max_pruned_where_failing": int(failing.pruned.max()) if len(failing) else 0,
        }
    )
crossover = pd.concat([crossover_laplace, pd.DataFrame(fail_rows)], ignore_index=True)
paths.write_csv(crossover, "rd_crossover.csv")
display(crossover)

# %%
model_fit = real[(real.layer == "all") & (real.bits == 0)]
rel = (model_fit.distortion / model_fit.d_mag_laplace)[model_fit.rho.between(0.05, 0.95)]
print(
    f"digits MLP, pooled b = {scale['all']:.4f}: measured / Laplace D_mag over rho in [0.05, 0.95] "
    f"ranges {rel.min():.3f}..{rel.max():.3f}"
)

# %% [markdown]
# ## Figures

# %% [markdown]
# Left: $R(D)$. Middle: $D_{LB}(\rho; q)$ and $D_{mag}(\rho)$ in units of $b$, with the Monte
# Carlo check and the crossovers $\rho^*$ (dotted). Right: the measured distortion of the
# digits MLP's pooled weights, float32 and $q$-bit quantised, against $D_{LB}$ at the
# fitted $b$ (dashed) and the Laplace $D_{mag}$.

# %%
coinfer.figures.show("rate_distortion")

# %% [markdown]
# ## Verdict on C2

# %%
for row in crossover_laplace.itertuples():
    print(f"Laplace model, q = {row.q}: D_mag >= D_LB for rho >= {row.rho_crossover:.4g} (expected: {row.expected})")
digits_all = crossover[(crossover.source == "digits_mlp") & (crossover.layer == "all")]
for row in digits_all.itertuples():
    kind = f"{row.q}-bit quantised" if row.quantised else "float32 (vs q = 32)"
    print(
        f"digits MLP, {kind}: bound fails at {int(row.n_failing)}/{int(row.n_rho)} ratios, largest failing rho "
        f"{row.largest_failing_rho:.3g}, where at most {row.max_pruned_where_failing} weights are pruned"
    )
pooled_fits = fits[fits.layer == "all"].set_index("family")
print(
    f"digits MLP weights (pooled): Laplace KS {pooled_fits.ks_statistic['laplace']:.3f}, "
    f"log-lik {pooled_fits.loglik_per_weight['laplace']:.3f}; Gaussian KS {pooled_fits.ks_statistic['gaussian']:.3f}, "
    f"log-lik {pooled_fits.loglik_per_weight['gaussian']:.3f} nats per weight"
)

# %% [markdown]
# * **The closed forms are right.** $D_{mag}$ matches magnitude pruning of synthetic Laplace
#   weights within its sampling error at every ratio, and both $D_{LB}$ and $D_{mag}$ are
#   monotone and convex with the stated endpoints.
# * **The crossover claims of model.md section 4 hold for $q = 8$ and $q = 16$** ($\rho^* \approx 0.097$
#   and $0.0056$). **For $q = 32$ the bound does fail, but only for $\rho < 2.2\cdot10^{-5}$**
#   (including $\rho = 0$, where $D_{mag} = 0 < b\,2^{-32}$): "never" is true on any grid
#   coarser than that, not literally.
# * **On real weights** (digits MLP) the $q$-bit quantised models respect the bound at every
#   ratio for $q = 8$ and $q = 16$: the quantisation error alone exceeds $b\,2^{-q}$,
#   because the quantiser's range is the layer's largest kept weight, several times $b$.
#   Float32 (and 32-bit quantised) weights fall below the $q = 32$ bound only at ratios so
#   small that **no weight is pruned at all** (distortion exactly 0, or float32 rounding
#   only): a quirk of comparing a continuous-source bound with already-discrete weights,
#   not a counterexample. The exact ratios are in `data/rd_crossover.csv`.
# * **The Laplace model does not describe this small MLP well**: a Gaussian fits its
#   weights better (higher log-likelihood per weight and a smaller KS statistic, table
#   above), and magnitude pruning of the real weights costs 1.1-1.5x the Laplace $D_{mag}$ at
#   the fitted $b$. This matters for the logic of C2: $D_{LB}$ is a theorem only for
#   Laplace weights. Among sources with the same $\mathbb E|w| = b$ the Laplace has the
#   largest differential entropy, so by the Shannon lower bound
#   $R(D) \ge h(w) - \log_2(2eD)$ any other source may be compressed *better*, and
#   $b\,2^{-R}$ is then not guaranteed. On real weights the bound is an empirical
#   statement; here it held wherever anything was pruned. Notebook 03 tests the Laplace
#   claim on the large pretrained models.
