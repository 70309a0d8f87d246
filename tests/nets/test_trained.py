"""Committed weights of the digits models (coinfer.nets.trained): integrity, loading, and retraining from the recipe."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from coinfer.nets import digits, trained, zoo
from coinfer.nets.split import SplitModel, as_sequential

RECORDS = trained.read_records()
#: A retrain with the recorded recipe on another CPU rounds differently. Tolerances for that case:
#: held-out accuracy within 1 percentage point of the recorded one ...
ACCURACY_TOLERANCE = 0.01
#: ... and mean |w| and the Laplace scale (mean |w - median|) within 2 % relative of the committed file's.
STATISTIC_RELATIVE_TOLERANCE = 0.02
#: The retrains the suite can afford (about a second each on one core).
FAST_RETRAINS = ("digits_mlp", "digits_mlp_w8", "digits_mlp_w16")
#: 2.67 MB with the five training seeds of every size-study width (issue 23); the widest seed is 341 kB.
MAX_TOTAL_BYTES = 3_000_000


def _path(name: str) -> Path:
    return trained.WEIGHTS_DIR / RECORDS[name]["file"]


def test_every_recipe_has_a_committed_file_and_nothing_else():
    assert set(RECORDS) == set(trained.RECIPES)
    on_disk = {p.name for p in trained.WEIGHTS_DIR.glob("*.safetensors")}
    assert on_disk == {record["file"] for record in RECORDS.values()}


@pytest.mark.parametrize("name", list(trained.RECIPES))
def test_file_matches_its_record_and_loads_exactly(name):
    blob = _path(name).read_bytes()
    record = RECORDS[name]
    assert trained.sha256(blob) == record["sha256"] and len(blob) == record["bytes"]
    assert record["recipe"] == trained.RECIPES[name].as_dict()
    assert trained.file_metadata(blob)["recipe"] == record["recipe"]
    assert trained.file_metadata(blob)["test_accuracy"] == record["test_accuracy"]
    on_file = load_file(_path(name))
    loaded = trained.load(name).state_dict()
    assert loaded.keys() == on_file.keys()
    assert all(torch.equal(loaded[key], on_file[key]) for key in on_file)
    assert all(t.dtype == torch.float32 for t in on_file.values())
    assert sum(t.numel() for t in on_file.values()) == record["parameters"]
    # the format is reproducible: re-serialising the loaded tensors gives the committed bytes
    assert trained.serialise(loaded, trained.file_metadata(blob)) == blob


def test_loaded_digits_models_reach_the_recorded_accuracy_exactly():
    for name in ("digits_mlp", "digits_cnn", "digits_mlp_w8"):
        assert trained.heldout_accuracy(trained.RECIPES[name], trained.load(name)) == RECORDS[name]["test_accuracy"]
    # through the zoo, with the zoo's own held-out inputs and metric
    model = zoo.load_model("digits_mlp")
    batch = zoo.model_inputs("digits_mlp", "heldout", 540)
    out = model.forward(batch.inputs)
    assert zoo.task_metric("digits_mlp", out, out, batch.labels) == (
        "test_accuracy",
        RECORDS["digits_mlp"]["test_accuracy"],
    )


def test_every_width_has_its_training_seeds_and_they_load_at_their_recorded_accuracy():
    for width in digits.DIGITS_MLP_WIDTHS:
        names = [digits.digits_mlp_seed_name(width, seed) for seed in digits.DIGITS_MLP_SEEDS]
        assert len(set(names)) == len(digits.DIGITS_MLP_SEEDS) >= 5
        hashes = set()
        for seed, name in zip(digits.DIGITS_MLP_SEEDS, names, strict=True):
            recipe = trained.RECIPES[name]
            assert (recipe.seed, recipe.hidden, recipe.epochs) == (seed, (width, width), 300)
            assert trained.heldout_accuracy(recipe, trained.load(name)) == RECORDS[name]["test_accuracy"]
            # the zoo's constructor with that training seed loads the committed file, not a retrain
            assert _equal(_state(zoo.digits_mlp_width_split(width, seed)), load_file(_path(name)))
            hashes.add(RECORDS[name]["sha256"])
        assert len(hashes) == len(names)  # the seeds train different networks


def test_recorded_statistics_are_those_of_the_files():
    # torch's parallel mean splits its sum over the intra-op threads, so the last bit follows their count: the
    # records were made with torch's default on this 2-core machine, and with OMP_NUM_THREADS=1 two of the 32 laplace
    # scales differ by 1 ulp (0.07834637281881969 vs ...68; equal at the default count). Any thread count must
    # agree within 1e-15 relative (a few ulps).
    for name in trained.RECIPES:
        stats = trained.weight_statistics(trained.load(name))
        for key in ("mean_abs_weight", "laplace_scale"):
            assert stats[key] == pytest.approx(RECORDS[name][key], rel=1e-15, abs=0), (name, key)


def _state(split: SplitModel) -> dict[str, torch.Tensor]:
    """The split model's tensors under the keys of the committed ``nn.Sequential``."""
    stages = [s for s in split.stages() if not isinstance(s, torch.nn.Identity)]
    return (as_sequential(split) if split.name.startswith("digits_mlp") else torch.nn.Sequential(*stages)).state_dict()


