"""Committed weights of the artifact's own digits models: recipes, training, saving and loading.

The digits MLP and CNN (:mod:`coinfer.nets.zoo`) are trained by this package, not
downloaded. Full-batch Adam on one thread is deterministic on one machine, but
another CPU rounds differently and every downstream number drifts in its last
digits. So each model is trained once, with the :class:`Recipe` below, and its
weights are committed as package data: ``weights/<name>.safetensors`` (float32
tensors of the ``nn.Sequential``'s ``state_dict``; metadata key ``coinfer``
holds the recipe, torch version and held-out accuracy as JSON) and
``weights/recipes.json`` (per model: recipe, file, sha256, size, parameter
count, held-out accuracy, weight statistics, library versions).

The constructors in :mod:`coinfer.nets.zoo` load these files by default. A call
whose recipe is exactly a committed one (same architecture, widths, epochs,
learning rate, seed and data split) loads the file; any other call, or
``retrain=True``, trains from scratch. A load checks the file's sha256 against
``recipes.json`` and its recorded recipe against :data:`RECIPES`, and refuses a
mismatch (regenerate with ``python -m coinfer.nets.trained``).

Models: ``digits_mlp`` (``64-128-64-10``, the zoo's), ``digits_cnn`` and the
size-study family ``digits_mlp_w<width>`` (``64-w-w-10`` for the widths in
:data:`coinfer.nets.digits.DIGITS_MLP_WIDTHS`, the depth of ``digits_mlp``), each also trained with the other seeds
of :data:`coinfer.nets.digits.DIGITS_MLP_SEEDS` as ``digits_mlp_w<width>_s<seed>``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import platform
import struct
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import torch
from torch import nn

from coinfer.base.paths import atomic_path, write_text
from coinfer.nets import digits, metrics, split

#: Where the committed weights live (package data, so an installed package finds them).
WEIGHTS_DIR: Path = Path(__file__).resolve().parent / "weights"
#: The index of the committed files, in the weights folder.
RECIPES_FILE = "recipes.json"
#: The one safetensors metadata key (its value is key-sorted JSON, so the file bytes are reproducible).
METADATA_KEY = "coinfer"
#: The only architectures: a ReLU MLP on the 64 flat pixels, a ReLU CNN on the 1x8x8 image.
ARCHITECTURES: tuple[str, ...] = ("mlp", "cnn")
OPTIMISER = "Adam (torch defaults except lr), full batch, cross-entropy, 1 thread"


@dataclass(frozen=True)
class Recipe:
    """How one committed model is trained (everything :func:`train` needs).

    ``hidden`` are the MLP's hidden widths, or the CNN's three conv channel
    counts then its fc width (see :func:`build`).
    """

    name: str
    architecture: str
    hidden: tuple[int, ...]
    epochs: int
    lr: float = 1e-2
    seed: int = 0
    #: The digits train/test split (:func:`coinfer.nets.digits.load_digits_data`).
    data_seed: int = digits.DIGITS_DATA_SEED
    test_fraction: float = 0.3
    optimiser: str = OPTIMISER

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready fields (``hidden`` as a list).

        Returns
        -------
        dict of str to Any
            The fields.
        """
        fields = asdict(self)
        fields["hidden"] = list(self.hidden)
        return fields


def _recipes() -> dict[str, Recipe]:
    found = [
        Recipe("digits_mlp", "mlp", (128, 64), epochs=300),
        Recipe("digits_cnn", "cnn", (8, 16, 16, 64), epochs=150),
        *(Recipe(f"digits_mlp_w{w}", "mlp", (w, w), epochs=300) for w in digits.DIGITS_MLP_WIDTHS),
        # the other training seeds of the size-study family (issue 23), seed 0 being the plain names above
        *(
            Recipe(digits.digits_mlp_seed_name(w, k), "mlp", (w, w), epochs=300, seed=k)
            for w in digits.DIGITS_MLP_WIDTHS
            for k in digits.DIGITS_MLP_SEEDS
            if k != 0
        ),
    ]
    return {recipe.name: recipe for recipe in found}


#: Every committed model by name. Changing a recipe here requires regenerating the files.
RECIPES: dict[str, Recipe] = _recipes()


