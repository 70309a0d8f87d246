"""Shared test set-up: offline, headless, the environment of ``run_all.sh``, a deterministic hypothesis profile.

``python -m pytest`` and ``./run_all.sh test`` run the same suite: the variables ``run_all.sh`` exports are
set here too (unless already set), so subprocesses and notebook kernels see them either way. The hash seed of
this process cannot change after it started; no test depends on it (set iteration order), and the notebook
runner gives its kernels ``PYTHONHASHSEED=0`` itself.
"""

import os

for _name, _value in {
    "HF_HUB_OFFLINE": "1",
    "TRANSFORMERS_OFFLINE": "1",
    "MPLBACKEND": "Agg",
    "PYTHONHASHSEED": "0",
    "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    "TOKENIZERS_PARALLELISM": "false",
}.items():
    os.environ.setdefault(_name, _value)

from hypothesis import HealthCheck, settings  # noqa: E402  after the environment, like every import below

# Derandomised so that CI and a developer see the same examples.
settings.register_profile("coinfer", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("coinfer")
