"""Hardware and radio constants of the physical system model (model.md sections 2, 7.1 and 11; issues 22 and 28).

One sourced set of constants for the terms the paper's model leaves out: a DVFS floor, active static power,
DRAM energy per bit and bandwidth on each side, and the access latency, transmitter circuit power and slot
length of a 5G NR link. The device is a current phone SoC (its big CPU cluster); the server is one edge-server
CPU socket (not a GPU), which is what the existing defaults of model.md 7.1 describe: ``f_server_max = 1e10`` Hz at
``128`` FLOP/cycle is 1.28 TFLOP/s, CPU-socket scale, and ``psi_server = 1e-28`` J s^2/cycle draws
``psi f^3 = 100`` W at ``f_server_max``, a CPU socket's power, not a GPU's. The presets are plain numbers:
nothing here solves anything. docs/model.md sections 7.1 and 7.5 hold the table with sources, ranges,
confidence and reasoning for every value.

Notes
-----
Physical lower limits that every sweep must respect (issue 22, item 3):

- no latency budget below one device clock cycle, ``1 / f_device_max`` (5e-10 s at the default 2e9 Hz);
- no latency budget below one radio slot for a split that sends data (:data:`NR_SLOT_DURATIONS`; 5e-4 s at
  30 kHz subcarrier spacing, the :data:`NR_UPLINK` default), and in practice not below
  ``NR_UPLINK.access_latency`` plus that slot;
- no energy budget below the least energy of one inference under the physical model, which the solver computes
  per model and split (static power and memory energy make it strictly positive; it is not a constant of this
  module).

The DRAM energies are charged per weight bit read (``M_X`` of issue 22), so they must include the interface
(I/O and controller), not only the DRAM core; Horowitz's per-access figure does.

References
----------
.. [1] M. Horowitz, "1.1 Computing's energy problem (and what we can do about it)", IEEE ISSCC 2014, pp. 10-14,
   doi:10.1109/ISSCC.2014.6757323. Energy table at 45 nm, 0.9 V: DRAM 1.3-2.6 nJ per 64-bit access.
.. [2] Accelergy CACTI plug-in, ``cacti_wrapper.py``, class ``CactiDRAM``, table ``type2energy`` [pJ/bit]:
   LPDDR4 8 ("public data"), LPDDR 40 (Malladi et al., ISCA 2012), DDR3 70, GDDR5 14, HBM2 3.9
   (github.com/Accelergy-Project/accelergy-cacti-plug-in).
.. [3] Linux kernel, ``arch/arm64/boot/dts/qcom/sc7280.dtsi`` (commit 008f05a7), CPU OPP tables: Cortex-A55
   300.0-2016.0 MHz, Cortex-A78 gold 691.2-2611.2 MHz, prime 806.4-3014.4 MHz.
.. [4] intel/svr-info issue #26 (2023), turbostat of a Xeon Platinum 8480+ (56 cores per socket): 800 MHz
   "max efficiency frequency", 2000 MHz base, 3000 MHz all-core turbo. Eight DDR5 channels per socket:
   ServeTheHome, "Intel Xeon Max 9480 deep-dive" (2023), page 3.
.. [5] 3GPP TS 38.211, NR physical channels and modulation, sections 4.2 (Table 4.2-1, subcarrier spacing
   2^mu 15 kHz, mu = 0..4) and 4.3 (1 ms subframe, 14 symbols and 2^mu slots per subframe, Table 4.3.2-1).
.. [6] Report ITU-R M.2410-0 (11/2017), minimum requirements for IMT-2020: user-plane latency 4 ms (eMBB),
   1 ms (URLLC); 3GPP TS 38.913 section 7.5: user-plane latency target 0.5 ms UL and DL for URLLC.
.. [7] M. Kottkamp (Rohde & Schwarz), "5G NR and LTE latency analysis in a public network", 2022: commercial 5G
   NSA (Munich), one-way latency below 7 ms DL (best case, 100 kbit/s) to about 18 ms UL (worst case,
   15 Mbit/s).
.. [8] 3GPP TS 22.261 v20.1.0, section 7.10.1, Table 7.10.1-1 (read from the tech-invite.com HTML copy).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "EDGE_SERVER",
    "NR_DOWNLINK",
    "NR_SLOT_DURATIONS",
    "NR_UPLINK",
    "PHONE_SOC",
    "PLAUSIBLE_RANGES",
    "SPLIT_INFERENCE_KPIS",
    "SERVER_SHARE",
    "RadioAccess",
    "SideHardware",
    "SplitInferenceKPI",
    "problem_defaults",
]


@dataclass(frozen=True)
class SideHardware:
    """Constants of one side of the split (device or server) that the paper's model sets to zero or infinity.

    Attributes
    ----------
    name : str
        What the preset describes [text].
    f_min : float
        Lowest DVFS clock the side can run at while it computes [Hz].
    static_power : float
        Power drawn while the side is busy that does not scale with ``psi f^3``: leakage plus uncore, caches,
        interconnect and DRAM background; chip level, before any PUE factor [W].
    memory_energy : float
        Energy to read one bit from DRAM into the processor, DRAM core and interface [J/bit].
    memory_bandwidth : float
        Peak DRAM read bandwidth of the side [bit/s].

    References
    ----------
    See the module docstring, [1]-[4].
    """

    name: str
    f_min: float
    static_power: float
    memory_energy: float
    memory_bandwidth: float


@dataclass(frozen=True)
class RadioAccess:
    """Overheads of one 5G NR transfer on top of the Shannon-rate transmission time (model.md 2.4).

    Attributes
    ----------
    name : str
        What the preset describes [text].
    access_latency : float
        Time from "data ready" to the first data slot plus the receiver's processing: scheduling request,
        grant and preparation in the uplink, scheduling and decoding in the downlink [s].
    circuit_power : float
        UE radio power drawn while the transfer is on air that does not depend on the radiated power: RF chain,
        transceiver and baseband [W].
    slot_duration : float
        Length of one NR slot, the scheduling granularity [s].

    References
    ----------
    See the module docstring, [5]-[7].
    """

    name: str
    access_latency: float
    circuit_power: float
    slot_duration: float


@dataclass(frozen=True)
class SplitInferenceKPI:
    """One row of 3GPP TS 22.261 Table 7.10.1-1, "KPIs for split AI/ML inference", in SI units.

    ``cells`` keeps the row's non-empty cells verbatim, in table order. The copy that was read (tech-invite.com,
    v20.1.0) drops empty cells, so a cell's column is inferred from its position and, where possible, from
    ``payload = rate x latency``; a cell whose column cannot be inferred is kept in ``unplaced``. A KPI the row
    leaves empty is ``None``. MByte and kByte are read as 10^6 and 10^3 byte, which makes the first row exact:
    0.27 MByte in 15 ms is 144 Mbit/s.

    Attributes
    ----------
    use_case : str
        The row's "Remarks" cell [text].
    cells : tuple of str
        The row's non-empty cells, verbatim, with their units [text].
    ul_latency : float or None
        Max allowed uplink end-to-end latency [s].
    ul_data_rate : float or None
        Uplink experienced data rate [bit/s].
    ul_payload : float or None
        Uplink payload size [bit].
    availability : float or None
        Communication service availability [1].
    ul_reliability : float or None
        Uplink reliability [1].
    dl_latency : float or None
        Max allowed downlink end-to-end latency [s].
    dl_data_rate : float or None
        Downlink experienced data rate [bit/s].
    dl_payload : float or None
        Downlink payload size [bit].
    dl_reliability : float or None
        Downlink reliability [1].
    unplaced : tuple of str
        Cells of ``cells`` whose column the copy does not show [text].

    References
    ----------
    3GPP TS 22.261 v20.1.0 (Release 20), section 7.10.1, Table 7.10.1-1.
    """

    use_case: str
    cells: tuple[str, ...]
    ul_latency: float | None = None
    ul_data_rate: float | None = None
    ul_payload: float | None = None
    availability: float | None = None
    ul_reliability: float | None = None
    dl_latency: float | None = None
    dl_data_rate: float | None = None
    dl_payload: float | None = None
    dl_reliability: float | None = None
    unplaced: tuple[str, ...] = ()


#: Big CPU cluster of a current phone SoC with LPDDR5. f_min: lowest OPP of the Cortex-A78 gold cluster of
#: Qualcomm SC7280 [3]; static power: assumed, 0.3 x the default's dynamic power at f_device_max
#: (psi_device f^3 = 0.16 W); memory energy: LPDDR4 8 pJ/bit [2], LPDDR5 assumed no worse; bandwidth:
#: LPDDR5-6400 on a 64-bit bus (4 x 16-bit channels), 6.4e9 x 64 bit/s.
PHONE_SOC = SideHardware(
    name="phone SoC, big CPU cluster, LPDDR5-6400 x64",
    f_min=6.912e8,
    static_power=0.05,
    memory_energy=8e-12,
    memory_bandwidth=4.096e11,
)

#: One edge-server CPU socket with DDR5 (not a GPU). f_min: the Xeon 8480+'s 800 MHz floor over its 3.0 GHz
#: all-core turbo [4], applied to the aggregate f_server_max = 1e10 Hz; static power: assumed, of the whole socket
#: (0.3 x the default's dynamic power at f_server_max, psi_server f^3 = 100 W), of which one inference is charged
#: :data:`SERVER_SHARE` (:func:`problem_defaults`); memory energy: 1.3 nJ per 64-bit DRAM
#: access [1]; bandwidth: 8 channels of DDR5-4800 x 64 bit [4].
EDGE_SERVER = SideHardware(
    name="edge server, one CPU socket, 8 x DDR5-4800",
    f_min=1e10 * 800e6 / 3000e6,
    static_power=30.0,
    memory_energy=1.3e-9 / 64,
    memory_bandwidth=8 * 4.8e9 * 64,
)

#: Share of the edge-server socket one inference occupies [1]: the model's server clock ``f_server_max = 1e10`` Hz
#: (model.md 7.1) over the socket's 56 cores at the 3.0 GHz all-core turbo of the Xeon Platinum 8480+ [4], 0.0595.
#: The other cores serve other requests at the same time (about 17 such inferences per socket), so one inference
#: is charged this share of the socket's static power, not all of it (model.md 2.7, 11; issue 22 review).
SERVER_SHARE = 1e10 / (56 * 3.0e9)

#: NR slot length per numerology mu (subcarrier spacing 2^mu x 15 kHz), normal cyclic prefix: 1 ms subframe of
#: 2^mu slots [5] [s].
NR_SLOT_DURATIONS: dict[int, float] = {mu: 1e-3 / 2**mu for mu in range(5)}

#: Grant-based 5G NR uplink at 30 kHz subcarrier spacing (FR1 TDD, e.g. band n78). Access latency: the IMT-2020
#: eMBB user-plane latency requirement, 4 ms [6]; circuit power: assumed 0.2 W (the order of the UE's
#: radiated power at 23 dBm); slot: 0.5 ms [5].
NR_UPLINK = RadioAccess(
    name="5G NR uplink, 30 kHz SCS, grant based",
    access_latency=4e-3,
    circuit_power=0.2,
    slot_duration=NR_SLOT_DURATIONS[1],
)

#: 5G NR downlink of one LLM token id (16 bit, issue 28) at 30 kHz subcarrier spacing. Access latency: the
#: same 4 ms requirement [6] (no scheduling request or grant is needed, so real downlinks are faster);
#: circuit power: UE receive chain, assumed 0.2 W; slot: 0.5 ms [5].
NR_DOWNLINK = RadioAccess(
    name="5G NR downlink, 30 kHz SCS, token id",
    access_latency=4e-3,
    circuit_power=0.2,
    slot_duration=NR_SLOT_DURATIONS[1],
)

#: 3GPP TS 22.261 Table 7.10.1-1, every row [8].
SPLIT_INFERENCE_KPIS: tuple[SplitInferenceKPI, ...] = (
    SplitInferenceKPI(
        use_case="Split AI/ML image recognition",
        cells=("15 ms", "144 Mbit/s", "0.27 MByte", "99.999 %", "99.9 %", "99.999 %"),
        ul_latency=15e-3,
        ul_data_rate=144e6,
        ul_payload=0.27e6 * 8,
        availability=0.99999,
        ul_reliability=0.999,
        unplaced=("99.999 %",),
    ),
    SplitInferenceKPI(
        use_case="Enhanced media recognition",
        cells=("100 ms", "1.5 Mbit/s", "100 ms", "150 Mbit/s", "1.5 MByte /frame"),
        ul_latency=100e-3,
        ul_data_rate=1.5e6,
        dl_latency=100e-3,
        dl_data_rate=150e6,
        dl_payload=1.5e6 * 8,
    ),
    SplitInferenceKPI(
        use_case="Split control for robotics",
        cells=("4.7 Mbit/s", "12 ms", "320 Mbit/s", "40 kByte"),
        ul_data_rate=4.7e6,
        dl_latency=12e-3,
        dl_data_rate=320e6,
        dl_payload=40e3 * 8,
    ),
)

#: Plausible range (low, high) of every default, keyed by its problem-file field name, in the field's unit
#: (Hz, W, J/bit, bit/s, s). Sources and reasoning: docs/model.md sections 7.1, 7.5.
PLAUSIBLE_RANGES: dict[str, tuple[float, float]] = {
    # SC7280 floors: little cluster 300 MHz, prime core 806.4 MHz [3].
    "f_device_min": (3.0e8, 8.064e8),
    # 800 MHz over the Xeon 8480+'s 3.8 GHz single-core turbo and over its 2.0 GHz base [4], times 1e10 Hz.
    "f_server_min": (1e10 * 0.8 / 3.8, 1e10 * 0.8 / 2.0),
    "static_power_device": (0.01, 0.5),
    # One inference's share (SERVER_SHARE) of a socket's static power of 5 .. 150 W (a whole socket's idle power).
    "static_power_server": (5.0 * SERVER_SHARE, 150.0 * SERVER_SHARE),
    # HBM2 3.9 pJ/bit [2] (the most frugal DRAM in use) to 2.6 nJ per 64-bit access [1].
    "memory_energy_device": (3.9e-12, 2.6e-9 / 64),
    # Same low end; DDR3 70 pJ/bit [2] as the high end of socketed DRAM.
    "memory_energy_server": (3.9e-12, 7e-11),
    # LPDDR4X-4266 to LPDDR5X-8533, both on 64 bits.
    "memory_bandwidth_device": (4.266e9 * 64, 8.533e9 * 64),
    # One DDR5-4800 channel to 12 channels of DDR5-8800.
    "memory_bandwidth_server": (4.8e9 * 64, 12 * 8.8e9 * 64),
    # 0.5 ms URLLC target [6] to the ~18 ms one-way uplink latency measured in a commercial 5G NSA network [7].
    "access_latency": (5e-4, 2e-2),
    "circuit_power": (0.05, 1.0),
    "downlink_access_latency": (5e-4, 1e-2),
    "slot_duration": (NR_SLOT_DURATIONS[4], NR_SLOT_DURATIONS[0]),
}


def problem_defaults() -> dict[str, float]:
    """The presets as problem-file fields (issue 22 names), for the solver's defaults.

    Returns
    -------
    dict of str to float
        ``f_device_min``, ``f_server_min`` [Hz]; ``static_power_device``, ``static_power_server`` [W] (the
        server's: one inference's :data:`SERVER_SHARE` of the socket's);
        ``memory_energy_device``, ``memory_energy_server`` [J/bit]; ``memory_bandwidth_device``,
        ``memory_bandwidth_server`` [bit/s]; ``access_latency`` [s] and ``circuit_power`` [W] of
        :data:`NR_UPLINK`; ``downlink_access_latency`` [s] of :data:`NR_DOWNLINK` (issue 28);
        ``slot_duration`` [s] of :data:`NR_UPLINK`.

    References
    ----------
    docs/model.md, sections 7.4 and 7.5.

    Examples
    --------
    >>> problem_defaults()["slot_duration"]
    0.0005
    """
    fields: dict[str, float] = {}
    for side, hw in (("device", PHONE_SOC), ("server", EDGE_SERVER)):
        fields[f"f_{side}_min"] = hw.f_min
        fields[f"static_power_{side}"] = hw.static_power
        fields[f"memory_energy_{side}"] = hw.memory_energy
        fields[f"memory_bandwidth_{side}"] = hw.memory_bandwidth
    # a server socket serves many requests at once: one inference is charged its share of the static power
    fields["static_power_server"] = EDGE_SERVER.static_power * SERVER_SHARE
    fields["access_latency"] = NR_UPLINK.access_latency
    fields["circuit_power"] = NR_UPLINK.circuit_power
    fields["downlink_access_latency"] = NR_DOWNLINK.access_latency
    fields["slot_duration"] = NR_UPLINK.slot_duration
    return fields
