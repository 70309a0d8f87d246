"""Command-line interface: ``python -m coinfer <command>`` (model.md section 8).

Commands are registered in :data:`COMMANDS`; each gets its own argparse
sub-parser and a handler returning the exit code. Bad input (any
:class:`~coinfer.base.validation.ParameterError`) prints one line per problem,
``error: <message>``, on stderr and exits with code 2, without a traceback
(a problem file with several bad fields gets one line for each).
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from coinfer.base.validation import EXIT_BAD_INPUT, ParameterError

if TYPE_CHECKING:
    from coinfer.model.system import Problem


def _json_value(value):
    # JSON has no inf/nan; an answer never holds them, but keep the output valid JSON regardless.
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


#: Unit of each numeric field of the answer (model.md section 8.3).
ANSWER_UNITS: dict[str, str] = {
    "rho_device": "1",
    "rho_server": "1",
    "power": "W",
    "f_device": "Hz",
    "f_server": "Hz",
    "objective": "per-weight l1 distortion (same unit as the weights)",
    "latency": "s",
    "energy": "J",
    # the per-part breakdown (model.md section 8.3): device compute, upload (air time plus access latency), server
    "t_device": "s",
    "t_tx": "s",
    "t_server": "s",
    "energy_device": "J",
    "energy_tx": "J",
    "energy_server": "J (counted in energy only with energy_scope system)",
}


def _answer_notes(problem: Problem) -> dict[str, Any]:
    """The keys every answer carries besides the solution: ``units``, ``free_variables`` and ``tie_rule``.

    ``free_variables`` lists the decision variables that have no effect in
    ``problem`` and are reported at canonical values (``system.canonical_values``);
    it depends on the problem only, so every solver reports the same list.
    """
    from coinfer.model.system import TIE_RULE, free_variables

    return {"units": dict(ANSWER_UNITS), "free_variables": free_variables(problem), "tie_rule": TIE_RULE}


def _add_solve_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "solve", allow_abbrev=False, help="solve one problem file (model.md section 8) and print the answer as JSON"
    )
    parser.add_argument(
        "problem",
        help="YAML file: the model.md section 8 fields of one user (SI units), or a users: list with the shared "
        "band and server (model.md section 13.8)",
    )
    parser.add_argument(
        "--reference",
        action="store_true",
        help="use the cvxpy reference solver instead of the fast one (multi-user: the multi-start local check)",
    )
    parser.add_argument(
        "--solver",
        default="CLARABEL",
        choices=("CLARABEL", "SCS"),
        help="conic solver for --reference (default CLARABEL)",
    )
    parser.set_defaults(handler=_run_solve)


def _run_solve(args: argparse.Namespace) -> int:
    """Solve the problem file; exit 0 for optimal or infeasible (both are answers).

    A file with a ``users:`` list is a multi-user problem (model.md section 13.8): it is solved by
    :func:`coinfer.optimise.solve_multiuser` (``--reference``: the multi-start local check) and its answer
    (per-user decisions, the prices of band and server cycles, the certificate) printed as JSON.
    """
    from coinfer.base.validation import read_yaml
    from coinfer.model.system import Problem
    from coinfer.optimise import solve, solve_reference

    if args.solver != "CLARABEL" and not args.reference:
        raise ParameterError(f"--solver: got {args.solver!r}; it applies only with --reference")
    data = read_yaml(args.problem, "file")
    if isinstance(data, dict) and "users" in data:
        return _run_multiuser(data, args)
    problem = Problem.from_yaml(args.problem)
    solution = solve_reference(problem, solver=args.solver) if args.reference else solve(problem)
    answer = {key: _json_value(value) for key, value in solution.as_dict().items()}
    answer.update(_answer_notes(problem))
    print(json.dumps(answer, indent=2))
    return 0 if solution.status in ("optimal", "infeasible") else 1


def _run_multiuser(data: dict, args: argparse.Namespace) -> int:
    """Solve a multi-user problem file's mapping and print its answer (exit 0 for an answer, 1 for a solver
    error; bad input raises ParameterError before anything is printed)."""
    from coinfer.optimise import MultiUserProblem, solve_multiuser, solve_multiuser_local

    if args.solver != "CLARABEL":
        raise ParameterError(f"--solver: got {args.solver!r}; a multi-user problem has no conic reference")
    problem = MultiUserProblem.from_dict(data)
    solution = solve_multiuser_local(problem) if args.reference else solve_multiuser(problem)
    answer = _json_tree(solution.as_dict())
    answer["units"] = dict(MULTIUSER_UNITS)
    print(json.dumps(answer, indent=2))
    return 0 if solution.status in ("optimal", "feasible", "infeasible") else 1


def _json_tree(value):
    """``value`` with every non-finite float replaced by ``None`` (JSON has no inf/nan)."""
    if isinstance(value, dict):
        return {key: _json_tree(v) for key, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_json_tree(v) for v in value]
    return _json_value(value)


#: Units of the numeric fields of a multi-user answer (model.md section 13.8).
MULTIUSER_UNITS: dict[str, str] = {
    "objective": "weighted distortion: weight units (weighting parameters or users), 1 (normalised)",
    "prices.band": "objective units per Hz of band",
    "prices.server": "objective units per Hz of server cycles",
    "certificate.lower_bound": "objective units",
    "certificate.gap": "objective units",
    "band_used": "Hz",
    "server_used": "Hz",
    "users[].bandwidth_share": "Hz",
    "users[].f_server_share": "Hz",
    **{f"users[].{name}": unit for name, unit in ANSWER_UNITS.items()},
}


def _add_run_parser(sub: argparse._SubParsersAction) -> None:
    from coinfer.pipeline.runner import PARTIAL_ROOT_NAME

    parser = sub.add_parser(
        "run", allow_abbrev=False, help="execute the notebooks with papermill (what run_all.sh calls)"
    )
    parser.add_argument("--profile", default="full", help="quick, full, or a profile YAML file (default: full)")
    parser.add_argument(
        "--only",
        action="append",
        default=[],
        metavar="NOTEBOOK",
        help="run only this notebook (repeatable), then every notebook downstream of what it changed; the "
        "other notebooks' outputs are kept",
    )
    parser.add_argument(
        "--output-root",
        type=Path,
        default=None,
        help="folder receiving data/, figures/ and notebooks/executed/ (default: $COINFER_OUTPUT_ROOT, else the "
        f"project root for a whole run of the full profile, build/{PARTIAL_ROOT_NAME} for a partial one (--only, -p), "
        "build/<profile> otherwise)",
    )
    parser.add_argument(
        "--update-committed",
        action="store_true",
        help="let a partial run (--only, -p) of the full profile write into the committed data/, figures/ and "
        "notebooks/executed/ (everything downstream reruns, claims and manifest included)",
    )
    parser.add_argument(
        "-p",
        "--parameter",
        action="append",
        nargs=2,
        default=[],
        metavar=("NAME", "VALUE"),
        help="set a parameter (YAML value) in every selected notebook that declares it, over the profile; "
        "repeatable, e.g. -p device cuda",
    )
    parser.set_defaults(handler=_run_notebooks)


def _run_notebooks(args: argparse.Namespace) -> int:
    """Run the pipeline; a failing notebook exits 1 naming itself and its partly executed copy; a stopped run
    exits 128 + the signal number, its output root untouched."""
    from coinfer.pipeline import _dependencies, runner

    try:
        runs = runner.run(
            args.profile,
            args.only,
            args.output_root,
            parameters=runner.parse_parameters(args.parameter),
            update_committed=args.update_committed,
        )
    except (runner.NotebookFailed, _dependencies.DeclarationError) as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt as stop:
        number = stop.signal_number if isinstance(stop, runner.Interrupted) else signal.SIGINT
        print(f"stopped by {signal.Signals(number).name}: the output root is as it was", file=sys.stderr)
        return 128 + int(number)
    print(f"done: {len(runs)} notebook(s) in {sum(r.seconds for r in runs):.1f} s", flush=True)
    return 0


def _add_verify_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "verify",
        allow_abbrev=False,
        help="compare a rerun's data/ with the committed data/ within the tolerances of coinfer.pipeline.verify",
    )
    parser.add_argument("dir", metavar="DIR", type=Path, help="output root of the rerun (holds data/): build/rerun")
    parser.add_argument(
        "--reference",
        metavar="DIR",
        type=Path,
        default=None,
        help="output root holding the reference data/ (default: the project root, i.e. the committed data/)",
    )
    parser.set_defaults(handler=_run_verify)


def _run_verify(args: argparse.Namespace) -> int:
    """One line per file and a summary; exit 0 only when every file passes, 2 for a folder without data/."""
    from coinfer.pipeline import verify

    try:
        results, code = verify.verify(args.dir, args.reference)
    except ParameterError as error:
        print(f"verify: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    print(verify.report(results), flush=True)
    return code


def _add_readme_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "readme", allow_abbrev=False, help="rewrite the generated blocks of README.md and docs/usage.md"
    )
    parser.set_defaults(handler=_run_readme)


def _run_readme(args: argparse.Namespace) -> int:
    """Regenerate the generated blocks of the README and its pages; say whether they changed."""
    from coinfer.pipeline import readme

    changed = readme.update()
    print("README.md: claims table " + ("rewritten" if changed else "already up to date"), flush=True)
    return 0


def _add_site_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "site", allow_abbrev=False, help="build the documentation site (Sphinx, offline) of an output root"
    )
    parser.add_argument("root", type=Path, help="output root holding data/, figures/ and notebooks/executed/")
    parser.add_argument(
        "--out",
        type=Path,
        default=None,
        help="site folder (default: ROOT/site; build/full/site for the project root)",
    )
    parser.set_defaults(handler=_run_site)


def _run_site(args: argparse.Namespace) -> int:
    """Build the site and print the path of its ``index.html``; Sphinx's warnings (they fail the build) on stderr."""
    from coinfer.pipeline import site

    if not args.root.is_dir():
        raise ParameterError(f"root: {str(args.root)!r} is not a folder")
    try:
        print(site.build_site(args.root, args.out), flush=True)
    except site.SiteBuildError as error:
        print(
            f"coinfer site: {str(error).splitlines()[0]} (Sphinx's warnings above; the previous site is kept)",
            file=sys.stderr,
        )
        return 1
    return 0


