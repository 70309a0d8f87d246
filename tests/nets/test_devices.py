"""Where models run (``coinfer.nets.devices``): the CPU path, local checkpoints, the CPU-vs-GPU tolerance, bad devices.

The CUDA tests run only on a machine with a CUDA GPU; elsewhere they are skipped with the reason.
"""

from __future__ import annotations

import subprocess
import sys

import pandas as pd
import pytest
import torch

from coinfer.base import notebooks, paths
from coinfer.base.validation import ParameterError
from coinfer.nets import deploy, devices, metrics, split, transformers, zoo
from coinfer.nets.split import part_configs
from coinfer.pipeline import notebook_params, runner, verify
from coinfer.studies import deployed_designs
from coinfer.studies.pruning_distortion import pruning_experiment

CUDA = pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA GPU on this machine (CPU path tested)")
NO_CUDA = pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a CUDA GPU")
MEASUREMENT_NOTEBOOKS = (
    "03_weight_distributions",
    "04_pruning_distortion",
    "05_system_profiles",
    "07_deployed_designs",
    "08_model_size",
)


def digits_experiment(**device: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """A small notebook-04 sweep of the digits CNN (committed weights), on the device given, if any."""
    model = zoo.load_model("digits_cnn")
    batches = {subset: zoo.model_inputs("digits_cnn", subset, 40) for subset in ("calibration", "heldout")}
    return pruning_experiment(
        "digits_cnn",
        model,
        part_configs(model, [2]),
        ratios=[0.0, 0.5, 0.9],
        curve_ratios=[0.0, 0.5],
        bits=[8],
        batches=batches,
        progress=False,
        **device,
    )


# --------------------------------------------------------------------------- the CPU path
def test_device_cpu_is_the_default_and_changes_nothing():
    default, on_cpu = digits_experiment(), digits_experiment(device="cpu")
    for a, b in zip(default, on_cpu, strict=True):
        pd.testing.assert_frame_equal(a, b, check_exact=True)


def test_the_sweep_reference_is_the_callers_model_run_on_the_cpu():
    """The private copy gives the reference; on the CPU it must be bit-identical to the caller's model."""
    model = zoo.load_model("digits_cnn")
    batch = zoo.model_inputs("digits_cnn", "heldout", 40)
    _, samples, _ = pruning_experiment(
        "digits_cnn",
        model,
        [("all", None)],
        ratios=[0.0],
        curve_ratios=[],
        bits=[],
        batches={"heldout": batch},
        progress=False,
    )
    expected = model.forward(batch.inputs).double().abs().sum(dim=1).numpy()
    assert (samples["ref_l1"].to_numpy() == expected).all()
    assert (samples["out_l1"] == 0).all()


def test_on_the_cpu_nothing_is_moved_or_copied():
    model = zoo.load_model("digits_mlp")
    x = torch.ones(2, 64)
    assert devices.move_model(model, "cpu") is model
    assert devices.placed(model, "cpu") is model
    assert devices.to_device(x, "cpu") is x
    assert zoo.load_model("digits_mlp", device="cpu") is model
    assert torch.equal(devices.to_cpu64(x), x.double())


def test_feature_quantisation_on_the_cpu_equals_the_default():
    model = zoo.load_model("digits_cnn")
    x = zoo.model_inputs("digits_cnn", "heldout", 20).inputs
    pd.testing.assert_frame_equal(
        deploy.feature_quantisation_table(model, x), deploy.feature_quantisation_table(model, x, device="cpu")
    )


def committed_sweep_rows(model: str, n: int) -> pd.DataFrame:
    """The first ``n`` feasible rows of ``model`` in the committed budget sweep (decisions to deploy)."""
    table = pd.read_csv(paths.PROJECT_ROOT / "data" / "opt_budget_sweep.csv")
    return table[(table["model"] == model) & (table["status"] == "optimal")].head(n)


def test_deployed_designs_on_the_cpu_equal_the_default():
    rows = committed_sweep_rows("digits_cnn", 6)
    default = deployed_designs.measure_designs(rows, "digits_cnn", n_inputs=60, progress=False)
    pd.testing.assert_frame_equal(
        default, deployed_designs.measure_designs(rows, "digits_cnn", n_inputs=60, progress=False, device="cpu")
    )
    assert default["task_metric"].notna().all()


# --------------------------------------------------------------------------- local checkpoints
def save_tiny_checkpoint(folder, kind: str) -> torch.nn.Module:
    """A tiny random BERT encoder or LLaMA decoder saved as ``config.json`` + ``model.safetensors``."""
    from transformers import BertConfig, BertModel, LlamaConfig, LlamaForCausalLM

    torch.manual_seed(0)
    if kind == "bert":
        config = BertConfig(
            hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=64, vocab_size=100
        )
        net = BertModel(config, add_pooling_layer=False)
    else:
        config = LlamaConfig(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            vocab_size=100,
        )
        net = LlamaForCausalLM(config)
    config._attn_implementation = "eager"
    net.eval().save_pretrained(folder, safe_serialization=True)
    assert (folder / "model.safetensors").is_file() and (folder / "config.json").is_file()
    return net


def in_memory_split(kind: str, net: torch.nn.Module) -> split.SplitModel:
    if kind == "bert":
        return transformers.bert_split_model("reference", net, transformers.MeanPoolHead())
    body = net.model
    return transformers.transformer_split_model(
        "reference",
        transformers.LlamaStem(body.embed_tokens, body.rotary_emb, net.config),
        body.layers,
        transformers.LMHead(body.norm, net.lm_head),
    )


@pytest.mark.parametrize("kind", ["bert", "llama"])
def test_a_local_checkpoint_loads_memory_mapped_with_the_in_memory_outputs(tmp_path, kind, monkeypatch):
    from safetensors import safe_open as real_safe_open
    from transformers import modeling_utils

    opened = []

    def spy(filename, *args, **kwargs):  # what transformers opens: memory-mapped safetensors, never a copy
        opened.append(str(filename))
        return real_safe_open(filename, *args, **kwargs)

    monkeypatch.setattr(modeling_utils, "safe_open", spy)
    net = save_tiny_checkpoint(tmp_path / kind, kind)
    loaded = zoo.load_checkpoint(tmp_path / kind, device="cpu")
    assert any(name.endswith("model.safetensors") for name in opened)
    reference = in_memory_split(kind, net)
    ids = torch.randint(0, 100, (3, 9), generator=torch.Generator().manual_seed(1))
    tokens = torch.ones(3, 9, dtype=torch.long) if kind == "bert" else None
    assert loaded.name == kind and loaded.num_blocks == 2 and loaded.info["device_map"] is None
    assert loaded.all_weights().keys() == reference.all_weights().keys()
    assert torch.equal(loaded.forward((ids, tokens)), reference.forward((ids, tokens)))
    assert torch.equal(loaded.run_server(loaded.run_device((ids, tokens), 1), 1), reference.forward((ids, tokens)))


@pytest.mark.parametrize("kind", ["gpt2", "mistral", "qwen2"])
def test_the_other_decoder_types_give_their_transformers_logits(tmp_path, kind):
    import transformers

    torch.manual_seed(0)
    if kind == "gpt2":
        config = transformers.GPT2Config(n_layer=2, n_embd=32, n_head=2, vocab_size=100, n_positions=64)
        net = transformers.GPT2LMHeadModel(config)
    else:
        config_class = transformers.MistralConfig if kind == "mistral" else transformers.Qwen2Config
        config = config_class(
            hidden_size=32,
            intermediate_size=64,
            num_hidden_layers=2,
            num_attention_heads=4,
            num_key_value_heads=2,
            vocab_size=100,
            bos_token_id=None,
            eos_token_id=None,
        )
        net = (transformers.MistralForCausalLM if kind == "mistral" else transformers.Qwen2ForCausalLM)(config)
    net.config._attn_implementation = "eager"
    net.eval().save_pretrained(tmp_path / kind)
    loaded = zoo.load_checkpoint(tmp_path / kind)
    ids = torch.randint(0, 100, (2, 7), generator=torch.Generator().manual_seed(3))
    with torch.no_grad():
        expected = net(ids).logits
    assert loaded.num_blocks == 2
    torch.testing.assert_close(loaded.forward((ids, None)), expected, rtol=1e-5, atol=1e-6)


def test_a_local_checkpoint_goes_through_the_pruning_sweep(tmp_path, monkeypatch):
    """Registered like any zoo model (README "Adding a model"), a loaded checkpoint runs notebook 04's sweep."""
    save_tiny_checkpoint(tmp_path / "bert", "bert")
    model = zoo.load_checkpoint(tmp_path / "bert")
    entry = zoo.ModelEntry(lambda seed: model, None, metrics.logits_vector, metrics.cosine_metric)  # type: ignore[arg-type]
    monkeypatch.setitem(zoo.REGISTRY, "bert", entry)
    ids = torch.randint(0, 100, (4, 9), generator=torch.Generator().manual_seed(2))
    batch = split.Batch((ids, torch.ones(4, 9, dtype=torch.long)), 4, None, 16 * 9, "random token ids")
    _, samples, summary = pruning_experiment(
        "bert",
        model,
        part_configs(model, [1]),
        ratios=[0.0, 0.5],
        curve_ratios=[],
        bits=[],
        batches={"calibration": batch, "heldout": batch},
        progress=False,
    )
    assert (summary.loc[summary["ratio"] == 0, "out_l1_mean"] == 0).all()
    assert (summary.loc[summary["ratio"] == 0.5, "out_l1_mean"] > 0).all()


def test_checkpoint_errors_are_one_line(tmp_path):
    with pytest.raises(ParameterError, match=r"^path: .*\(no config\.json\)$"):
        zoo.load_checkpoint(tmp_path)
    save_tiny_checkpoint(tmp_path / "llama", "llama")
    with pytest.raises(ParameterError, match="^dtype: "):
        zoo.load_checkpoint(tmp_path / "llama", dtype="float8")
    with pytest.raises(ParameterError, match="^device_map: "):
        zoo.load_checkpoint(tmp_path / "llama", device_map="everywhere")


def test_device_map_without_accelerate_is_a_one_line_error(tmp_path, monkeypatch):
    import importlib.util

    save_tiny_checkpoint(tmp_path / "llama", "llama")
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "accelerate" else real(name, *a))
    with pytest.raises(ParameterError, match=r"^device_map: needs the optional package accelerate") as error:
        zoo.load_checkpoint(tmp_path / "llama", device_map="auto")
    assert "\n" not in str(error.value)


