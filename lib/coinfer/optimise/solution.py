"""The answer of every solver: :class:`Solution` (model.md section 8)."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from coinfer.model.system import Decision

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
    """An ``"infeasible"`` :class:`Solution` with its ``reason`` (built as :func:`_optimal` builds its answers)."""
    return _built("infeasible", None, None, None, None, None, None, None, None, reason)


def _optimal(
    rho_device: float,
    rho_server: float,
    power: float,
    f_device: float,
    f_server: float,
    objective: float,
    latency: float,
    energy: float,
    reason: str | None = None,
) -> Solution:
    """An ``"optimal"`` :class:`Solution` (see :func:`_built`)."""
    return _built("optimal", rho_device, rho_server, power, f_device, f_server, objective, latency, energy, reason)


def _built(
    status: str,
    rho_device: float | None,
    rho_server: float | None,
    power: float | None,
    f_device: float | None,
    f_server: float | None,
    objective: float | None,
    latency: float | None,
    energy: float | None,
    reason: str | None,
) -> Solution:
    """A :class:`Solution` built without the frozen dataclass's ``__init__``.

    That ``__init__`` sets each of the ten fields by ``object.__setattr__``, about half of what building the
    answers of :func:`coinfer.optimise.solve_batch` costs per instance; one instance ``__dict__`` holds the
    same values (equality, hashing, ``repr`` and ``as_dict`` read the fields alike).
    """
    solution = _new(Solution)
    _set(
        solution,
        "__dict__",
        {
            "status": status,
            "rho_device": rho_device,
            "rho_server": rho_server,
            "power": power,
            "f_device": f_device,
            "f_server": f_server,
            "objective": objective,
            "latency": latency,
            "energy": energy,
            "reason": reason,
        },
    )
    return solution


_new, _set = object.__new__, object.__setattr__