def _add_status_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "status",
        allow_abbrev=False,
        help="say which profile made an output root, which parameters differ from the committed run, and whether "
        "its verdicts are current",
    )
    parser.add_argument("root", type=Path, nargs="?", default=Path("."), help="output root (default: .)")
    parser.set_defaults(handler=_run_status)


def _run_status(args: argparse.Namespace) -> int:
    """Print the status lines of the output root (:mod:`coinfer.pipeline.status`)."""
    from coinfer.pipeline import status

    if not (args.root / "data").is_dir():
        raise ParameterError(f"root: {str(args.root)!r} holds no data/ folder")
    print("\n".join(status.root_status(args.root).lines()), flush=True)
    return 0


def _add_problem_parser(sub: argparse._SubParsersAction) -> None:
    parser = sub.add_parser(
        "problem",
        allow_abbrev=False,
        help="write the problem file of one split from a profile table (profiles.csv or your own profile_frame)",
    )
    parser.add_argument("profile", help="CSV of profile rows (data/profiles.csv, or profile_frame(...).to_csv)")
    parser.add_argument("--model", help="which model's rows (needed when the table holds several)")
    parser.add_argument("--split", required=True, help="split index 0..L or split name (input, output, a block)")
    parser.add_argument("--latency-budget", type=float, required=True, help="latency budget of one inference [s]")
    parser.add_argument("--energy-budget", type=float, required=True, help="energy budget of one inference [J]")
    parser.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="FIELD=VALUE",
        help="any other problem-file field in its unit (model.md section 8.2), e.g. --set distance=50; repeatable",
    )
    parser.add_argument("-o", "--output", type=Path, help="YAML file to write (default: print it)")
    parser.set_defaults(handler=_run_problem)


