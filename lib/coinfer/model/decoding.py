"""Per-phase system model of a split decoder LLM: time to first token, time per output token, energy per token and
device memory (model.md section 14.2; issue 28).

The hardware and radio terms are those of the physical model (model.md 2.7) read from a
:class:`~coinfer.model.system.Problem` (clocks, FLOP per cycle, switched capacitance, PUE, static power, DRAM energy
and bandwidth, bandwidth, noise, channel gain, access latency, circuit power, bits per weight, energy scope); the
downlink of a token id uses :data:`coinfer.model.hardware.NR_DOWNLINK`. Per side ``X`` at pruning ratio ``rho`` and
clock ``f``: cycles ``W = ((1 - rho) (F - G) + G) / c`` (the ``ideal`` execution model of 2.3), bits read
``M = q N (1 - rho) + K`` (kept prunable weights, as ``Problem.memory_bits``, plus the KV cache ``K`` read at this
step), time ``t = max(W / f, M / BW)``, energy ``eta (psi W f^2 + P_st t + e_mem M)``. Sparse indices are charged
``index_bits`` per kept weight in the memory *footprint* only; the bits read follow the ideal model's ``q N (1 - rho)``
(an index-free format such as a fixed structured pattern), so pruning's memory-time saving is an upper bound.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from coinfer.base.validation import require_range
from coinfer.model import hardware
from coinfer.model.system import Decision, Problem, rate

__all__ = [
    "DEVICE_MEMORY_BITS",
    "DecodeCosts",
    "DecodeSetting",
    "decode_costs",
    "downlink_time",
    "side_time_energy",
    "uplink_time_energy",
]

#: Memory of the phone that may hold the device's weights and KV cache: 8 GB (assumed: the RAM of a Samsung Galaxy
#: S24 or an iPhone 15 Pro; the share an app may use is smaller) [bit].
DEVICE_MEMORY_BITS = 8e9 * 8


@dataclass(frozen=True)
class DecodeSetting:
    """The generation task and the limits of model.md 14.2.

    Attributes
    ----------
    prompt_tokens : int
        Prompt length ``P`` [tokens].
    max_context : int
        Longest context, prompt plus generated tokens: TPOT and memory are taken there (the worst step) [tokens].
    device_memory : float
        Device memory for kept weights, sparse indices and the KV cache [bit].
    index_bits : float
        Memory charged per kept weight of a pruned side for its sparse index (0: index-free) [bit].
    downlink_access_latency : float
        Scheduling and decoding delay of the token-id downlink [s].
    downlink_circuit_power : float
        Device receive-chain power while the downlink slot is on air [W].
    slot_duration : float
        One NR slot: the 16-bit token id fits one slot at any modulation [s].
    """

    prompt_tokens: int = 128
    max_context: int = 1024
    device_memory: float = DEVICE_MEMORY_BITS
    index_bits: float = 0.0
    downlink_access_latency: float = hardware.NR_DOWNLINK.access_latency
    downlink_circuit_power: float = hardware.NR_DOWNLINK.circuit_power
    slot_duration: float = hardware.NR_DOWNLINK.slot_duration

    def __post_init__(self) -> None:
        require_range("prompt_tokens", self.prompt_tokens, 1, integer=True)
        require_range("max_context", self.max_context, self.prompt_tokens, integer=True)
        require_range("device_memory", self.device_memory, 0.0, low_open=True)
        require_range("index_bits", self.index_bits, 0.0, 64.0)
        require_range("downlink_access_latency", self.downlink_access_latency, 0.0, 1.0)
        require_range("downlink_circuit_power", self.downlink_circuit_power, 0.0, 10.0)
        require_range("slot_duration", self.slot_duration, 1e-6, 1e-2)


def side_time_energy(
    problem: Problem, side: str, flops: float, fixed: float, prunable: float, kv_bits: float, rho: float, f: float
) -> tuple[float, float]:
    """Time and energy of one side running one phase (model.md 2.7 with the KV cache, 14.2).

    Parameters
    ----------
    problem : Problem
        Hardware constants of both sides (``*_device`` or ``*_server`` fields are read).
    side : str
        ``device`` or ``server``.
    flops : float
        All FLOPs of the phase on the side [FLOP]; ``fixed`` of them pruning cannot remove [FLOP].
    fixed : float
        Activation-activation FLOPs (attention) [FLOP].
    prunable : float
        Prunable weights the phase reads once [count].
    kv_bits : float
        KV-cache bits read [bit].
    rho : float
        Pruning ratio of the side [1].
    f : float
        Clock [Hz].

    Returns
    -------
    tuple of float
        Time [s] and energy (PUE included) [J]; ``(0, 0)`` for a side without work.

    References
    ----------
    docs/model.md, sections 2.7 and 14.2.
    """
    if flops <= 0 and kv_bits <= 0:
        return 0.0, 0.0
    c = getattr(problem, f"flops_per_cycle_{side}")
    cycles = ((1.0 - rho) * (flops - fixed) + fixed) / c
    bits = problem.bits_per_weight * prunable * (1.0 - rho) + kv_bits
    t = max(cycles / f, bits / getattr(problem, f"memory_bandwidth_{side}"))
    eta = getattr(problem, f"pue_{side}")
    energy = eta * (
        getattr(problem, f"psi_{side}") * cycles * f * f
        + getattr(problem, f"static_power_{side}") * t
        + getattr(problem, f"memory_energy_{side}") * bits
    )
    return t, energy


def uplink_time_energy(problem: Problem, bits: float, power: float) -> tuple[float, float]:
    """Uplink of ``bits`` at transmit power ``power`` (model.md 2.4, 2.7): ``(S / r + t_acc, (p + P_c) S / r)``.

    Parameters
    ----------
    problem : Problem
        Radio constants (bandwidth [Hz], channel gain [1], noise [W/Hz], access latency [s], circuit power [W]).
    bits : float
        Bits sent [bit].
    power : float
        Transmit power [W].

    Returns
    -------
    tuple of float
        Time [s] and energy [J] of the uplink.

    References
    ----------
    docs/model.md, sections 2.4 and 2.7.
    """
    if bits <= 0:
        return 0.0, 0.0
    air = bits / rate(problem, power) if power > 0 else math.inf
    return air + problem.access_latency, (power + problem.circuit_power) * air


def downlink_time(setting: DecodeSetting) -> float:
    """One token id down: access latency plus one slot [s].

    Parameters
    ----------
    setting : DecodeSetting
        The decode setting (its downlink access latency [s] and slot [s]).

    Returns
    -------
    float
        Time of one token id down [s].

    References
    ----------
    docs/model.md, section 14.2.
    """
    return setting.downlink_access_latency + setting.slot_duration


@dataclass(frozen=True)
class DecodeCosts:
    """The per-phase costs of one split and decision (model.md 14.2); times [s], energies [J], memory [bit]."""

    ttft: float
    tpot: float
    energy_prefill: float
    energy_token: float
    t_device: float
    t_up: float
    t_server: float
    t_down: float
    energy_device: float
    energy_radio: float
    energy_server: float
    device_memory: float
    round_trip: float


def decode_costs(
    problem: Problem, row: Any, setting: DecodeSetting, prefill: Decision, decode: Decision, context: int | None = None
) -> DecodeCosts:
    """TTFT, TPOT, energy per token and device memory of one split of a decoder (model.md 14.2).

    The split is a row of :func:`coinfer.nets.decoding.decode_profile`, run under a prefill and a decode decision.

    TTFT: device prefill, the prompt's bits up, server prefill, first token id down. TPOT at context ``n``: the
    device's step, the hidden state up, the server's step, the token id down (one radio round trip) for an interior
    split; only the server's step at ``s = 0`` (tokens stream down while it generates); only the device's at
    ``s = L``. Energy per token: the device's step and radio (transmit and receive circuits), plus the server's
    under the ``system`` energy scope. Device memory: kept weights, sparse indices and the KV cache at
    ``max_context``.

    Parameters
    ----------
    problem : Problem
        Hardware, radio and energy scope (its workload fields are not used).
    row : mapping
        One split of the decode profile.
    setting : DecodeSetting
        Prompt, context and limits.
    prefill, decode : Decision
        Ratios (the same in both phases: one pruned model; the ``decode`` ratios are used), power and clocks.
    context : int, optional
        Context length of the step [tokens]; ``setting.max_context`` by default. The row's decode FLOPs must be of
        that context.

    Returns
    -------
    DecodeCosts

    References
    ----------
    docs/model.md, section 14.2.
    """
    n = setting.max_context if context is None else context
    rho = {"device": decode.rho_device, "server": decode.rho_server}
    f_pre = {"device": prefill.f_device, "server": prefill.f_server}
    f_dec = {"device": decode.f_device, "server": decode.f_server}
    pre: dict[str, tuple[float, float]] = {}
    dec: dict[str, tuple[float, float]] = {}
    for side in ("device", "server"):
        pre[side] = side_time_energy(
            problem, side, row[f"prefill_flops_{side}"], row[f"prefill_fixed_{side}"], row[f"prunable_{side}"],
            0.0, rho[side], f_pre[side],
        )  # fmt: skip
        dec[side] = side_time_energy(
            problem, side, row[f"decode_flops_{side}"], row[f"decode_fixed_{side}"], row[f"prunable_{side}"],
            row[f"kv_bits_per_token_{side}"] * n, rho[side], f_dec[side],
        )  # fmt: skip
    prompt_up = uplink_time_energy(problem, row["prompt_bits_up"], prefill.power)
    token_up = uplink_time_energy(problem, row["bits_up"], decode.power)
    sends_down = row["bits_down"] > 0
    t_down = downlink_time(setting) if sends_down else 0.0
    e_down = setting.downlink_circuit_power * setting.slot_duration if sends_down else 0.0
    interior = row["bits_up"] > 0
    system = problem.energy_scope == "system"
    ttft = pre["device"][0] + prompt_up[0] + pre["server"][0] + t_down
    energy_prefill = pre["device"][1] + prompt_up[1] + e_down + (pre["server"][1] if system else 0.0)
    round_trip = token_up[0] + t_down if interior else 0.0
    tpot = dec["device"][0] + dec["server"][0] + round_trip
    e_radio = token_up[1] + e_down
    energy_token = dec["device"][1] + e_radio + (dec["server"][1] if system else 0.0)
    kept = row["prunable_device"] * (1.0 - rho["device"])
    memory = (
        row["weight_bits_device"]
        - problem.bits_per_weight * row["prunable_device"] * rho["device"]
        + (setting.index_bits * kept if rho["device"] > 0 else 0.0)
        + row["kv_bits_per_token_device"] * setting.max_context
    )
    return DecodeCosts(
        ttft=ttft,
        tpot=tpot,
        energy_prefill=energy_prefill,
        energy_token=energy_token,
        t_device=dec["device"][0],
        t_up=token_up[0] if interior else 0.0,
        t_server=dec["server"][0],
        t_down=t_down if interior else 0.0,
        energy_device=dec["device"][1],
        energy_radio=e_radio,
        energy_server=dec["server"][1],
        device_memory=memory,
        round_trip=round_trip,
    )