# --------------------------------------------------------------------------- architecture and training
def build(architecture: str, hidden: Sequence[int]) -> nn.Sequential:
    """The untrained network (PyTorch's default init from the global torch RNG).

    ``"mlp"``: ``Linear, ReLU, ..., Linear`` from 64 inputs through ``hidden`` to 10.
    ``"cnn"`` with ``hidden = (c1, c2, c3, f)``: four blocks (conv 3x3 ``1->c1`` + ReLU +
    2x2 max-pool; conv ``c1->c2`` + ReLU; conv ``c2->c3`` + ReLU + pool; flatten +
    ``Linear(4 c3, f)`` + ReLU) then the head ``Linear(f, 10)``.

    Parameters
    ----------
    architecture : str
        ``"mlp"`` or ``"cnn"``.
    hidden : sequence of int
        Hidden widths (MLP) or channels and width (CNN) [count].

    Returns
    -------
    torch.nn.Sequential
        The untrained network.
    """
    if architecture not in ARCHITECTURES:
        raise ValueError(f"architecture: got {architecture!r}; allowed one of {ARCHITECTURES}")
    if architecture == "mlp":
        widths = (64, *hidden)
        layers: list[nn.Module] = []
        for width_in, width_out in zip(widths[:-1], widths[1:], strict=True):
            layers += [nn.Linear(width_in, width_out), nn.ReLU()]
        layers.append(nn.Linear(widths[-1], 10))
        return nn.Sequential(*layers)
    c1, c2, c3, fc = hidden
    return nn.Sequential(
        nn.Sequential(nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)),  # c1 x 4 x 4
        nn.Sequential(nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU()),  # c2 x 4 x 4
        nn.Sequential(nn.Conv2d(c2, c3, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2)),  # c3 x 2 x 2
        nn.Sequential(nn.Flatten(), nn.Linear(c3 * 2 * 2, fc), nn.ReLU()),
        nn.Linear(fc, 10),
    )


def _as_inputs(architecture: str, data: digits.DigitsData) -> digits.DigitsData:
    """``data`` shaped for ``architecture``: flat 64 pixels (MLP) or ``1x8x8`` images (CNN)."""
    if architecture != "cnn":
        return data
    image = lambda x: x.view(-1, 1, 8, 8)  # noqa: E731
    return digits.DigitsData(image(data.x_train), data.y_train, image(data.x_test), data.y_test)


def _train_network(
    architecture: str, hidden: Sequence[int], *, epochs: int, lr: float, seed: int, data: digits.DigitsData
) -> nn.Sequential:
    """Seed torch with ``seed``, :func:`build`, then :func:`coinfer.nets.digits.train_classifier` (eval mode)."""
    torch.manual_seed(seed)
    net = build(architecture, hidden)
    digits.train_classifier(net, _as_inputs(architecture, data), seed=seed, epochs=epochs, lr=lr)
    return net


def _recipe_data(recipe: Recipe) -> digits.DigitsData:
    """The flat digits split ``recipe`` trains and is evaluated on."""
    return digits.load_digits_data(recipe.data_seed, recipe.test_fraction)


def train(recipe: Recipe) -> nn.Sequential:
    """Train ``recipe`` from scratch (what :func:`train_committed_weights` saves).

    Parameters
    ----------
    recipe : Recipe
        The recipe.

    Returns
    -------
    torch.nn.Sequential
        The trained network (eval mode).
    """
    data = _recipe_data(recipe)
    return _train_network(
        recipe.architecture, recipe.hidden, epochs=recipe.epochs, lr=recipe.lr, seed=recipe.seed, data=data
    )


def find_recipe(
    architecture: str, hidden: Sequence[int], *, epochs: int, lr: float, seed: int, data: digits.DigitsData
) -> Recipe | None:
    """The committed recipe that trains exactly this network on exactly ``data`` (flat), if any.

    Parameters
    ----------
    architecture : str
        ``"mlp"`` or ``"cnn"``.
    hidden : sequence of int
        Hidden widths (MLP) or channels and width (CNN) [count].
    epochs : int
        Training epochs [count].
    lr : float
        Adam learning rate [1].
    seed : int
        Seed of the training [1].
    data : DigitsData
        The digits split.

    Returns
    -------
    Recipe or None
        The recipe, if committed.
    """
    for recipe in RECIPES.values():
        same = (recipe.architecture, recipe.hidden, recipe.epochs, recipe.lr, recipe.seed) == (
            architecture,
            tuple(hidden),
            epochs,
            lr,
            seed,
        )
        if same and _same_data(data, _recipe_data(recipe)):
            return recipe
    return None


def _same_data(a: digits.DigitsData, b: digits.DigitsData) -> bool:
    pairs = ((a.x_train, b.x_train), (a.y_train, b.y_train), (a.x_test, b.x_test), (a.y_test, b.y_test))
    return all(x.shape == y.shape and torch.equal(x, y) for x, y in pairs)


