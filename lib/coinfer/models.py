"""Split models and the offline model zoo (SPEC sections 2 and 6).

A :class:`SplitModel` is a pretrained network cut into an ordered chain
``stem, block 1, ..., block L, head``. Split point ``s`` in ``0..L`` puts the
stem and blocks ``1..s`` on the device and the rest on the server; ``s = 0`` is
fully on-server (the raw input is sent) and ``s = L`` fully on-device (the
head runs on the device too, nothing is sent).

Values passed between stages are either a tensor or a tuple whose first
element is the feature tensor that crosses the link (later elements are small
side information such as an attention mask, not counted as sent bits).

The zoo's registry and loaders live below the core; adding a model is one
entry in :data:`REGISTRY`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

#: Layer types whose ``weight`` is prunable: the ones that carry the FLOPs, so
#: pruning them is what reduces compute (embeddings, norms, biases are kept).
PRUNABLE_TYPES: tuple[type[nn.Module], ...] = (nn.Linear, nn.Conv1d, nn.Conv2d)


def prunable_weights(module: nn.Module, prefix: str = "") -> dict[str, nn.Parameter]:
    """Name -> weight of every prunable layer inside ``module`` (see :data:`PRUNABLE_TYPES`)."""
    found: dict[str, nn.Parameter] = {}
    for name, sub in module.named_modules(prefix=prefix.rstrip(".")):
        if isinstance(sub, PRUNABLE_TYPES) or type(sub).__name__ == "Conv1D":  # transformers' GPT-2 Conv1D
            found[f"{name}.weight" if name else "weight"] = sub.weight
    return found


def feature_tensor(value: Any) -> torch.Tensor:
    """The tensor that crosses the link for a value passed between stages."""
    return value[0] if isinstance(value, (tuple, list)) else value


@dataclass
class SplitModel:
    """A model as a chain ``stem, blocks..., head`` with named split points (SPEC 2).

    ``split_names[s]`` names split ``s``: ``"input"`` for 0, the name of block
    ``s`` for ``1..L-1``, and ``"output"`` for ``L``.
    """

    name: str
    stem: nn.Module
    blocks: list[nn.Module]
    block_names: list[str]
    head: nn.Module
    #: Free-form facts shown in tables (task, parameter count, input description).
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if len(self.blocks) != len(self.block_names) or not self.blocks:
            raise ValueError("blocks and block_names must be non-empty and of equal length")

    @property
    def num_blocks(self) -> int:
        """``L``, the number of blocks."""
        return len(self.blocks)

    @property
    def split_names(self) -> list[str]:
        """Names of split points ``0..L``."""
        return ["input", *self.block_names[:-1], "output"]

    def split_index(self, split: int | str) -> int:
        """Index of a split given by index or name."""
        if isinstance(split, str):
            if split not in self.split_names:
                raise ValueError(f"split: got {split!r}; allowed one of {self.split_names}")
            return self.split_names.index(split)
        if not 0 <= split <= self.num_blocks:
            raise ValueError(f"split: got {split}; allowed 0..{self.num_blocks}")
        return int(split)

    def stages(self) -> list[nn.Module]:
        """All stages in order: ``[stem, *blocks, head]``."""
        return [self.stem, *self.blocks, self.head]

    def device_stages(self, split: int | str) -> list[nn.Module]:
        """Stages run on the device at ``split``."""
        s = self.split_index(split)
        if s == 0:
            return []
        if s == self.num_blocks:
            return self.stages()
        return [self.stem, *self.blocks[:s]]

    def server_stages(self, split: int | str) -> list[nn.Module]:
        """Stages run on the server at ``split``."""
        s = self.split_index(split)
        return self.stages()[len(self.device_stages(s)):]

    @staticmethod
    def _run(stages: list[nn.Module], value: Any) -> Any:
        for stage in stages:
            value = stage(value)
        return value

    @torch.no_grad()
    def run_device(self, inputs: Any, split: int | str) -> Any:
        """Device part at ``split``: what is sent (or the output when ``split = L``)."""
        return self._run(self.device_stages(split), inputs)

    @torch.no_grad()
    def run_server(self, features: Any, split: int | str) -> Any:
        """Server part at ``split``, from the sent features to the output."""
        return self._run(self.server_stages(split), features)

    @torch.no_grad()
    def forward(self, inputs: Any) -> Any:
        """The whole model."""
        return self._run(self.stages(), inputs)

    def device_weights(self, split: int | str) -> dict[str, nn.Parameter]:
        """Prunable weights on the device side at ``split``."""
        return self._weights(self.device_stages(split))

    def server_weights(self, split: int | str) -> dict[str, nn.Parameter]:
        """Prunable weights on the server side at ``split``."""
        return self._weights(self.server_stages(split))

    def all_weights(self) -> dict[str, nn.Parameter]:
        """Prunable weights of the whole model."""
        return self._weights(self.stages())

    def _weights(self, stages: list[nn.Module]) -> dict[str, nn.Parameter]:
        index = {id(stage): i for i, stage in enumerate(self.stages())}
        names = ["stem", *self.block_names, "head"]
        found: dict[str, nn.Parameter] = {}
        for stage in stages:
            found.update(prunable_weights(stage, prefix=names[index[id(stage)]]))
        return found

    def modules(self) -> Iterator[nn.Module]:
        """Every stage module, e.g. to call ``.eval()`` or copy."""
        yield from self.stages()


# --------------------------------------------------------------------------- digits
@dataclass
class DigitsData:
    """scikit-learn's bundled 8x8 digits, standardised, with a fixed train/test split."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def load_digits_data(seed: int = 0, test_fraction: float = 0.3) -> DigitsData:
    """Digits (1797 images, 64 features in [0, 16] scaled to [0, 1]), stratified split."""
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_tr, x_te, y_tr, y_te = train_test_split(
        x / 16.0, y, test_size=test_fraction, random_state=seed, stratify=y
    )
    as_x = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
    as_y = lambda a: torch.tensor(a, dtype=torch.long)  # noqa: E731
    return DigitsData(as_x(x_tr), as_y(y_tr), as_x(x_te), as_y(y_te))


