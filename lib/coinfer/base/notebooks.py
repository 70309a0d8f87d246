"""The notebooks of the artifact, in run order, the parameters each one takes and the tables each one reads and
writes (a declaration, no logic).

:data:`NOTEBOOKS` lists the notebooks (file stems under ``notebooks/``) in the order they run; their numbers
follow that order. :data:`SCHEMAS` gives, per notebook, every parameter of its ``parameters`` cell and the
values it allows (a :class:`~coinfer.base.validation.Spec`). :data:`WRITES` and :data:`READS` give the files
in ``data/`` each notebook writes and reads: the runner reruns every notebook downstream of one that changed
from them, and checks each executed notebook's actual reads and writes against them
(:mod:`coinfer.pipeline._dependencies`). The pipeline validates profiles and notebook
namespaces against them (:mod:`coinfer.pipeline.notebook_params`); the figure registry reads the notebook
order and the order of each notebook's parameters for captions (:mod:`coinfer.figures.registry`), which is
why the declaration lives in the base layer.
"""

from __future__ import annotations

from coinfer.base.validation import Spec

#: The notebooks in run order (file stems under ``notebooks/``); their numbers follow it (a test checks).
NOTEBOOKS: tuple[str, ...] = (
    "01_distortion_bound",
    "02_rate_distortion",
    "03_weight_distributions",
    "04_pruning_distortion",
    "05_system_profiles",
    "06_joint_optimisation",
    "07_deployed_designs",  # after 06: it reads opt_budget_sweep.csv
    "08_model_size",
    "09_multi_user",
    "10_decoding",
    "11_report",  # last: it redraws every figure and writes the claims report from data/
)

_SEED = Spec("int", 0, 2**32 - 1)
#: The model-size study's members outside ``zoo.MODEL_NAMES`` (``zoo.SIZE_STUDY_MODELS``; a test keeps them equal).
_SIZE_MODELS = (
    *(f"digits_mlp_w{w}" for w in (8, 16, 32, 64, 128, 256)),
    "mpnet_base",
    "efficientnet_lite1",
    "efficientnet_lite2",
)
_RATIO = Spec("float", 0.0, 1.0, high_open=True)
#: Where the measurement notebooks run their models (``coinfer.nets.devices.DEVICES``; a test keeps them equal).
_DEVICE = Spec("str", choices=("cpu", "cuda"))

#: name -> parameter -> allowed values. Each notebook owns its entry.
#: The models notebook 09 may draw users of (coinfer.studies.multi_user.MODELS; base cannot import a study).
_MULTI_USER_MODELS = (
    "digits_cnn",
    "minilm",
    "mpnet_base",
    "efficientnet_lite0",
    "efficientnet_lite1",
    "efficientnet_lite2",
)