def digits_network(
    architecture: str,
    hidden: Sequence[int],
    *,
    epochs: int,
    seed: int,
    data: digits.DigitsData,
    lr: float = 1e-2,
    retrain: bool = False,
) -> nn.Sequential:
    """The committed network when the arguments are exactly a committed recipe, else trained from scratch.

    ``retrain=True`` always trains. This is what :mod:`coinfer.nets.split`' digits constructors call.

    Parameters
    ----------
    architecture : str
        ``"mlp"`` or ``"cnn"``.
    hidden : sequence of int
        Hidden widths (MLP) or channels and width (CNN) [count].
    epochs : int
        Training epochs [count].
    seed : int
        Seed of the training [1].
    data : DigitsData
        The digits split.
    lr : float
        Adam learning rate [1].
    retrain : bool
        Train even where committed weights exist.

    Returns
    -------
    torch.nn.Sequential
        The network (eval mode).
    """
    recipe = None if retrain else find_recipe(architecture, hidden, epochs=epochs, lr=lr, seed=seed, data=data)
    if recipe is not None:
        return load(recipe.name)
    return _train_network(architecture, hidden, epochs=epochs, lr=lr, seed=seed, data=data)


# --------------------------------------------------------------------------- statistics
def _prunable_vector(net: nn.Module) -> torch.Tensor:
    """All prunable weights of ``net`` (conv and linear weights, not biases) as one flat float64 vector."""
    return torch.cat([w.detach().double().flatten() for w in split.prunable_weights(net).values()])


def weight_statistics(net: nn.Module) -> dict[str, float]:
    """``mean_abs_weight`` and ``laplace_scale`` (``mean |w - median|``) of the prunable weights.

    Parameters
    ----------
    net : torch.nn.Module
        A network.

    Returns
    -------
    dict of str to float
        ``mean_abs_weight`` and ``laplace_scale`` [weight units].

    References
    ----------
    docs/model.md, section 6.
    """
    from coinfer.model.rate_distortion import laplace_scale

    w = _prunable_vector(net)
    return {"mean_abs_weight": float(w.abs().mean()), "laplace_scale": laplace_scale(w)}


def heldout_accuracy(recipe: Recipe, net: nn.Module) -> float:
    """Top-1 accuracy of ``net`` on the held-out split of ``recipe``.

    Parameters
    ----------
    recipe : Recipe
        The recipe.
    net : torch.nn.Module
        The trained network.

    Returns
    -------
    float
        Top-1 accuracy [1].
    """
    data = _as_inputs(recipe.architecture, _recipe_data(recipe))
    return metrics.accuracy(net, data.x_test, data.y_test)


# --------------------------------------------------------------------------- files
def serialise(state: dict[str, torch.Tensor], metadata: dict[str, Any]) -> bytes:
    """Safetensors bytes of ``state`` with ``metadata`` as key-sorted JSON under :data:`METADATA_KEY`.

    Parameters
    ----------
    state : dict of str to torch.Tensor
        The state dict (weight name -> values [weight units]).
    metadata : dict of str to Any
        JSON-ready metadata.

    Returns
    -------
    bytes
        The safetensors bytes.
    """
    from safetensors.torch import save

    tensors = {key: value.detach().contiguous() for key, value in state.items()}
    return save(tensors, metadata={METADATA_KEY: json.dumps(metadata, sort_keys=True)})


def file_metadata(blob: bytes) -> dict[str, Any]:
    """The :data:`METADATA_KEY` metadata of safetensors bytes (empty if absent).

    Parameters
    ----------
    blob : bytes
        Safetensors bytes.

    Returns
    -------
    dict of str to Any
        The metadata.
    """
    (length,) = struct.unpack("<Q", blob[:8])
    header = json.loads(blob[8 : 8 + length])
    text = header.get("__metadata__", {}).get(METADATA_KEY)
    return json.loads(text) if text else {}


def sha256(blob: bytes) -> str:
    """Hex sha256 of ``blob``.

    Parameters
    ----------
    blob : bytes
        Any bytes.

    Returns
    -------
    str
        The hex digest.
    """
    return hashlib.sha256(blob).hexdigest()


def read_records(directory: Path | None = None) -> dict[str, dict[str, Any]]:
    """Name -> record (recipe, file, sha256, accuracy, ...) from ``recipes.json`` in ``directory``.

    Parameters
    ----------
    directory : pathlib.Path, optional
        Folder of the committed weights; default the package's.

    Returns
    -------
    dict of str to dict
        Name -> record.
    """
    path = Path(directory or WEIGHTS_DIR) / RECIPES_FILE
    if not path.exists():
        raise FileNotFoundError(f"{RECIPES_FILE} not found in {path.parent}; run python -m coinfer.nets.trained")
    records: dict[str, dict[str, Any]] = json.loads(path.read_text(encoding="utf-8"))["models"]
    return records


