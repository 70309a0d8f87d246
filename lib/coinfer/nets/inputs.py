"""Calibration and held-out input sets of the model zoo (model.md section 6).

Every set is built offline from data shipped with installed packages and is
deterministic for a given ``seed``. Calibration and held-out inputs never
share a source:

- digits: calibration = part of the training split, held-out = the test split
  (the split is fixed, :data:`coinfer.nets.digits.DIGITS_DATA_SEED`);
- text (MiniLM): sentences from the interpreter's own documentation
  (``pydoc_data.topics``); documentation topics alternate between the two
  subsets in sorted order, so no sentence or topic is shared;
- images (EfficientNet-Lite0): photos bundled with scikit-image and
  scikit-learn; each photo belongs to exactly one subset, more samples come
  from seeded crops, flips and rescales of those photos
  (:func:`image_crops`), or, for the C1 held-out set, from a deterministic
  grid whose size follows from each photo's size (:func:`image_grid_crops`).

The C1 held-out sets of notebook 04 (model.md section 6) also use the
training-split digits outside the calibration pool
(:func:`digits_training_batch`): those digits were seen in training, but
never used to fit ``H``.

``seed`` only chooses which samples (and, for images, which crops) are drawn.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from coinfer.base.validation import ParameterError, require_choice, require_range
from coinfer.nets.digits import DIGITS_DATA_SEED, load_digits_data
from coinfer.nets.efficientnet import EFFICIENTNET_IMAGE_SIZE, IMAGENET_MEAN, IMAGENET_STD
from coinfer.nets.split import PIXEL_BITS, TOKEN_BITS, Batch
from coinfer.nets.transformers import MINILM_MAX_LENGTH, MPNET_MAX_LENGTH, load_tokenizer, minilm_path, mpnet_path

#: The two disjoint input sets: fitting/estimation uses calibration, checks use held-out.
SUBSETS: tuple[str, ...] = ("calibration", "heldout")


def _seeded_generator(seed: int) -> np.random.Generator:
    """The one way randomness is created in this package: ``numpy`` PCG64 from ``seed``."""
    return np.random.default_rng(seed)


def _choose(pool_size: int, n: int, seed: int, what: str) -> np.ndarray:
    """``n`` distinct indices of a pool, in a seeded order."""
    if n > pool_size:
        raise ParameterError(f"n: got {n}; allowed 1..{pool_size} for {what}")
    return _seeded_generator(seed).permutation(pool_size)[:n]


# --------------------------------------------------------------------------- digits
#: Training samples held back as the calibration pool (the first of a fixed permutation).
DIGITS_CALIBRATION_POOL = 500


def digits_batch(layout: str, *, subset: str, n: int, seed: int = 0) -> Batch:
    """Digits inputs with labels; ``layout`` ``"flat"`` ([n, 64]) or ``"image"`` ([n, 1, 8, 8]).

    Parameters
    ----------
    layout : str
        ``"flat"`` or ``"image"``.
    subset : str
        ``"calibration"``, ``"heldout"`` or ``"training"``.
    n : int
        Number of inputs [count].
    seed : int
        Seed of the draw [1].

    Returns
    -------
    Batch
        The inputs [pixel intensity] and labels [class index].

    References
    ----------
    docs/model.md, section 6.
    """
    require_choice("layout", layout, ("flat", "image"))
    require_choice("subset", subset, SUBSETS)
    data = load_digits_data(DIGITS_DATA_SEED)
    if subset == "calibration":
        pool_x, pool_y = data.x_train[:DIGITS_CALIBRATION_POOL], data.y_train[:DIGITS_CALIBRATION_POOL]
    else:
        pool_x, pool_y = data.x_test, data.y_test
    source = "training split" if subset == "calibration" else "test split"
    return _digits_from_pool(layout, pool_x, pool_y, n, seed, f"digits {subset}", source)


def _digits_from_pool(
    layout: str, pool_x: torch.Tensor, pool_y: torch.Tensor, n: int, seed: int, what: str, source: str
) -> Batch:
    """``n`` digits of a pool in a seeded order, every one tagged with ``source``."""
    index = torch.as_tensor(_choose(len(pool_x), n, seed, what))
    x = pool_x[index]
    if layout == "image":
        x = x.view(-1, 1, 8, 8)
    return Batch(x, n, pool_y[index], 64 * PIXEL_BITS, f"{n} sklearn digits from the {source}", (source,) * n)


def digits_training_pool_size() -> int:
    """How many training-split digits lie outside the calibration pool (757 of the 1,257).

    Returns
    -------
    int
        The count [count].
    """
    return len(load_digits_data(DIGITS_DATA_SEED).x_train) - DIGITS_CALIBRATION_POOL


def digits_training_batch(layout: str, *, n: int, seed: int = 0) -> Batch:
    """Training-split digits outside the calibration pool (model.md section 6), tagged ``"training split"``.

    They extend the C1 held-out set: the first-order test needs only inputs
    that did not fit ``H``, and these never did. They were seen in training,
    so they must not measure the task metric (accuracy stays on the test split).

    Parameters
    ----------
    layout : str
        ``"flat"`` or ``"image"``.
    n : int
        Number of inputs [count].
    seed : int
        Seed of the draw [1].

    Returns
    -------
    Batch
        The inputs [pixel intensity], labels [class index] and source tags.

    References
    ----------
    docs/model.md, section 6.
    """
    require_choice("layout", layout, ("flat", "image"))
    data = load_digits_data(DIGITS_DATA_SEED)
    pool_x, pool_y = data.x_train[DIGITS_CALIBRATION_POOL:], data.y_train[DIGITS_CALIBRATION_POOL:]
    return _digits_from_pool(
        layout, pool_x, pool_y, n, seed, "training digits outside the calibration pool", "training split"
    )


# --------------------------------------------------------------------------- text
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z])")
_PROSE = re.compile(r"^[A-Za-z0-9 ,;:'\"()\-.!?/]+$")


def _sentences_of(text: str) -> list[str]:
    """Clean prose sentences of one documentation topic (5-60 words)."""
    found = []
    for paragraph in re.split(r"\n\s*\n", text):
        lines = paragraph.split("\n")
        # Indented blocks are code, grammar or tables; underlined lines are headings.
        if any(line.startswith((" ", "\t")) for line in lines) or re.search(r"^[*=\-]{3,}", paragraph, re.M):
            continue
        for sentence in _SENTENCE_END.split(" ".join(line.strip() for line in lines)):
            sentence = sentence.strip()
            words = sentence.split()
            if (
                5 <= len(words) <= 60
                and sentence[0].isupper()
                and sentence.endswith(".")
                and _PROSE.match(sentence)
                and ">>>" not in sentence
            ):
                found.append(sentence)
    return found


@functools.cache
def topic_sentences() -> dict[str, tuple[str, ...]]:
    """Every documentation topic (sorted by name, empty ones included) -> its clean sentences.

    A sentence repeated across topics stays in the first topic (in sorted
    order) only, so no sentence belongs to two topics.
    """
    from pydoc_data.topics import topics

    seen: set[str] = set()
    found: dict[str, tuple[str, ...]] = {}
    for topic in sorted(topics):
        fresh = [s for s in dict.fromkeys(_sentences_of(topics[topic])) if s not in seen]
        seen.update(fresh)
        found[topic] = tuple(fresh)
    return found


@functools.cache
def sentence_pool(subset: str) -> tuple[str, ...]:
    """All sentences of ``subset``: topics in sorted order alternate calibration / held-out; duplicates dropped."""
    require_choice("subset", subset, SUBSETS)
    pools: dict[str, list[str]] = {name: [] for name in SUBSETS}
    for i, found in enumerate(topic_sentences().values()):
        pools[SUBSETS[i % 2]].extend(found)
    return tuple(pools[subset])


def sentences(subset: str, n: int, seed: int = 0) -> list[str]:
    """``n`` sentences of ``subset`` in a seeded order.

    Parameters
    ----------
    subset : str
        ``"calibration"`` or ``"heldout"``.
    n : int
        Number of inputs [count].
    seed : int
        Seed of the draw [1].

    Returns
    -------
    list of str
        The sentences.
    """
    pool = sentence_pool(subset)
    return [pool[i] for i in _choose(len(pool), n, seed, f"{subset} sentences")]


# --------------------------------------------------------------------------- the topic task (model.md section 9)
#: Share of each topic's sentences that build its class centroid; the others are evaluated.
TOPIC_CENTROID_SHARE = 0.4


@dataclass(frozen=True)
class TopicTask:
    """A labelled text task built offline: which documentation topic a sentence comes from (model.md section 9).

    Classes are documentation topics (``topics[label]``). Each topic's
    sentences are split, seeded, into centroid sentences (which the unpruned
    encoder embeds to build the class centroids) and evaluation sentences
    (which a deployed encoder embeds and classifies by the nearest centroid);
    no sentence is in both.
    """

    topics: tuple[str, ...]
    centroid_sentences: tuple[str, ...]
    centroid_labels: tuple[int, ...]
    sentences: tuple[str, ...]
    labels: tuple[int, ...]


def topic_task(n_topics: int = 12, n: int | None = None, seed: int = 0) -> TopicTask:
    """The topic task on the ``n_topics`` largest documentation topics, ``n`` evaluation sentences (model.md 9).

    Topics are ranked by their number of sentences (ties by name); both
    subsets of :func:`sentence_pool` contribute, since the task has its own
    split: in each topic a seeded ``TOPIC_CENTROID_SHARE`` of the sentences
    (at least one) builds the centroid and the rest may be evaluated.
    ``n`` evaluation sentences are drawn from all topics' evaluation
    sentences in a seeded order (``None``: all of them). Deterministic for
    ``seed``.

    Parameters
    ----------
    n_topics : int
        Number of topics [count].
    n : int, optional
        Evaluation sentences [count]; ``None`` for all.
    seed : int
        Seed of the draw [1].

    Returns
    -------
    TopicTask
        Centroid and evaluation sentences with their topics.

    References
    ----------
    docs/model.md, section 9.
    """
    require_range("n_topics", n_topics, 2, integer=True)
    ranked = sorted(topic_sentences().items(), key=lambda item: (-len(item[1]), item[0]))
    if n_topics > len(ranked) or len(ranked[n_topics - 1][1]) < 2:
        raise ParameterError(f"n_topics: got {n_topics}; too many topics with at least 2 sentences")
    chosen = ranked[:n_topics]
    rng = _seeded_generator(seed)
    centroid: list[tuple[str, int]] = []
    evaluated: list[tuple[str, int]] = []
    for label, (_, found) in enumerate(chosen):
        order = rng.permutation(len(found))
        k = min(len(found) - 1, max(1, int(round(TOPIC_CENTROID_SHARE * len(found)))))
        centroid += [(found[i], label) for i in order[:k]]
        evaluated += [(found[i], label) for i in order[k:]]
    n = len(evaluated) if n is None else n
    picked = [evaluated[i] for i in _choose(len(evaluated), n, seed, "topic-task evaluation sentences")]
    return TopicTask(
        tuple(topic for topic, _ in chosen),
        tuple(s for s, _ in centroid),
        tuple(label for _, label in centroid),
        tuple(s for s, _ in picked),
        tuple(label for _, label in picked),
    )


def text_batch(
    tokenizer: Callable, texts: list[str], *, max_length: int = MINILM_MAX_LENGTH, description: str = ""
) -> Batch:
    """Token ids and validity mask padded (and truncated) to ``max_length`` tokens.

    Parameters
    ----------
    tokenizer : callable
        A Hugging Face tokenizer.
    texts : list of str
        The sentences.
    max_length : int
        Padded length [token].
    description : str
        What the batch holds (default: the number of sentences and the padded length).

    Returns
    -------
    Batch
        Inputs ``(input_ids, attention_mask)`` of shape ``[len(texts), max_length]``, no labels, and
        ``input_bits`` [bit] of the token ids sent at split 0 (16 bits per token).
    """
    encoded = tokenizer(texts, padding="max_length", truncation=True, max_length=max_length, return_tensors="pt")
    return Batch(
        (encoded["input_ids"], encoded["attention_mask"]),
        len(texts),
        None,
        TOKEN_BITS * max_length,
        description or f"{len(texts)} sentences padded to {max_length} tokens",
    )


def minilm_batch(*, subset: str, n: int, seed: int = 0) -> Batch:
    """MiniLM inputs: documentation sentences, padded to :data:`MINILM_MAX_LENGTH` tokens.

    Parameters
    ----------
    subset : str
        ``"calibration"`` or ``"heldout"``.
    n : int
        Number of inputs [count].
    seed : int
        Seed of the draw [1].

    Returns
    -------
    Batch
        The tokenised sentences.

    References
    ----------
    docs/model.md, section 6.
    """
    texts = sentences(subset, n, seed)
    return text_batch(
        load_tokenizer(minilm_path()),
        texts,
        description=f"{n} pydoc sentences ({subset}) padded to {MINILM_MAX_LENGTH} tokens",
    )


def mpnet_batch(*, subset: str, n: int, seed: int = 0) -> Batch:
    """MPNet-base inputs: the same sentences as :func:`minilm_batch`, MPNet's tokenizer, :data:`MPNET_MAX_LENGTH`.

    Parameters
    ----------
    subset : str
        ``"calibration"`` or ``"heldout"``.
    n : int
        Number of inputs [count].
    seed : int
        Seed of the draw [1].

    Returns
    -------
    Batch
        The tokenised sentences.

    References
    ----------
    docs/model.md, section 6.
    """
    texts = sentences(subset, n, seed)
    return text_batch(
        load_tokenizer(mpnet_path()),
        texts,
        max_length=MPNET_MAX_LENGTH,
        description=f"{n} pydoc sentences ({subset}) padded to {MPNET_MAX_LENGTH} tokens",
    )


# --------------------------------------------------------------------------- images
#: Source photos per subset. ``skimage.data.cat`` is the same photo as ``chelsea`` and is left out;
#: grey photos become three equal channels.
PHOTO_SOURCES: dict[str, tuple[str, ...]] = {
    "calibration": ("astronaut", "coffee", "rocket", "hubble_deep_field", "camera", "coins", "sklearn:china.jpg"),
    "heldout": (
        "chelsea",
        "immunohistochemistry",
        "retina",
        "stereo_motorcycle",
        "moon",
        "clock",
        "sklearn:flower.jpg",
    ),
}


def _photo(name: str) -> np.ndarray:
    """One bundled photo as ``uint8 [H, W, 3]``."""
    if name.startswith("sklearn:"):
        from sklearn.datasets import load_sample_image

        image = load_sample_image(name.split(":", 1)[1])
    else:
        import skimage.data

        image = getattr(skimage.data, name)()
        if isinstance(image, tuple):  # stereo pair: the left view
            image = image[0]
    if image.ndim == 2:
        image = np.repeat(image[:, :, None], 3, axis=2)
    return np.ascontiguousarray(image[:, :, :3], dtype=np.uint8)


@functools.cache
def photos(subset: str) -> tuple[np.ndarray, ...]:
    """The source photos of ``subset`` (cached, read-only)."""
    require_choice("subset", subset, SUBSETS)
    loaded = tuple(_photo(name) for name in PHOTO_SOURCES[subset])
    for image in loaded:
        image.setflags(write=False)
    return loaded


def _resize(image: np.ndarray, size: int) -> torch.Tensor:
    """``uint8 [H, W, 3]`` -> ``uint8 [3, size, size]`` (antialiased bilinear, as the camera would deliver it)."""
    x = torch.from_numpy(np.array(image, dtype=np.float32)).permute(2, 0, 1).unsqueeze(0)
    x = torch.nn.functional.interpolate(x, size=(size, size), mode="bilinear", antialias=True, align_corners=False)
    return x.round().clamp(0, 255).to(torch.uint8)[0]


def image_crops(subset: str, n: int, seed: int = 0, size: int = EFFICIENTNET_IMAGE_SIZE) -> torch.Tensor:
    """``n`` square ``uint8`` crops ``[n, 3, size, size]`` of the subset's photos.

    The photos are visited round-robin in a seeded order; the first pass over
    them uses their largest centred square, later ones a seeded square crop of
    50-100 % of the short side at a random place, flipped left-right with
    probability 1/2.

    Parameters
    ----------
    subset : str
        ``"calibration"`` or ``"heldout"``.
    n : int
        Number of inputs [count].
    seed : int
        Seed of the draw [1].
    size : int
        Side of the square crops [pixel].

    Returns
    -------
    torch.Tensor
        ``uint8`` crops ``[n, 3, size, size]`` [pixel intensity].

    References
    ----------
    docs/model.md, section 6.
    """
    sources = photos(subset)
    rng = _seeded_generator(seed)
    order = rng.permutation(len(sources))
    crops = []
    for i in range(n):
        image = sources[order[i % len(sources)]]
        height, width = image.shape[:2]
        fraction, u, v, flip = rng.uniform(0.5, 1.0), rng.uniform(), rng.uniform(), rng.uniform() < 0.5
        if i < len(sources):
            fraction, u, v, flip = 1.0, 0.5, 0.5, False
        side = int(round(fraction * min(height, width)))
        top, left = int(u * (height - side)), int(v * (width - side))
        crop = image[top : top + side, left : left + side]
        crops.append(_resize(crop[:, ::-1] if flip else crop, size))
    return torch.stack(crops)


def image_crop_photos(subset: str, n: int, seed: int = 0) -> tuple[str, ...]:
    """The photo (a name of :data:`PHOTO_SOURCES`) each of :func:`image_crops`' ``n`` crops is cut from, in order.

    The crops of one photo share its subject and lighting, so statistics over
    them resample photos, not crops (model.md section 1.1). The photos are
    visited round-robin in the seeded order that :func:`image_crops` draws first.

    Parameters
    ----------
    subset : str
        ``"calibration"`` or ``"heldout"``.
    n : int
        Number of inputs [count].
    seed : int
        Seed of the draw [1].

    Returns
    -------
    tuple of str
        The photo of each crop.

    References
    ----------
    docs/model.md, section 1.1.
    """
    names = PHOTO_SOURCES[subset]
    order = _seeded_generator(seed).permutation(len(names))
    return tuple(names[order[i % len(names)]] for i in range(n))


def image_grid_crops(subset: str, size: int = EFFICIENTNET_IMAGE_SIZE) -> tuple[torch.Tensor, tuple[str, ...]]:
    """Every grid crop of the subset's photos (model.md section 6): ``uint8 [n, 3, size, size]`` and each one's photo.

    Per photo, in :data:`PHOTO_SOURCES` order: its largest centred square,
    resized to ``size``; then every tile of a centred grid of non-overlapping
    ``size`` x ``size`` squares at the photo's own resolution (no resampling),
    row by row. A photo of ``H`` x ``W`` pixels thus gives
    ``1 + floor(H / size) floor(W / size)`` crops: the larger the photo, the
    more crops (62 for the held-out photos at 224). No seed: the set is fixed.
    Crops of one photo share its subject and lighting and the whole square
    overlaps every tile, so they are dependent samples of one photo.

    Parameters
    ----------
    subset : str
        ``"calibration"`` or ``"heldout"``.
    size : int
        Side of the square crops [pixel].

    Returns
    -------
    tuple of (torch.Tensor, tuple of str)
        The crops [pixel intensity] and each one's photo.

    References
    ----------
    docs/model.md, section 6.
    """
    require_range("size", size, 1, integer=True)
    crops, names = [], []
    for name, image in zip(PHOTO_SOURCES[subset], photos(subset), strict=True):
        height, width = image.shape[:2]
        side = min(height, width)
        top, left = (height - side) // 2, (width - side) // 2
        crops.append(_resize(image[top : top + side, left : left + side], size))
        rows, cols = height // size, width // size
        top, left = (height - rows * size) // 2, (width - cols * size) // 2
        for i in range(rows):
            for j in range(cols):
                tile = image[top + i * size : top + (i + 1) * size, left + j * size : left + (j + 1) * size]
                crops.append(torch.from_numpy(np.ascontiguousarray(tile)).permute(2, 0, 1))
        names += [name] * (1 + rows * cols)
    return torch.stack(crops), tuple(names)


def normalise_images(images: torch.Tensor) -> torch.Tensor:
    """``uint8`` images -> float tensors in the ImageNet normalisation EfficientNet-Lite0 expects.

    Parameters
    ----------
    images : torch.Tensor
        ``uint8`` images ``[n, 3, H, W]`` [pixel intensity].

    Returns
    -------
    torch.Tensor
        Normalised float32 images [1].
    """
    mean = torch.tensor(IMAGENET_MEAN).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD).view(1, 3, 1, 1)
    return (images.float() / 255.0 - mean) / std


def image_batch(*, subset: str, n: int, seed: int = 0, size: int = EFFICIENTNET_IMAGE_SIZE) -> Batch:
    """EfficientNet-Lite inputs: normalised ``size`` x ``size`` crops.

    EfficientNet-Lite inputs: normalised ``size`` x ``size`` crops (224 for Lite0, 240 / 260 for Lite1 / Lite2);
    raw input = 8 bits per pixel channel.

    Parameters
    ----------
    subset : str
        ``"calibration"`` or ``"heldout"``.
    n : int
        Number of inputs [count].
    seed : int
        Seed of the draw [1].
    size : int
        Side of the square crops [pixel].

    Returns
    -------
    Batch
        The normalised crops; raw input 8 bits per pixel channel.

    References
    ----------
    docs/model.md, section 6.
    """
    images = normalise_images(image_crops(subset, n, seed, size))
    return Batch(
        images,
        n,
        None,
        size * size * 3 * PIXEL_BITS,
        f"{n} crops {size}x{size} of {len(PHOTO_SOURCES[subset])} bundled photos ({subset})",
    )


def image_grid_batch(*, subset: str, n: int | None = None, seed: int = 0, size: int = EFFICIENTNET_IMAGE_SIZE) -> Batch:
    """EfficientNet-Lite inputs from :func:`image_grid_crops`, tagged by photo (dependent sources).

    ``n=None`` takes every grid crop in its fixed order; otherwise ``n`` of
    them in a seeded order (a smaller set, e.g. for the quick profile).

    Parameters
    ----------
    subset : str
        ``"calibration"`` or ``"heldout"``.
    n : int, optional
        Number of crops [count]; ``None`` for every grid crop.
    seed : int
        Seed of the draw [1].
    size : int
        Side of the square crops [pixel].

    Returns
    -------
    Batch
        The normalised crops, tagged by photo.

    References
    ----------
    docs/model.md, section 6.
    """
    images, names = image_grid_crops(subset, size)
    if n is not None:
        index = _choose(len(names), n, seed, f"{subset} grid crops")
        images, names = images[torch.as_tensor(index)], tuple(names[i] for i in index)
    return Batch(
        normalise_images(images),
        len(names),
        None,
        size * size * 3 * PIXEL_BITS,
        f"{len(names)} grid crops {size}x{size} of {len(set(names))} bundled photos ({subset})",
        names,
        dependent_sources=True,
    )


# --------------------------------------------------------------------------- chunks of one forward pass
def concat_inputs(values: list[Any]) -> Any:
    """Inputs of several batches as one batch (tensors concatenated on dim 0, tuples element-wise).

    Parameters
    ----------
    values : list
        Inputs of several batches, all of one kind.

    Returns
    -------
    Any
        The inputs as one batch.
    """
    first = values[0]
    if isinstance(first, torch.Tensor):
        return torch.cat(values)
    if isinstance(first, (tuple, list)):
        return type(first)(concat_inputs([v[i] for v in values]) for i in range(len(first)))
    raise ParameterError(f"inputs: got {type(first).__name__}; allowed a tensor or a tuple of tensors")


#: Sentences per forward chunk of a text batch (:func:`length_chunks`).
TEXT_CHUNK = 16
#: Input elements per forward chunk of a tensor batch: 8 images of 3 x 224 x 224 (the digits fit in one chunk).
CHUNK_ELEMENTS = 8 * 3 * 224 * 224


def length_chunks(inputs: Any, size: int, per_chunk: int | None = None) -> list[tuple[torch.Tensor, Any]]:
    """``(indices, inputs)`` chunks of a batch of ``size`` inputs, each run as one forward pass.

    The one chunker of the artifact (notebooks 04, 07 and 08). A text batch
    ``(token ids, attention mask)`` is sorted by sentence length (stable) and
    cut into chunks of ``per_chunk`` sentences (default :data:`TEXT_CHUNK`),
    each trimmed to its longest sentence: padding is masked out of attention
    and pooling, so the outputs do not depend on it, and the sentences
    average 25 of the 128 padded tokens, so the padded positions were most of
    the compute. A chunk equals the tokenizer's own output for its sentences
    with ``padding="longest"``. A tensor batch is cut, in order, into chunks
    of ``per_chunk`` inputs, by default of at most :data:`CHUNK_ELEMENTS`
    input elements: on the 2-core CPU, EfficientNet-Lite0 ran 78 images 3-4x
    faster in chunks of 8 than in one batch, whose activations (hundreds of
    MB) are allocated and returned to the system at every layer. Every output
    row depends on its own input only, so the chunked outputs equal the
    one-batch outputs.

    Parameters
    ----------
    inputs : torch.Tensor or tuple
        A tensor batch, or a text batch ``(token ids, attention mask)``.
    size : int
        Number of inputs in the batch [count].
    per_chunk : int, optional
        Inputs per chunk [count]; default :data:`TEXT_CHUNK` for text, :data:`CHUNK_ELEMENTS` elements for
        tensors.

    Returns
    -------
    list of (torch.Tensor, Any)
        ``(indices, chunk)``: the positions of the chunk's inputs in the batch (their concatenation is the
        order the outputs come in) and the chunk itself.

    References
    ----------
    docs/model.md, section 9 (chunks and padding).
    """
    if per_chunk is not None:
        require_range("per_chunk", per_chunk, 1, integer=True)
    if isinstance(inputs, tuple) and len(inputs) == 2 and isinstance(inputs[1], torch.Tensor):
        ids, mask = inputs
        lengths = mask.sum(dim=1)
        order = torch.argsort(lengths, stable=True)
        chunks = []
        step = TEXT_CHUNK if per_chunk is None else per_chunk
        for start in range(0, size, step):
            index = order[start : start + step]
            longest = int(lengths[index].max())
            chunks.append((index, (ids[index, :longest], mask[index, :longest])))
        return chunks
    if isinstance(inputs, torch.Tensor) and size > 0:
        step = max(1, CHUNK_ELEMENTS // max(1, inputs[0].numel())) if per_chunk is None else per_chunk
        return [
            (torch.arange(start, min(start + step, size)), inputs[start : start + step])
            for start in range(0, size, step)
        ]
    return [(torch.arange(size), inputs)]
