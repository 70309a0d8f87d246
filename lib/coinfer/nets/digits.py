"""The digits family's data and training: scikit-learn's bundled 8x8 digits with a fixed split, and the one
training loop of the artifact's own digits models (model.md section 6).

The architectures and their committed weights are in :mod:`coinfer.nets.trained` and :mod:`coinfer.nets.zoo`.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn


@dataclass
class DigitsData:
    """scikit-learn's bundled 8x8 digits, standardised, with a fixed train/test split."""

    x_train: torch.Tensor
    y_train: torch.Tensor
    x_test: torch.Tensor
    y_test: torch.Tensor


def load_digits_data(seed: int = 0, test_fraction: float = 0.3) -> DigitsData:
    """Digits (1797 images, 64 features in [0, 16] scaled to [0, 1]), stratified split.

    Parameters
    ----------
    seed : int
        Seed of the split [1].
    test_fraction : float
        Share of the test split [1].

    Returns
    -------
    DigitsData
        The split.

    References
    ----------
    docs/model.md, section 6.
    """
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split

    x, y = load_digits(return_X_y=True)
    x_tr, x_te, y_tr, y_te = train_test_split(x / 16.0, y, test_size=test_fraction, random_state=seed, stratify=y)
    as_x = lambda a: torch.tensor(a, dtype=torch.float32)  # noqa: E731
    as_y = lambda a: torch.tensor(a, dtype=torch.long)  # noqa: E731
    return DigitsData(as_x(x_tr), as_y(y_tr), as_x(x_te), as_y(y_te))


def train_classifier(
    model: nn.Module, data: DigitsData, *, seed: int = 0, epochs: int = 300, lr: float = 1e-2
) -> nn.Module:
    """Full-batch Adam on the training split; deterministic for a given seed. Returns ``model`` in eval mode.

    Trains on one thread: the result then does not depend on the machine's
    core count (reduction order), and these tiny kernels run many times
    faster than with threads contending for shared cores.

    Parameters
    ----------
    model : torch.nn.Module
        The network to train in place.
    data : DigitsData
        The digits split.
    seed : int
        Seed of the training [1].
    epochs : int
        Full-batch epochs [count].
    lr : float
        Adam learning rate [1].

    Returns
    -------
    torch.nn.Module
        ``model``, in eval mode.
    """
    torch.manual_seed(seed)
    optimiser = torch.optim.Adam(model.parameters(), lr=lr)
    model.train()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        for _ in range(epochs):
            optimiser.zero_grad()
            loss = nn.functional.cross_entropy(model(data.x_train), data.y_train)
            loss.backward()
            optimiser.step()
    finally:
        torch.set_num_threads(threads)
    return model.eval()


#: The digits train/test split never depends on the model seed, so held-out stays held out.
DIGITS_DATA_SEED = 0


#: Hidden widths of the size-study family ``digits_mlp_w<width>`` (``64-w-w-10``; 682 to 85,002 parameters).
DIGITS_MLP_WIDTHS: tuple[int, ...] = (8, 16, 32, 64, 128, 256)

#: Training seeds of every size-study width (issue 23: L1 is judged on seed means, not one training run). Seed 0 is
#: the committed ``digits_mlp_w<width>``; seed k > 0 is ``digits_mlp_w<width>_s<k>`` (:mod:`coinfer.nets.trained`).
DIGITS_MLP_SEEDS: tuple[int, ...] = (0, 1, 2, 3, 4)


def digits_mlp_seed_name(width: int, seed: int) -> str:
    """The committed name of the size-study MLP of ``width`` trained with ``seed`` (seed 0 keeps the plain name).

    Parameters
    ----------
    width : int
        Hidden width [count].
    seed : int
        Training seed [1].

    Returns
    -------
    str
        The name.
    """
    return f"digits_mlp_w{width}" if seed == 0 else f"digits_mlp_w{width}_s{seed}"
