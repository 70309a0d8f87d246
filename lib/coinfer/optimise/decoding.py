"""The decoding decision of a split decoder LLM: pruning ratio, decode-phase transmit power and clocks per split,
and the best split (model.md section 14.3).

For each split and each pruning ratio of a grid (one ratio on both sides), the least energy per token whose time per
output token meets its budget is found exactly (to bisection tolerance): every part's energy is convex in its time
(device and server through their clocks, the uplink through its power), so with a multiplier ``lam`` on the TPOT
budget each part minimises ``E + lam t`` on its own, the clocks in closed form ``f = ((eta P_st + lam) / (2 eta
psi))^(1/3)`` clipped to ``[f_min, f_hi]`` (``f_hi``: the clock at which the side becomes memory-bound, or
``f_max``), the uplink by bisection on its air time; ``lam`` is bisected until the TPOT budget holds. The prefill runs
at full resources (its clocks and power at their maxima: the least TTFT). A ratio is feasible when TTFT, TPOT,
energy per token and device memory all meet their limits; a split's answer is its least feasible ratio on the grid.
The best split has the least ratio (the least distortion: the same ratio on both sides, distortion increasing in
it), then the least energy per token, then the least TPOT, then the lowest split index.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from coinfer.base.validation import require_range
from coinfer.model.decoding import DecodeSetting, decode_costs, downlink_time
from coinfer.model.system import Decision, Problem

__all__ = ["DecodeBudgets", "best_decode_split", "solve_decode"]

_BISECTIONS = 80


@dataclass(frozen=True)
class DecodeBudgets:
    """Budgets of the decoding phase (model.md 14.3): TTFT [s], TPOT [s], energy per output token [J]."""

    ttft: float
    tpot: float
    energy_token: float

    def __post_init__(self) -> None:
        require_range("ttft", self.ttft, 0.0, low_open=True)
        require_range("tpot", self.tpot, 0.0, low_open=True)
        require_range("energy_token", self.energy_token, 0.0, low_open=True)


def _side_arrays(problem: Problem, profile: pd.DataFrame, side: str, context: int, rho: np.ndarray) -> dict:
    flops = profile[f"decode_flops_{side}"].to_numpy(float)[:, None]
    fixed = profile[f"decode_fixed_{side}"].to_numpy(float)[:, None]
    prunable = profile[f"prunable_{side}"].to_numpy(float)[:, None]
    kv = profile[f"kv_bits_per_token_{side}"].to_numpy(float)[:, None] * context
    cycles = ((1.0 - rho) * (flops - fixed) + fixed) / getattr(problem, f"flops_per_cycle_{side}")
    bits = problem.bits_per_weight * prunable * (1.0 - rho) + kv
    memory_time = bits / getattr(problem, f"memory_bandwidth_{side}")
    f_min, f_max = (
        getattr(problem, f"f_{side}_min"),
        getattr(problem, f"{'f_device_max' if side == 'device' else 'f_server_max'}"),
    )
    with np.errstate(divide="ignore", invalid="ignore"):
        f_bound = np.where(memory_time > 0, cycles / memory_time, np.inf)
    f_hi = np.minimum(f_max, np.maximum(f_bound, f_min))
    return {
        "cycles": cycles,
        "bits": bits,
        "memory_time": memory_time,
        "f_min": f_min,
        "f_hi": f_hi,
        "work": cycles > 0,
    }


def _side_at(problem: Problem, side: str, a: dict, lam: np.ndarray, weight: float) -> tuple[np.ndarray, ...]:
    eta, psi, static = (getattr(problem, f"{k}_{side}") for k in ("pue", "psi", "static_power"))
    with np.errstate(divide="ignore", invalid="ignore"):
        f = (
            np.cbrt((weight * eta * static + lam) / (2.0 * weight * eta * psi))
            if weight > 0
            else np.full_like(lam, np.inf)
        )
    f = np.clip(f, a["f_min"], a["f_hi"])
    f = np.where(a["work"], f, a["f_hi"])
    with np.errstate(divide="ignore", invalid="ignore"):
        t = np.where(a["work"], np.maximum(a["cycles"] / f, a["memory_time"]), a["memory_time"])
    energy = eta * (psi * a["cycles"] * f * f + static * t + getattr(problem, f"memory_energy_{side}") * a["bits"])
    return f, t, energy


def _uplink_at(problem: Problem, bits: float, lam: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Air time, power and energy minimising ``(p + P_c) t + lam t`` for ``bits`` (convex in the air time ``t``)."""
    noise = problem.noise_power
    a = bits / problem.bandwidth  # 2^(a / t) - 1 = p / noise
    t_min = bits / (problem.bandwidth * math.log2(1.0 + problem.p_max / noise))

    def slope(t: np.ndarray) -> np.ndarray:
        x = np.exp2(a / t)
        return noise * (x - 1.0 - a * math.log(2.0) / t * x) + problem.circuit_power + lam

    lo = np.full_like(lam, t_min)
    hi = np.full_like(lam, t_min * 2.0**40)
    for _ in range(_BISECTIONS):
        mid = np.sqrt(lo * hi)
        up = slope(mid) > 0
        hi = np.where(up, mid, hi)
        lo = np.where(up, lo, mid)
    t = np.where(slope(np.full_like(lam, t_min)) >= 0, t_min, hi)
    power = np.minimum(noise * (np.exp2(a / t) - 1.0), problem.p_max)
    return t, power, (power + problem.circuit_power) * t


