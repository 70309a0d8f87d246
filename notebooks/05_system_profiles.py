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
# # 05 System profiles: what each split point costs
#
# The joint optimisation of claims **C3** and **C4** (model.md section 5) needs, for every
# split point $s \in \{0, \dots, L\}$ of a model, the workload of the co-inference system
# of model.md section 2: dense FLOPs on the device and on the server ($F_d, F_s$), prunable
# parameters on each side ($N_d, N_s$), the bits sent over the uplink ($S$) and the
# Laplace scale of each side's weights ($b_d, b_s$, model.md section 4). This notebook measures them
# (model.md section 6) and writes `data/profiles.csv`, which notebook 06 reads and never recomputes.
#
# * FLOPs come from `torch.utils.flop_counter.FlopCounterMode` on **one** input sample,
#   each stage counted once: matrix products, convolutions and attention are counted,
#   element-wise operations (activations, norms, softmax) are not. Products with weights
#   are the prunable FLOPs $F$; products of two activations (attention scores
#   $QK^\top$ and the weighted sum of values) are the fixed FLOPs $G$
#   (`flops_*_fixed`), which weight pruning cannot remove (zero for MLPs and CNNs).
# * Both sides' Laplace scales are fitted around one centre, the median of all the
#   model's prunable weights, so $N_d b_d + N_s b_s = N b$ at every split and the
#   unpruned model's distortion does not depend on where it is cut (checked below).
# * $S$ is the number of elements of the tensor that crosses the link times 16 bits
#   (half precision); at $s = 0$ the raw input is sent (8-bit pixels, 16-bit token ids);
#   at $s = L$ nothing is sent.
# * The large architectures (BERT-large, GPT-2 XL, a 7B LLaMA-style decoder) are built
#   from their configurations on PyTorch's *meta* device: shapes without weights, so
#   their FLOPs and sizes are exact and cost nothing to compute, but their weights have
#   no values. Their Laplace scale is **assumed** to be that of all prunable weights of
#   MiniLM (the real transformer in the zoo), and their rows say `weights = meta`. With
#   one scale on both sides $b$ only multiplies the distortion objective, so it moves
#   objective values but not the optimal decisions or the best split.
# * Text models process a fixed number of tokens (MiniLM: its inputs padded to 128
#   tokens; meta models: `meta_seq_len`), and the decoders' LM heads produce logits for
#   every position (a prefill pass), so their head FLOPs scale with the sequence length.
#
# To show the trade-off each split makes before any optimisation, every split is also
# costed at full resources without pruning ($\rho = 0$, $f = f_{\max}$, $p = P_{\max}$,
# model.md section 7 defaults):
#
# $$t_d = \frac{F_d}{c_d f_{d,\max}}, \quad
#   t_{tx} = \frac{S}{B \log_2\!\left(1 + \frac{P_{\max} g}{N_0 B}\right)}, \quad
#   t_s = \frac{F_s}{c_s f_{s,\max}}, \qquad
#   E_d = \eta_d \psi_d \frac{F_d}{c_d} f_{d,\max}^2, \quad E_{tx} = P_{\max} t_{tx}, \quad
#   E_s = \eta_s \psi_s \frac{F_s}{c_s} f_{s,\max}^2 .$$

# %% tags=["parameters"]
seed = 0  # seed of the model zoo (digits training, input sample choice)
models = [  # real pretrained models to profile: the pipeline's, then the other members of the size study (08)
    "digits_mlp",
    "digits_cnn",
    "minilm",
    "efficientnet_lite0",
    "digits_mlp_w8",
    "digits_mlp_w16",
    "digits_mlp_w32",
    "digits_mlp_w64",
    "digits_mlp_w128",
    "digits_mlp_w256",
    "mpnet_base",
    "efficientnet_lite1",
    "efficientnet_lite2",
]
meta_models = ["bert_large", "gpt2_xl", "llama_7b"]  # large architectures on the meta device (no weights)
meta_seq_len = 128  # tokens per input of the meta models
bits_per_element = 16  # bits per element of a sent feature
distance = 200.0  # device-server distance in metres, for the uplink time at P_max
feature_inputs = 32  # held-out inputs per model on which rounding the sent feature (16/8/4 bits) is measured
feature_models = [
    "digits_cnn",
    "minilm",
    "efficientnet_lite0",
]  # models of notebook 06 whose feature rounding is measured
device = "cpu"  # where the feature-rounding forward passes run: "cpu" or "cuda" (FLOP profiles are counted on the CPU)

# %%
import coinfer.pipeline.notebook_params

params = coinfer.pipeline.notebook_params.check_namespace("05_system_profiles", globals())
params_file = coinfer.pipeline.notebook_params.record("05_system_profiles", params)  # for the figure captions

# %%
import numpy as np
import pandas as pd
from IPython.display import display

import coinfer.figures
from coinfer.base import paths
from coinfer.model import system
from coinfer.nets import deploy, profiles, timing, zoo

