"""The inputs of the zoo (coinfer.nets.inputs, coinfer.nets.zoo; model.md section 6): held-out sets and chunks."""

import numpy as np
import pytest
import torch

from coinfer.base.validation import ParameterError
from coinfer.nets import inputs, zoo
from coinfer.nets.digits import load_digits_data


def test_unused_training_digits_are_all_outside_the_calibration_pool():
    data = load_digits_data()
    assert inputs.digits_training_pool_size() == len(data.x_train) - inputs.DIGITS_CALIBRATION_POOL == 757
    batch = inputs.digits_training_batch("flat", n=757, seed=0)
    assert batch.size == 757 and batch.sources == ("training split",) * 757 and not batch.dependent_sources
    # every one of them is a training row at or after the calibration pool, none before it
    rows = {tuple(r) for r in data.x_train[inputs.DIGITS_CALIBRATION_POOL :].tolist()}
    assert all(tuple(r) in rows for r in batch.inputs.tolist())
    calibration = inputs.digits_batch("flat", subset="calibration", n=500, seed=0)
    index = {tuple(r): i for i, r in enumerate(data.x_train.tolist())}
    assert max(index[tuple(r)] for r in calibration.inputs.tolist()) < inputs.DIGITS_CALIBRATION_POOL
    assert inputs.digits_batch("flat", subset="heldout", n=3).sources == ("test split",) * 3
    with pytest.raises(ParameterError, match="n: got 758"):
        inputs.digits_training_batch("flat", n=758)


def test_unused_training_digits_are_seeded():
    first = inputs.digits_training_batch("image", n=20, seed=1)
    assert first.inputs.shape == (20, 1, 8, 8)
    assert torch.equal(first.inputs, inputs.digits_training_batch("image", n=20, seed=1).inputs)
    assert not torch.equal(first.inputs, inputs.digits_training_batch("image", n=20, seed=2).inputs)


