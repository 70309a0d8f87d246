#!/usr/bin/env bash
# The one entry point of the artifact.
#   ./run_all.sh                  full profile: every notebook, results into data/ and figures/
#   ./run_all.sh --quick          quick profile (small sizes), results into build/quick/
#   ./run_all.sh --only NB [-p NAME VALUE]...   one notebook (and what reads it) into build/full-partial/
#   ./run_all.sh --rerun          full profile into build/rerun/, then verify it against data/
#   ./run_all.sh verify DIR       compare DIR/data/ with the committed data/ (tolerances in coinfer.pipeline.verify)
#   ./run_all.sh site [DIR]       (re)build the documentation site of DIR (default: the committed results) offline
#   ./run_all.sh test [ARGS...]   the test suite (ARGS go to pytest)
#   ./run_all.sh lint             ruff (lint and format) and mypy, with the configuration in pyproject.toml
# The environment is set up on first use: an active environment that already imports
# this checkout's coinfer is used as is; otherwise .venv is created from requirements.lock.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

usage() {
  cat <<'USAGE'
usage: ./run_all.sh [--quick | --full | --profile FILE] [--only NOTEBOOK]... [-p NAME VALUE]... [--update-committed]
       ./run_all.sh --rerun
       ./run_all.sh verify DIR [--reference DIR]
       ./run_all.sh site [DIR]
       ./run_all.sh test [PYTEST_ARGS...]
       ./run_all.sh lint
       ./run_all.sh --help

  --quick           quick profile (params/quick.yaml), outputs in build/quick/
  --full            full profile (params/full.yaml, the default), outputs in data/ and figures/
  --profile FILE    another profile YAML; outputs in build/<name>/
  --only NOTEBOOK   run only this notebook, e.g. 06_joint_optimisation (repeatable), then every
                    notebook that reads what it changed (down to 11_report: claims, manifest)
  -p NAME VALUE     set a parameter in every selected notebook that declares it, over the
                    profile, e.g. -p device cuda (repeatable)
                    A partial run (--only or -p) of the full profile writes into build/full-partial/,
                    starting from a copy of the committed results; data/ and figures/ are not touched
  --update-committed  let a partial run of the full profile write into the committed data/,
                    figures/ and notebooks/executed/ (everything downstream reruns)
  --rerun           full profile into build/rerun/ (the committed results are not touched), then
                    compare it with the committed data/; exits with the comparison's code
  verify DIR        compare DIR/data/ with the committed data/ (or --reference DIR's) within the
                    tolerances of lib/coinfer/pipeline/verify.py; exit 0 only when every file passes
  site [DIR]        build the documentation site of DIR (default: the committed results, into
                    build/full/site/; a run builds its own site at its end) without running anything
  test              run the test suite (pytest); extra arguments are passed to pytest
  lint              ruff check, ruff format --check and mypy (what CI runs before the tests)
USAGE
}

# Bad options get one line that carries the usage synopsis, and exit code 2.
bad_option() {
  echo "run_all.sh: $1 (usage: ./run_all.sh [--quick | --full | --profile FILE] [--only NOTEBOOK]... [-p NAME VALUE]... [--update-committed] | --rerun | verify DIR [--reference DIR] | site [DIR] | test [PYTEST_ARGS...] | lint; see --help)" >&2
  exit 2
}

mode=run
profile=full
only_args=()
update_committed=0
if [[ $# -gt 0 && ( "$1" == "test" || "$1" == "verify" || "$1" == "lint" || "$1" == "site" ) ]]; then
  mode="$1"
  shift
else
  while [[ $# -gt 0 ]]; do
    case "$1" in
      --quick) profile=quick ;;
      --full) profile=full ;;
      --rerun) mode=rerun ;;
      --profile)
        [[ $# -ge 2 ]] || bad_option "--profile needs a file"
        profile="$2"; shift ;;
      --only)
        [[ $# -ge 2 ]] || bad_option "--only needs a notebook name"
        only_args+=(--only "$2"); shift ;;
      -p)
        [[ $# -ge 3 ]] || bad_option "-p needs a parameter name and a value"
        only_args+=(-p "$2" "$3"); shift 2 ;;
      --update-committed) update_committed=1; only_args+=(--update-committed) ;;
      -h|--help) usage; exit 0 ;;
      *) bad_option "unknown option '$1'" ;;
    esac
    shift
  done
  [[ "$mode" != rerun || "$profile" == full ]] || bad_option "--rerun runs the full profile; drop --quick/--profile"
  [[ $update_committed -eq 0 || ( "$profile" == full && "$mode" == run ) ]] \
    || bad_option "--update-committed: the committed results are the full profile's; drop --quick/--profile/--rerun"
fi

export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 PYTHONHASHSEED=0 MPLBACKEND=Agg
export PYDEVD_DISABLE_FILE_VALIDATION=1 TOKENIZERS_PARALLELISM=false

lock_stamp() { cat requirements.lock pyproject.toml | sha256sum | cut -c1-16; }

active_env_is_suitable() {
  [[ -n "${VIRTUAL_ENV:-}${CONDA_PREFIX:-}" ]] || return 1
  local root
  root=$(python -c 'import coinfer.base.paths as p; print(p.PROJECT_ROOT)' 2>/dev/null) || return 1
  [[ "$root" == "$(pwd -P)" ]]
}

ensure_env() {
  if active_env_is_suitable; then
    return 0
  fi
  local stamp=.venv/.coinfer-lock
  if [[ ! -f "$stamp" || "$(cat "$stamp")" != "$(lock_stamp)" ]]; then
    local python=""
    for candidate in python3.11 python3; do
      if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
        python="$candidate"; break
      fi
    done
    [[ -n "$python" ]] || { echo "run_all.sh: Python 3.11 is required (or activate the conda environment from environment.yml)" >&2; exit 1; }
    echo "== setting up .venv from requirements.lock (first run only)"
    [[ -x .venv/bin/python ]] || "$python" -m venv .venv
    # --no-deps: the lock is complete, and the MPNet pieces declare a heavy dependency they never import
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -r requirements.lock
    .venv/bin/python -m pip install --quiet --disable-pip-version-check --no-deps -e .
    .venv/bin/python -m ipykernel install --sys-prefix --name python3 >/dev/null
    lock_stamp > "$stamp"
  fi
  # shellcheck disable=SC1091
  source .venv/bin/activate
}

ensure_env

if [[ "$mode" == test ]]; then
  set +e
  python -m pytest "$@"
  status=$?
  set -e
  if [[ $status -eq 5 ]]; then
    echo "run_all.sh: pytest collected no tests; that is a failure" >&2
    exit 1
  fi
  exit $status
fi

if [[ "$mode" == lint ]]; then
  [[ $# -eq 0 ]] || bad_option "lint takes no arguments"
  python -m ruff check .
  python -m ruff format --check .
  exec python -m mypy
fi

if [[ "$mode" == verify ]]; then
  exec python -m coinfer verify "$@"
fi

if [[ "$mode" == site ]]; then
  [[ $# -le 1 ]] || bad_option "site takes at most one output root"
  exec python -m coinfer site "${1:-.}"
fi

if [[ "$mode" == rerun ]]; then
  python -m coinfer run --profile full --output-root build/rerun ${only_args[@]+"${only_args[@]}"}
  exec python -m coinfer verify build/rerun
fi

python -m coinfer run --profile "$profile" ${only_args[@]+"${only_args[@]}"}
