"""The fast solver's building blocks for one problem, called from Python (model.md section 5.3).

:class:`Blocks` is a thin, typed facade over the compiled functions of
:mod:`coinfer.optimise.kernel`, for the benchmark schemes
(:mod:`coinfer.optimise.benchmarks`): it derives the problem's numbers once and
passes them, with the inverse-slope table and the small work arrays the
compiled functions want, to each call. It holds no arithmetic of its own: the
benchmarks run the very machine code ``solve`` runs. A problem of the physical model
(model.md section 2.7) gets the same blocks from :mod:`coinfer.optimise.physical`
(time and energy at given resources, least energy at given ratios with the
frequency floors, least-distortion ratios at fixed resources); one of the
paper's model runs :mod:`coinfer.optimise.kernel`'s, as before.
"""

from __future__ import annotations

import math

import numpy as np

from coinfer.model import arithmetic as slot
from coinfer.model.arithmetic import problem_row
from coinfer.model.system import Decision, Problem
from coinfer.optimise import kernel, physical
from coinfer.optimise.solution import limits_text, problem_limits

__all__ = ["Blocks", "Resources", "Ratios"]

#: ``(f_d, f_s, u)``: CPU frequencies [Hz] and the uplink's exponent ``u = S ln2 / (B t_tx)`` [dimensionless].
Resources = tuple[float, float, float]
#: ``(rho_d, rho_s)``: pruning ratios [dimensionless].
Ratios = tuple[float, float]


