"""Shared test set-up: offline, headless, deterministic hypothesis profile."""

import os

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

from hypothesis import HealthCheck, settings

# Derandomised so that CI and a developer see the same examples.
settings.register_profile("coinfer", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("coinfer")
