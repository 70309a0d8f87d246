"""The answer of every solver: :class:`Solution` (model.md section 8)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from coinfer.system import Decision

#: Relative slack under which a budget counts as met exactly at its floor.
_EDGE = 1e-12


@dataclass(frozen=True)
class Solution:
    """The model.md section 8 answer for one problem. ``status`` is ``"optimal"`` or ``"infeasible"``
    (``solve_reference`` may also return ``"solver_error"`` when the conic solver fails)."""

    status: str
    rho_device: float | None = None
    rho_server: float | None = None
    power: float | None = None
    f_device: float | None = None
    f_server: float | None = None
    objective: float | None = None
    latency: float | None = None
    energy: float | None = None
    reason: str | None = None

    def as_dict(self) -> dict:
        """The model.md section 8 answer as a JSON-ready dict."""
        return asdict(self)

    @property
    def decision(self) -> Decision | None:
        """The decision, or ``None`` when infeasible."""
        if self.status != "optimal":
            return None
        rho_d, rho_s, power, f_d, f_s = self.rho_device, self.rho_server, self.power, self.f_device, self.f_server
        assert rho_d is not None and rho_s is not None and power is not None and f_d is not None and f_s is not None
        return Decision(rho_d, rho_s, power, f_d, f_s)


def _infeasible(reason: str) -> Solution:
    return Solution("infeasible", reason=reason)
