"""Parameter and problem files are read strictly (coinfer.base.validation.read_yaml)."""

import os

import numpy as np
import pytest

from coinfer.base.validation import ParameterError, read_yaml, require_known, require_number
from coinfer.model.system import Problem
from coinfer.pipeline.notebook_params import load_profile


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("x: 1e9\n", {"x": 1e9}),
        ("x: 1e3\n", {"x": 1000.0}),
        ("x: -2.5E-3\n", {"x": -0.0025}),
        ("x: true\n", {"x": True}),
        ("x: yes\n", {"x": "yes"}),  # YAML 1.1 would say True
        ("x: on\n", {"x": "on"}),
        ("x: 1:30\n", {"x": "1:30"}),  # YAML 1.1 would say 90
        ("x: 0x10\n", {"x": 16}),
        ("x: .inf\n", {"x": float("inf")}),
        ("x: ~\n", {"x": None}),
        ("# only a comment\n", None),
    ],
)
def test_yaml_12_core_schema(tmp_path, text, expected):
    path = tmp_path / "f.yaml"
    path.write_text(text)
    assert read_yaml(path, "file") == expected


def test_duplicate_keys_are_rejected(tmp_path):
    path = tmp_path / "f.yaml"
    path.write_text("bandwidth: 1\nbandwidth: 2\n")
    with pytest.raises(ParameterError, match="duplicate key 'bandwidth' at line 2"):
        read_yaml(path, "file")


@pytest.mark.parametrize("kind", ["directory", "fifo", "latin1", "missing"])
def test_unreadable_inputs_are_one_line_errors(tmp_path, kind):
    path = tmp_path / "f.yaml"
    if kind == "directory":
        path.mkdir()
    elif kind == "fifo":
        os.mkfifo(path)  # reading it would block forever
    elif kind == "latin1":
        path.write_bytes("x: caf\xe9\n".encode("latin-1"))
    with pytest.raises(ParameterError) as info:
        read_yaml(path, "file")
    assert "\n" not in str(info.value)


def test_profile_reads_numbers_like_problem_files(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("01_distortion_bound:\n  seed: 1e3\n")
    assert load_profile(path)["01_distortion_bound"]["seed"] == 1000


def test_profile_with_mixed_key_types_is_a_parameter_error(tmp_path):
    path = tmp_path / "p.yaml"
    path.write_text("01_distortion_bound: {1: 2, foo: 3}\n")
    with pytest.raises(ParameterError, match="is not known"):
        load_profile(path)


def test_huge_integer_is_a_parameter_error_not_an_overflow():
    with pytest.raises(ParameterError, match="digits"):
        require_number("flops_server", 10**400)
    with pytest.raises(ParameterError):
        Problem.from_dict({"flops_server": 10**400})


def test_numpy_scalars_are_numbers_and_minus_zero_is_zero():
    assert require_number("x", np.float32(0.5)) == 0.5
    assert require_number("n", np.int64(16), integer=True) == 16
    assert str(require_number("x", -0.0)) == "0.0"
    with pytest.raises(ParameterError):
        require_number("x", np.bool_(True))


def test_unknown_names_are_shown_escaped_and_short():
    with pytest.raises(ParameterError) as info:
        require_known("field", ["\x1b[31m" + "k" * 500], ["a"])
    message = str(info.value)
    assert "\x1b" not in message and len(message) < 200