def _run_problem(args: argparse.Namespace) -> int:
    """Write (or print) the YAML problem file of one profile row (:func:`coinfer.model.system.problem_from_profile`);
    the file is written only once every field is valid, atomically."""
    import pandas as pd
    import yaml

    from coinfer.base.paths import write_text
    from coinfer.model.system import problem_from_profile

    try:
        table = pd.read_csv(args.profile)
    except (OSError, ValueError) as error:  # missing, unreadable, empty or malformed CSV
        raise ParameterError(f"profile: cannot read {args.profile!r} as a CSV table ({error})") from None
    row = _profile_row(table, args.model, args.split)
    fields: dict[str, Any] = {}
    for item in args.set:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise ParameterError(f"--set: got {item!r}; expected FIELD=VALUE, e.g. distance=50")
        fields[name.strip()] = yaml.safe_load(value)
    problem = problem_from_profile(row, latency_budget=args.latency_budget, energy_budget=args.energy_budget, **fields)
    text = yaml.safe_dump(problem.to_dict(), sort_keys=False)
    if args.output is None:
        print(text, end="")
    else:
        write_text(args.output, text)
    return 0


def _profile_row(table: Any, model: str | None, split: str) -> Any:
    """The row of ``model`` at ``split`` (an index or a split name) of a profile table; ParameterError if absent."""
    if "model" in table.columns:
        models = sorted(table["model"].astype(str).unique())
        if model is None and len(models) > 1:
            raise ParameterError(f"--model: the table holds {len(models)} models; allowed: {', '.join(models)}")
        if model is not None:
            if model not in models:
                raise ParameterError(f"--model: got {model!r}; allowed: {', '.join(models)}")
            table = table[table["model"].astype(str) == model]
    if split.isdigit() and "split" in table.columns:
        rows = table[table["split"] == int(split)]
        allowed = f"{int(table['split'].min())}..{int(table['split'].max())}"
    elif "split_name" in table.columns:
        rows = table[table["split_name"].astype(str) == split]
        allowed = ", ".join(table["split_name"].astype(str))
    else:
        rows, allowed = table.iloc[0:0], "a split index"
    if len(rows) != 1:
        raise ParameterError(f"--split: got {split!r}; allowed: {allowed}")
    return rows.iloc[0]


