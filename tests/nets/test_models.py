"""The model zoo and its inputs (model.md §§2 and 6): split equivalence, upstream equivalence, inputs, meta models."""

from __future__ import annotations

import copy

import pytest
import torch
from torch.utils.flop_counter import FlopCounterMode

from coinfer.base.validation import ParameterError
from coinfer.nets import digits, inputs, meta, metrics, transformers, zoo
from coinfer.nets.split import Batch, SplitModel, as_sequential, feature_tensor

TOL = 1e-5
#: Small batches keep the whole file fast; equivalence does not need many samples.
BATCH = {"digits_mlp": 64, "digits_cnn": 64, "minilm": 2, "efficientnet_lite0": 2}


def _small(name: str, batch: Batch):
    """Inputs shrunk for the per-split loop (the chain is what is tested, not the input size)."""
    if name == "minilm":  # 32 of the 128 tokens
        ids, mask = batch.inputs
        return ids[:, :32], mask[:, :32]
    if name == "efficientnet_lite0":  # 96x96 instead of 224x224
        return torch.nn.functional.interpolate(batch.inputs, size=(96, 96), mode="bilinear")
    return batch.inputs


@pytest.fixture(scope="module", params=zoo.MODEL_NAMES)
def zoo_model(request):
    name = request.param
    return name, zoo.load_model(name), zoo.model_inputs(name, "heldout", BATCH[name])


def _close(a, b) -> bool:
    return torch.allclose(feature_tensor(a), feature_tensor(b), atol=TOL, rtol=0)


def test_load_offline_eval_mode_and_sizes(zoo_model):
    name, model, batch = zoo_model
    assert all(not m.training for stage in model.stages() for m in stage.modules())
    expected = {
        "digits_mlp": (17_226, 2),
        "digits_cnn": (8_378, 4),
        "minilm": (22_565_376, 6),
        "efficientnet_lite0": (4_652_008, 16),
    }[name]
    assert (model.info["parameters"], model.num_blocks) == expected
    assert zoo.load_model(name) is model  # cached per process


def test_every_split_device_then_server_equals_whole_model(zoo_model):
    name, model, batch = zoo_model
    x = _small(name, batch)
    whole = model.forward(x)
    for split in range(model.num_blocks + 1):
        sent = model.run_device(x, split)
        assert _close(model.run_server(sent, split), whole), (name, split)
    # the server part really uses what is sent: a perturbed feature changes the output
    sent = model.run_device(x, 1)
    perturbed = (sent[0] * 0.5, *sent[1:]) if isinstance(sent, tuple) else sent * 0.5
    assert not _close(model.run_server(perturbed, 1), whole)


def test_weights_partition_at_every_split(zoo_model):
    _, model, _ = zoo_model
    everything = model.all_weights()
    for split in range(model.num_blocks + 1):
        device, server = model.device_weights(split), model.server_weights(split)
        assert not set(device) & set(server)
        assert set(device) | set(server) == set(everything)
        assert {id(w) for w in device.values()} | {id(w) for w in server.values()} == {
            id(w) for w in everything.values()
        }
    assert model.device_weights(0) == {} and model.server_weights(model.num_blocks) == {}


def test_deep_copy_is_independent(zoo_model):
    name, model, batch = zoo_model
    clone = copy.deepcopy(model)
    weight = next(iter(clone.all_weights().values()))
    with torch.no_grad():
        weight.zero_()
    assert not torch.equal(weight, next(iter(model.all_weights().values())))
    x = _small(name, batch)
    assert not _close(clone.forward(x), model.forward(x))


def test_output_vectors_and_reference_metric(zoo_model):
    name, model, batch = zoo_model
    out = model.forward(batch.inputs)
    vectors = zoo.output_vectors(name, out)
    assert vectors.shape[0] == batch.size and vectors.ndim == 2
    metric, value = zoo.task_metric(name, out, out, batch.labels)
    if name.startswith("digits"):
        assert metric == "test_accuracy" and value > 0.9  # trained models, real test split
    else:
        assert value == pytest.approx(1.0)  # the unpruned model agrees with itself


