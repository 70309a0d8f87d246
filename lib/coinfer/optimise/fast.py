"""The fast dedicated solver for one split (model.md section 5): KKT structure, a 2-D Newton, 1-D roots.

The algorithm is described in :func:`solve`'s docstring; its steps run compiled
(:mod:`coinfer.optimise.kernel`). It returns the same optimum as
:func:`coinfer.optimise.conic.solve_reference`, several hundred times
faster (``benchmarks/bench_solver.py``). :class:`_Model` holds the building
blocks in Python (resources, times, energies, the least energy at fixed ratios,
the least-distortion ratios for a budget), which the benchmark schemes and the
conic reference use and which the compiled steps follow operation for
operation. Every returned decision is checked in the original variables
(:func:`polish`, :func:`_answer`); infeasible instances are an answer (status
``"infeasible"`` with a ``reason`` naming the binding limit and its numbers).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from operator import attrgetter

import numpy as np

from coinfer.model.system import LN2, Decision, Problem, _decision_terms, _meets_constraints, evaluate
from coinfer.optimise import kernel
from coinfer.optimise.kernel import _tx_exponent
from coinfer.optimise.slopes import (
    _magnitude_ratios,
    _paired_ratios,
    _ratio_and_derivative,
    _slope,
    _slope_table,
    flat_end,
)
from coinfer.optimise.solution import _EDGE, Solution, _infeasible, _optimal


class _Model:
    """Plain-float view of a :class:`Problem` and the solver's building blocks in Python (model.md sections 2, 5.3):
    the benchmark schemes and the conic reference use them; ``kernel`` compiles the same operations."""

    __slots__ = (
        "problem", "T0", "E0", "rho_max", "model", "q", "shared", "a", "g", "runs", "fmax", "k", "counted", "c",
        "two_pruned", "S", "B", "pmax", "C", "u_max", "nu_sat_f", "nu_sat_tx", "nu_sat", "rho_flat", "rho_top",
    )  # fmt: skip

    def __init__(self, problem: Problem):
        # Each field is read once into a local: this set-up runs once per solve, and on a cold cache (a solve
        # between other work) its attribute reads are a good part of a fast solve's time.
        p = problem
        self.problem = p
        self.T0 = p.latency_budget
        self.E0 = p.energy_budget
        self.rho_max = rho_max = p.rho_max
        self.model = model = p.distortion_model
        self.q = q = p.bits_per_weight
        self.shared = shared = p.shared_ratio
        # Each side runs W(rho) = a (1 - rho) + g cycles; a side "runs" when W(0) > 0.
        cycles = p._cycles
        a_d, g_d = cycles["device"]
        a_s, g_s = cycles["server"]
        self.a, self.g = (a_d, a_s), (g_d, g_s)
        self.runs = runs = (a_d + g_d > 0, a_s + g_s > 0)
        self.fmax = fmax_d, fmax_s = (p.f_device_max, p.f_server_max)
        self.k = k_d, k_s = (p.pue_device * p.psi_device, p.pue_server * p.psi_server)
        counted_s = p.energy_scope == "system"
        self.counted = (True, counted_s)
        params_d, params_s = p.params_device, p.params_server
        total = params_d + params_s
        self.c = c_d, c_s = (params_d / total * p.scale_device, params_s / total * p.scale_server)
        # Two sides with their own ratio, each with work to prune and weights to lose: step 4 of solve then
        # has two free multipliers (the price of time and the ratio multiplier).
        self.two_pruned = not shared and a_d > 0 and a_s > 0 and c_d > 0 and c_s > 0
        self.S = S = p.feature_bits
        self.B, self.pmax = p.bandwidth, p.p_max
        self.C = C = p.noise_power
        self.u_max = u_max = math.log1p(self.pmax / C)
        # nu (W) at which each resource reaches its maximum: 2 k fmax^3 and C((u-1)e^u + 1).
        self.nu_sat_f = nu_sat_d, nu_sat_s = (2 * k_d * fmax_d**3, 2 * k_s * fmax_s**3 if counted_s else 0.0)
        self.nu_sat_tx = nu_sat_tx = C * ((u_max - 1.0) * math.exp(u_max) + 1.0) if S > 0 else 0.0
        self.nu_sat = max(nu_sat_tx, nu_sat_d if runs[0] else 0.0, nu_sat_s if runs[1] else 0.0)
        flat = min(0.0 if model == "magnitude" else flat_end(q), rho_max)
        if shared:
            self.rho_flat = (flat, flat)
            self.rho_top = (rho_max, rho_max) if a_d > 0 or a_s > 0 else (flat, flat)
        else:
            # The flat point: the least distortion at the least work. A side without
            # parameters is pruned for free; a side without FLOPs gains nothing from pruning.
            flat_d = rho_max if c_d == 0 and a_d > 0 else flat
            flat_s = rho_max if c_s == 0 and a_s > 0 else flat
            self.rho_flat = (flat_d, flat_s)
            self.rho_top = (rho_max if a_d > 0 else flat_d, rho_max if a_s > 0 else flat_s)

    # resources as functions of the price of time nu = lambda / mu (W)
    def resources(self, nu: float) -> tuple[float, float, float]:
        """``(f_d, f_s, u)`` minimising ``energy + nu * time`` per cycle / per sent bit; ``u = S ln2/(B t_tx)``."""
        fmax, nu_sat_f, k = self.fmax, self.nu_sat_f, self.k
        # The device's energy always counts; the server's only with energy_scope "system" (counted[1]).
        f_d = fmax[0] if nu >= nu_sat_f[0] else (nu / (2 * k[0])) ** (1 / 3)
        f_s = fmax[1] if not self.counted[1] or nu >= nu_sat_f[1] else (nu / (2 * k[1])) ** (1 / 3)
        if self.S <= 0 or nu >= self.nu_sat_tx:
            u = self.u_max
        else:
            u = max(min(_tx_exponent(nu / self.C), self.u_max), 1e-300)
        return f_d, f_s, u

    def max_resources(self) -> tuple[float, float, float]:
        return self.fmax[0], self.fmax[1], self.u_max

    def tx(self, u: float) -> tuple[float, float, float]:
        """``(t_tx, E_tx, p)`` at ``u``."""
        if self.S <= 0:
            return 0.0, 0.0, 0.0
        t = self.S * LN2 / (self.B * u)
        p = self.C * math.expm1(u)
        return t, p * t, p

    def work(self, i: int, rho: float) -> float:
        """Cycles ``a (1 - rho) + g`` of side ``i``."""
        return self.a[i] * (1 - rho) + self.g[i]

    def time(self, rho, res) -> float:
        a, g, runs = self.a, self.g, self.runs
        t = self.S * LN2 / (self.B * res[2]) if self.S > 0 else 0.0
        if runs[0]:
            t += (a[0] * (1 - rho[0]) + g[0]) / res[0]
        if runs[1]:
            t += (a[1] * (1 - rho[1]) + g[1]) / res[1]
        return t

    def energy(self, rho, res) -> float:
        a, g, k, runs = self.a, self.g, self.k, self.runs
        e = self.tx(res[2])[1]
        if runs[0]:
            e += k[0] * (a[0] * (1 - rho[0]) + g[0]) * (res[0] * res[0])
        if runs[1] and self.counted[1]:
            e += k[1] * (a[1] * (1 - rho[1]) + g[1]) * (res[1] * res[1])
        return e

    def min_energy(self, rho, t_top: float | None = None) -> tuple[float, float, tuple[float, float, float]]:
        """Least energy meeting the latency budget at fixed ratios: ``(E, nu, resources)``.

        Each resource then minimises ``energy + nu * time``; the price ``nu`` is
        found by a 1-D root on ``time(nu) = T0`` (time falls as nu grows).
        ``t_top`` is the time at ``rho`` and maximum resources, if the caller has it.
        """
        top = self.max_resources()
        if t_top is None:
            t_top = self.time(rho, top)
        if self.nu_sat <= 0 or t_top >= self.T0:
            return self.energy(rho, top), math.inf, top
        hi = math.log(self.nu_sat)
        lo = hi - 2.0
        for _ in range(400):
            if self.time(rho, self.resources(math.exp(lo))) > self.T0:
                break
            hi = lo
            lo -= 4.0
        else:
            res = self.resources(math.exp(lo))
            return self.energy(rho, res), math.exp(lo), res
        x = _newton_decreasing(lambda y: self._log_time_and_slope(rho, y), lo, hi, None, rtol=1e-13)
        res = self.resources(math.exp(x))
        return self.energy(rho, res), math.exp(x), res

    def _log_time_and_slope(self, rho, x: float) -> tuple[float, float]:
        """``ln(time / T0)`` (the sign of ``time - T0``) at the resources of price ``nu = e^x``, and its
        derivative in ``x``: nearly linear in ``x`` (each priced time falls like ``nu^(-1/3)``), so Newton
        needs fewer steps than on the time itself."""
        nu = math.exp(x)
        f_d, f_s, u = self.resources(nu)
        T0, a, g, runs, nu_sat_f = self.T0, self.a, self.g, self.runs, self.nu_sat_f
        t_tx = slope = 0.0
        if self.S > 0:
            t_tx = self.S * LN2 / (self.B * u)
            if nu < self.nu_sat_tx:
                slope = -t_tx / u * nu / (self.C * u * math.exp(u))  # du/dx from C((u - 1) e^u + 1) = nu
        gap = t_tx - T0
        if runs[0]:
            t_d = (a[0] * (1 - rho[0]) + g[0]) / f_d
            gap += t_d
            if nu < nu_sat_f[0]:
                slope -= t_d / 3.0  # f ~ nu^(1/3)
        if runs[1]:
            t_s = (a[1] * (1 - rho[1]) + g[1]) / f_s
            gap += t_s
            if self.counted[1] and nu < nu_sat_f[1]:
                slope -= t_s / 3.0
        return math.log1p(gap / T0), slope / (T0 + gap)

    # ratios for a given weighted work budget
    def ratios(self, alpha, const: float, target: float) -> tuple[float, float]:
        """Ratios of the least distortion with ``sum_i alpha_i a_i (1 - rho_i) + const <= target``
        (KKT: each side's marginal distortion ``c_i D'(rho_i) = m alpha_i a_i``, one multiplier ``m``)."""
        (a_d, a_s), (flat_d, flat_s) = self.a, self.rho_flat
        w_d = alpha[0] * a_d if a_d > 0 else 0.0
        w_s = alpha[1] * a_s if a_s > 0 else 0.0
        if const + w_d * (1 - flat_d) + w_s * (1 - flat_s) <= target:
            return self.rho_flat
        # The most useful pruning: sides that do not load this budget stay at the flat point.
        top_d = self.rho_top[0] if w_d > 0 else flat_d
        top_s = self.rho_top[1] if w_s > 0 else flat_s
        if const + w_d * (1 - top_d) + w_s * (1 - top_s) >= target:
            return top_d, top_s
        rmax = self.rho_max
        if self.shared:
            common = 1.0 - (target - const) / (w_d + w_s)
            common = min(max(common, flat_d), rmax)
            return common, common
        c_d, c_s = self.c
        if not (w_d > 0 and c_d > 0 and w_s > 0 and c_s > 0):  # one side to prune: the budget fixes its ratio
            if w_d > 0 and c_d > 0:
                rho = 1.0 - (target - const - w_s * (1 - flat_s)) / w_d
                return min(max(rho, flat_d), rmax), flat_s
            rho = 1.0 - (target - const - w_d * (1 - flat_d)) / w_s
            return flat_d, min(max(rho, flat_s), rmax)
        sigma_d, sigma_s = w_d / c_d, w_s / c_s
        model, q = self.model, self.q
        # Start at the multiplier at which a common ratio would meet the budget, with the sides'
        # log-slopes averaged by their loads (Newton then needs ~3 steps).
        common = min(max(1.0 - (target - const) / (w_d + w_s), 1e-6), 0.999999 * rmax)
        log_sigma_d, log_sigma_s = math.log(sigma_d), math.log(sigma_s)
        mean_log_sigma = (w_d * log_sigma_d + w_s * log_sigma_s) / (w_d + w_s)
        start = math.log(max(_slope(common, model, q), 1e-300)) - mean_log_sigma
        # Newton where the slope has a closed form: in the multiplier itself (magnitude), in the ratios'
        # logits (rd_bound, when neither ratio is clipped); else the 1-D root in the log multiplier.
        if model == "magnitude":
            paired = _magnitude_ratios((sigma_d, sigma_s), (w_d, w_s), target - const, rmax, start)
        else:
            paired = _paired_ratios((log_sigma_d, log_sigma_s), (w_d, w_s), target - const, q, rmax, start)
        if paired is not None:
            return paired
        return self._multiplier_ratios((w_d, w_s), (sigma_d, sigma_s), target - const, start)

    def _multiplier_ratios(self, weight, sigma, budget: float, start: float) -> tuple[float, float]:
        """:meth:`ratios` of two pruned sides by the 1-D root in the log multiplier (a ratio clipped)."""
        model, q, rmax = self.model, self.q, self.rho_max
        smax = _slope(rmax, model, q)
        m_hi = max(smax / sigma[0], smax / sigma[1])
        if model == "magnitude":
            m_lo = m_hi * 1e-40
        else:
            s0 = max(_slope(flat_end(q), model, q), 1e-300)
            m_lo = max(min(s0 / sigma[0], s0 / sigma[1]), m_hi * 1e-300, 1e-300)

        guesses = ([None], [None])
        seen: dict[float, tuple[float, float]] = {}

        def gap_and_slope(y: float) -> tuple[float, float]:
            s = math.exp(y)
            g, dg = -budget, 0.0
            pair = [0.0, 0.0]
            for i in (0, 1):
                pair[i], slope = _ratio_and_derivative(s * sigma[i], model, q, rmax, guesses[i])
                g += weight[i] * (1 - pair[i])
                dg -= weight[i] * slope
            seen[y] = (pair[0], pair[1])
            return g, dg

        y = _newton_decreasing(gap_and_slope, math.log(m_lo), math.log(m_hi), start)
        if y not in seen:
            gap_and_slope(y)
        return seen[y]

    def latency_ratios(self, res) -> tuple[float, float]:
        """Least-distortion ratios that meet the latency budget at fixed resources."""
        return self.ratios((1 / res[0], 1 / res[1]), self._fixed_time(res), self.T0)

    def _fixed_time(self, res) -> float:
        """Time that pruning cannot remove at resources ``res``: upload plus fixed cycles."""
        g_d, g_s = self.g
        fixed = 0.0
        if g_d > 0:
            fixed += g_d / res[0]
        if g_s > 0:
            fixed += g_s / res[1]
        return (self.S * LN2 / (self.B * res[2]) if self.S > 0 else 0.0) + fixed

    def _fixed_energy(self, res) -> float:
        """Energy that pruning cannot remove at resources ``res``: upload plus fixed cycles."""
        fixed = sum(self.k[i] * self.g[i] * (res[i] * res[i]) for i in (0, 1) if self.g[i] > 0 and self.counted[i])
        return self.tx(res[2])[1] + fixed


def _newton_decreasing(
    func: Callable[[float], tuple[float, float]], lo: float, hi: float, start: float | None, rtol: float = 1e-14
) -> float:
    """Root of a non-increasing ``g`` on ``[lo, hi]`` (``func`` returns ``(g, g')``), from the feasible side.

    Safeguarded Newton (bisection when a step leaves the bracket). Returns a
    point with ``g <= 0`` within ~1e-14 of the root, or ``hi`` if ``g > 0``
    on the whole bracket, or ``lo`` if ``g <= 0`` on the whole bracket.
    """
    y = start if start is not None and lo < start < hi else 0.5 * (lo + hi)
    lo0, hi_feasible = lo, None
    last = False
    for _ in range(200):
        g, dg = func(y)
        if g <= 0:
            hi, hi_feasible = y, y
            if last:  # the step that quadratic convergence makes final landed on the feasible side
                break
        else:
            lo = y
        tol = rtol * max(1.0, abs(y))
        if g == 0 or hi - lo <= tol:
            break
        step = -g / dg if dg < 0 else math.inf
        if abs(step) <= tol:
            if g <= 0:
                break
            step = 2 * tol  # converged from the infeasible side: step over the root
        # Within 1e-7 of the root Newton's next point is within ~1e-14 of it: aim just past the root
        # (g <= 0) and stop there, instead of a further step that only confirms convergence.
        last = abs(step) <= 1e-7 * max(1.0, abs(y))
        if last:
            step += 2 * tol
        nxt = y + step
        if not lo < nxt < hi:
            nxt = 0.5 * (lo + hi)
        y = nxt
    if hi_feasible is None:
        return hi
    return lo0 if hi_feasible <= lo0 else hi_feasible


def _decision(m: _Model, rho, res) -> Decision:
    f_d = res[0] if m.runs[0] else m.fmax[0]
    f_s = res[1] if m.runs[1] else m.fmax[1]
    power = (m.pmax if res[2] >= m.u_max else min(m.tx(res[2])[2], m.pmax)) if m.S > 0 else 0.0
    return Decision(float(rho[0]), float(rho[1]), float(power), float(f_d), float(f_s))


def polish(problem: Problem, decision: Decision) -> Decision:
    """Make a (nearly) optimal decision feasible in the original variables (model.md section 2).

    Solver roots and conic tolerances leave residuals of a few ulps (or
    ~1e-9 for cvxpy). With the resources fixed, latency and energy are affine
    in each side's kept work ``(1 - rho) F``, so the residual is removed by
    pruning a little more on the side where it costs the least distortion per
    unit of violation removed. Power and frequencies are clipped to their limits.
    """
    d = decision
    return Decision(*_polish(problem, [d.rho_device, d.rho_server, d.power, d.f_device, d.f_server])[0])


def _polish(problem: Problem, d: list[float], terms: tuple | None = None) -> tuple[list[float], tuple | None]:
    """:func:`polish` of the decision values ``d`` (``rho_d, rho_s, power, f_d, f_s``) in place, and the polished
    decision's :func:`coinfer.system._decision_terms` when it breaks no constraint at rtol 0 (else ``None``).

    ``terms`` are the :func:`coinfer.system._decision_terms` of ``d`` if the caller has them."""
    p = problem
    given = list(d)
    rho_max = p.rho_max
    d[0] = min(max(d[0], 0.0), rho_max)
    d[1] = min(max(d[1], 0.0), rho_max)
    d[2] = min(max(d[2], 0.0), p.p_max)
    d[3] = min(d[3], p.f_device_max)
    d[4] = min(d[4], p.f_server_max)
    if p.shared_ratio and d[0] != d[1]:
        d[0] = d[1] = max(d[0], d[1])
    if terms is None or d != given:  # the clipping moved the decision
        terms = _decision_terms(p, d[0], d[1], d[2], d[3], d[4])
    if _meets_constraints(p, d[0], d[1], d[2], d[3], d[4], terms[0], terms[1]):  # the common case
        return d, terms
    cycles = (p.cycles("device")[0], p.cycles("server")[0])
    k = (p.pue_device * p.psi_device, p.pue_server * p.psi_server)
    counted = (True, p.energy_scope == "system")
    weight = (p.params_device * p.scale_device, p.params_server * p.scale_server)
    model, q = p.distortion_model, p.bits_per_weight
    for attempt in range(6):
        if attempt:
            terms = _decision_terms(p, d[0], d[1], d[2], d[3], d[4])
            if _meets_constraints(p, d[0], d[1], d[2], d[3], d[4], terms[0], terms[1]):
                return d, terms
        need_t = max(terms[0] - p.latency_budget, 0.0)
        need_e = max(terms[1] - p.energy_budget, 0.0)
        if need_t == 0 and need_e == 0:
            break  # a box violation that clipping cannot fix
        groups = [(0, 1)] if p.shared_ratio else [(0,), (1,)]
        options = []
        for g in groups:
            tau = sum(cycles[i] / d[3 + i] for i in g)
            eps = sum(k[i] * cycles[i] * (d[3 + i] * d[3 + i]) for i in g if counted[i])
            room = rho_max - d[g[0]]
            if room <= 0 or (need_t > 0 and tau <= 0) or (need_e > 0 and eps <= 0):
                continue
            step = max(need_t / tau if need_t > 0 else 0.0, need_e / eps if need_e > 0 else 0.0)
            step = step * (1 + 1e-9) + 4e-16
            price = sum(weight[i] * _slope(min(d[i] + step, rho_max), model, q) for i in g) + 1e-300
            options.append((price * step, g, min(step, room)))
        if not options:
            break
        _, g, step = min(options)
        for i in g:
            d[i] = min(d[i] + step, rho_max)
    return d, None


def _answer(problem: Problem, decision: Decision, note: str | None = None) -> Solution:
    """The :class:`Solution` of a (nearly) optimal decision: canonical values, :func:`polish`, evaluation."""
    d = decision
    return _answer_values(problem, d.rho_device, d.rho_server, d.power, d.f_device, d.f_server, note)


def _answer_values(
    problem: Problem,
    rho_d: float,
    rho_s: float,
    power: float,
    f_d: float,
    f_s: float,
    note: str | None = None,
    terms: tuple | None = None,
) -> Solution:
    """:func:`_answer` of a decision given as plain floats (no :class:`Decision` or :class:`Evaluation` is built
    unless the polish leaves a violation); ``terms``: its :func:`coinfer.system._decision_terms`, if known (with
    its canonical values applied)."""
    # Canonical values first (model.md section 8.4): they are variables without effect, which the polish
    # never moves, so the polished decision's evaluation is the answer's.
    canonical = problem._canonical
    if canonical:
        get = canonical.get
        rho_d, rho_s, power = get("rho_device", rho_d), get("rho_server", rho_s), get("power", power)
        f_d, f_s = get("f_device", f_d), get("f_server", f_s)
    d, terms = _polish(problem, [rho_d, rho_s, power, f_d, f_s], terms)
    if terms is not None:  # no violation at rtol 0, so none at the default rtol
        return _optimal(d[0], d[1], d[2], d[3], d[4], terms[2], terms[0], terms[1], note)
    ev = evaluate(problem, Decision(*d))
    reason = note
    status = "optimal"
    if ev.violations:  # never call a point optimal that breaks a constraint, however slightly
        status = "solver_error"
        reason = ((note + "; ") if note else "") + "residual violation: " + "; ".join(ev.violations)
    return Solution(status, d[0], d[1], d[2], d[3], d[4], ev.objective, ev.latency, ev.energy, reason)


def _limits_text(m: _Model) -> str:
    """The resource limits of the sides that run and of the uplink, for the reasons of infeasible answers."""
    return _limits(m.runs, m.fmax, m.S > 0, m.pmax)


def _limits(runs: tuple[bool, bool], fmax: tuple[float, float], sent: bool, p_max: float) -> str:
    """:func:`_limits_text` from plain values."""
    parts = []
    if runs[0]:
        parts.append(f"f_device_max={fmax[0]:.4g} Hz")
    if runs[1]:
        parts.append(f"f_server_max={fmax[1]:.4g} Hz")
    if sent:
        parts.append(f"p_max={p_max:.4g} W")
    return ", ".join(parts) if parts else "no workload"


def _latency_floor_reason(floor_t: float, rho_max: float, limits: str, latency_budget: float) -> str:
    """The ``reason`` of an instance whose latency floor exceeds its budget (model.md section 5.7)."""
    return (
        f"latency floor {floor_t:.10g} s at rho_max={rho_max:g}, {limits} "
        f"exceeds latency_budget {latency_budget:.10g} s"
    )


def _energy_floor_reason(e_min: float, scope: str, rho_max: float, latency_budget: float, energy_budget: float) -> str:
    """The ``reason`` of an instance whose least energy at the latency floor exceeds its budget (section 5.7)."""
    return (
        f"energy floor {e_min:.10g} J ({scope}) at rho_max={rho_max:g} within "
        f"latency_budget {latency_budget:.10g} s exceeds energy_budget {energy_budget:.10g} J"
    )


def _floors(m: _Model, floor_t: float | None = None) -> tuple[Solution | None, tuple]:
    """Feasibility at the most favourable workload (model.md section 5: 'latency floor at rho_max, P_max, f_max').

    ``floor_t`` is that workload's latency at maximum resources, if the caller has it.
    """
    top = m.rho_top
    if floor_t is None:
        floor_t = m.time(top, m.max_resources())
    if floor_t > m.T0 * (1 + _EDGE):
        limits = _limits(m.runs, m.fmax, m.S > 0, m.pmax)
        return _infeasible(_latency_floor_reason(floor_t, m.rho_max, limits, m.T0)), ()
    e_min, nu_min, res_min = m.min_energy(top, floor_t)
    if e_min > m.E0 * (1 + _EDGE):
        return _infeasible(_energy_floor_reason(e_min, m.problem.energy_scope, m.rho_max, m.T0, m.E0)), ()
    return None, (floor_t, e_min, nu_min, res_min)


def solve(problem: Problem) -> Solution:
    """Globally optimal ratios, power and frequencies for one split (model.md section 5), by KKT structure.

    With multipliers ``lambda`` (latency) and ``mu`` (energy) the Lagrangian
    separates. Each resource depends only on the price of time
    ``nu = lambda / mu``: ``f = min(f_max, (nu / (2 eta psi))^(1/3))`` (``f_max``
    when its energy is not counted) and the uplink's ``u = S ln2 / (B t_tx)``
    solves ``C((u - 1) e^u + 1) = nu`` (Lambert W), clipped at ``P_max``. Each
    ratio equates marginal distortion with ``mu (eta psi f^2 + nu / f) F / c``.
    The solver (1) checks the floor at ``rho_max`` with maximum resources
    (latency) and the least energy there (energy; a 1-D root in ``nu``, needed
    only when the energy at maximum resources does not already fit with
    slack); (2) returns the least distortion point if its least energy fits
    the budget; (3) returns the latency-only optimum at maximum resources
    (``mu = 0``; a safeguarded Newton in the log multiplier) if its energy
    fits; (4) otherwise both budgets bind. With two pruned sides it solves
    ``T(x, y) = T0`` and ``E(x, y) = E0`` jointly, ``x = ln nu`` and ``y`` the
    log ratio multiplier, by a damped 2-D Newton iteration on
    ``(ln T/T0, ln E/E0)``. If that does not converge within
    ``kernel.JOINT_NEWTON_EVALUATIONS`` evaluations it falls back to nested
    roots: for each ``nu`` the latency budget fixes ``mu`` (inner 1-D root,
    safeguarded Newton in ``log mu``), and the energy at that point increases
    with ``nu`` (checked by a test), so an outer 1-D root in ``log nu`` meets
    the energy budget (safeguarded Newton with the slope along the path from
    the implicit function theorem; Brent when a side has nothing to prune).
    Any such point satisfies the KKT conditions of the convex reformulation,
    so it is the global optimum. The result is polished to be feasible in the
    original variables (:func:`polish`).

    The steps run compiled (:func:`coinfer.optimise.kernel.solve_row`, from the building blocks of
    :class:`_Model`); :func:`coinfer.optimise.solve_batch` runs the same code over many problems.
    """
    keys, logits = _slope_table(problem.bits_per_weight)
    code, _, out = kernel.solve_row(_row(problem), keys, logits, kernel.JOINT_NEWTON_EVALUATIONS)
    return _solution_of(problem, code, out)


#: The numeric fields of a :mod:`coinfer.optimise.kernel` row, read in one call.
_row_numbers = attrgetter(*kernel.ROW_FIELDS)


def _row(problem: Problem) -> np.ndarray:
    """The :mod:`coinfer.optimise.kernel` row of ``problem`` (``batch._rows`` builds the same rows over arrays)."""
    p = problem
    choices = kernel.CHOICES[p.distortion_model, p.energy_scope, p.compute_model]
    flat = 0.0 if p.distortion_model == "magnitude" else flat_end(p.bits_per_weight)
    return np.array((*_row_numbers(p), choices, flat), dtype=float)


def _solution_of(problem: Problem, code: int, out: Sequence[float]) -> Solution:
    """The :class:`Solution` of the compiled steps' answer ``code`` and numbers ``out`` (see
    :func:`coinfer.optimise.kernel.solve_row`)."""
    rho_d, rho_s, power, f_d, f_s, objective, latency, energy = out[: kernel.O_ENERGY + 1]
    if code == kernel.OPTIMAL:
        return _optimal(rho_d, rho_s, power, f_d, f_s, objective, latency, energy)
    if code == kernel.TO_POLISH:  # the polish left a violation: report it as solve always has
        return _answer_values(problem, rho_d, rho_s, power, f_d, f_s)
    p = problem
    if code == kernel.INFEASIBLE_LATENCY:
        cycles = p._cycles
        runs = (sum(cycles["device"]) > 0, sum(cycles["server"]) > 0)
        limits = _limits(runs, (p.f_device_max, p.f_server_max), p.feature_bits > 0, p.p_max)
        return _infeasible(_latency_floor_reason(float(out[kernel.O_FLOOR_T]), p.rho_max, limits, p.latency_budget))
    if code == kernel.INFEASIBLE_ENERGY:
        return _infeasible(
            _energy_floor_reason(
                float(out[kernel.O_E_MIN]), p.energy_scope, p.rho_max, p.latency_budget, p.energy_budget
            )
        )
    # STEP4_FAILED: a solver error, never a wrong optimum (model.md section 5.3)
    return Solution(status="solver_error", reason="both budgets bind, and no price of time brackets the energy budget")
