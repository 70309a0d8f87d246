"""The offline model zoo: the registry of pipeline models and their committed-weight loaders (model.md section 6).

The zoo (:data:`MODEL_NAMES`, real pretrained or trained weights, all offline)
sits above :mod:`coinfer.nets.split` (split models, architectures, metrics),
:mod:`coinfer.nets.inputs` (calibration and held-out sets) and
:mod:`coinfer.nets.trained` (the committed digits weights), so none of those
imports back into it.

How to add a model
------------------
A model is one :class:`ModelEntry` in :data:`REGISTRY`: a ``loader(seed)``
returning a :class:`~coinfer.nets.split.SplitModel` (stem, blocks, head), an input
provider ``(subset, n, seed) -> Batch`` for the disjoint ``"calibration"`` and
``"heldout"`` subsets, an ``output_vector`` function (what output distortion is
measured on) and a task ``metric``. Everything downstream (pruning, bounds,
profiles, optimisation) then works through :func:`load_model`,
:func:`model_inputs`, :func:`output_vectors` and :func:`task_metric`. Example
for any local Hugging Face BERT-like checkpoint directory (``config.json``,
weights and tokenizer files), embedded by mean pooling and fed the same
documentation sentences as MiniLM::

    from coinfer.nets import inputs, metrics, split, transformers, zoo

    CHECKPOINT = "checkpoints/my-bert"  # a local directory, nothing is downloaded

    def my_bert(seed: int) -> split.SplitModel:
        return transformers.bert_split_model("my_bert", transformers.load_hf_bert(CHECKPOINT))

    def my_bert_inputs(subset: str, n: int, seed: int) -> split.Batch:
        return inputs.text_batch(transformers.load_tokenizer(CHECKPOINT), inputs.sentences(subset, n, seed))

    zoo.REGISTRY["my_bert"] = zoo.ModelEntry(
        my_bert, my_bert_inputs, metrics.logits_vector, metrics.cosine_metric, "my BERT encoder")
    model = zoo.load_model("my_bert")

Registered at run time like this, the model works with every function above;
to make it part of the pipeline (:data:`MODEL_NAMES`, which the notebooks
iterate), add the entry to the ``REGISTRY`` literal in this module instead.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from coinfer.base.validation import ParameterError, require_choice, require_range
from coinfer.nets import devices, inputs, trained
from coinfer.nets.digits import DIGITS_DATA_SEED, DIGITS_MLP_WIDTHS, DigitsData, load_digits_data
from coinfer.nets.efficientnet import EFFICIENTNET_VARIANTS, efficientnet_split, efficientnet_upstream
from coinfer.nets.inputs import SUBSETS
from coinfer.nets.metrics import accuracy_metric, cosine_metric, logits_vector, top1_agreement_metric
from coinfer.nets.split import Batch, SplitModel, with_counts
from coinfer.nets.transformers import (
    MeanPoolHead,
    load_hf_bert,
    load_hf_mpnet,
    minilm_path,
    minilm_split,
    mpnet_path,
    mpnet_split,
)


# --------------------------------------------------------------------------- digits models
def digits_mlp(
    seed: int = 0,
    hidden: tuple[int, ...] = (128, 64),
    epochs: int = 300,
    data: DigitsData | None = None,
    retrain: bool = False,
) -> tuple[nn.Sequential, DigitsData]:
    """A ReLU MLP on digits: ``Linear, ReLU, ..., Linear``, committed weights or trained deterministically.

    A plain ``nn.Sequential`` so the exact bound of model.md section 3 applies
    layer by layer. Returns the model (eval mode) and its data; ``data``
    defaults to the split drawn with ``seed`` (the zoo passes the fixed split
    of seed 0 so held-out samples never depend on the model seed). When the
    arguments are exactly a committed recipe (the defaults with seed 0, or a
    width of the size-study family) the committed weights are loaded
    (:mod:`coinfer.nets.trained`); any other argument, or ``retrain=True``, trains.

    Parameters
    ----------
    seed : int
        Seed of the data split and the training.
    hidden : tuple of int
        Hidden widths [count].
    epochs : int
        Training epochs [count].
    data : DigitsData, optional
        The data split; default the split of ``seed``.
    retrain : bool
        Train even where committed weights exist.

    Returns
    -------
    tuple of (torch.nn.Sequential, DigitsData)
        The model (eval mode) and its data.

    References
    ----------
    docs/model.md, section 6.
    """
    data = load_digits_data(seed) if data is None else data
    return trained.digits_network("mlp", hidden, epochs=epochs, seed=seed, data=data, retrain=retrain), data


def _mlp_split_model(name: str, net: nn.Sequential) -> SplitModel:
    layers = list(net)
    blocks: list[nn.Module] = [nn.Sequential(layers[i], layers[i + 1]) for i in range(0, len(layers) - 1, 2)]
    return with_counts(
        SplitModel(name, nn.Identity(), blocks, [f"fc{i + 1}" for i in range(len(blocks))], layers[-1]),
        task="digits classification (10 classes)",
        input_shape=(64,),
    )


def digits_mlp_split(seed: int = 0, retrain: bool = False) -> SplitModel:
    """:func:`digits_mlp` as a split model: blocks = ``Linear+ReLU`` pairs, head = the last ``Linear``.

    Committed weights for seed 0 unless ``retrain`` (:mod:`coinfer.nets.trained`).

    Parameters
    ----------
    seed : int
        Seed of the training [1].
    retrain : bool
        Train even where committed weights exist.

    Returns
    -------
    SplitModel
        The split model.

    References
    ----------
    docs/model.md, section 6.
    """
    net, _ = digits_mlp(seed, data=load_digits_data(DIGITS_DATA_SEED), retrain=retrain)
    return _mlp_split_model("digits_mlp", net)


def digits_mlp_width_split(width: int, seed: int = 0, retrain: bool = False) -> SplitModel:
    """The size-study MLP ``64-width-width-10`` (the depth of ``digits_mlp``) as a split model.

    Registered as ``digits_mlp_w<width>`` for the widths in :data:`DIGITS_MLP_WIDTHS`
    (committed weights for seed 0 unless ``retrain``); any other width trains.

    Parameters
    ----------
    width : int
        Hidden width [count].
    seed : int
        Seed of the training.
    retrain : bool
        Train even where committed weights exist.

    Returns
    -------
    SplitModel
        The split model.

    References
    ----------
    docs/model.md, section 10.
    """
    require_range("width", width, 1, integer=True)
    net, _ = digits_mlp(seed, hidden=(width, width), data=load_digits_data(DIGITS_DATA_SEED), retrain=retrain)
    return _mlp_split_model(f"digits_mlp_w{width}", net)


def _digits_cnn_split(seed: int = 0, epochs: int = 150, retrain: bool = False) -> SplitModel:
    """A small ReLU CNN on the 8x8 digits (channels first), trained deterministically on the training split.

    Pooling early keeps training to a few seconds on one core (about 98 % test accuracy).
    Committed weights for seed 0 and 150 epochs unless ``retrain`` (:mod:`coinfer.nets.trained`).
    """
    data = load_digits_data(DIGITS_DATA_SEED)
    net = trained.digits_network("cnn", (8, 16, 16, 64), epochs=epochs, seed=seed, data=data, retrain=retrain)
    *blocks, head = list(net)
    return with_counts(
        SplitModel("digits_cnn", nn.Identity(), blocks, ["conv1", "conv2", "conv3", "fc1"], head),
        task="digits classification (10 classes)",
        input_shape=(1, 8, 8),
    )


# --------------------------------------------------------------------------- registry
@dataclass(frozen=True)
class ModelEntry:
    """Everything the pipeline needs to know about one zoo model."""

    #: ``seed -> SplitModel`` (eval mode, offline).
    loader: Callable[[int], SplitModel]
    #: ``(subset, n, seed) -> Batch`` with subset ``"calibration"`` or ``"heldout"``.
    inputs: Callable[[str, int, int], Batch]
    #: model outputs -> ``[batch, dim]`` on which output distortion is measured.
    output_vector: Callable[[Any], torch.Tensor]
    #: ``(reference_vectors, vectors, labels) -> (metric name, value)``.
    metric: Callable[[torch.Tensor, torch.Tensor, Any], tuple[str, float]]
    description: str = ""


def _inputs(function_name: str, *args: Any) -> Callable[[str, int, int], Batch]:
    def provide(subset: str, n: int, seed: int) -> Batch:
        return getattr(inputs, function_name)(*args, subset=subset, n=n, seed=seed)

    return provide


REGISTRY: dict[str, ModelEntry] = {
    "digits_mlp": ModelEntry(
        digits_mlp_split,
        _inputs("digits_batch", "flat"),
        logits_vector,
        accuracy_metric,
        "ReLU MLP 64-128-64-10 trained on sklearn digits",
    ),
    "digits_cnn": ModelEntry(
        _digits_cnn_split,
        _inputs("digits_batch", "image"),
        logits_vector,
        accuracy_metric,
        "ReLU CNN (3 conv + 1 fc block) trained on sklearn digits",
    ),
    "minilm": ModelEntry(
        minilm_split,
        _inputs("minilm_batch"),
        logits_vector,
        cosine_metric,
        "all-MiniLM-L6-v2 sentence encoder (BERT, 6 layers)",
    ),
    "efficientnet_lite0": ModelEntry(
        efficientnet_split,
        _inputs("image_batch"),
        logits_vector,
        top1_agreement_metric,
        "EfficientNet-Lite0 ImageNet classifier",
    ),
}
MODEL_NAMES: tuple[str, ...] = tuple(REGISTRY)
# The size-study family: loadable by name (``load_model("digits_mlp_w32")``) but not in MODEL_NAMES.
for _width in DIGITS_MLP_WIDTHS:
    REGISTRY[f"digits_mlp_w{_width}"] = ModelEntry(
        functools.partial(digits_mlp_width_split, _width),
        _inputs("digits_batch", "flat"),
        logits_vector,
        accuracy_metric,
        f"ReLU MLP 64-{_width}-{_width}-10 trained on sklearn digits (size-study family)",
    )


def _image_inputs(size: int) -> Callable[[str, int, int], Batch]:
    def provide(subset: str, n: int, seed: int) -> Batch:
        return inputs.image_batch(subset=subset, n=n, seed=seed, size=size)

    return provide


# The other size-study members (model.md section 10), also outside MODEL_NAMES: MPNet-base beside MiniLM
# (same sentences, cosine metric) and EfficientNet-Lite1/2 beside Lite0 (native resolutions, top-1 agreement).
REGISTRY["mpnet_base"] = ModelEntry(
    mpnet_split,
    _inputs("mpnet_batch"),
    logits_vector,
    cosine_metric,
    "all-mpnet-base-v2 sentence encoder (MPNet, 12 layers; size-study family)",
)
for _variant in ("lite1", "lite2"):
    REGISTRY[f"efficientnet_{_variant}"] = ModelEntry(
        functools.partial(efficientnet_split, variant=_variant),
        _image_inputs(EFFICIENTNET_VARIANTS[_variant][2]),
        logits_vector,
        top1_agreement_metric,
        f"EfficientNet-{_variant.capitalize()} ImageNet classifier, {EFFICIENTNET_VARIANTS[_variant][2]} px "
        "(size-study family)",
    )
#: Registered models outside MODEL_NAMES that the model-size study (notebook 08) and its profiles use.
SIZE_STUDY_MODELS: tuple[str, ...] = (
    *(f"digits_mlp_w{w}" for w in DIGITS_MLP_WIDTHS),
    "mpnet_base",
    "efficientnet_lite1",
    "efficientnet_lite2",
)


def _entry(name: str) -> ModelEntry:
    return REGISTRY[require_choice("model", name, tuple(REGISTRY))]


@functools.cache
def _load_cached(name: str, seed: int) -> SplitModel:
    return _zoo_model(name, seed)


@functools.cache
def _load_cached_on(name: str, seed: int, device: str) -> SplitModel:
    return devices.move_model(_zoo_model(name, seed), device)


def _zoo_model(name: str, seed: int) -> SplitModel:
    model = _entry(name).loader(seed)
    # what profile tables call its weights: published pretrained ones or the committed digits weights,
    # as opposed to a user's own model (nets.profiles.profile_frame labels those "user")
    model.info["weights"] = "pretrained"
    return model


def load_model(name: str, seed: int = 0, device: str = "cpu") -> SplitModel:
    """The zoo model ``name`` as a split model, in eval mode, offline, deterministic for ``seed`` (model.md section 6).

    The weights come from installed packages (pretrained models) or from the
    committed files of :mod:`coinfer.nets.trained` (the digits models); nothing
    is downloaded. Cached per process and device (a model on ``"cuda"`` is
    loaded afresh and moved, so no CPU copy is kept for it): callers that
    modify a model must copy it first (:func:`coinfer.nets.split.copy_model`;
    pruning with :func:`coinfer.deploy` or :func:`coinfer.nets.split.prune_model`
    copies by itself).

    Parameters
    ----------
    name : str
        A name of :data:`REGISTRY`: ``digits_mlp``, ``digits_cnn``, ``minilm``, ``efficientnet_lite0``, the
        size-study members (``digits_mlp_w8`` ... ``w256``, ``mpnet_base``, ``efficientnet_lite1/2``) or a
        model registered at run time.
    seed : int
        Seed of the weights of a model trained here [1]; pretrained models ignore it. At least 0.
    device : str
        Where the model's tensors live: ``"cpu"`` or ``"cuda"`` (a CUDA GPU must be present).

    Returns
    -------
    SplitModel
        The model as ``stem, blocks..., head`` with its split points (``split_names``) and facts in ``info``
        (``parameters`` [count], ``prunable_parameters`` [count], task, input shape).

    References
    ----------
    docs/model.md, section 6.

    Examples
    --------
    >>> from coinfer.nets.zoo import load_model
    >>> model = load_model("digits_mlp")
    >>> model.split_names, model.info["prunable_parameters"]
    (['input', 'fc1', 'output'], 17024)
    >>> load_model("digits_mlp") is model  # cached: copy it before changing it
    True
    """
    seed = int(require_range("seed", seed, 0, integer=True))
    if devices.check_device(device) == "cpu":
        return _load_cached(name, seed)
    return _load_cached_on(name, seed, device)


def model_inputs(name: str, subset: str, n: int, seed: int = 0) -> Batch:
    """``n`` inputs of model ``name`` from ``subset`` (``"calibration"`` or ``"heldout"``; disjoint sources).

    Parameters
    ----------
    name : str
        A zoo model (a key of :data:`REGISTRY`).
    subset : str
        ``"calibration"`` or ``"heldout"``.
    n : int
        Number of inputs [count], at least 1.
    seed : int
        Seed of the draw [1], at least 0.

    Returns
    -------
    Batch
        The inputs, their labels (``None`` where none ship offline) and the bits of one raw input [bit].

    References
    ----------
    docs/model.md, section 6 (models, data and profiles).
    """
    entry = _entry(name)
    require_choice("subset", subset, SUBSETS)
    return entry.inputs(
        subset, int(require_range("n", n, 1, integer=True)), int(require_range("seed", seed, 0, integer=True))
    )


def output_vectors(name: str, outputs: Any) -> torch.Tensor:
    """What output distortion is measured on: ``[batch, dim]`` logits or embeddings.

    Parameters
    ----------
    name : str
        A zoo model (a key of :data:`REGISTRY`).
    outputs : Any
        The model's outputs (``model.forward(inputs)``).

    Returns
    -------
    torch.Tensor
        ``[batch, dim]`` output vectors [output units]: logits, or pooled embeddings for the text encoders.

    References
    ----------
    docs/model.md, section 9 (output distortion).
    """
    return _entry(name).output_vector(outputs)


def task_metric(
    name: str, reference_outputs: Any, outputs: Any, labels: torch.Tensor | None = None
) -> tuple[str, float]:
    """The task metric of ``outputs`` (e.g. of a pruned model) against the unpruned ``reference_outputs``.

    Parameters
    ----------
    name : str
        A zoo model (a key of :data:`REGISTRY`).
    reference_outputs : Any
        The unpruned model's outputs on the inputs.
    outputs : Any
        The outputs to score, on the same inputs.
    labels : torch.Tensor, optional
        True labels [class index] (needed by the digits accuracy).

    Returns
    -------
    tuple of (str, float)
        The metric's name (``test_accuracy``, ``top1_agreement`` or ``cosine_similarity``) and value [1].

    References
    ----------
    docs/model.md, sections 6 and 9.
    """
    entry = _entry(name)
    return entry.metric(entry.output_vector(reference_outputs), entry.output_vector(outputs), labels)


#: Subset name of the training-split digits outside the calibration pool in the C1 held-out set (model.md section 6).
HELDOUT_TRAINING = "heldout_training"


def c1_heldout_batches(
    name: str, *, n: int, n_images: int, n_digits: int, n_digits_training: int, seed: int = 0
) -> dict[str, Batch]:
    """The held-out sets on which notebook 04 tests the first-order bound of C1 (model.md sections 3.3 and 6).

    Subset name -> batch; none shares a source with the calibration set:

    - digits models: ``"heldout"`` = ``n_digits`` test-split digits (the
      task metric's set) and, if ``n_digits_training > 0``,
      :data:`HELDOUT_TRAINING` = that many training-split digits outside the
      calibration pool (:func:`coinfer.nets.inputs.digits_training_batch`);
    - EfficientNet-Lite: ``"heldout"`` = the grid crops of the held-out
      photos (:func:`coinfer.nets.inputs.image_grid_batch`; ``n_images = 0``:
      every crop), tagged by photo;
    - other models: ``"heldout"`` = ``n`` inputs of :func:`model_inputs`.

    Parameters
    ----------
    name : str
        A zoo model.
    n : int
        Held-out inputs of the models other than digits and EfficientNet [count].
    n_images : int
        Held-out image crops [count]; 0 for every crop.
    n_digits : int
        Held-out test-split digits [count].
    n_digits_training : int
        Held-out training-split digits [count].
    seed : int
        Seed of the draws.

    Returns
    -------
    dict of str to Batch
        Subset name -> batch.

    References
    ----------
    docs/model.md, sections 3.3 and 6.
    """
    require_range("n_images", n_images, 0, integer=True)
    require_range("n_digits_training", n_digits_training, 0, integer=True)
    if name.startswith("efficientnet_"):
        size = EFFICIENTNET_VARIANTS[require_choice("model", name, tuple(REGISTRY)).split("_", 1)[1]][2]
        grid = inputs.image_grid_batch(subset="heldout", n=n_images or None, seed=seed, size=size)
        return {"heldout": grid}
    if not name.startswith("digits"):
        return {"heldout": model_inputs(name, "heldout", n, seed)}
    batches = {"heldout": model_inputs(name, "heldout", n_digits, seed)}
    if n_digits_training:
        layout = "image" if batches["heldout"].inputs.dim() == 4 else "flat"
        batches[HELDOUT_TRAINING] = inputs.digits_training_batch(layout, n=n_digits_training, seed=seed)
    return batches


#: How the C1 inputs of a model family are drawn (model.md sections 3.3 and 6): the ``process`` column of
#: ``data/first_order_scores.csv``. The held-out inputs of :func:`c1_heldout_batches` and the calibration inputs
#: of :func:`c1_calibration_batch` of one model share it; only the pools (topics, photos) differ.
#: ``pydoc_sentences``: a seeded draw of the clean sentences of one subset's documentation topics
#: (:func:`coinfer.nets.inputs.sentences`); ``photo_grid_crops``: the whole square and the native-resolution
#: tiles of one subset's bundled photos (:func:`coinfer.nets.inputs.image_grid_crops`), all or a seeded draw.
C1_PROCESSES: dict[str, str] = {"text": "pydoc_sentences", "image": "photo_grid_crops"}


def c1_process(name: str) -> str:
    """The process that draws both the C1 calibration and held-out inputs of ``name`` (:data:`C1_PROCESSES`).

    Parameters
    ----------
    name : str
        A zoo model other than the digits models (whose calibration and held-out digits come from different
        splits).

    Returns
    -------
    str
        The process's description.

    References
    ----------
    docs/model.md, sections 3.3 and 6.
    """
    require_choice("model", name, tuple(REGISTRY))
    if name.startswith("digits"):
        raise ParameterError(f"model: got {name!r}; allowed a model other than the digits models")
    return C1_PROCESSES["image" if name.startswith("efficientnet_") else "text"]


def c1_calibration_batch(name: str, *, n: int, seed: int = 0) -> Batch:
    """Calibration inputs of C1b drawn by the process of the held-out inputs (model.md sections 1.2, 3.3 and 6).

    - EfficientNet-Lite: the grid crops (:func:`coinfer.nets.inputs.image_grid_batch`) of the calibration
      photos, the held-out photos' process on disjoint photos, tagged by photo; ``n`` of them in a seeded
      order, or every one when the photos have ``n`` or fewer (34 at 224 px for the seven calibration
      photos: the offline pool is smaller than C1b's ``n >= 100``, and the table says so by its count);
    - other models except the digits ones: ``n`` inputs of :func:`model_inputs` (``"calibration"``), the
      same draw as the held-out ones from the disjoint calibration topics.

    Parameters
    ----------
    name : str
        A zoo model other than the digits models.
    n : int
        Wanted calibration inputs [count], at least 1.
    seed : int
        Seed of the draw [1], at least 0.

    Returns
    -------
    Batch
        The inputs; for crops tagged by photo (``dependent_sources``).

    References
    ----------
    docs/model.md, sections 3.3 and 6.
    """
    c1_process(name)
    n = int(require_range("n", n, 1, integer=True))
    if name.startswith("efficientnet_"):
        size = EFFICIENTNET_VARIANTS[name.split("_", 1)[1]][2]
        available = len(inputs.image_grid_crops("calibration", size)[1])
        return inputs.image_grid_batch(subset="calibration", n=n if n < available else None, seed=seed, size=size)
    return model_inputs(name, "calibration", n, seed)


# --------------------------------------------------------------------------- local checkpoints
#: ``config.json`` model types :func:`load_checkpoint` can split, and the dtypes it loads weights in.
CHECKPOINT_TYPES: tuple[str, ...] = ("bert", "mpnet", "gpt2", "llama", "mistral", "qwen2")
CHECKPOINT_DTYPES: dict[str, torch.dtype] = {
    "float32": torch.float32,
    "float16": torch.float16,
    "bfloat16": torch.bfloat16,
}


def _require_accelerate() -> None:
    """``accelerate`` is an optional dependency, needed only for ``device_map``."""
    import importlib.util

    if importlib.util.find_spec("accelerate") is None:
        raise ParameterError(
            "device_map: needs the optional package accelerate, which is not installed (pip install accelerate)"
        )


def _checkpoint_split_model(name: str, net: Any, model_type: str, **info: Any) -> SplitModel:
    """A transformers model of ``model_type`` as a split model (stem, layers, head; model.md section 6)."""
    from coinfer.nets import transformers

    if model_type == "bert":
        return transformers.bert_split_model(name, net, transformers.MeanPoolHead(), **info)
    if model_type == "mpnet":
        return transformers.mpnet_split_model(name, net, transformers.MeanPoolHead(), **info)
    body = net.transformer if model_type == "gpt2" else net.model
    if model_type == "gpt2":
        stem: nn.Module = transformers.GPT2Stem(body.wte, body.wpe, body.drop, net.config)
        return transformers.transformer_split_model(
            name, stem, body.h, transformers.LMHead(body.ln_f, net.lm_head), prefix="h", **info
        )
    stem = transformers.LlamaStem(body.embed_tokens, body.rotary_emb, net.config)
    return transformers.transformer_split_model(
        name, stem, body.layers, transformers.LMHead(body.norm, net.lm_head), **info
    )


def load_checkpoint(
    path: str | Path,
    *,
    device: str = "cpu",
    device_map: str | dict[str, Any] | None = None,
    dtype: str = "float32",
    name: str | None = None,
) -> SplitModel:
    """A local Hugging Face checkpoint directory as a split model, loaded without copies (model.md section 6).

    ``path`` holds ``config.json`` and safetensors weights of one of
    :data:`CHECKPOINT_TYPES` (encoders get the mean-pooling head, decoders the
    LM head); nothing is downloaded (``local_files_only``). The safetensors
    files are memory-mapped and the model is built with
    ``low_cpu_mem_usage=True``, so a 7B checkpoint in ``float16`` needs about
    its file size in memory, once. ``device`` moves the model after loading;
    ``device_map`` (``"auto"`` or an ``accelerate`` map) instead lets
    ``accelerate`` spread the layers over the GPUs (and the CPU) while
    loading, for a model larger than one GPU; it needs the optional package
    ``accelerate``. ``dtype`` is one of :data:`CHECKPOINT_DTYPES`. The model
    works with every function that takes a split model and a ``device``
    (:func:`coinfer.studies.pruning_distortion.pruning_experiment`,
    :func:`coinfer.nets.profiles.profile_model`, ...); give its inputs with
    :func:`coinfer.nets.inputs.text_batch` and the checkpoint's tokenizer
    (:func:`coinfer.nets.transformers.load_tokenizer`).

    Parameters
    ----------
    path : str or pathlib.Path
        The checkpoint directory.
    device : str
        ``"cpu"`` or ``"cuda"``.
    device_map : str or dict, optional
        ``"auto"`` or an ``accelerate`` device map.
    dtype : str
        One of :data:`CHECKPOINT_DTYPES`.
    name : str, optional
        Name of the split model; default the directory's.

    Returns
    -------
    SplitModel
        The split model.

    References
    ----------
    docs/model.md, section 6.

    Examples
    --------
    >>> model = load_checkpoint("checkpoints/llama-2-7b", device_map="auto", dtype="float16")  # doctest: +SKIP
    """
    from transformers import AutoConfig, AutoModel, AutoModelForCausalLM

    folder = Path(path)
    if not (folder / "config.json").is_file():
        raise ParameterError(f"path: {str(folder)!r} is not a checkpoint directory (no config.json)")
    devices.check_device(device)
    torch_dtype = CHECKPOINT_DTYPES[require_choice("dtype", dtype, tuple(CHECKPOINT_DTYPES))]
    if device_map is not None:
        if isinstance(device_map, str):
            require_choice("device_map", device_map, ("auto",))
        _require_accelerate()
    config = AutoConfig.from_pretrained(folder, local_files_only=True)
    model_type = require_choice("model_type (config.json)", config.model_type, CHECKPOINT_TYPES)
    loader = AutoModel if model_type in ("bert", "mpnet") else AutoModelForCausalLM
    net = loader.from_pretrained(
        folder,
        attn_implementation="eager",
        local_files_only=True,
        low_cpu_mem_usage=True,
        dtype=torch_dtype,
        device_map=device_map,
        use_safetensors=True,
    ).eval()
    model = _checkpoint_split_model(
        name or folder.name, net, model_type, task=f"local checkpoint ({model_type})", checkpoint=str(folder)
    )
    model.info["device_map"] = getattr(net, "hf_device_map", None) if device_map is not None else None
    model.info["weights"] = "checkpoint"
    return devices.move_model(model, device)


def upstream_output(name: str, inputs: Any) -> torch.Tensor:
    """The output of the upstream package's own model (a fresh load), to check a split model against.

    Parameters
    ----------
    name : str
        A zoo model with an upstream package.
    inputs : Any
        A batch of the model's inputs (a tensor, or the tokenised dict of a text model).

    Returns
    -------
    torch.Tensor
        The upstream model's output.
    """
    require_choice("model", name, ("minilm", "mpnet_base", *(f"efficientnet_{v}" for v in EFFICIENTNET_VARIANTS)))
    with torch.inference_mode():
        if name.startswith("efficientnet_"):
            return efficientnet_upstream(name.removeprefix("efficientnet_"))(inputs)
        input_ids, tokens = inputs
        net = load_hf_bert(minilm_path()) if name == "minilm" else load_hf_mpnet(mpnet_path())
        hidden = net(input_ids=input_ids, attention_mask=tokens).last_hidden_state
        return MeanPoolHead()((hidden, None, {}, tokens))