def test_minilm_equals_upstream_mean_pooled():
    batch = zoo.model_inputs("minilm", "calibration", 3)
    ours = zoo.load_model("minilm").forward(batch.inputs)
    assert torch.allclose(ours, zoo.upstream_output("minilm", batch.inputs), atol=TOL, rtol=0)
    assert torch.allclose(ours.norm(dim=1), torch.ones(3), atol=1e-6)
    ids, mask = batch.inputs
    assert ids.shape == (3, transformers.MINILM_MAX_LENGTH) and 0 < int(mask.sum()) < mask.numel()  # padded


def test_efficientnet_equals_package_forward():
    batch = zoo.model_inputs("efficientnet_lite0", "calibration", 2)
    ours = zoo.load_model("efficientnet_lite0").forward(batch.inputs)
    assert torch.allclose(ours, zoo.upstream_output("efficientnet_lite0", batch.inputs), atol=TOL, rtol=0)


def test_digits_mlp_equals_freshly_trained_sequential():
    net, data = zoo.digits_mlp(0, data=digits.load_digits_data(digits.DIGITS_DATA_SEED))
    split = zoo.load_model("digits_mlp")
    assert torch.equal(split.forward(data.x_test), net(data.x_test).detach())
    assert torch.equal(as_sequential(split)(data.x_test), net(data.x_test).detach())


@pytest.mark.parametrize("name", zoo.MODEL_NAMES)
def test_inputs_deterministic_and_seeded(name):
    a = zoo.model_inputs(name, "calibration", 3, seed=1)
    b = zoo.model_inputs(name, "calibration", 3, seed=1)
    c = zoo.model_inputs(name, "calibration", 3, seed=2)
    first = lambda batch: feature_tensor(batch.inputs)  # noqa: E731
    assert torch.equal(first(a), first(b))
    assert not torch.equal(first(a), first(c))
    assert (
        a.size == 3
        and a.input_bits
        == {"digits_mlp": 512, "digits_cnn": 512, "minilm": 2048, "efficientnet_lite0": 224 * 224 * 3 * 8}[name]
    )


def test_calibration_and_heldout_are_disjoint():
    cal, held = inputs.sentence_pool("calibration"), inputs.sentence_pool("heldout")
    assert len(cal) > 200 and len(held) > 200 and not set(cal) & set(held)
    assert all(5 <= len(s.split()) <= 60 for s in cal + held)
    assert not set(inputs.PHOTO_SOURCES["calibration"]) & set(inputs.PHOTO_SOURCES["heldout"])
    all_photos = inputs.photos("calibration") + inputs.photos("heldout")
    for i, a in enumerate(all_photos):  # no photo is bundled twice under two names (e.g. cat = chelsea)
        assert not any(a.shape == b.shape and (a == b).all() for b in all_photos[i + 1 :])
    # digits: calibration rows come from the training split, held-out rows are the test split
    data = digits.load_digits_data(digits.DIGITS_DATA_SEED)
    cal_x = zoo.model_inputs("digits_mlp", "calibration", 500).inputs
    held_x = zoo.model_inputs("digits_mlp", "heldout", len(data.x_test)).inputs
    train_rows = {tuple(r.tolist()) for r in data.x_train}
    assert all(tuple(r.tolist()) in train_rows for r in cal_x)
    assert sorted(map(tuple, held_x.tolist())) == sorted(map(tuple, data.x_test.tolist()))


def test_bad_input_one_line_errors():
    with pytest.raises(ParameterError, match="model"):
        zoo.load_model("resnet")
    with pytest.raises(ParameterError, match="subset"):
        zoo.model_inputs("digits_mlp", "train", 4)
    with pytest.raises(ParameterError, match="n: got 100000"):
        zoo.model_inputs("minilm", "heldout", 100_000)
    with pytest.raises(ParameterError, match="seq_len"):
        meta.build_meta_model("gpt2_xl", 4096)