pd.set_option("display.width", 160, "display.max_columns", 20)

# %% [markdown]
# ## Profiles
#
# One forward pass per model (each stage once). The checks below are the identities
# a profile must satisfy at every split: the two sides partition the FLOPs and the
# prunable parameters of the whole model, split 0 runs nothing on the device and sends
# the raw input, split $L$ runs nothing on the server and sends nothing.

# %%
table = profiles.build_profiles(
    models, meta_models, meta_seq_len=meta_seq_len, bits_per_element=bits_per_element, seed=seed
)
paths.write_csv(table, "profiles.csv")

for name, rows in table.groupby("model", sort=False):
    assert (rows["flops_device"] + rows["flops_server"]).nunique() == 1, name
    assert (rows["params_device"] + rows["params_server"]).nunique() == 1, name
    assert (rows["flops_device_fixed"] + rows["flops_server_fixed"]).nunique() == 1, name
    # One Laplace centre for both sides: the unpruned objective does not depend on the split.
    unpruned = rows["params_device"] * rows["scale_device"] + rows["params_server"] * rows["scale_server"]
    assert np.allclose(unpruned, unpruned.iloc[0], rtol=1e-12, atol=0), name
    assert rows["flops_device"].is_monotonic_increasing and rows["params_device"].is_monotonic_increasing, name
    first, last = rows.iloc[0], rows.iloc[-1]
    assert first["flops_device"] == 0 and first["params_device"] == 0 and first["feature_bits"] > 0, name
    assert last["flops_server"] == 0 and last["params_server"] == 0 and last["feature_bits"] == 0, name
    assert (rows[["scale_device", "scale_server"]] > 0).all().all(), name

summary = table.groupby("model", sort=False).agg(
    weights=("weights", "first"),
    seq_len=("seq_len", "first"),
    splits=("split", "size"),
    gflops=("flops_server", "first"),
    fixed_gflops=("flops_server_fixed", "first"),
    params_m=("params_server", "first"),
    input_kbit=("feature_bits", "first"),
    min_feature_kbit=("feature_bits", lambda b: b.iloc[1:-1].min() if len(b) > 2 else np.nan),
    max_feature_kbit=("feature_bits", lambda b: b.iloc[1:-1].max() if len(b) > 2 else np.nan),
    scale=("scale_server", "first"),
)
summary[["gflops", "fixed_gflops"]] /= 1e9
summary["params_m"] /= 1e6
summary[["input_kbit", "min_feature_kbit", "max_feature_kbit"]] /= 1e3
display(summary.round(4))

# %% [markdown]
# `gflops`, `fixed_gflops` and `params_m` are the whole model's prunable and fixed
# GFLOPs per inference and its prunable parameters (millions); `input_kbit` is what
# split 0 sends, `min/max_feature_kbit` the range over the intermediate splits; `scale`
# is the Laplace scale $b$ of all prunable weights (assumed for the meta models).

# %%
for name, rows in table.groupby("model", sort=False):
    print(
        f"{name}: ratio of intermediate feature to raw input bits at the cheapest intermediate split: "
        f"{rows['feature_bits'].iloc[1:-1].min() / rows['feature_bits'].iloc[0]:.3g}"
    )


# %%
coinfer.figures.show("profiles_real")
coinfer.figures.show("profiles_meta")

# %% [markdown]
# ## What each split costs at full resources (no pruning)
#
# model.md section 7 defaults: device 2 GHz x 32 FLOP/cycle, server 10 GHz x 128 FLOP/cycle,
# 5 MHz uplink at 0.2 W over the stated distance (3GPP-style path loss, no fading).
# The server is 20 times faster per inference, but it spends about 60 times more
# energy per FLOP at full frequency ($\eta_s \psi_s f_{s,\max}^2 / c_s$ against
# $\eta_d \psi_d f_{d,\max}^2 / c_d$), so at full resources latency pulls computation to
# the server and energy pulls it to the device, while the uplink favours splits with
# small features. (The server can slow down: energy per cycle grows with $f^2$, and
# for the same compute time the server spends about 6 times *less* energy than the
# device, $\eta_s \psi_s / c_s^3$ against $\eta_d \psi_d / c_d^3$; notebook 06 optimises
# the frequencies.) Under the physical model (model.md section 2.7) a side's time is the
# longer of computing and reading its weights from memory, and an upload first waits
# for radio access (4 ms, section 7.5).

# %%
costs = profiles.full_resource_costs(table, distance=distance)
paths.write_csv(costs, "profile_costs.csv")