def _equal(a: dict[str, torch.Tensor], b: dict[str, torch.Tensor]) -> bool:
    return a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)


def test_constructors_load_the_committed_weights_by_default():
    net, data = zoo.digits_mlp(0)
    assert _equal(net.state_dict(), load_file(_path("digits_mlp")))
    assert torch.equal(data.x_test, digits.load_digits_data(digits.DIGITS_DATA_SEED).x_test)
    assert _equal(_state(zoo.digits_mlp_split()), load_file(_path("digits_mlp")))
    assert _equal(_state(zoo.load_model("digits_mlp")), load_file(_path("digits_mlp")))
    assert _equal(_state(zoo.load_model("digits_cnn")), load_file(_path("digits_cnn")))
    for width in digits.DIGITS_MLP_WIDTHS:
        split = zoo.load_model(f"digits_mlp_w{width}")
        assert _equal(_state(split), load_file(_path(f"digits_mlp_w{width}")))
        assert _equal(_state(zoo.digits_mlp_width_split(width)), _state(split))
        assert split.name == f"digits_mlp_w{width}" and split.num_blocks == zoo.load_model("digits_mlp").num_blocks


def test_family_is_registered_but_not_part_of_the_pipeline():
    for width in digits.DIGITS_MLP_WIDTHS:
        assert f"digits_mlp_w{width}" in zoo.REGISTRY
        assert f"digits_mlp_w{width}" not in zoo.MODEL_NAMES


def test_family_spans_at_least_30x_in_parameters_over_at_least_five_widths():
    family = [name for name in trained.RECIPES if name.startswith("digits_mlp_w")]
    assert len(family) >= 5
    counts = [RECORDS[name]["parameters"] for name in family]
    assert max(counts) / min(counts) >= 30
    depth = len(trained.RECIPES["digits_mlp"].hidden)
    assert all(len(trained.RECIPES[name].hidden) == depth for name in family)  # the depth of digits_mlp
    assert all(RECORDS[name]["recipe"]["epochs"] == RECORDS["digits_mlp"]["recipe"]["epochs"] for name in family)


def test_committed_files_are_small():
    total = sum(p.stat().st_size for p in trained.WEIGHTS_DIR.iterdir())
    assert total < MAX_TOTAL_BYTES


@pytest.mark.parametrize("name", FAST_RETRAINS)
def test_retraining_the_recorded_recipe_reproduces_the_committed_model(name):
    recipe = trained.RECIPES[name]
    net = trained.train(recipe)
    record = RECORDS[name]
    assert abs(trained.heldout_accuracy(recipe, net) - record["test_accuracy"]) <= ACCURACY_TOLERANCE
    stats = trained.weight_statistics(net)
    for key in ("mean_abs_weight", "laplace_scale"):
        assert stats[key] == pytest.approx(record[key], rel=STATISTIC_RELATIVE_TOLERANCE), key