def test_task_metrics_on_known_cases():
    ref = torch.tensor([[1.0, 0.0], [0.0, 1.0], [1.0, 0.0], [0.0, 1.0]])
    out = torch.tensor([[2.0, 1.0], [3.0, 0.0], [0.0, 1.0], [0.0, 5.0]])  # argmax 0, 0, 1, 1
    assert zoo.task_metric("efficientnet_lite0", ref, out) == ("top1_agreement", 0.5)
    assert zoo.task_metric("digits_mlp", ref, out, torch.tensor([0, 0, 0, 0])) == ("test_accuracy", 0.5)
    name, cos = zoo.task_metric(
        "minilm", torch.tensor([[1.0, 0.0], [1.0, 0.0]]), torch.tensor([[0.0, 2.0], [3.0, 3.0]])
    )
    assert name == "cosine_similarity" and cos == pytest.approx((0.0 + 2**-0.5) / 2)
    with pytest.raises(ValueError, match="labels"):
        zoo.task_metric("digits_cnn", ref, out)


@pytest.mark.parametrize("name", meta.META_MODEL_NAMES)
def test_meta_models_split_forward_and_flops(name):
    seq = 16
    model = meta.build_meta_model(name, seq)
    batch = meta.meta_inputs(name, seq)
    assert all(p.is_meta for stage in model.stages() for p in stage.parameters())
    width = {"bert_large": 1024, "gpt2_xl": 1600, "llama_7b": 4096}[name]
    out_dim = {"bert_large": 1024, "gpt2_xl": 50257, "llama_7b": 32000}[name]
    for split in (0, 1, model.num_blocks // 2, model.num_blocks):
        sent = model.run_device(batch.inputs, split)
        if 0 < split < model.num_blocks:
            assert feature_tensor(sent).shape == (1, seq, width)
        assert feature_tensor(model.run_server(sent, split)).shape[-1] == out_dim
    # a dense transformer costs about 2 FLOPs per weight per token; attention adds a little on top
    # (BERT's pooler sees only the [CLS] token, hence slightly below 1 for it)
    prunable = sum(w.numel() for w in model.all_weights().values())
    with FlopCounterMode(display=False) as counter:
        model.forward(batch.inputs)
    assert 0.99 <= counter.get_total_flops() / (2 * prunable * seq) < 1.1
    layers = {"bert_large": 24, "gpt2_xl": 48, "llama_7b": 32}[name]
    params = {"bert_large": 335e6, "gpt2_xl": 1.56e9, "llama_7b": 6.74e9}[name]
    assert model.num_blocks == layers and model.info["parameters"] == pytest.approx(params, rel=0.01)


def test_how_to_add_a_local_bert_checkpoint(monkeypatch):
    """The recipe of the coinfer.nets.zoo docstring, the MiniLM directory standing in for "any local checkpoint"."""
    checkpoint = transformers.minilm_path()

    def my_bert(seed: int) -> SplitModel:
        return transformers.bert_split_model("my_bert", transformers.load_hf_bert(checkpoint))

    def my_bert_inputs(subset: str, n: int, seed: int) -> Batch:
        return inputs.text_batch(transformers.load_tokenizer(checkpoint), inputs.sentences(subset, n, seed))

    monkeypatch.setitem(
        zoo.REGISTRY,
        "my_bert",
        zoo.ModelEntry(my_bert, my_bert_inputs, metrics.logits_vector, metrics.cosine_metric, "my BERT encoder"),
    )
    batch = zoo.model_inputs("my_bert", "heldout", 2)
    assert torch.equal(batch.inputs[0], zoo.model_inputs("minilm", "heldout", 2).inputs[0])
    out = zoo.load_model("my_bert").forward(batch.inputs)
    assert torch.allclose(out, zoo.load_model("minilm").forward(batch.inputs), atol=TOL, rtol=0)
    assert zoo.task_metric("my_bert", out, out) == ("cosine_similarity", pytest.approx(1.0))
