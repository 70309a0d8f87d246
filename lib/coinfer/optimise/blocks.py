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
        """The largest resources ``(f_max_d, f_max_s, u_max)`` of the problem (model.md section 2.6).

        Returns
        -------
        tuple of float
            The CPU frequency caps of device and server [Hz] and the uplink exponent ``u_max`` at the power cap
            ``P_max`` [dimensionless].
        """
        m = self._m
        return float(m[slot.FMAX_D]), float(m[slot.FMAX_S]), float(m[kernel.U_MAX])

    def resources(self, nu: float) -> Resources:
        """The resources of least ``energy + nu * time`` at the price of time ``nu`` (model.md section 5.3).

        Paper's model only (:func:`coinfer.optimise.kernel.resources`).

        Parameters
        ----------
        nu : float
            The price of time [W], i.e. joules per second of latency.

        Returns
        -------
        tuple of float
            ``(f_d, f_s, u)``: CPU frequencies [Hz] and the uplink exponent [dimensionless].

        Raises
        ------
        ValueError
            Where the problem is of the physical model.
        """
        self._paper_only()
        return kernel.resources(self._m, nu)

    def time(self, rho: Ratios, res: Resources) -> float:
        """Latency of the ratios at the resources (model.md sections 2.3, 2.4, 2.7).

        Computed by :func:`coinfer.optimise.kernel.latency_of`; under the physical model by
        :func:`coinfer.optimise.physical.fixed_terms`, each side at its fixed clock.

        Parameters
        ----------
        rho : tuple of float
            The pruning ratios ``(rho_d, rho_s)`` of device and server [dimensionless].
        res : tuple of float
            The resources ``(f_d, f_s, u)``: CPU frequencies of device and server [Hz] and the uplink's exponent
            ``u = S ln2 / (B t_tx)`` [dimensionless].

        Returns
        -------
        float
            The latency [s].
        """
        if self.physical:
            return physical.fixed_terms(self._m, rho[0], rho[1], res[0], res[1], res[2])[0]
        return kernel.latency_of(self._m, rho[0], rho[1], res[0], res[1], res[2])

    def energy(self, rho: Ratios, res: Resources) -> float:
        """Energy of the ratios at the resources (model.md sections 2.3, 2.4, 2.7).

        Computed by :func:`coinfer.optimise.kernel.energy_of` (the server's only with the ``system`` energy scope);
        under the physical model by :func:`coinfer.optimise.physical.fixed_terms`.

        Parameters
        ----------
        rho : tuple of float
            The pruning ratios ``(rho_d, rho_s)`` of device and server [dimensionless].
        res : tuple of float
            The resources ``(f_d, f_s, u)``: CPU frequencies of device and server [Hz] and the uplink's exponent
            ``u = S ln2 / (B t_tx)`` [dimensionless].

        Returns
        -------
        float
            The counted energy [J].
        """
        if self.physical:
            return physical.fixed_terms(self._m, rho[0], rho[1], res[0], res[1], res[2])[1]
        return kernel.energy_of(self._m, rho[0], rho[1], res[0], res[1], res[2])

    def min_energy(self, rho: Ratios) -> tuple[float, float, Resources]:
        """Least energy meeting the latency budget at fixed ratios (model.md section 5.3).

        Computed by :func:`coinfer.optimise.kernel.least_energy`; under the physical model by
        :func:`coinfer.optimise.physical.least_energy`, where the frequency floors, static and circuit power apply
        and a memory-bound side clocks down.

        Parameters
        ----------
        rho : tuple of float
            The pruning ratios ``(rho_d, rho_s)`` of device and server [dimensionless].

        Returns
        -------
        energy : float
            The least energy [J].
        nu : float
            The price of time at which it is reached [W] (infinite where even the fastest resources miss the
            latency budget; the answer is then the resources of least time).
        resources : tuple of float
            ``(f_d, f_s, u)``: CPU frequencies [Hz] and the uplink exponent [dimensionless].
        """
        if self.physical:
            energy, price, f_d, f_s, u = physical.least_energy(self._m, rho[0], rho[1])
        else:
            energy, price, f_d, f_s, u = kernel.least_energy(self._m, rho[0], rho[1], math.nan)
        return energy, price, (f_d, f_s, u)

    def ratios(self, alpha: tuple[float, float], const: float, target: float) -> Ratios:
        """Least-distortion ratios whose weighted kept work fits a budget (model.md section 5.3).

        The ratios minimise the distortion subject to ``sum_i alpha_i a_i (1 - rho_i) + const <= target``, with
        ``a_i`` the prunable cycles of side ``i``. Paper's model only
        (:func:`coinfer.optimise.kernel.budget_ratios`).

        Parameters
        ----------
        alpha : tuple of float
            The price of a cycle on device and server: ``1 / f`` for latency [s/cycle], ``k f^2`` for energy
            [J/cycle].
        const : float
            The part of the budgeted quantity that pruning cannot remove [s or J, as ``alpha``].
        target : float
            The budget [s or J, as ``alpha``].

        Returns
        -------
        tuple of float
            The ratios ``(rho_d, rho_s)`` [dimensionless].

        Raises
        ------
        ValueError
            Where the problem is of the physical model.
        """
        self._paper_only()
        state = self._state
        state[:] = math.nan
        state[kernel.LAST_VALID] = 0.0
        return kernel.budget_ratios(
            self._m, self._keys, self._logits, state, self._seen, alpha[0], alpha[1], const, target
        )

    def latency_ratios(self, res: Resources) -> Ratios:
        """Least-distortion ratios that meet the latency budget at fixed resources (model.md section 5.3).

        Paper's model only (:func:`coinfer.optimise.kernel.latency_ratios`).

        Parameters
        ----------
        res : tuple of float
            The resources ``(f_d, f_s, u)``: CPU frequencies of device and server [Hz] and the uplink's exponent
            ``u = S ln2 / (B t_tx)`` [dimensionless].

        Returns
        -------
        tuple of float
            The ratios ``(rho_d, rho_s)`` [dimensionless].

        Raises
        ------
        ValueError
            Where the problem is of the physical model.
        """
        self._paper_only()
        state = self._state
        state[:] = math.nan
        state[kernel.LAST_VALID] = 0.0
        return kernel.latency_ratios(self._m, self._keys, self._logits, state, self._seen, res[0], res[1], res[2])

    def fixed_resource_ratios(self, res: Resources) -> Ratios | None:
        """Least-distortion ratios meeting both budgets at fixed resources (model.md sections 2.7, 5.6).

        Physical model only (:func:`coinfer.optimise.physical.fixed_resource_ratios`).

        Parameters
        ----------
        res : tuple of float
            The resources ``(f_d, f_s, u)``: CPU frequencies of device and server [Hz] and the uplink's exponent
            ``u = S ln2 / (B t_tx)`` [dimensionless].

        Returns
        -------
        tuple of float or None
            The ratios ``(rho_d, rho_s)`` [dimensionless], or None where even the most pruned ratios do not fit.

        Raises
        ------
        ValueError
            Where the problem is of the paper's model (which solves this in closed form).
        """
        if not self.physical:
            raise ValueError("fixed_resource_ratios: the paper's model solves this in closed form")
        state = np.full(physical.PSTATE, math.nan)
        found, rho_d, rho_s = physical.fixed_resource_ratios(
            self._m, self._keys, self._logits, state, self._seen, res[0], res[1], res[2]
        )
        return (rho_d, rho_s) if found else None

    def fixed_time(self, res: Resources) -> float:
        """Time that pruning cannot remove at the resources: the upload plus the fixed cycles (model.md section 5.3).

        Paper's model only (:func:`coinfer.optimise.kernel.fixed_time`).

        Parameters
        ----------
        res : tuple of float
            The resources ``(f_d, f_s, u)``: CPU frequencies of device and server [Hz] and the uplink's exponent
            ``u = S ln2 / (B t_tx)`` [dimensionless].

        Returns
        -------
        float
            The fixed time [s].

        Raises
        ------
        ValueError
            Where the problem is of the physical model.
        """
        self._paper_only()
        return kernel.fixed_time(self._m, res[0], res[1], res[2])

    def fixed_energy(self, res: Resources) -> float:
        """Energy that pruning cannot remove at the resources: the upload plus the counted fixed cycles.

        Paper's model only (:func:`coinfer.optimise.kernel.fixed_energy`; model.md section 5.3).

        Parameters
        ----------
        res : tuple of float
            The resources ``(f_d, f_s, u)``: CPU frequencies of device and server [Hz] and the uplink's exponent
            ``u = S ln2 / (B t_tx)`` [dimensionless].

        Returns
        -------
        float
            The fixed energy [J].

        Raises
        ------
        ValueError
            Where the problem is of the physical model.
        """
        self._paper_only()
        return kernel.fixed_energy(self._m, res[0], res[1], res[2])

    def decision(self, rho: Ratios, res: Resources) -> Decision:
        """The decision of ratios and resources (:func:`coinfer.optimise.kernel.decision_values`).

        A side that runs nothing gets its maximum frequency; the transmit power is that of ``u`` (``P_max`` at
        ``u_max``, 0 when nothing is sent).

        Parameters
        ----------
        rho : tuple of float
            The pruning ratios ``(rho_d, rho_s)`` of device and server [dimensionless].
        res : tuple of float
            The resources ``(f_d, f_s, u)``: CPU frequencies of device and server [Hz] and the uplink's exponent
            ``u = S ln2 / (B t_tx)`` [dimensionless].

        Returns
        -------
        coinfer.model.system.Decision
            The decision ``(rho_d, rho_s, power, f_d, f_s)`` [-, -, W, Hz, Hz].
        """
        return Decision(*kernel.decision_values(self._m, rho[0], rho[1], res[0], res[1], res[2]))

    def limits_text(self) -> str:
        """The resource limits that bound the latency floor, for the reasons of infeasible answers (model.md 5.7).

        The frequency caps of the sides that run and the uplink's power cap; under the physical model also the
        memory bandwidths and the access latency (:func:`coinfer.optimise.solution.problem_limits`).

        Returns
        -------
        str
            The limits, as ``name=value unit`` items separated by commas (``no workload`` where nothing runs
            and nothing is sent).
        """
        p = self.problem
        if self.physical:
            return problem_limits(p)
        return limits_text(self.runs, self.fmax, self.sends, p.p_max)

    def energy_limits_text(self, rho: Ratios, res: Resources) -> str:
        """The physical terms that hold up the least energy, for the reasons of infeasible answers (model.md 5.7).

        Each counted side's frequency floor where it runs at it, its static power and memory energy per bit where
        not 0, and the uplink's circuit power where something is sent; empty in the paper's model, which has none.

        Parameters
        ----------
        rho : tuple of float
            The pruning ratios ``(rho_d, rho_s)`` of device and server [dimensionless].
        res : tuple of float
            The resources ``(f_d, f_s, u)``: CPU frequencies of device and server [Hz] and the uplink's exponent
            ``u = S ln2 / (B t_tx)`` [dimensionless].

        Returns
        -------
        str
            The terms, as ``name=value unit`` items separated by commas (empty where none).
        """
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