def test_grid_crops_follow_the_photo_sizes_and_keep_their_pixels():
    crops, names = inputs.image_grid_crops("heldout")
    expected = {
        name: 1 + (photo.shape[0] // 224) * (photo.shape[1] // 224)
        for name, photo in zip(inputs.PHOTO_SOURCES["heldout"], inputs.photos("heldout"), strict=True)
    }
    assert {name: names.count(name) for name in expected} == expected and len(names) == sum(expected.values()) == 62
    assert crops.shape == (62, 3, 224, 224) and crops.dtype == torch.uint8
    assert not set(names) & set(inputs.PHOTO_SOURCES["calibration"])  # no photo in both sets
    # the first tile of the retina (1411 x 1411: a 6 x 6 grid, offset (1411 - 1344) // 2 = 33) is the photo's own pixels
    retina = inputs.photos("heldout")[inputs.PHOTO_SOURCES["heldout"].index("retina")]
    first_tile = names.index("retina") + 1
    assert np.array_equal(crops[first_tile].permute(1, 2, 0).numpy(), retina[33:257, 33:257])
    again, _ = inputs.image_grid_crops("heldout")
    assert torch.equal(crops, again)


def test_grid_batch_is_tagged_by_photo_and_dependent():
    batch = inputs.image_grid_batch(subset="heldout")
    assert batch.size == 62 and batch.dependent_sources and len(batch.sources) == 62
    few = inputs.image_grid_batch(subset="heldout", n=5, seed=3)
    assert few.size == 5 and few.sources == inputs.image_grid_batch(subset="heldout", n=5, seed=3).sources
    with pytest.raises(ParameterError, match="n: got 63"):
        inputs.image_grid_batch(subset="heldout", n=63)


def test_c1_heldout_batches_per_model():
    digits = zoo.c1_heldout_batches("digits_cnn", n=4, n_images=0, n_digits=540, n_digits_training=757, seed=0)
    assert {k: b.size for k, b in digits.items()} == {"heldout": 540, zoo.HELDOUT_TRAINING: 757}
    assert digits[zoo.HELDOUT_TRAINING].inputs.shape[1:] == (1, 8, 8) and digits["heldout"].labels is not None
    alone = zoo.c1_heldout_batches("digits_mlp", n=4, n_images=0, n_digits=10, n_digits_training=0, seed=0)
    assert list(alone) == ["heldout"]
    images = zoo.c1_heldout_batches("efficientnet_lite0", n=4, n_images=0, n_digits=1, n_digits_training=0)
    assert images["heldout"].size == 62 and images["heldout"].dependent_sources
    with pytest.raises(ParameterError, match="n_images"):
        zoo.c1_heldout_batches("efficientnet_lite0", n=4, n_images=-1, n_digits=1, n_digits_training=0)


# --------------------------------------------------------------------------- chunks of one forward pass
def test_text_chunks_are_sorted_by_length_trimmed_and_cover_every_input_once():
    size = 2 * inputs.TEXT_CHUNK + 5
    lengths = torch.tensor([(7 * i) % 40 + 1 for i in range(size)])
    mask = (torch.arange(128)[None, :] < lengths[:, None]).long()
    ids = torch.arange(size)[:, None] * 1000 + torch.arange(128)[None, :]
    chunks = inputs.length_chunks((ids, mask), size)
    assert [len(index) for index, _ in chunks] == [inputs.TEXT_CHUNK, inputs.TEXT_CHUNK, 5]
    assert sorted(torch.cat([index for index, _ in chunks]).tolist()) == list(range(size))
    for index, (chunk_ids, chunk_mask) in chunks:
        assert chunk_ids.shape[1] == int(lengths[index].max())  # cut to the chunk's longest sentence
        assert torch.equal(chunk_ids, ids[index, : chunk_ids.shape[1]]) and chunk_mask.sum() == lengths[index].sum()
    longest = [int(lengths[index].max()) for index, _ in chunks]
    assert longest == sorted(longest)
    digits = torch.zeros(1297, 64)
    [(index, whole)] = inputs.length_chunks(digits, 1297)
    assert torch.equal(whole, digits) and index.tolist() == list(range(1297))
    images = torch.arange(20.0).view(20, 1, 1, 1).expand(20, 3, 224, 224)
    chunks = inputs.length_chunks(images, 20)
    assert [index.tolist() for index, _ in chunks] == [list(range(0, 8)), list(range(8, 16)), list(range(16, 20))]
    assert all(torch.equal(chunk[:, 0, 0, 0], index.float()) for index, chunk in chunks)


def test_sentence_chunks_equal_the_tokenizers_own_padding_and_keep_the_embeddings():
    """What the chunker replaced: notebook 07 tokenised each chunk itself (``padding="longest"``), notebook 08 cut
    the whole batch to its longest sentence; the chunks are the same tensors and give the same embeddings."""
    from coinfer.nets.transformers import MINILM_MAX_LENGTH, load_tokenizer, minilm_path

    texts = inputs.sentences("heldout", 40, seed=3)
    tokenizer = load_tokenizer(minilm_path())
    batch = inputs.text_batch(tokenizer, texts)
    chunks = inputs.length_chunks(batch.inputs, len(texts), per_chunk=32)
    assert [len(index) for index, _ in chunks] == [32, 8]
    for index, (ids, mask) in chunks:
        own = tokenizer(
            [texts[i] for i in index.tolist()],
            padding="longest",
            truncation=True,
            max_length=MINILM_MAX_LENGTH,
            return_tensors="pt",
        )
        assert torch.equal(ids, own["input_ids"]) and torch.equal(mask, own["attention_mask"])
    model = zoo.load_model("minilm")
    with torch.inference_mode():
        whole = model.forward(batch.inputs)
        chunked = torch.cat([model.forward(x) for _, x in chunks])
    order = torch.cat([index for index, _ in chunks])
    assert torch.allclose(chunked, whole[order], atol=1e-5, rtol=0)
    images = torch.zeros(70, 3, 4, 4)
    assert [len(index) for index, _ in inputs.length_chunks(images, 70, per_chunk=32)] == [32, 32, 6]
    with pytest.raises(ParameterError, match="per_chunk"):
        inputs.length_chunks(images, 70, per_chunk=0)


# --------------------------------------------------------------------------- C1b's calibration inputs
def test_c1b_crops_are_the_heldout_process_on_disjoint_photos_and_too_few():
    calibration = zoo.c1_calibration_batch("efficientnet_lite0", n=100, seed=0)
    heldout = zoo.c1_heldout_batches("efficientnet_lite0", n=4, n_images=0, n_digits=1, n_digits_training=0)["heldout"]
    # every grid crop of the seven calibration photos: the offline pool holds 34, fewer than C1b's 100
    assert calibration.size == 34 and calibration.dependent_sources
    assert set(calibration.sources) == set(inputs.PHOTO_SOURCES["calibration"])
    assert not set(calibration.sources) & set(heldout.sources)
    crops, names = inputs.image_grid_crops("calibration")
    assert torch.equal(calibration.inputs, inputs.normalise_images(crops)) and calibration.sources == names
    few = zoo.c1_calibration_batch("efficientnet_lite0", n=5, seed=3)
    assert few.sources == inputs.image_grid_batch(subset="calibration", n=5, seed=3).sources
    assert zoo.c1_process("efficientnet_lite0") == "photo_grid_crops"


def test_c1b_sentences_are_the_heldout_draw_from_the_other_topics():
    calibration = zoo.c1_calibration_batch("minilm", n=100, seed=0)
    assert calibration.size == 100 and calibration.sources is None
    assert torch.equal(calibration.inputs[0], zoo.model_inputs("minilm", "calibration", 100, 0).inputs[0])
    assert not set(inputs.sentences("calibration", 100, 0)) & set(inputs.sentence_pool("heldout"))
    assert zoo.c1_process("minilm") == "pydoc_sentences"
    with pytest.raises(ParameterError, match="model: got 'digits_mlp'"):
        zoo.c1_calibration_batch("digits_mlp", n=100)


def test_image_crop_photos_name_the_photo_each_crop_is_cut_from():
    crops = inputs.image_crops("heldout", 9, seed=3)
    named = inputs.image_crop_photos("heldout", 9, seed=3)
    grid, names = inputs.image_grid_crops("heldout")
    photos = inputs.PHOTO_SOURCES["heldout"]
    assert sorted(named[:7]) == sorted(photos) and named[7:] == named[:2]  # round-robin over every photo
    for i in range(7):  # the first pass is each photo's whole centred square, which the grid holds first
        assert torch.equal(crops[i], grid[names.index(named[i])])
    assert inputs.image_crop_photos("heldout", 9, seed=4) != named
