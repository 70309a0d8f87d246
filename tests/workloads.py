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

#: A multi-user problem file (model.md section 13.8): three users of a mid-size model at different splits and
#: distances, the third with two candidate splits; the budgets are shared fields, SI units.
_SPLIT = {k: v for k, v in WORKLOAD.items() if k not in ("latency_budget", "energy_budget")}
MULTIUSER_FILE = {
    "bandwidth": 4e6,
    "f_server_max": 4e9,
    "latency_budget": 0.05,
    "energy_budget": 0.02,
    "users": [
        {"name": "near", "distance": 50, **_SPLIT},
        {"name": "far", "distance": 400, **_SPLIT, "flops_device": 4e9, "flops_server": 6e9},
        {
            "name": "two splits",
            "distance": 150,
            "splits": [
                {"label": "input", **_SPLIT, "flops_device": 0.0, "flops_server": 1e10, "params_device": 0.0,
                 "params_server": 5e6},
                {"label": "middle", **_SPLIT},
            ],
        },
    ],
}  # fmt: skip