def solve_decode(
    problem: Problem,
    profile: pd.DataFrame,
    setting: DecodeSetting,
    budgets: DecodeBudgets,
    ratios: np.ndarray,
) -> pd.DataFrame:
    """Least feasible pruning ratio of each split, with its decode decision and costs (model.md 14.3).

    Parameters
    ----------
    problem : Problem
        Hardware, radio, ``rho_max`` and energy scope.
    profile : pandas.DataFrame
        :func:`coinfer.nets.decoding.decode_profile` at ``setting.prompt_tokens`` and ``setting.max_context``.
    setting : DecodeSetting
        Prompt, context, device memory.
    budgets : DecodeBudgets
        TTFT, TPOT, energy per token.
    ratios : numpy.ndarray
        Increasing grid of ratios in ``[0, rho_max]`` tried (one ratio on both sides) [1].

    Returns
    -------
    pandas.DataFrame
        Per split: ``split``, ``feasible``, ``rho`` (least feasible ratio, NaN if none), ``power`` [W],
        ``f_device``, ``f_server`` [Hz] of the decode phase, ``ttft``, ``tpot`` [s], ``energy_token`` [J],
        ``device_memory`` [bit], ``round_trip`` [s], ``t_device``, ``t_server`` [s], and ``reason`` (the first
        limit broken at the largest ratio when infeasible).
    """
    ratios = np.asarray(ratios, dtype=float)
    if ratios.ndim != 1 or ratios.size == 0 or np.any(np.diff(ratios) <= 0):
        raise ValueError("ratios: expected a non-empty increasing 1-D grid")
    require_range("ratios", float(ratios[0]), 0.0, problem.rho_max)
    require_range("ratios", float(ratios[-1]), 0.0, problem.rho_max)
    n = setting.max_context
    rho = ratios[None, :]
    dev = _side_arrays(problem, profile, "device", n, rho)
    srv = _side_arrays(problem, profile, "server", n, rho)
    w_server = 1.0 if problem.energy_scope == "system" else 0.0
    interior = (profile["bits_up"].to_numpy(float) > 0)[:, None]
    bits_up = float(profile["bits_up"].max())
    shape = (len(profile), ratios.size)
    t_down = downlink_time(setting)
    e_down = setting.downlink_circuit_power * setting.slot_duration
    sends_down = (profile["bits_down"].to_numpy(float) > 0)[:, None]

    def at(lam: np.ndarray) -> tuple[np.ndarray, ...]:
        f_d, t_d, e_d = _side_at(problem, "device", dev, lam, 1.0)
        f_s, t_s, e_s = _side_at(problem, "server", srv, lam, w_server)
        if bits_up > 0:
            air, power, e_up = _uplink_at(problem, bits_up, lam)
        else:
            air = power = e_up = np.zeros_like(lam)
        rtt = np.where(interior, air + problem.access_latency + t_down, 0.0)
        tpot = t_d + t_s + rtt
        energy = e_d + w_server * e_s + np.where(interior, e_up, 0.0) + np.where(sends_down, e_down, 0.0)
        return tpot, energy, f_d, f_s, np.where(interior, power, 0.0), rtt, t_d, t_s

    zero = np.zeros(shape)
    tpot0 = at(zero)[0]
    lo, hi = np.full(shape, 1e-12), np.full(shape, 1e12)
    for _ in range(_BISECTIONS):
        mid = np.sqrt(lo * hi)
        ok = at(mid)[0] <= budgets.tpot
        hi = np.where(ok, mid, hi)
        lo = np.where(ok, lo, mid)
    lam = np.where(tpot0 <= budgets.tpot, 0.0, hi)
    tpot, energy, f_d, f_s, power, rtt, t_d, t_s = at(lam)
    rows = []
    for i, row in enumerate(profile.to_dict("records")):
        found = None
        reason = ""
        for j, r in enumerate(ratios):
            prefill = Decision(r, r, problem.p_max, problem.f_device_max, problem.f_server_max)
            decode = Decision(r, r, float(power[i, j]), float(f_d[i, j]), float(f_s[i, j]))
            costs = decode_costs(problem, row, setting, prefill, decode)
            checks = (
                ("ttft", costs.ttft <= budgets.ttft * (1 + 1e-9)),
                ("tpot", tpot[i, j] <= budgets.tpot * (1 + 1e-9)),
                ("energy_token", energy[i, j] <= budgets.energy_token * (1 + 1e-9)),
                ("device_memory", costs.device_memory <= setting.device_memory),
            )
            failed = [name for name, ok in checks if not ok]
            if not failed:
                found = (r, decode, costs)
                break
            reason = failed[0]
        base = {"split": int(row["split"]), "label": row["label"], "feasible": found is not None}
        if found is None:
            r = ratios[-1]
            decode = Decision(r, r, float(power[i, -1]), float(f_d[i, -1]), float(f_s[i, -1]))
            prefill = Decision(r, r, problem.p_max, problem.f_device_max, problem.f_server_max)
            costs = decode_costs(problem, row, setting, prefill, decode)
            rows.append(base | _row(math.nan, decode, costs) | {"reason": reason})
        else:
            rows.append(base | _row(found[0], found[1], found[2]) | {"reason": ""})
    return pd.DataFrame(rows)


def _row(rho: float, decode: Decision, costs: object) -> dict:
    c = costs.__dict__
    return {
        "rho": rho,
        "power": decode.power,
        "f_device": decode.f_device,
        "f_server": decode.f_server,
        **{k: c[k] for k in ("ttft", "tpot", "energy_token", "device_memory", "round_trip", "t_device", "t_server")},
    }


def best_decode_split(solved: pd.DataFrame) -> pd.Series | None:
    """The best split of :func:`solve_decode`'s table (model.md 14.3), ``None`` when none is feasible.

    The best split of :func:`solve_decode`'s table: least ratio, then energy per token, TPOT and split index
    (model.md 14.3); ``None`` when no split is feasible.

    Parameters
    ----------
    solved : pandas.DataFrame
        The table of :func:`solve_decode` (ratios [1], TPOT [s], energy per token [J]).

    Returns
    -------
    pandas.Series or None
        The row of the best split.

    References
    ----------
    docs/model.md, section 14.3.
    """
    feasible = solved[solved["feasible"]]
    if feasible.empty:
        return None
    return feasible.sort_values(["rho", "energy_token", "tpot", "split"], kind="stable").iloc[0]
