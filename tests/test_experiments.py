"""Notebook 04's output sweep (coinfer.studies.pruning_distortion): chunked forward passes, tags of held-out pairs."""

import torch

from coinfer.nets import zoo
from coinfer.nets.inputs import TEXT_CHUNK, length_chunks
from coinfer.nets.split import part_configs
from coinfer.studies.pruning_distortion import output_sweep


def test_text_chunks_are_sorted_by_length_trimmed_and_cover_every_input_once():
    size = 2 * TEXT_CHUNK + 5
    lengths = torch.tensor([(7 * i) % 40 + 1 for i in range(size)])
    mask = (torch.arange(128)[None, :] < lengths[:, None]).long()
    ids = torch.arange(size)[:, None] * 1000 + torch.arange(128)[None, :]
    chunks = length_chunks((ids, mask), size)
    assert [len(index) for index, _ in chunks] == [TEXT_CHUNK, TEXT_CHUNK, 5]
    assert sorted(torch.cat([index for index, _ in chunks]).tolist()) == list(range(size))
    for index, (chunk_ids, chunk_mask) in chunks:
        assert chunk_ids.shape[1] == int(lengths[index].max())  # cut to the chunk's longest sentence
        assert torch.equal(chunk_ids, ids[index, : chunk_ids.shape[1]]) and chunk_mask.sum() == lengths[index].sum()
    longest = [int(lengths[index].max()) for index, _ in chunks]
    assert longest == sorted(longest)
    digits = torch.zeros(1297, 64)
    [(index, whole)] = length_chunks(digits, 1297)
    assert torch.equal(whole, digits) and index.tolist() == list(range(1297))
    images = torch.arange(20.0).view(20, 1, 1, 1).expand(20, 3, 224, 224)
    chunks = length_chunks(images, 20)
    assert [index.tolist() for index, _ in chunks] == [list(range(0, 8)), list(range(8, 16)), list(range(16, 20))]
    assert all(torch.equal(chunk[:, 0, 0, 0], index.float()) for index, chunk in chunks)


def test_sweep_tags_every_heldout_pair_with_its_source_and_cluster():
    model = zoo.load_model("digits_mlp")
    batches = {
        "calibration": zoo.model_inputs("digits_mlp", "calibration", 20, 0),
        **zoo.c1_heldout_batches("digits_mlp", n=2, n_images=0, n_digits=6, n_digits_training=4, seed=0),
    }
    samples, summary = output_sweep("digits_mlp", model, part_configs(model, [1]), [0.0, 0.5], batches, progress=False)
    held = samples[samples["subset"] != "calibration"]
    assert held.groupby("subset")["source"].unique().map(list).to_dict() == {
        "heldout": ["test split"],
        zoo.HELDOUT_TRAINING: ["training split"],
    }
    assert held.loc[held["subset"] == zoo.HELDOUT_TRAINING, "cluster"].iloc[0] == f"{zoo.HELDOUT_TRAINING}:0"
    assert (samples.loc[samples["ratio"] == 0, "out_l1"] == 0).all()  # ratio 0 reuses the unpruned outputs
    assert (samples.loc[samples["ratio"] == 0.5, "out_l1"] > 0).any()
    assert set(summary["subset"]) == {"calibration", "heldout", zoo.HELDOUT_TRAINING}