def test_retrain_flag_and_non_default_recipes_train_from_scratch():
    committed = load_file(_path("digits_mlp"))
    data = digits.load_digits_data(digits.DIGITS_DATA_SEED)
    assert trained.find_recipe("mlp", (128, 64), epochs=300, lr=1e-2, seed=0, data=data).name == "digits_mlp"
    # a non-default recipe parameter is not a committed recipe: it trains (and differs)
    assert trained.find_recipe("mlp", (128, 64), epochs=15, lr=1e-2, seed=0, data=data) is None
    assert trained.find_recipe("mlp", (128, 64), epochs=300, lr=1e-3, seed=0, data=data) is None
    assert trained.find_recipe("mlp", (128, 64), epochs=300, lr=1e-2, seed=1, data=data) is None
    assert trained.find_recipe("mlp", (128, 64), epochs=300, lr=1e-2, seed=0, data=digits.load_digits_data(1)) is None
    assert trained.find_recipe("cnn", (128, 64, 1, 1), epochs=300, lr=1e-2, seed=0, data=data) is None
    short, _ = zoo.digits_mlp(0, epochs=15)
    assert not _equal(short.state_dict(), committed)
    # retrain=True trains; with the recorded recipe it lands within the stated tolerances of the committed file
    retrained, _ = zoo.digits_mlp(0, retrain=True)
    assert retrained.state_dict().keys() == committed.keys()
    assert trained.weight_statistics(retrained)["laplace_scale"] == pytest.approx(
        RECORDS["digits_mlp"]["laplace_scale"], rel=STATISTIC_RELATIVE_TOLERANCE
    )


def test_load_leaves_the_torch_rng_alone():
    before = torch.get_rng_state()
    trained.load("digits_mlp_w8")
    assert torch.equal(torch.get_rng_state(), before)


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "weights"
    shutil.copytree(trained.WEIGHTS_DIR, target)
    return target


def test_a_changed_file_is_refused(tmp_path):
    directory = _copy(tmp_path)
    path = directory / RECORDS["digits_mlp_w8"]["file"]
    blob = bytearray(path.read_bytes())
    blob[-1] ^= 1  # one bit of the last weight
    path.write_bytes(bytes(blob))
    with pytest.raises(ValueError, match="sha256"):
        trained.load("digits_mlp_w8", directory)
    assert trained.load("digits_mlp_w16", directory) is not None  # the others still load


def test_a_file_trained_with_another_recipe_is_refused(tmp_path):
    directory = _copy(tmp_path)
    record = RECORDS["digits_mlp_w8"]
    path = directory / record["file"]
    metadata = trained.file_metadata(path.read_bytes())
    metadata["recipe"]["epochs"] = 299
    blob = trained.serialise(load_file(path), metadata)
    path.write_bytes(blob)
    index = json.loads((directory / trained.RECIPES_FILE).read_text())
    index["models"]["digits_mlp_w8"]["sha256"] = trained.sha256(blob)
    (directory / trained.RECIPES_FILE).write_text(json.dumps(index))
    with pytest.raises(ValueError, match="another recipe"):
        trained.load("digits_mlp_w8", directory)


def test_unknown_names_are_refused(tmp_path):
    with pytest.raises(ValueError, match="allowed"):
        trained.load("digits_mlp_w7")
    with pytest.raises(ValueError, match="allowed"):
        trained.train_committed_weights(tmp_path, ["nope"])
    with pytest.raises(FileNotFoundError, match="python -m coinfer.nets.trained"):
        trained.read_records(tmp_path)


def test_train_committed_weights_writes_files_and_records(tmp_path):
    written = trained.train_committed_weights(tmp_path, ["digits_mlp_w8"])
    assert set(written) == {"digits_mlp_w8"} and set(trained.read_records(tmp_path)) == {"digits_mlp_w8"}
    record = trained.read_records(tmp_path)["digits_mlp_w8"]
    assert record["file"] == "digits_mlp_w8.safetensors"
    assert trained.sha256((tmp_path / record["file"]).read_bytes()) == record["sha256"]
    assert trained.load("digits_mlp_w8", tmp_path).state_dict().keys() == load_file(_path("digits_mlp_w8")).keys()
    # same recipe as the committed file: within the stated tolerances (bit-equal on the machine that made it)
    assert abs(record["test_accuracy"] - RECORDS["digits_mlp_w8"]["test_accuracy"]) <= ACCURACY_TOLERANCE
    assert record["laplace_scale"] == pytest.approx(
        RECORDS["digits_mlp_w8"]["laplace_scale"], rel=STATISTIC_RELATIVE_TOLERANCE
    )
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporary files