def train_classifier(
    model: nn.Module, data: DigitsData, *, seed: int = 0, epochs: int = 300, lr: float = 1e-2
) -> nn.Module:
    """Full-batch Adam on the training split; deterministic for a given seed. Returns ``model`` in eval mode."""
    torch.manual_seed(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    for _ in range(epochs):
        optimiser.zero_grad()
        loss = nn.functional.cross_entropy(model(data.x_train), data.y_train)
        loss.backward()
        optimiser.step()
    return model.eval()


def digits_mlp(
    seed: int = 0, hidden: tuple[int, ...] = (128, 64), epochs: int = 300, data: DigitsData | None = None
) -> tuple[nn.Sequential, DigitsData]:
    """A ReLU MLP trained deterministically on digits: ``Linear, ReLU, ..., Linear``.

    A plain ``nn.Sequential`` so the exact bound of SPEC section 3 applies
    layer by layer. Returns the model (eval mode) and its data; ``data``
    defaults to the split drawn with ``seed`` (the zoo passes the fixed split
    of seed 0 so held-out samples never depend on the model seed).
    """
    torch.manual_seed(seed)
    widths = (64, *hidden)
    layers: list[nn.Module] = []
    for width_in, width_out in zip(widths[:-1], widths[1:]):
        layers += [nn.Linear(width_in, width_out), nn.ReLU()]
    layers.append(nn.Linear(widths[-1], 10))
    data = load_digits_data(seed) if data is None else data
    return train_classifier(nn.Sequential(*layers), data, seed=seed, epochs=epochs), data


def accuracy(model: Callable[[torch.Tensor], torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> float:
    """Top-1 accuracy of ``model`` on ``(x, y)``."""
    with torch.no_grad():
        return float((model(x).argmax(dim=-1) == y).float().mean())


def seeded_generator(seed: int) -> np.random.Generator:
    """The one way randomness is created in this package: ``numpy`` PCG64 from ``seed``."""
    return np.random.default_rng(seed)