gain = system.channel_gain(distance_m=distance)
rate = system.DEFAULTS["bandwidth"] * np.log2(
    1 + system.DEFAULTS["p_max"] * gain / (system.DEFAULTS["noise_psd"] * system.DEFAULTS["bandwidth"])
)
print(f"uplink rate at P_max, {distance:g} m: {rate / 1e6:.3g} Mbit/s (channel gain {gain:.3g})")
check = costs.merge(table, on=["model", "split", "split_name"])
sent = check["feature_bits"] > 0  # an upload waits for radio access (model.md 2.7)
np.testing.assert_allclose(check["t_tx"], check["feature_bits"] / rate + sent * system.DEFAULTS["access_latency"])
computing = (check["flops_device"] + check["flops_device_fixed"]) / (
    system.DEFAULTS["flops_per_cycle_device"] * system.DEFAULTS["f_device_max"]
)
reading_weights = (check["flops_device"] > 0) * (
    system.DEFAULTS["bits_per_weight"] * check["params_device"] / system.DEFAULTS["memory_bandwidth_device"]
)
np.testing.assert_allclose(check["t_device"], np.maximum(computing, reading_weights), rtol=1e-9)
print(f"memory-bound device sides: {(reading_weights > computing).sum()} of {len(check)} splits")

best = costs.loc[costs.groupby("model", sort=False)["latency"].idxmin(), ["model", "split", "split_name", "latency"]]
cheapest = costs.loc[costs.groupby("model", sort=False)["energy"].idxmin(), ["model", "split", "split_name", "energy"]]
display(best.merge(cheapest, on="model", suffixes=("_fastest", "_least_energy")).round(6))

# %%
coinfer.figures.show("profile_costs_real")
coinfer.figures.show("profile_costs_meta")

# %% [markdown]
# Unpruned latency and system energy of each split at full resources, per component
# (device compute, uplink, server compute) and in total (black). Which split is fastest
# and which spends least energy differ, which is the trade-off notebook 06 optimises
# under budgets (claim C4).

# %% [markdown]
# ## What compressing the sent feature costs
#
# A hidden state sent at 16 bits per element is far larger than the raw input of a text
# model, so the text models never split in the middle at 16 bits. Rounding the feature to
# 8 or 4 bits (`coinfer.nets.deploy.round_feature`: float16, or symmetric uniform with one
# scale per sample) shrinks the upload; the output distortion it adds is measured here on
# held-out inputs, per model and intermediate split, with no pruning. Notebook 06 uses it
# as a constraint: the reading "compressed features" sends each split's feature at the
# fewest bits that add at most 1 % relative output distortion (model.md section 2.4).

# %%
feature_quantisation = pd.concat(
    [
        deploy.feature_quantisation_table(
            zoo.load_model(name, seed=seed),
            zoo.model_inputs(name, "heldout", feature_inputs, seed=seed).inputs,
            device=device,
        )
        for name in feature_models
    ],
    ignore_index=True,
)
paths.write_csv(feature_quantisation, "feature_quantisation.csv")
display(
    feature_quantisation.pivot_table(
        index="model", columns="bits_per_element", values="distortion_mean", aggfunc="median"
    ).round(5)
)

# %% [markdown]
# ## Does pruning pay on this CPU? Measured sparse execution
#
# The system model assumes pruning a fraction $\rho$ removes $\rho$ of the compute
# (`compute_model: ideal`). `benchmarks/bench_compute.py` timed real layers of MiniLM,
# EfficientNet-Lite0 and the digits CNN at pruning ratios from 0 to 0.99 with dense
# kernels on zeroed weights, PyTorch's CSR kernels and structured pruning (whole rows or
# channels removed), one thread, interleaved repeats; it fitted the `sparse` execution
# model $W = ((1-\rho) F / e + G + F_0) / c$ to the CSR timings. Those timings are
# measurements of one machine, committed in `lib/coinfer/nets/measurements/` like the trained
# weights; this notebook copies them into `data/` and draws them. Notebook 06 uses the
# fits as the reading "measured sparse kernels (this CPU)" (model.md section 2.3).

# %%
compute_timings, compute_fits = timing.load_measurements()
paths.write_csv(compute_timings, "compute_timings.csv")
paths.write_csv(compute_fits, "compute_fits.csv")
display(compute_fits[compute_fits["layer"] == "all"][["model", "e", "F0_per_flop", "crossover_ratio", "machine"]])
coinfer.figures.show("compute_speedups")

# %% [markdown]
# ## What the profiles say
#
# * Text transformers send far more at any intermediate split than at split 0: 128
#   token ids are 2 kbit, a hidden state 786 kbit (MiniLM) to 8.4 Mbit (LLaMA-7B), 384
#   to 4096 times more. Unless the uplink is very poor, their only sensible splits are
#   the two extremes.
# * EfficientNet-Lite0 is the opposite: the 224 x 224 image is 1.2 Mbit, the features
#   after block 1 are larger (3.2 Mbit), and from split 4 on they are smaller (502 kbit,
#   down to 150 kbit from split 12), so intermediate splits can save uplink time.
# * At full resources without pruning the fastest split is fully on-server for the
#   transformers, split 6 for EfficientNet-Lite0 and fully on-device for the tiny digits
#   models (sending their input costs more than computing them); the split with the
#   least energy is fully on-device for every model.