# --------------------------------------------------------------------------- bad devices
def test_device_choices_are_the_devices_module():
    for notebook in MEASUREMENT_NOTEBOOKS:
        assert notebooks.SCHEMAS[notebook]["device"].choices == devices.DEVICES


@pytest.mark.parametrize("bad", ["gpu", "CUDA", "", 0])
def test_a_bad_device_value_is_a_one_line_error(bad):
    with pytest.raises(
        ParameterError, match=r"^04_pruning_distortion\.device: got .*; (allowed one of|expected a string)"
    ) as error:
        notebook_params.validate("04_pruning_distortion", {"device": bad})
    assert "\n" not in str(error.value)
    with pytest.raises(ParameterError, match="^device: "):
        devices.check_device(bad)


@NO_CUDA
def test_cuda_without_a_gpu_is_a_one_line_error_naming_the_parameter():
    with pytest.raises(ParameterError, match=r"^device: got 'cuda' but no CUDA GPU is available"):
        devices.check_device("cuda")
    with pytest.raises(ParameterError, match="^device: got 'cuda'"):
        zoo.load_model("digits_mlp", device="cuda")
    with pytest.raises(ParameterError, match="^device: got 'cuda'"):
        digits_experiment(device="cuda")
    with pytest.raises(ParameterError, match=r"^07_deployed_designs\.device: got 'cuda' but no CUDA GPU"):
        runner.check_notebook("07_deployed_designs", overrides={"device": "cuda"})


