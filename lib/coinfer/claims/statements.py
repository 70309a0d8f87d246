"""The statements of the paper's claims C1-C4 (model.md section 1) and of the artifact's own questions."""

from __future__ import annotations

#: model.md section 1 statements, verbatim in substance.
STATEMENTS = {
    "C1": "The output distortion of a pruned model is upper-bounded by its parameter distortion (a theorem); "
    "in experiments the parameter distortion is a reliable bound for large pruning ratios (about 0.5-0.7 and above).",
    "C2": "Rate-distortion theory lower-bounds the parameter distortion as a function of the pruning ratio; "
    "model weights are close to Laplacian.",
    "C3": "Jointly optimising pruning ratios, transmit power and CPU frequencies under latency, energy and resource "
    "limits beats the benchmarks (fully on-device, fully on-server, fixed ratio, maximum resources, shared ratio, "
    "local non-convex solver).",
    "C4": "The split point is critical in resource-limited, heterogeneous settings.",
    "L1": "The larger the merrier? (the artifact's own question, not a claim of the paper) Under the same latency "
    "and energy budgets, the largest member of a model family, deployed with its optimal design, measures best.",
}
STATEMENTS["M1"] = (
    "Many users, one edge server (the artifact's own question, not a claim of the paper): designing every user's "
    "split, pruning, power, frequency and shares of band and server cycles jointly beats each baseline (equal "
    "shares, shares proportional to the workload, uncoordinated single-user designs, no pruning, a shared ratio)."
)
STATEMENTS["D1"] = (
    "Decoding a split LLM (the artifact's own question, not a claim of the paper): under the budgets of a served LLM "
    "(TTFT 2 s, TPOT 0.1 s, a battery share per token) an interior split of the 7B LLaMA is ever the best "
    "decoding split, and if so at which round-trip times."
)
#: Each claim in a few words, for the README's verdict table (the statements above are the reference).
TITLES = {
    "C1": "output distortion is bounded by parameter distortion",
    "C2": "a rate-distortion lower bound; Laplacian weights",
    "C3": "the joint optimisation beats the benchmarks",
    "C4": "the split point matters",
    "L1": "the larger the merrier? (own question)",
    "M1": "many users on one server: the joint design beats the baselines (own question)",
    "D1": "decoding a split LLM: is an interior split ever best? (own question)",
    "E1": "deployed, the proposed design is not worse than the benchmarks (own question)",
    "E2": "the bound ranks the designs as measured (own question)",
    "E3": "the bound's design is not worse than the magnitude objective's (own question)",
}
#: The artifact's own questions about the deployed designs (model.md section 9); not claims of the paper.
EXTENSION_PREFIX = "Extension (the artifact's own question, not a claim of the paper): "
STATEMENTS.update(
    {
        "E1": EXTENSION_PREFIX + "deployed on the real weights, the proposed design is not measured worse on the "
        "task than each benchmark, on the same inputs, where they deploy different decisions and one is usable.",
        "E2": EXTENSION_PREFIX + "the bound D_LB that every scheme minimises ranks distinct designs the way their "
        "measured output distortion does, across the sweeps and within each sweep point.",
        "E3": EXTENSION_PREFIX + "the design minimising the rate-distortion bound (rd_bound) is not measured worse "
        "than the design minimising the magnitude objective, by a sign test over the sweep points where they differ.",
    }
)