#: name -> function adding the sub-parser.
COMMANDS: dict[str, Callable[[argparse._SubParsersAction], None]] = {
    "solve": _add_solve_parser,
    "problem": _add_problem_parser,
    "run": _add_run_parser,
    "verify": _add_verify_parser,
    "readme": _add_readme_parser,
    "site": _add_site_parser,
    "status": _add_status_parser,
}


class _Parser(argparse.ArgumentParser):
    """argparse with the one-line error convention (exit 2, ``error: ...``)."""

    def error(self, message: str) -> NoReturn:
        raise ParameterError(f"arguments: {message}")


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m coinfer", description="Pruning-aware co-inference: solvers and pipeline.", allow_abbrev=False
    )
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)
    for add in COMMANDS.values():
        add(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point: parse ``argv``, dispatch, map bad input to exit code 2 with one line on stderr.

    Parameters
    ----------
    argv : sequence of str, optional
        The command-line arguments after the program name; None reads ``sys.argv``.

    Returns
    -------
    int
        The command's exit code; :data:`coinfer.base.validation.EXIT_BAD_INPUT` (2) after a
        :class:`~coinfer.base.validation.ParameterError`, each of its lines printed as ``error: ...`` on stderr.

    References
    ----------
    docs/bad_inputs.md.
    """
    try:
        args = _build_parser().parse_args(argv)
        return int(args.handler(args))
    except ParameterError as error:
        for line in error.lines:
            print(f"error: {line}", file=sys.stderr)
        return EXIT_BAD_INPUT
