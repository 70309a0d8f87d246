"""Shared test inputs: one split's workload and budgets, in SI units (a mid-size model at a middle split)."""

WORKLOAD = dict(
    flops_device=2e9,
    flops_server=8e9,
    params_device=1e6,
    params_server=4e6,
    scale_device=0.02,
    scale_server=0.03,
    feature_bits=2e5,
    latency_budget=0.05,
    energy_budget=0.02,
)