@NO_CUDA
def test_the_runner_refuses_cuda_without_a_gpu_with_exit_code_2(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "coinfer", "run", "--profile", "quick", "--only", "04_pruning_distortion"]
        + ["--output-root", str(tmp_path), "-p", "device", "cuda"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: 04_pruning_distortion.device: got 'cuda' but no CUDA GPU is available "
        "(torch.cuda.is_available() is False); allowed 'cpu'"
    ]
    assert not any(tmp_path.iterdir())  # refused before anything ran


def test_runner_parameters_reach_only_the_notebooks_that_declare_them():
    selected = ["03_weight_distributions", "11_report"]
    merged = runner.with_parameters({"11_report": {"skip_missing": True}}, selected, {"device": "cpu"})
    assert merged == {"11_report": {"skip_missing": True}, "03_weight_distributions": {"device": "cpu"}}
    assert runner.parse_parameters([["device", "cpu"], ["seed", "3"]]) == {"device": "cpu", "seed": 3}
    with pytest.raises(ParameterError, match=r"^-p devise: no selected notebook has this parameter"):
        runner.with_parameters({}, selected, {"devise": "cpu"})
    with pytest.raises(ParameterError, match=r"^03_weight_distributions\.device: got 'tpu'"):
        runner.with_parameters({}, selected, {"device": "tpu"})