SCHEMAS: dict[str, dict[str, Spec]] = {
    "01_distortion_bound": {
        "seed": _SEED,
        "n_networks": Spec("int", 1, 10_000),
        "n_cnns": Spec("int", 0, 1_000),
        "n_inputs": Spec("int", 1, 1_000),
        "depths": Spec("list[int]", 1, 32),
        "widths": Spec("list[int]", 1, 1_024),
        "weight_scales": Spec("list[float]", 0.0, 100.0, low_open=True),
        "ratios": Spec("list[float]", 0.0, 0.99),
        "digits_ratio_points": Spec("int", 2, 1_000),
    },
    "02_rate_distortion": {
        "seed": _SEED,
        "bits": Spec("list[int]", 1, 64),
        "rho_points": Spec("int", 3, 100_000),
        "laplace_b": Spec("float", 0.0, 100.0, low_open=True),
        "mc_weights": Spec("int", 1_000, 100_000_000),
        "se_tolerance": Spec("float", 1.0, 100.0),
    },
    "03_weight_distributions": {
        "seed": _SEED,
        "models": Spec("list[str]", choices=("digits_mlp", "digits_cnn", "minilm", "efficientnet_lite0")),
        "split_fractions": Spec("list[float]", 0.0, 1.0, low_open=True, high_open=True),
        "max_fit_weights": Spec("int", 1000, 10**9),
        "max_ks_weights": Spec("int", 1000, 10**9),
        "hist_bins": Spec("int", 10, 1000),
        "device": _DEVICE,
    },
    "04_pruning_distortion": {
        "seed": _SEED,
        "models": Spec("list[str]", choices=("digits_mlp", "digits_cnn", "minilm", "efficientnet_lite0")),
        "split_fractions": Spec("list[float]", 0.0, 1.0, low_open=True, high_open=True),
        "ratios": Spec("list[float]", 0.0, 0.99),
        "c2_ratios": Spec("list[float]", 0.0, 0.99),
        "bits": Spec("list[int]", 2, 32),
        "n_calibration": Spec("int", 2, 500),
        "n_c1b_calibration": Spec("int", 2, 373),  # the calibration sentence pool (crops: at most 34 exist)
        "n_heldout": Spec("int", 2, 332),  # the held-out sentence pool
        "n_heldout_images": Spec("int", 0, 62),  # the held-out grid crops; 0: all of them
        "n_digits_calibration": Spec("int", 2, 500),
        "n_digits_heldout": Spec("int", 2, 540),
        "n_digits_heldout_training": Spec("int", 0, 757),  # training digits outside the calibration pool
        "scope": Spec("str", choices=("global", "layer")),
        "device": _DEVICE,
    },
    "05_system_profiles": {
        "seed": _SEED,
        "models": Spec(
            "list[str]", choices=("digits_mlp", "digits_cnn", "minilm", "efficientnet_lite0", *_SIZE_MODELS)
        ),
        "meta_models": Spec("list[str]", choices=("bert_large", "gpt2_xl", "llama_7b")),
        "meta_seq_len": Spec("int", 1, 8192),
        "bits_per_element": Spec("int", 1, 64),
        "distance": Spec("float", 1.0, 1e5),
        "feature_inputs": Spec("int", 1, 10_000),
        "feature_models": Spec("list[str]", choices=("digits_mlp", "digits_cnn", "minilm", "efficientnet_lite0")),
        "device": _DEVICE,
    },
    "06_joint_optimisation": {
        "seed": _SEED,
        "models": Spec(
            "list[str]",
            choices=("digits_mlp", "digits_cnn", "minilm", "efficientnet_lite0", "bert_large", "gpt2_xl", "llama_7b"),
        ),
        "latency_budget_s": Spec("float", 0.0, 1e6),
        "energy_budget_j": Spec("float", 0.0, 1e6),
        "energy_scope": Spec("str", choices=("system", "device")),
        "distortion_model": Spec("str", choices=("rd_bound", "magnitude")),
        "sweep_points": Spec("int", 2, 200),
        "bandwidth_range": Spec("list[float]", 1e3, 1e10),
        "distance_range": Spec("list[float]", 1.0, 1e5),
        "split_bandwidths": Spec("list[float]", 1e3, 1e10),
        "split_latency_factors": Spec("list[float]", 0.0, 1e6, low_open=True),
        "grid_points": Spec("int", 2, 100),
        "fading_draws": Spec("int", 1, 100000),
        "agreement_instances": Spec("int", 1, 100000),
        "rho_fixed": Spec("float", 0.0, 0.99),
        "local_starts": Spec("int", 1, 100),
        "fading_local_starts": Spec("int", 1, 100),
        "robustness_sweep_points": Spec("int", 2, 200),
        "single_starts": Spec("int", 1, 1000),
        "sensitivity_base_samples": Spec("int", 2, 2**20),
        "sensitivity_models": Spec(
            "list[str]",
            choices=("digits_mlp", "digits_cnn", "minilm", "efficientnet_lite0", "bert_large", "gpt2_xl", "llama_7b"),
        ),
        "workers": Spec("int", -1, 1024),
        "scheduler_address": Spec("str"),
    },
    "07_deployed_designs": {
        "seed": _SEED,
        "models": Spec("list[str]", choices=("digits_mlp", "digits_cnn", "minilm", "efficientnet_lite0")),
        "n_digits": Spec("int", 1, 540),
        "n_text": Spec("int", 1, 1_000),
        "n_images": Spec("int", 1, 10_000),
        "n_topics": Spec("int", 2, 30),
        "bits": Spec("int", 2, 32),
        "feature_bits": Spec("int", choices=(4, 8, 16, 32)),
        "workers": Spec("int", -1, 1024),
        "scheduler_address": Spec("str"),
        "device": _DEVICE,
        "frontier_models": Spec("list[str]", choices=("digits_mlp", "digits_cnn", "minilm", "efficientnet_lite0")),
        "frontier_levels": Spec("list[float]", 0.0, 1.0, low_open=True),
        "frontier_fixed_points": Spec("int", 1, 20),
        "frontier_grid_points": Spec("int", 3, 257),
        "frontier_coarse_points": Spec("int", 2, 257),
        "frontier_local_starts": Spec("int", 1, 100),
        "frontier_headline_level": Spec("float", 0.0, 1.0, low_open=True),
    },
    "08_model_size": {
        "seed": _SEED,
        "digits_models": Spec("list[str]", choices=_SIZE_MODELS[:6]),
        "text_models": Spec("list[str]", choices=("minilm", "mpnet_base")),
        "efficientnet_models": Spec(
            "list[str]", choices=("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2")
        ),
        "meta_models": Spec("list[str]", choices=("bert_large", "gpt2_xl", "llama_7b")),
        "budget_points": Spec("int", 2, 200),
        "bandwidth": Spec("float", 1e3, 1e10),
        "distance": Spec("float", 1.0, 1e5),
        "n_heldout_digits": Spec("int", 2, 540),
        "n_heldout_text": Spec("int", 2, 500),
        "n_heldout_images": Spec("int", 2, 500),
        "workers": Spec("int", -1, 1024),
        "scheduler_address": Spec("str"),
        "device": _DEVICE,
    },
    "09_multi_user": {
        "seed": _SEED,
        "models": Spec("list[str]", choices=_MULTI_USER_MODELS),
        "users": Spec("list[int]", 1, 1000),
        "populations": Spec("int", 1, 100),
        "weighting": Spec("str", choices=("parameters", "users", "normalised")),
        "system_model": Spec("str", choices=("physical", "paper")),
        "check_users": Spec("int", 1, 8),
        "check_populations": Spec("int", 0, 100),
    },
    "10_decoding": {
        "model": Spec("str", choices=("gpt2_xl", "llama_7b", "mistral_7b", "qwen2_7b")),
        "prompt_tokens": Spec("int", 1, 2048),
        "max_context": Spec("int", 1, 2048),
        "bandwidths": Spec("list[float]", 1e5, 1e9),
        "distances": Spec("list[float]", 1.0, 1e4),
        "access_latencies": Spec("list[float]", 5e-4, 2e-2),
        "ratio_step": Spec("float", 1e-3, 0.5),
    },
    "11_report": {
        "skip_missing": Spec("bool"),
    },
}