class Blocks:
    """The building blocks of the fast solver for ``problem`` (model.md sections 2, 5.3), from Python.

    Attributes read once from the problem's numbers: ``T0`` [s], ``E0`` [J], ``rho_max``, ``shared``; per side
    (device, server) ``a`` (prunable cycles), ``k`` (``eta psi``, J per cycle and Hz^2), ``counted`` (energy
    counted), ``c`` (objective weight), ``runs``, ``fmax`` [Hz]; ``rho_flat`` (the flat point), ``rho_top``
    (the ratios of the floors); ``two_pruned`` (two sides with their own ratio, work and weights: step 4 of
    ``solve`` has two multipliers); ``nu_sat`` [W] (the price of time at which every resource is at its
    maximum); ``physical`` (the problem is not of the paper's model: the blocks are
    :mod:`coinfer.optimise.physical`'s).
    """

    def __init__(self, problem: Problem):
        self.problem = problem
        self.physical = not problem.is_paper_model
        if self.physical:
            m = self._m = np.empty(physical.PWIDTH)
            physical.derive(problem_row(problem), m)
        else:
            m = self._m = np.empty(kernel.WIDTH)
            kernel.derive(problem_row(problem), m)
        self._keys, self._logits = kernel.slope_table(problem.bits_per_weight)
        self._state = np.full(kernel.STATE, math.nan)
        self._seen = np.empty((kernel.SEEN, 6))
        v = m.tolist()
        self.T0, self.E0, self.rho_max, self.shared = v[slot.T0], v[slot.E0], v[slot.RHO_MAX], bool(v[slot.SHARED])
        self.a, self.k, self.c = (v[slot.A_D], v[slot.A_S]), (v[slot.K_D], v[slot.K_S]), (v[slot.C_D], v[slot.C_S])
        self.counted = (True, bool(v[slot.COUNTED_S]))
        self.runs = (bool(v[kernel.RUNS_D]), bool(v[kernel.RUNS_S]))
        self.fmax = (v[slot.FMAX_D], v[slot.FMAX_S])
        self.rho_flat: Ratios = (v[slot.FLAT_D], v[slot.FLAT_S])
        self.rho_top: Ratios = (v[slot.TOP_D], v[slot.TOP_S])
        self.sends = v[slot.S_BITS] > 0
        self.two_pruned = bool(v[kernel.TWO_PRUNED])
        self.nu_sat = v[physical.NU_SAT_P] if self.physical else v[kernel.NU_SAT]

    def _paper_only(self) -> None:
        """Raise where a block has a closed form in the paper's model only (the physical model's time is not
        affine in the kept work, and its resources at a price depend on the ratios)."""
        if self.physical:
            raise ValueError("this block exists for the paper's model only (model.md section 5.3)")

    def max_resources(self) -> Resources:
        """``(f_max_d, f_max_s, u_max)``."""
        m = self._m
        return float(m[slot.FMAX_D]), float(m[slot.FMAX_S]), float(m[kernel.U_MAX])

    def resources(self, nu: float) -> Resources:
        """The resources of least ``energy + nu * time`` at the price of time ``nu`` [W]
        (:func:`coinfer.optimise.kernel.resources`)."""
        self._paper_only()
        return kernel.resources(self._m, nu)

    def time(self, rho: Ratios, res: Resources) -> float:
        """Latency [s] of the ratios at the resources (:func:`coinfer.optimise.kernel.latency_of`; physical model:
        :func:`coinfer.optimise.physical.fixed_terms`, each side at its fixed clock)."""
        if self.physical:
            return physical.fixed_terms(self._m, rho[0], rho[1], res[0], res[1], res[2])[0]
        return kernel.latency_of(self._m, rho[0], rho[1], res[0], res[1], res[2])

    def energy(self, rho: Ratios, res: Resources) -> float:
        """Energy [J] of the ratios at the resources (:func:`coinfer.optimise.kernel.energy_of`; physical model:
        :func:`coinfer.optimise.physical.fixed_terms`)."""
        if self.physical:
            return physical.fixed_terms(self._m, rho[0], rho[1], res[0], res[1], res[2])[1]
        return kernel.energy_of(self._m, rho[0], rho[1], res[0], res[1], res[2])

    def min_energy(self, rho: Ratios) -> tuple[float, float, Resources]:
        """Least energy meeting the latency budget at fixed ratios: ``(E [J], nu [W], resources)``
        (:func:`coinfer.optimise.kernel.least_energy`; physical model: :func:`coinfer.optimise.physical.least_energy`,
        where the frequency floors, static and circuit power apply and a memory-bound side clocks down)."""
        if self.physical:
            energy, price, f_d, f_s, u = physical.least_energy(self._m, rho[0], rho[1])
        else:
            energy, price, f_d, f_s, u = kernel.least_energy(self._m, rho[0], rho[1], math.nan)
        return energy, price, (f_d, f_s, u)

    def ratios(self, alpha: tuple[float, float], const: float, target: float) -> Ratios:
        """Least-distortion ratios with ``sum_i alpha_i a_i (1 - rho_i) + const <= target``
        (:func:`coinfer.optimise.kernel.budget_ratios`)."""
        self._paper_only()
        state = self._state
        state[:] = math.nan
        state[kernel.LAST_VALID] = 0.0
        return kernel.budget_ratios(
            self._m, self._keys, self._logits, state, self._seen, alpha[0], alpha[1], const, target
        )

    def latency_ratios(self, res: Resources) -> Ratios:
        """Least-distortion ratios that meet the latency budget at fixed resources
        (:func:`coinfer.optimise.kernel.latency_ratios`)."""
        self._paper_only()
        state = self._state
        state[:] = math.nan
        state[kernel.LAST_VALID] = 0.0
        return kernel.latency_ratios(self._m, self._keys, self._logits, state, self._seen, res[0], res[1], res[2])

    def fixed_resource_ratios(self, res: Resources) -> Ratios | None:
        """Least-distortion ratios meeting both budgets at the fixed resources, or None where even the ratios of
        the floors do not fit (physical model only: :func:`coinfer.optimise.physical.fixed_resource_ratios`)."""
        if not self.physical:
            raise ValueError("fixed_resource_ratios: the paper's model solves this in closed form")
        state = np.full(physical.PSTATE, math.nan)
        found, rho_d, rho_s = physical.fixed_resource_ratios(
            self._m, self._keys, self._logits, state, self._seen, res[0], res[1], res[2]
        )
        return (rho_d, rho_s) if found else None

    def fixed_time(self, res: Resources) -> float:
        """Time [s] that pruning cannot remove at the resources (upload plus fixed cycles)."""
        self._paper_only()
        return kernel.fixed_time(self._m, res[0], res[1], res[2])

    def fixed_energy(self, res: Resources) -> float:
        """Energy [J] that pruning cannot remove at the resources (upload plus counted fixed cycles)."""
        self._paper_only()
        return kernel.fixed_energy(self._m, res[0], res[1], res[2])

    def decision(self, rho: Ratios, res: Resources) -> Decision:
        """The decision of ratios and resources (:func:`coinfer.optimise.kernel.decision_values`)."""
        return Decision(*kernel.decision_values(self._m, rho[0], rho[1], res[0], res[1], res[2]))

    def limits_text(self) -> str:
        """The resource limits of the sides that run and of the uplink, for the reasons of infeasible answers; under
        the physical model also the memory bandwidths and the access latency that bound the latency floor
        (:func:`coinfer.optimise.solution.problem_limits`)."""
        p = self.problem
        if self.physical:
            return problem_limits(p)
        return limits_text(self.runs, self.fmax, self.sends, p.p_max)

    def energy_limits_text(self, rho: Ratios, res: Resources) -> str:
        """The physical terms that hold up the least energy of the ratios at the resources, for the reasons of
        infeasible answers (model.md section 5.7): each counted side's frequency floor where it runs at it, its
        static power and memory energy per bit where not 0, and the uplink's circuit power where something is
        sent; empty in the paper's model, which has none."""
        if not self.physical:
            return ""
        p = self.problem
        parts = []
        for i, side in enumerate(("device", "server")):
            if not self.runs[i] or not self.counted[i]:
                continue
            f_min = getattr(p, f"f_{side}_min")
            if f_min > 0 and res[i] <= f_min * (1 + 1e-12):
                parts.append(f"frequency floor f_{side}_min={f_min:.4g} Hz")
            static = getattr(p, f"static_power_{side}")
            if static > 0:
                parts.append(f"static_power_{side}={static:.4g} W")
            per_kept, fixed = p.memory_bits(side)
            memory = getattr(p, f"memory_energy_{side}")
            if memory > 0 and per_kept * (1 - rho[i]) + fixed > 0:
                parts.append(f"memory_energy_{side}={memory:.4g} J/bit")
        if self.sends and p.circuit_power > 0:
            parts.append(f"circuit_power={p.circuit_power:.4g} W")
        return ", ".join(parts)