# --------------------------------------------------------------------------- the CPU-vs-GPU tolerance
def test_device_mismatches_accepts_the_tolerance_and_nothing_more():
    cpu = pd.DataFrame({"model": ["a", "b"], "n_weights": [10, 20], "out_l1": [1.0, 2.0]})
    within = cpu.assign(out_l1=cpu["out_l1"] * (1 + 0.5 * verify.DEVICE.rtol))
    assert verify.device_mismatches(cpu, within) == []
    beyond = cpu.assign(out_l1=cpu["out_l1"] * (1 + 3 * verify.DEVICE.rtol))
    assert [line.split(":")[0] for line in verify.device_mismatches(cpu, beyond)] == ["out_l1"]
    assert verify.device_mismatches(cpu, cpu.assign(n_weights=[10, 21]))[0].startswith("n_weights: row 1")
    assert verify.device_mismatches(cpu, within, exact=["out_l1"])[0].startswith("out_l1: row 0")
    assert verify.device_mismatches(cpu, cpu.iloc[:1])[0].startswith("shape")


def test_masks_do_not_depend_on_where_the_weights_live():
    """Ties in magnitude are pruned by position, from a CPU sort, wherever the weights are."""
    from coinfer.model.pruning import magnitude_mask

    tied = torch.tensor([0.5, -0.5, 0.5, 0.1, -0.1, 0.5])
    assert magnitude_mask(tied, 0.5).tolist() == [False, True, True, False, False, True]
    if torch.cuda.is_available():
        assert torch.equal(magnitude_mask(tied.cuda(), 0.5), magnitude_mask(tied, 0.5))


# --------------------------------------------------------------------------- CUDA (skipped without a GPU)
@CUDA
def test_pruning_sweep_on_cuda_matches_the_cpu_within_the_tolerance():
    cpu, cuda = digits_experiment(device="cpu"), digits_experiment(device="cuda")
    exact = ["n_weights", "sample", "ratio", "split", "param_l1", "param_rel", "param_per_weight", "measured"]
    for a, b in zip(cpu, cuda, strict=True):
        assert verify.device_mismatches(a, b, exact=[c for c in exact if c in a]) == []


@CUDA
def test_deployed_designs_on_cuda_match_the_cpu_within_the_tolerance():
    rows = committed_sweep_rows("digits_cnn", 6)
    cpu = deployed_designs.measure_designs(rows, "digits_cnn", n_inputs=60, progress=False)
    cuda = deployed_designs.measure_designs(rows, "digits_cnn", n_inputs=60, progress=False, device="cuda")
    assert verify.device_mismatches(cpu, cuda, exact=["x", "pruned_device", "pruned_server"]) == []


@CUDA
def test_feature_quantisation_on_cuda_matches_the_cpu_within_the_tolerance():
    model = zoo.load_model("digits_cnn")
    x = zoo.model_inputs("digits_cnn", "heldout", 20).inputs
    cpu = deploy.feature_quantisation_table(model, x)
    assert verify.device_mismatches(cpu, deploy.feature_quantisation_table(model, x, device="cuda")) == []


@CUDA
@pytest.mark.parametrize("kind", ["bert", "llama"])
def test_a_local_checkpoint_on_cuda_matches_the_cpu_within_the_tolerance(tmp_path, kind):
    save_tiny_checkpoint(tmp_path / kind, kind)
    ids = torch.randint(0, 100, (3, 9), generator=torch.Generator().manual_seed(1))
    tokens = torch.ones(3, 9, dtype=torch.long) if kind == "bert" else None
    cpu = zoo.load_checkpoint(tmp_path / kind).forward((ids, tokens))
    cuda = zoo.load_checkpoint(tmp_path / kind, device="cuda").forward(devices.to_device((ids, tokens), "cuda"))
    frame = lambda t: pd.DataFrame({"value": devices.to_cpu64(t).flatten().numpy()})  # noqa: E731
    assert verify.device_mismatches(frame(cpu), frame(cuda)) == []
