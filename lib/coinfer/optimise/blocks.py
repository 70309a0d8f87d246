"""The fast solver's building blocks for one problem, called from Python (model.md section 5.3).

:class:`Blocks` is a thin, typed facade over the compiled functions of
:mod:`coinfer.optimise.kernel`, for the benchmark schemes
(:mod:`coinfer.optimise.benchmarks`): it derives the problem's numbers once and
passes them, with the inverse-slope table and the small work arrays the
compiled functions want, to each call. It holds no arithmetic of its own: the
benchmarks run the very machine code ``solve`` runs.
"""

from __future__ import annotations

import math

import numpy as np

from coinfer.model import arithmetic as slot
from coinfer.model.arithmetic import problem_row
from coinfer.model.system import Decision, Problem
from coinfer.optimise import kernel
from coinfer.optimise.solution import limits_text

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
    maximum).
    """

    def __init__(self, problem: Problem):
        self.problem = problem
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
        self.nu_sat = v[kernel.NU_SAT]

    def max_resources(self) -> Resources:
        """``(f_max_d, f_max_s, u_max)``."""
        m = self._m
        return float(m[slot.FMAX_D]), float(m[slot.FMAX_S]), float(m[kernel.U_MAX])

    def resources(self, nu: float) -> Resources:
        """The resources of least ``energy + nu * time`` at the price of time ``nu`` [W]
        (:func:`coinfer.optimise.kernel.resources`)."""
        return kernel.resources(self._m, nu)

    def time(self, rho: Ratios, res: Resources) -> float:
        """Latency [s] of the ratios at the resources (:func:`coinfer.optimise.kernel.latency_of`)."""
        return kernel.latency_of(self._m, rho[0], rho[1], res[0], res[1], res[2])

    def energy(self, rho: Ratios, res: Resources) -> float:
        """Energy [J] of the ratios at the resources (:func:`coinfer.optimise.kernel.energy_of`)."""
        return kernel.energy_of(self._m, rho[0], rho[1], res[0], res[1], res[2])

    def min_energy(self, rho: Ratios) -> tuple[float, float, Resources]:
        """Least energy meeting the latency budget at fixed ratios: ``(E [J], nu [W], resources)``
        (:func:`coinfer.optimise.kernel.least_energy`)."""
        energy, price, f_d, f_s, u = kernel.least_energy(self._m, rho[0], rho[1], math.nan)
        return energy, price, (f_d, f_s, u)

    def ratios(self, alpha: tuple[float, float], const: float, target: float) -> Ratios:
        """Least-distortion ratios with ``sum_i alpha_i a_i (1 - rho_i) + const <= target``
        (:func:`coinfer.optimise.kernel.budget_ratios`)."""
        state = self._state
        state[:] = math.nan
        state[kernel.LAST_VALID] = 0.0
        return kernel.budget_ratios(
            self._m, self._keys, self._logits, state, self._seen, alpha[0], alpha[1], const, target
        )

    def latency_ratios(self, res: Resources) -> Ratios:
        """Least-distortion ratios that meet the latency budget at fixed resources
        (:func:`coinfer.optimise.kernel.latency_ratios`)."""
        state = self._state
        state[:] = math.nan
        state[kernel.LAST_VALID] = 0.0
        return kernel.latency_ratios(self._m, self._keys, self._logits, state, self._seen, res[0], res[1], res[2])

    def fixed_time(self, res: Resources) -> float:
        """Time [s] that pruning cannot remove at the resources (upload plus fixed cycles)."""
        return kernel.fixed_time(self._m, res[0], res[1], res[2])

    def fixed_energy(self, res: Resources) -> float:
        """Energy [J] that pruning cannot remove at the resources (upload plus counted fixed cycles)."""
        return kernel.fixed_energy(self._m, res[0], res[1], res[2])

    def decision(self, rho: Ratios, res: Resources) -> Decision:
        """The decision of ratios and resources (:func:`coinfer.optimise.kernel.decision_values`)."""
        return Decision(*kernel.decision_values(self._m, rho[0], rho[1], res[0], res[1], res[2]))

    def limits_text(self) -> str:
        """The resource limits of the sides that run and of the uplink, for the reasons of infeasible answers."""
        p = self.problem
        return limits_text(self.runs, self.fmax, self.sends, p.p_max)