def _load_state(name: str, directory: Path | None = None) -> dict[str, torch.Tensor]:
    """The committed tensors of ``name``, after checking the file's sha256 and recipe.

    The file is hashed in chunks and its tensors read memory-mapped
    (``safetensors.torch.load_file``), so no second copy of the file is held.
    Raises ``ValueError`` if the file differs from ``recipes.json`` or was
    trained with another recipe than :data:`RECIPES` holds.
    """
    from safetensors import safe_open
    from safetensors.torch import load_file

    if name not in RECIPES:
        raise ValueError(f"name: got {name!r}; allowed one of {tuple(RECIPES)}")
    directory = Path(directory or WEIGHTS_DIR)
    record = read_records(directory).get(name)
    if record is None:
        raise ValueError(f"{name}: not in {directory / RECIPES_FILE}; run python -m coinfer.nets.trained")
    path = directory / record["file"]
    with path.open("rb") as stream:
        digest = hashlib.file_digest(stream, "sha256").hexdigest()
    if digest != record["sha256"]:
        raise ValueError(f"{record['file']}: sha256 differs from {RECIPES_FILE}; run python -m coinfer.nets.trained")
    with safe_open(str(path), framework="pt") as opened:
        text = (opened.metadata() or {}).get(METADATA_KEY)
    if (json.loads(text) if text else {}).get("recipe") != RECIPES[name].as_dict():
        raise ValueError(f"{record['file']}: trained with another recipe than coinfer.nets.trained.RECIPES holds")
    return load_file(str(path), device="cpu")


def load(name: str, directory: Path | None = None) -> nn.Sequential:
    """The committed network ``name`` (eval mode). Built on the meta device: the torch RNG is not touched.

    Parameters
    ----------
    name : str
        A committed network.
    directory : pathlib.Path, optional
        Folder of the committed weights; default the package's.

    Returns
    -------
    torch.nn.Sequential
        The network (eval mode).
    """
    state = _load_state(name, directory)  # checks the name too
    recipe = RECIPES[name]
    with torch.device("meta"):
        net = build(recipe.architecture, recipe.hidden)
    net.load_state_dict(state, strict=True, assign=True)
    return net.eval()


def train_committed_weights(out_dir: Path | str | None = None, names: Sequence[str] | None = None) -> dict[str, Any]:
    """Train every recipe (or ``names``) and write ``<name>.safetensors`` and ``recipes.json`` to ``out_dir``.

    Writes are atomic. ``recipes.json`` keeps the records of models not
    retrained (when ``names`` is given). Returns the records written.

    Parameters
    ----------
    out_dir : pathlib.Path or str, optional
        Output folder; default the package's.
    names : sequence of str, optional
        The recipes to train; default all.

    Returns
    -------
    dict of str to Any
        Name -> record written.
    """
    import sklearn

    directory = Path(out_dir or WEIGHTS_DIR)
    chosen = list(RECIPES) if names is None else list(names)
    unknown = sorted(set(chosen) - set(RECIPES))
    if unknown:
        raise ValueError(f"names: got {unknown}; allowed {tuple(RECIPES)}")
    try:
        records = read_records(directory)
    except FileNotFoundError:
        records = {}
    for name in chosen:
        recipe = RECIPES[name]
        net = train(recipe)
        accuracy = heldout_accuracy(recipe, net)
        metadata = {"recipe": recipe.as_dict(), "torch_version": torch.__version__, "test_accuracy": accuracy}
        blob = serialise(net.state_dict(), metadata)
        target = directory / f"{name}.safetensors"
        with atomic_path(target) as tmp:
            tmp.write_bytes(blob)
        records[name] = {
            "recipe": recipe.as_dict(),
            "file": target.name,
            "sha256": sha256(blob),
            "bytes": len(blob),
            "parameters": sum(p.numel() for p in net.parameters()),
            "test_accuracy": accuracy,
            **weight_statistics(net),
            "torch_version": torch.__version__,
            "sklearn_version": sklearn.__version__,
            "machine": platform.machine(),
        }
        print(f"{name}: {records[name]['parameters']} parameters, test accuracy {accuracy:.4f}, {len(blob)} bytes")
    index = {
        "description": (
            "Committed weights of coinfer's own digits models; regenerate with python -m coinfer.nets.trained"
        ),
        "models": {name: records[name] for name in sorted(records)},
    }
    write_text(directory / RECIPES_FILE, json.dumps(index, indent=2, sort_keys=True) + "\n")
    return {name: records[name] for name in chosen}


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m coinfer.nets.trained [--out DIR] [NAME ...]``: regenerate the committed weights.

    Parameters
    ----------
    argv : sequence of str, optional
        Command-line arguments; default ``sys.argv[1:]``.

    Returns
    -------
    int
        The exit code.
    """
    parser = argparse.ArgumentParser(prog="python -m coinfer.nets.trained", description=main.__doc__)
    parser.add_argument("names", nargs="*", help=f"models to retrain (default: all of {', '.join(RECIPES)})")
    parser.add_argument("--out", type=Path, default=None, help="output folder (default: the package's weights/)")
    args = parser.parse_args(argv)
    train_committed_weights(args.out, args.names or None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