#: Files in ``data/`` each notebook writes, besides ``parameters_<notebook>.json`` (which every notebook writes).
#: A file has one writer. Figures are not listed: :data:`coinfer.figures.FIGURES` says which notebook draws each.
WRITES: dict[str, tuple[str, ...]] = {
    "01_distortion_bound": ("bound_digits_mlp.csv", "bound_random_networks.csv", "bound_summary.csv"),
    "02_rate_distortion": (
        "rd_crossover.csv",
        "rd_curves.csv",
        "rd_digits_mlp.csv",
        "rd_fits_digits_mlp.csv",
        "rd_monte_carlo.csv",
        "rd_rate_function.csv",
    ),
    "03_weight_distributions": (
        "weight_fit_layer_kinds.csv",
        "weight_fit_summary.csv",
        "weight_fit_verdicts.csv",
        "weight_fits.csv",
        "weight_histograms.csv",
    ),
    "04_pruning_distortion": (
        "exact_bound_digits.csv",
        "first_order_bound.csv",
        "first_order_bound_holds_from.csv",
        "first_order_by_ratio.csv",
        "first_order_by_source.csv",
        "first_order_heldout_clusters.csv",
        "first_order_scores.csv",
        "pruning_lb_holds_from.csv",
        "pruning_param_distortion.csv",
        "pruning_sweep.csv",
    ),
    "05_system_profiles": (
        "compute_fits.csv",
        "compute_timings.csv",
        "feature_quantisation.csv",
        "profile_costs.csv",
        "profiles.csv",
    ),
    "06_joint_optimisation": (
        "opt_budget_sweep.csv",
        "opt_c3_summary.csv",
        "opt_c4_summary.csv",
        "opt_decisions.csv",
        "opt_fading.csv",
        "opt_fading_summary.csv",
        "opt_robustness_splits.csv",
        "opt_robustness_sweep.csv",
        "opt_single_starts.csv",
        "opt_single_starts_summary.csv",
        "opt_solver_agreement.csv",
        "opt_split_sweep.csv",
        "opt_split_winners.csv",
        "sensitivity_indices.csv",
        "sensitivity_samples.csv",
    ),
    "07_deployed_designs": (
        "deployed_designs.csv",
        "deployed_outcomes.csv",
        "deployed_frontiers.csv",
        "deployed_frontier_points.csv",
    ),
    "08_model_size": ("size_study.csv", "size_outcomes.csv", "size_inputs.csv"),
    "09_multi_user": ("multi_user_populations.csv", "multi_user_users.csv", "multi_user_other_model.csv"),
    "10_decoding": (
        "decoding_best_split.csv",
        "decoding_public_projection.csv",
        "decoding_split_costs.csv",
        "decoding_splits.csv",
        "decoding_timing_fit.csv",
    ),
    "11_report": ("claims.json", "claims.md"),
}

#: Stands for "every file an earlier notebook writes" in :data:`READS` (the report reads them all).
EVERY_EARLIER_FILE = "*"

#: Files in ``data/`` each notebook reads that earlier notebooks write (reading its own outputs back is not listed).
READS: dict[str, tuple[str, ...]] = {
    "01_distortion_bound": (),
    "02_rate_distortion": (),
    "03_weight_distributions": (),
    "04_pruning_distortion": (),
    "05_system_profiles": (),
    "06_joint_optimisation": ("feature_quantisation.csv", "profiles.csv"),
    "07_deployed_designs": ("opt_budget_sweep.csv", "profiles.csv", "parameters_06_joint_optimisation.json"),
    "08_model_size": ("profiles.csv",),
    "09_multi_user": ("profiles.csv",),
    "10_decoding": (),
    "11_report": (EVERY_EARLIER_FILE,),
}
