"""Command-line interface: ``python -m coinfer <command>`` (SPEC 8).

Commands are registered in :data:`COMMANDS`; each gets its own argparse
sub-parser and a handler returning the exit code. Bad input (any
:class:`~coinfer.validation.ParameterError`) prints ONE line,
``error: <message>``, on stderr and exits with code 2, without a traceback.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from collections.abc import Callable, Sequence

from coinfer.validation import EXIT_BAD_INPUT, ParameterError


def _json_value(value):
    # JSON has no inf/nan; an answer never holds them, but keep the output valid JSON regardless.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def add_solve_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser("solve", help="solve one problem file (SPEC 8) and print the answer as JSON")
    parser.add_argument("problem", help="flat YAML file with the SPEC 8 fields (SI units)")
    parser.add_argument("--reference", action="store_true",
                        help="use the cvxpy reference solver instead of the fast one")
    parser.add_argument("--solver", default="CLARABEL", choices=("CLARABEL", "SCS"),
                        help="conic solver for --reference (default CLARABEL)")
    parser.set_defaults(handler=run_solve)


def run_solve(args: argparse.Namespace) -> int:
    """Solve the problem file; exit 0 for optimal or infeasible (both are answers)."""
    from coinfer.optimise import solve, solve_reference
    from coinfer.system import Problem

    problem = Problem.from_yaml(args.problem)
    solution = solve_reference(problem, solver=args.solver) if args.reference else solve(problem)
    answer = {key: _json_value(value) for key, value in solution.as_dict().items()}
    print(json.dumps(answer, indent=2))
    return 0 if solution.status in ("optimal", "infeasible") else 1


#: name -> function adding the sub-parser. The lead adds ``run`` here (notebook runner).
COMMANDS: dict[str, Callable[[argparse._SubParsersAction], None]] = {
    "solve": add_solve_parser,
}


class _Parser(argparse.ArgumentParser):
    """argparse with the one-line error convention (exit 2, ``error: ...``)."""

    def error(self, message: str) -> None:  # noqa: D401 - argparse API
        raise ParameterError(f"arguments: {message}")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m coinfer", description="Pruning-aware co-inference: solvers and pipeline.")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add in COMMANDS.values():
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse ``argv``, dispatch, map bad input to exit code 2 with one line on stderr."""
    try:
        args = build_parser().parse_args(argv)
        return int(args.handler(args))
    except ParameterError as error:
        print(f"error: {' '.join(str(error).split())}", file=sys.stderr)
        return EXIT_BAD_INPUT
