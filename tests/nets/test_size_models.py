"""Size-study models (model.md sections 6, 10): the MPNet split-archive cache, MPNet-base and EfficientNet-Lite1/2."""

import hashlib
import io
import zipfile
from pathlib import Path

import pytest
import torch

from coinfer.base.validation import ParameterError
from coinfer.nets import archives, transformers, zoo


def _split_zip(tmp_path: Path, files: dict[str, bytes], pieces: int = 3) -> tuple[list[Path], str]:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, content in files.items():
            archive.writestr(name, content)
    data = buffer.getvalue()
    step = -(-len(data) // pieces)
    parts = []
    for i in range(pieces):
        part = tmp_path / f"piece{i + 1}" / f"model.zip.{i + 1:03d}"
        part.parent.mkdir()
        part.write_bytes(data[i * step : (i + 1) * step])
        parts.append(part)
    return parts, hashlib.sha256(data).hexdigest()


def test_split_archive_joined_verified_and_extracted_once(tmp_path, monkeypatch):
    files = {"ckpt/config.json": b'{"a": 1}', "ckpt/weights.bin": bytes(range(256)) * 50}
    parts, digest = _split_zip(tmp_path, files)
    destination = tmp_path / "cache" / "ckpt"
    assert archives.extract_split_archive(parts, digest, destination) == destination
    for name, content in files.items():
        assert (destination / name).read_bytes() == content
    assert archives.is_extracted(destination, digest)
    assert [p.name for p in destination.parent.iterdir()] == ["ckpt"]  # no temporary leftovers

    def fail(*args, **kwargs):
        raise AssertionError("re-extracted")

    monkeypatch.setattr(archives, "join_parts", fail)
    assert archives.extract_split_archive(parts, digest, destination) == destination  # second call: nothing read


def test_split_archive_wrong_digest_or_order_is_a_clear_error(tmp_path):
    parts, digest = _split_zip(tmp_path, {"x.txt": b"hello" * 1000})
    destination = tmp_path / "cache" / "x"
    with pytest.raises(ParameterError, match="SHA-256 of the joined pieces"):
        archives.extract_split_archive(parts, "0" * 64, destination)
    with pytest.raises(ParameterError, match=f"expected {digest}"):
        archives.extract_split_archive(parts[::-1], digest, destination)
    assert not destination.exists() and list(destination.parent.iterdir()) == []
    with pytest.raises(ParameterError, match="is missing"):
        archives.extract_split_archive([tmp_path / "nope.zip.001"], digest, destination)


def test_cache_root_env_override(monkeypatch, tmp_path):
    monkeypatch.setenv(archives.CACHE_ENV, str(tmp_path))
    assert archives.cache_root() == tmp_path
    monkeypatch.delenv(archives.CACHE_ENV)
    assert archives.cache_root() == Path.home() / ".cache" / "coinfer"


@pytest.mark.slow
def test_mpnet_split_equals_automodel_mean_pooled_exactly():
    model = zoo.load_model("mpnet_base")
    assert model.num_blocks == 12 and 108e6 < model.info["parameters"] < 110e6
    batch = zoo.model_inputs("mpnet_base", "heldout", 2)
    assert batch.inputs[0].shape == (2, transformers.MPNET_MAX_LENGTH) and batch.input_bits == 16 * 128
    assert zoo.model_inputs("minilm", "heldout", 2).description.split(" (")[0] in batch.description
    with torch.inference_mode():
        ours = model.forward(batch.inputs)
        upstream = zoo.upstream_output("mpnet_base", batch.inputs)
        split = model.run_server(model.run_device(batch.inputs, 5), 5)
    assert torch.equal(ours, upstream)
    assert torch.equal(split, ours)


@pytest.mark.slow
@pytest.mark.parametrize("variant, size", [("lite1", 240), ("lite2", 260)])
def test_efficientnet_lite_native_resolution_equals_package(variant, size):
    name = f"efficientnet_{variant}"
    model = zoo.load_model(name)
    batch = zoo.model_inputs(name, "heldout", 1)
    assert batch.inputs.shape == (1, 3, size, size) and batch.input_bits == size * size * 3 * 8
    assert model.info["input_shape"] == (3, size, size)
    with torch.inference_mode():
        ours = model.forward(batch.inputs)
        assert torch.equal(ours, zoo.upstream_output(name, batch.inputs))
        assert torch.equal(model.run_server(model.run_device(batch.inputs, 7), 7), ours)
    assert ours.shape == (1, 1000)
    assert name not in zoo.MODEL_NAMES and name in zoo.SIZE_STUDY_MODELS


def test_size_study_members_listed_in_the_profile_schema():
    from coinfer.base import notebooks

    choices = notebooks.SCHEMAS["05_system_profiles"]["models"].choices
    assert choices is not None
    assert set(zoo.SIZE_STUDY_MODELS) <= set(choices)
    assert set(choices) == set(zoo.MODEL_NAMES) | set(zoo.SIZE_STUDY_MODELS)
    assert not set(zoo.SIZE_STUDY_MODELS) & set(zoo.MODEL_NAMES)
