"""Back end of notebook 10_decoding: decoding a split LLM token by token (model.md section 14; issue 28).

:func:`split_costs` gives TPOT and energy per token of every split at full resources (the figure's curves);
:func:`best_splits` solves every split at every grid point with and without pruning in both energy scopes and keeps
the best split (the table D1 reads, :mod:`coinfer.claims.decoding`); :func:`public_projection` reproduces the
round-trip projection of a published split-inference measurement.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from coinfer.base.progress import tqdm
from coinfer.base.validation import require_range
from coinfer.model.decoding import DecodeSetting, decode_costs
from coinfer.model.system import Decision, Problem, channel_gain, make_problem
from coinfer.nets.budgets import FAMILIES, SERVICE_POWER
from coinfer.nets.decoding import decode_profile, decoder_shape
from coinfer.optimise.decoding import DecodeBudgets, best_decode_split, solve_decode

__all__ = [
    "TPOT_BUDGET", "best_splits", "budgets", "problem_at", "public_projection", "server_power", "split_costs",
    "timing_fit",
]  # fmt: skip

#: MLPerf Inference ``llama3_1-8b.Server.tpot_latency = 100`` ms per output token (model.md 7.3) [s].
TPOT_BUDGET = 0.1


def server_power(problem: Problem) -> float:
    """An upper bound of the server's power: full clock, its static-power share, DRAM reads at the socket bandwidth.

    ``pue_server (psi_server f_server_max^3 + static_power_server + memory_energy_server memory_bandwidth_server)``,
    the memory term only where it costs energy (the paper's model has ``memory_energy_server = 0`` and unbounded
    bandwidth).

    Parameters
    ----------
    problem : Problem
        The hardware (model.md 2.7).

    Returns
    -------
    float
        Power [W].

    References
    ----------
    docs/model.md, sections 2.7 and 14.4.
    """
    memory = problem.memory_energy_server * problem.memory_bandwidth_server if problem.memory_energy_server > 0 else 0.0
    return problem.pue_server * (problem.psi_server * problem.f_server_max**3 + problem.static_power_server + memory)


def budgets(problem: Problem) -> DecodeBudgets:
    """D1's budgets (model.md 14.4) in the problem's energy scope: TTFT 2.0 s, TPOT 0.1 s, energy per token.

    The energy per token is the battery share times the TPOT budget, ``SERVICE_POWER x 0.1 s`` = 0.01925 J, in the
    ``device`` scope; in the ``system`` scope the server's share may in addition draw its full power
    (:func:`server_power`) for the whole TPOT budget: a mains supply feeds it, and the battery share alone cannot
    pay for the server's term that scope counts.

    Parameters
    ----------
    problem : Problem
        The hardware and its ``energy_scope`` (model.md 2.6).

    Returns
    -------
    DecodeBudgets
        TTFT [s], TPOT [s] and energy per token [J].

    References
    ----------
    docs/model.md, section 14.4.
    """
    power = SERVICE_POWER + (server_power(problem) if problem.energy_scope == "system" else 0.0)
    ttft = FAMILIES["meta_large"].latency_anchors[0].value
    return DecodeBudgets(ttft=ttft, tpot=TPOT_BUDGET, energy_token=power * TPOT_BUDGET)


def problem_at(bandwidth: float, distance: float, access_latency: float, energy_scope: str = "system") -> Problem:
    """The hardware and radio of model.md 7.1 at one grid point (the workload fields are unused placeholders).

    Parameters
    ----------
    bandwidth : float
        Uplink bandwidth [Hz].
    distance : float
        Device-server distance [m].
    access_latency : float
        Uplink access latency [s].
    energy_scope : str
        ``"system"`` or ``"device"``.

    Returns
    -------
    Problem
        The problem.

    References
    ----------
    docs/model.md, section 7.1.
    """
    return make_problem(
        flops_device=1.0, flops_server=1.0, params_device=1.0, params_server=1.0, scale_device=1.0,
        scale_server=1.0, feature_bits=1.0, latency_budget=1.0, energy_budget=1.0, bandwidth=bandwidth,
        channel_gain=channel_gain(distance), access_latency=access_latency, energy_scope=energy_scope,
    )  # fmt: skip


def split_costs(
    model: str, prompt_tokens: int, max_context: int, bandwidths: Sequence[float], distances: Sequence[float],
    access_latency: float,
) -> pd.DataFrame:  # fmt: skip
    """TPOT, TTFT and energy per token (``system`` scope) of every split, unpruned at full resources.

    Returns
    -------
    pandas.DataFrame
        ``bandwidth`` [Hz], ``distance`` [m], ``split``, ``label``, ``ttft``, ``tpot`` [s], ``energy_token`` [J],
        ``energy_device`` [J], ``device_memory`` [bit].

    Parameters
    ----------
    model : str
        A decoder of the zoo.
    prompt_tokens : int
        Prompt length [tokens].
    max_context : int
        Longest context [tokens].
    bandwidths : sequence of float
        Uplink bandwidths [Hz].
    distances : sequence of float
        Device-server distances [m].
    access_latency : float
        Uplink access latency [s].

    References
    ----------
    docs/model.md, section 14.2.
    """
    profile = decode_profile(decoder_shape(model), prompt_tokens, max_context).to_dict("records")
    setting = DecodeSetting(prompt_tokens, max_context, downlink_access_latency=access_latency)
    rows = []
    for bandwidth in bandwidths:
        for distance in distances:
            p = problem_at(bandwidth, distance, access_latency)
            full = Decision(0.0, 0.0, p.p_max, p.f_device_max, p.f_server_max)
            for row in profile:
                c = decode_costs(p, row, setting, full, full)
                rows.append(
                    {"bandwidth": bandwidth, "distance": distance, "split": row["split"], "label": row["label"],
                     "ttft": c.ttft, "tpot": c.tpot, "energy_token": c.energy_token,
                     "energy_device": c.energy_device + c.energy_radio, "device_memory": c.device_memory}
                )  # fmt: skip
    return pd.DataFrame(rows)


def best_splits(
    model: str, prompt_tokens: int, max_context: int, bandwidths: Sequence[float], distances: Sequence[float],
    access_latencies: Sequence[float], ratio_step: float,
) -> tuple[pd.DataFrame, pd.DataFrame]:  # fmt: skip
    """The best decoding split at every grid point, with and without pruning, per energy scope (model.md 14.3-14.4).

    Returns
    -------
    tuple of pandas.DataFrame
        The best split per (``scope``, ``pruning``, ``bandwidth`` [Hz], ``distance`` [m], ``access_latency`` [s]):
        ``best_split`` (-1: none feasible), ``best_label``, ``interior``, ``rho``, ``tpot`` [s], ``energy_token``
        [J], ``round_trip`` [s] (the best split's, or that of the one-block split when the best has none), and
        ``feasible_splits``; and every split's solution at every point (``decoding_splits.csv``).

    Parameters
    ----------
    model : str
        A decoder of the zoo.
    prompt_tokens : int
        Prompt length [tokens].
    max_context : int
        Longest context [tokens].
    bandwidths : sequence of float
        Uplink bandwidths [Hz].
    distances : sequence of float
        Device-server distances [m].
    access_latencies : sequence of float
        Uplink access latencies [s].
    ratio_step : float
        Step of the pruning-ratio grid [1].

    References
    ----------
    docs/model.md, sections 14.3 and 14.4.
    """
    require_range("ratio_step", ratio_step, 1e-3, 0.5)
    shape = decoder_shape(model)
    profile = decode_profile(shape, prompt_tokens, max_context)
    ratios = {"with": np.round(np.arange(0.0, 0.99 + 1e-9, ratio_step), 10), "without": np.array([0.0])}
    best_rows, all_rows = [], []
    grid = [
        (s, bw, d, a) for s in ("system", "device") for bw in bandwidths for d in distances for a in access_latencies
    ]
    for scope, bandwidth, distance, access in tqdm(grid, desc="decoding grid"):
        p = problem_at(bandwidth, distance, access, scope)
        b = budgets(p)
        setting = DecodeSetting(prompt_tokens, max_context, downlink_access_latency=access)
        for pruning, grid_ratios in ratios.items():
            solved = solve_decode(p, profile, setting, b, grid_ratios)
            key = {"scope": scope, "pruning": pruning, "bandwidth": bandwidth, "distance": distance,
                   "access_latency": access}  # fmt: skip
            all_rows.append(solved.assign(**key))
            best = best_decode_split(solved)
            one_block_rtt = float(solved.iloc[1]["round_trip"])
            if best is None:
                best_rows.append(key | {"best_split": -1, "best_label": "none", "interior": False, "rho": np.nan,
                                        "tpot": np.nan, "energy_token": np.nan, "round_trip": one_block_rtt,
                                        "feasible_splits": 0})  # fmt: skip
                continue
            interior = 0 < int(best["split"]) < shape.layers
            best_rows.append(key | {"best_split": int(best["split"]), "best_label": best["label"],
                                    "interior": interior, "rho": float(best["rho"]), "tpot": float(best["tpot"]),
                                    "energy_token": float(best["energy_token"]),
                                    "round_trip": float(best["round_trip"]) if interior else one_block_rtt,
                                    "feasible_splits": int(solved["feasible"].sum())})  # fmt: skip
    columns = ["scope", "pruning", "bandwidth", "distance", "access_latency"]
    splits = pd.concat(all_rows, ignore_index=True)
    splits = splits[columns + [c for c in splits.columns if c not in columns]]
    return pd.DataFrame(best_rows), splits


def public_projection(
    tokens_per_s: float = 8.3, round_trip: float = 0.080, round_trip_share: float = 0.64,
    local_tokens_per_s: float = 39.0, projected_round_trip: float = 0.020,
) -> pd.DataFrame:  # fmt: skip
    """The round-trip projection of the public split-inference measurement quoted in issue 28.

    Mistral-7B split between an RTX 3090 (layers 0-1 and 30-31) and a cloud A100 (layers 2-29): 8.3 tokens/s at
    about 80 ms round trip, 64 % of each token's time in the round trip, against 39 tokens/s fully local; its
    model projects 15.9 tokens/s at 20 ms. Per token, time = compute + round trip; the compute is the share not
    spent in the round trip, ``(1 - 0.64) / 8.3`` s; the projection replaces the round trip by 20 ms. The round trip
    implied by the share, ``0.64 / 8.3`` s, is 77 ms ("about 80 ms").

    Returns
    -------
    pandas.DataFrame
        One row per quantity: ``quantity``, ``value`` and ``unit``.

    Parameters
    ----------
    tokens_per_s : float
        Measured split throughput [tokens/s].
    round_trip : float
        Measured round trip [s].
    round_trip_share : float
        Share of a token's time in the round trip [1].
    local_tokens_per_s : float
        Fully local throughput [tokens/s].
    projected_round_trip : float
        The projected round trip [s].

    References
    ----------
    docs/model.md, section 14.
    """
    step = 1.0 / tokens_per_s
    compute = (1.0 - round_trip_share) * step
    implied_rtt = round_trip_share * step
    rows = [
        ("measured tokens/s at ~80 ms", tokens_per_s, "token/s"),
        ("time per token", step, "s"),
        ("round trip implied by the 64 % share", implied_rtt, "s"),
        ("round trip quoted", round_trip, "s"),
        ("compute per token (both machines)", compute, "s"),
        ("projected tokens/s at 20 ms", 1.0 / (compute + projected_round_trip), "token/s"),
        (
            "projected tokens/s at 20 ms, compute = step - 80 ms",
            1.0 / (step - round_trip + projected_round_trip),
            "token/s",
        ),
        ("published projection at 20 ms", 15.9, "token/s"),
        ("fully local (published)", local_tokens_per_s, "token/s"),
        ("local step over split compute", (1.0 / local_tokens_per_s) / compute, "1"),
    ]
    return pd.DataFrame(rows, columns=["quantity", "value", "unit"])


def timing_fit(timings: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
    """Fit the decode-step model ``t = max(F / R, (W + K) / BW)`` (model.md 14.2, one side) to CPU timings.

    The two constants, FLOP rate ``R`` and memory bandwidth ``BW``, are fitted over all rows (Nelder-Mead on the
    mean squared log error, from the machine-free start 1e10 FLOP/s, 1e11 bit/s); the model has no per-call
    overhead, so what the small blocks spend in the framework shows as error.

    Parameters
    ----------
    timings : pandas.DataFrame
        :func:`coinfer.nets.decode_timing.timing_table`.

    Returns
    -------
    tuple of (pandas.DataFrame, dict)
        The rows with ``model_s`` [s] and ``relative_error`` [1]; and ``flop_rate`` [FLOP/s], ``bandwidth``
        [bit/s], ``median_abs_error``, ``max_abs_error`` [1].
    """
    from scipy.optimize import minimize

    measured = timings["median_s"].to_numpy(float)
    flops = timings["decode_flops"].to_numpy(float)
    bits = (timings["weight_bits"] + timings["kv_bits"]).to_numpy(float)

    def model(x: np.ndarray) -> np.ndarray:
        return np.maximum(flops / 10.0 ** x[0], bits / 10.0 ** x[1])

    def loss(x: np.ndarray) -> float:
        return float(np.mean(np.log(model(x) / measured) ** 2))

    x = minimize(loss, np.array([10.0, 11.0]), method="Nelder-Mead", options={"xatol": 1e-8, "fatol": 1e-12}).x
    out = timings.assign(model_s=model(x), relative_error=model(x) / measured - 1.0)
    errors = np.abs(out["relative_error"].to_numpy(float))
    return out, {
        "flop_rate": float(10.0 ** x[0]),
        "bandwidth": float(10.0 ** x[1]),
        "median_abs_error": float(np.median(errors)),
        "max_abs_error": float(errors.max()),
    }
