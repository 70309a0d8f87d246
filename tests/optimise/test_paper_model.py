"""The physical model at its zero values is the paper's model, to the bit (model.md section 2.7).

``tests/optimise/paper_model_digests.json`` holds digests of every solver's answers on seeded instances of the
paper's model, written by ``tests/paper_model_answers.py`` on main at 217693d (before the physical model): 20000
instances through ``solve`` and ``solve_batch`` and ``evaluate``, 5000 through each benchmark scheme, the nested
roots and the polish, 300 through the conic reference, 100 through the local solver. The test recomputes the
first chunk (1000 instances, or all of a smaller count) of every kind on the current code; the whole file is
recomputed by ``python tests/paper_model_answers.py OUT.json`` and compared with ``cmp``.

The compiled code's last bits follow the CPU it is compiled for (numba targets the host): on a second kind of CPU
(an AMD EPYC without AVX-512, 2026-12-08) 7 of the 15 first chunks differ from the digests of 217693d at 48001cd, the
same code that matches them where they were written. ``paper_model_digests_other_cpu.json`` holds that CPU's first
chunks, recomputed there (the solver code of 48001cd); an answer must match one of the two, bit for bit.
"""

from __future__ import annotations

import json
from pathlib import Path

import paper_model_answers as answers
import pytest

DIGESTS = json.loads((Path(__file__).parent / "paper_model_digests.json").read_text(encoding="utf-8"))
OTHER_CPU = json.loads((Path(__file__).parent / "paper_model_digests_other_cpu.json").read_text(encoding="utf-8"))


@pytest.mark.parametrize("kind", list(answers.COUNTS))
def test_first_chunk_of_every_answer_is_the_papers(kind):
    assert DIGESTS["seed"] == answers.SEED and DIGESTS["counts"] == answers.COUNTS
    count = min(answers.COUNTS[kind], answers.CHUNK)
    if kind == "split_then_prune":  # five problems per answer
        count *= 5
    got = answers.digests_of(kind, count)
    assert got in (DIGESTS["digests"][kind][0], OTHER_CPU["first_chunk"][kind])
