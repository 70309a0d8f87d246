"""Output distortion bounded by parameter distortion (model.md section 3, claim C1).

For a feed-forward network ``h_l = sigma(W_l h_{l-1} + b_l)``, ``h_0 = x``,
with activations that are 1-Lipschitz in l1, and a modified copy with weights
``W^_l`` and the same biases, telescoping

    d_l <= ||W^_l|| d_{l-1} + ||W_l - W^_l|| ||h_{l-1}(x)||_1

gives (model.md section 3)

    ||f(x; W) - f(x; W^)||_1 <= sum_l (prod_{k>l} ||W_k||) ||W_l - W^_l|| ||h_{l-1}(x)||_1

where ``||.||`` is the l1 operator norm (largest column abs-sum) and
``h_{l-1}`` the *unpruned* network's activation. The "parameter distortion"
form replaces ``||W_l - W^_l||`` by the larger entrywise sum ``sum |W_l - W^_l|``.

Implementation choices (each keeps the bound a theorem):

- The products use ``max(||W_k||, ||W^_k||)``. For 0/1 masks this *is*
  ``||W_k||`` (the bound's right-hand side); for quantised weights ``||W^_k||`` may
  be larger and the max keeps the bound valid.
- A bias difference ``b_l - b^_l`` adds ``||b_l - b^_l||_1`` (times the number
  of output positions of a conv) to layer ``l``'s term; it is zero when biases
  are kept, as model.md section 3 assumes.
- Eval-mode BatchNorm is folded into the preceding Linear/Conv2d (a
  per-channel affine map); a BatchNorm with no preceding affine layer becomes
  a diagonal affine layer (which is never pruned, so only its norm enters).
- Everything is computed in float64 so that rounding cannot masquerade as a
  violation.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from coinfer.base.validation import ParameterError, require_choice

pass

#: Elementwise maps that are 1-Lipschitz in l1 (``|s(a) - s(b)| <= |a - b|``), and
#: shape-only maps (l1 isometries); they pass distortion through unchanged.
PASS_THROUGH: tuple[type[nn.Module], ...] = (nn.ReLU, nn.ReLU6, nn.Tanh, nn.Identity, nn.Flatten)
#: Layers whose weights enter the bound.
AFFINE: tuple[type[nn.Linear], type[nn.Conv2d]] = (nn.Linear, nn.Conv2d)
_BATCHNORM: tuple[type[nn.BatchNorm1d], type[nn.BatchNorm2d]] = (nn.BatchNorm1d, nn.BatchNorm2d)
_BatchNorm = nn.BatchNorm1d | nn.BatchNorm2d
#: Forms of the bound: operator-norm distortion terms, or entrywise parameter distortion.
FORMS: tuple[str, ...] = ("operator", "entrywise")
#: Relative floating-point slack of a bound check: ``out <= bound * (1 + RTOL)``.
RTOL = 1e-9


# --------------------------------------------------------------------------- norms
def _operator_norm(weight: torch.Tensor, groups: int = 1) -> float:
    """Largest column abs-sum of a Linear weight ``[out, in]``, or the conv bound for ``[out, in/groups, kh, kw]``."""
    w = weight.detach().double().abs()
    if w.dim() == 2:
        return float(w.sum(dim=0).max())
    out_ch, in_per_group = w.shape[:2]
    grouped = w.reshape(groups, out_ch // groups, in_per_group, -1)
    return float(grouped.sum(dim=(1, 3)).max())


def _check_conv(layer: nn.Conv2d) -> None:
    if layer.padding_mode != "zeros":
        raise ParameterError(
            f"layer: Conv2d with padding_mode={layer.padding_mode!r}; allowed 'zeros' (other modes repeat inputs)"
        )
    if isinstance(layer.padding, str):
        raise ParameterError(f"layer: Conv2d with padding={layer.padding!r}; allowed explicit integer padding")


def l1_operator_norm(layer: nn.Module) -> float:
    """l1 operator norm ``||A||_{1->1}`` of a layer's linear part (model.md section 3).

    - ``nn.Linear``: exact, the largest column abs-sum ``max_j sum_i |W_ij|``.
    - ``nn.Conv2d`` (zero padding, any stride/dilation/groups): the upper bound
      ``max_i sum_{o,kh,kw} |w[o, i, kh, kw]|`` over input channels ``i`` (for
      groups, ``o`` runs over the outputs of ``i``'s group). Every input
      element meets each tap of its channel at most once, so this is an upper
      bound for every input size. It is **exact at stride 1** (any dilation)
      whenever the input has an element that meets every tap, i.e. an
      "interior" element: ``H >= 2 (k_h - 1) d_h + 1 - 2 p_h`` with padding
      ``p_h`` (and likewise for the width). At stride > 1 an element meets
      only some taps and the bound can be loose. Non-zero padding modes
      (reflect, replicate, circular) can repeat an input element and are rejected.

    Parameters
    ----------
    layer : torch.nn.Module
        A Linear or Conv2d layer.

    Returns
    -------
    float
        ``||A||_{1->1}`` [output units per input unit].

    References
    ----------
    docs/model.md, section 3.
    """
    if isinstance(layer, nn.Linear):
        return _operator_norm(layer.weight)
    if isinstance(layer, nn.Conv2d):
        _check_conv(layer)
        return _operator_norm(layer.weight, layer.groups)
    raise ParameterError(f"layer: got {type(layer).__name__}; allowed Linear, Conv2d")


# --------------------------------------------------------------------------- canonical form
@dataclass
class Affine:
    """A Linear (``conv is None``) or Conv2d map in float64, e.g. with a BatchNorm folded in."""

    name: str
    weight: torch.Tensor
    bias: torch.Tensor | None
    conv: dict[str, Any] | None = None

    def __call__(self, h: torch.Tensor) -> torch.Tensor:
        if self.conv is None:
            return F.linear(h, self.weight, self.bias)
        return F.conv2d(h, self.weight, self.bias, **self.conv)

    def operator_norm(self, weight: torch.Tensor | None = None) -> float:
        """:func:`l1_operator_norm` of this map (or of the same geometry with ``weight``).

        Parameters
        ----------
        weight : torch.Tensor, optional
            Weights with this map's geometry [weight units]; default the map's own.

        Returns
        -------
        float
            The l1 operator norm [output units per input unit].
        """
        w = self.weight if weight is None else weight
        return _operator_norm(w, 1 if self.conv is None else self.conv["groups"])

    @classmethod
    def of(cls, name: str, layer: nn.Linear | nn.Conv2d, weight: torch.Tensor | None = None) -> Affine:
        """The float64 map of a Linear/Conv2d ``layer`` (optionally with ``weight`` in place of its own).

        Parameters
        ----------
        name : str
            Name of the layer (for messages and tables).
        layer : torch.nn.Linear or torch.nn.Conv2d
            The layer whose geometry and bias are used.
        weight : torch.Tensor, optional
            Weights to use instead of the layer's own [weight units], same shape.

        Returns
        -------
        Affine
            The float64 map.
        """
        w = (layer.weight if weight is None else weight).detach().double()
        if tuple(w.shape) != tuple(layer.weight.shape):
            raise ParameterError(
                f"weights[{name}.weight]: shape {tuple(w.shape)}; expected {tuple(layer.weight.shape)}"
            )
        bias = None if layer.bias is None else layer.bias.detach().double()
        conv = None
        if isinstance(layer, nn.Conv2d):
            _check_conv(layer)
            conv = {
                "stride": layer.stride,
                "padding": layer.padding,
                "dilation": layer.dilation,
                "groups": layer.groups,
            }
        return cls(name, w, bias, conv)

    def folded(self, bn: _BatchNorm) -> Affine:
        """This map followed by eval-mode ``bn``, as one map: ``W' = diag(s) W``, ``b' = s b + t``.

        Parameters
        ----------
        bn : torch.nn.modules.batchnorm._BatchNorm
            An eval-mode BatchNorm applied after this map.

        Returns
        -------
        Affine
            The folded map (float64).
        """
        out_channels = self.weight.shape[0]
        if bn.num_features != out_channels:
            raise ParameterError(
                f"model: BatchNorm has {bn.num_features} features; {self.name} has {out_channels} outputs"
            )
        scale, shift = _bn_scale_shift(bn)
        weight = self.weight * scale.reshape((-1,) + (1,) * (self.weight.dim() - 1))
        bias = shift if self.bias is None else scale * self.bias + shift
        return Affine(self.name, weight, bias, self.conv)


def _bn_scale_shift(bn: _BatchNorm) -> tuple[torch.Tensor, torch.Tensor]:
    """Eval-mode BatchNorm as ``y = s * x + t`` per channel."""
    if bn.training:
        raise ParameterError("model: BatchNorm in training mode; call model.eval() (model.md §3 folds eval-mode BN)")
    if bn.running_mean is None or bn.running_var is None:
        raise ParameterError("model: BatchNorm without running statistics cannot be folded")
    scale = 1.0 / torch.sqrt(bn.running_var.double() + bn.eps)
    shift = -bn.running_mean.double() * scale
    if bn.affine:
        gamma = bn.weight.detach().double()
        scale, shift = scale * gamma, shift * gamma + bn.bias.detach().double()
    return scale, shift


def _batchnorm_as_affine(name: str, bn: _BatchNorm) -> Affine:
    """A standalone BatchNorm as a diagonal Linear (1d) or a depthwise 1x1 conv (2d)."""
    scale, shift = _bn_scale_shift(bn)
    c = bn.num_features
    if isinstance(bn, nn.BatchNorm2d):
        conv = {"stride": 1, "padding": 0, "dilation": 1, "groups": c}
        return Affine(name, scale.reshape(c, 1, 1, 1), shift, conv)
    return Affine(name, torch.diag(scale), shift)


def fold_batchnorm(layer: nn.Module, bn: nn.Module) -> nn.Module:
    """A float64 copy of ``layer`` (Linear or Conv2d) with eval-mode ``bn`` (applied after it) folded in (model.md §3).

    ``bn(layer(x)) == fold_batchnorm(layer, bn)(x)`` up to rounding, with
    ``W' = diag(s) W``, ``b' = s b + t``, ``s = gamma / sqrt(var + eps)``,
    ``t = beta - s * mean``. ``layer`` and ``bn`` are not changed.

    Parameters
    ----------
    layer : torch.nn.Module
        A Linear or Conv2d layer.
    bn : torch.nn.Module
        The eval-mode BatchNorm applied after it.

    Returns
    -------
    torch.nn.Module
        The folded float64 copy.

    References
    ----------
    docs/model.md, section 3.
    """
    if not isinstance(layer, AFFINE) or not isinstance(bn, _BATCHNORM):
        raise ParameterError(
            f"fold_batchnorm: got ({type(layer).__name__}, {type(bn).__name__}); "
            "allowed (Linear|Conv2d, BatchNorm1d|2d)"
        )
    folded_map = Affine.of("layer", layer).folded(bn)
    folded = copy.deepcopy(layer).double()
    with torch.no_grad():
        folded.weight.copy_(folded_map.weight)
    assert folded_map.bias is not None  # folding a BatchNorm always gives a bias
    folded.bias = nn.Parameter(folded_map.bias.clone())
    return folded.eval()


def _leaf_modules(model: nn.Sequential, prefix: str = "") -> list[tuple[str, nn.Module]]:
    found = []
    for name, module in model.named_children():
        if isinstance(module, nn.Sequential):
            found += _leaf_modules(module, f"{prefix}{name}.")
        else:
            found.append((f"{prefix}{name}", module))
    return found


def canonical_layers(model: nn.Module, weights: Mapping[str, torch.Tensor] | None = None) -> list[Affine | nn.Module]:
    """``model`` as a float64 chain of :class:`Affine` maps (BatchNorm folded) and pass-through modules.

    ``weights`` (state-dict names such as ``"0.weight"``) replace the
    corresponding layer weights, e.g. pruned copies; the model is not changed.
    Nested ``nn.Sequential`` are flattened. Any other module (attention,
    LayerNorm, GELU, pooling, dropout, ...) is rejected with a
    :class:`ParameterError`: the exact bound of model.md section 3 does not cover it.

    Parameters
    ----------
    model : torch.nn.Module
        A sequential model of Linear, Conv2d, BatchNorm and pass-through modules.
    weights : mapping of str to torch.Tensor, optional
        State-dict name -> replacement weights [weight units].

    Returns
    -------
    list of Affine or torch.nn.Module
        The chain, in order.

    References
    ----------
    docs/model.md, section 3.
    """
    if not isinstance(model, nn.Sequential):
        raise ParameterError(f"model: got {type(model).__name__}; allowed nn.Sequential (feed-forward, model.md §3)")
    weights = dict(weights or {})
    layers: list[Affine | nn.Module] = []
    foldable = False  # the previous entry is an Affine from a real layer with no BatchNorm folded yet
    for name, module in _leaf_modules(model):
        if isinstance(module, AFFINE):
            layers.append(Affine.of(name, module, weights.pop(f"{name}.weight", None)))
            foldable = True
        elif isinstance(module, _BATCHNORM):
            previous = layers[-1] if foldable else None  # foldable: the last entry is an Affine
            layers[-1:] = (
                [previous.folded(module)]
                if isinstance(previous, Affine)
                else [*layers[-1:], _batchnorm_as_affine(name, module)]
            )
            foldable = False
        elif isinstance(module, PASS_THROUGH):
            layers.append(module)
            foldable = False
        else:
            allowed = ", ".join(t.__name__ for t in (*AFFINE, *_BATCHNORM, *PASS_THROUGH))
            raise ParameterError(f"model[{name}]: got {type(module).__name__}; allowed {allowed} (model.md section 3)")
    if weights:
        raise ParameterError(f"weights: {next(iter(weights))!r} is not a Linear/Conv2d weight of the model")
    return layers


# --------------------------------------------------------------------------- distortions
def parameter_distortion(original: Mapping[str, torch.Tensor], modified: Mapping[str, torch.Tensor]) -> float:
    """Entrywise l1 parameter distortion ``sum_names sum |original - modified|`` (model.md section 3).

    Parameters
    ----------
    original, modified : mapping of str to torch.Tensor
        Weight name -> values [weight units] before and after the change (same names and shapes).

    Returns
    -------
    float
        The l1 distance summed over every weight [weight units].

    References
    ----------
    docs/model.md, section 3.1 (the theorem).
    """
    if set(original) != set(modified):
        differing = sorted(set(original) ^ set(modified))
        raise ParameterError(f"modified: names differ from original (first: {differing[0]!r})")
    total = 0.0
    for name, w in original.items():
        w_hat = modified[name]
        if tuple(w.shape) != tuple(w_hat.shape):
            raise ParameterError(f"modified[{name!r}]: shape {tuple(w_hat.shape)}; expected {tuple(w.shape)}")
        total += float((w.detach().double() - w_hat.detach().double()).abs().sum())
    return total


def output_distortion(reference: torch.Tensor, output: torch.Tensor) -> torch.Tensor:
    """Per-sample l1 distance over all non-batch dimensions, float64, shape ``[batch]`` (model.md section 3).

    Parameters
    ----------
    reference, output : torch.Tensor
        Outputs of the unmodified and the modified network [output units], same shape, batch first.

    Returns
    -------
    torch.Tensor
        ``||reference_i - output_i||_1`` per sample [output units], float64.

    References
    ----------
    docs/model.md, section 3.1.
    """
    if reference.shape != output.shape:
        raise ParameterError(f"output: shape {tuple(output.shape)}; expected {tuple(reference.shape)}")
    if reference.dim() == 0:
        raise ParameterError("output: got a scalar; expected a batch")
    diff = reference.detach().double() - output.detach().double()
    return diff.reshape(diff.shape[0], -1).abs().sum(dim=1)


def fit_first_order_constant(output_dist: npt.ArrayLike, param_dist: npt.ArrayLike) -> float:
    """Smallest ``H`` with ``out <= H * param`` on every pair with ``param > 0`` (model.md section 3, first-order form).

    ``output_dist`` and ``param_dist`` broadcast against each other (e.g. one
    parameter distortion per pruning ratio against a matrix of per-sample
    output distortions). Pairs with ``param == 0`` are ignored.

    Parameters
    ----------
    output_dist : array_like
        Output distortions [output units].
    param_dist : array_like
        Parameter distortions [weight units], broadcast against ``output_dist``.

    Returns
    -------
    float
        The smallest ``H`` [output units per weight unit]; NaN without a pair with ``param > 0``.

    References
    ----------
    docs/model.md, section 3.
    """
    out, param = np.broadcast_arrays(np.asarray(output_dist, dtype=float), np.asarray(param_dist, dtype=float))
    usable = param > 0
    if not usable.any():
        raise ParameterError("param_dist: no entry > 0; H is undefined")
    return float(np.max(out[usable] / param[usable]))


# --------------------------------------------------------------------------- the bound
@dataclass
class LayerwiseBound:
    """The model.md section 3 bound of one model/modified pair on a batch, with its per-layer terms.

    ``terms_*[l]`` is layer ``l``'s contribution per sample (shape ``[layers,
    batch]``), so ``operator = terms_operator.sum(0)``. ``norms[l]`` is
    ``max(||W_l||, ||W^_l||)``; ``delta_operator``/``delta_entrywise`` the
    layer distortions ``||W_l - W^_l||_{1->1}`` and ``sum |W_l - W^_l|``
    (BatchNorm-folded weights); ``output`` the unmodified network's output
    through the canonical (folded, float64) layers.
    """

    operator: torch.Tensor
    entrywise: torch.Tensor
    terms_operator: torch.Tensor
    terms_entrywise: torch.Tensor
    norms: list[float]
    delta_operator: list[float]
    delta_entrywise: list[float]
    output: torch.Tensor


def _bias_delta_l1(layer: Affine, layer_hat: Affine, out: torch.Tensor) -> float:
    """``||b - b^||_1`` summed over every output position the bias is added at (0 when biases are kept)."""
    b, b_hat = layer.bias, layer_hat.bias
    if b is None:
        if b_hat is None:
            return 0.0
        b = torch.zeros_like(b_hat)
    if b_hat is None:
        b_hat = torch.zeros_like(b)
    return float((b - b_hat).abs().sum()) * (out[0].numel() // b.numel())


@torch.no_grad()
def layerwise_bound(
    model: nn.Sequential, modified: nn.Sequential | Mapping[str, torch.Tensor], x: torch.Tensor
) -> LayerwiseBound:
    """Both forms of the model.md section 3 bound on ``||model(x) - modified(x)||_1``, per sample of ``x``.

    Parameters
    ----------
    model : torch.nn.Sequential
        The unmodified network (Linear/Conv2d layers with ReLU, BatchNorm folded; model.md section 3.2).
    modified : torch.nn.Sequential or mapping of str to torch.Tensor
        A copy of ``model`` with other weights (e.g. pruned), or a mapping of replaced weights (state-dict
        names), which avoids copying the model.
    x : torch.Tensor
        Input batch [input units].

    Returns
    -------
    LayerwiseBound
        The operator-norm and entrywise bounds per sample [output units] with their per-layer terms, the layer
        norms [1] and parameter distortions [weight units].

    References
    ----------
    docs/model.md, sections 3.1 (the theorem) and 3.2 (convolutions and BatchNorm).
    """
    layers = canonical_layers(model)
    if isinstance(modified, Mapping):
        layers_hat = canonical_layers(model, modified)
    else:
        layers_hat = canonical_layers(modified)
    if len(layers) != len(layers_hat) or any(type(a) is not type(b) for a, b in zip(layers, layers_hat, strict=True)):
        raise ParameterError("modified: architecture differs from model (model.md §3 compares copies of one network)")
    if x.dim() == 0:
        raise ParameterError("x: got a scalar; expected a batch of inputs")
    h = x.detach().double()
    batch = h.shape[0]
    op_raw, ent_raw, norms, d_op, d_ent = [], [], [], [], []
    for layer, layer_hat in zip(layers, layers_hat, strict=True):
        if not isinstance(layer, Affine):
            h = layer(h)
            continue
        assert isinstance(layer_hat, Affine)  # same layer types, checked above
        h_in_norm = h.reshape(batch, -1).abs().sum(dim=1)
        out = layer(h)
        delta = layer.weight - layer_hat.weight
        bias_term = _bias_delta_l1(layer, layer_hat, out)
        d_op.append(layer.operator_norm(delta))
        d_ent.append(float(delta.abs().sum()))
        norms.append(max(layer.operator_norm(), layer_hat.operator_norm()))
        op_raw.append(d_op[-1] * h_in_norm + bias_term)
        ent_raw.append(d_ent[-1] * h_in_norm + bias_term)
        h = out
    if not norms:
        raise ParameterError("model: has no Linear or Conv2d layer")
    downstream = np.ones(len(norms))  # prod_{k>l} norms[k], right to left
    for k in range(len(norms) - 2, -1, -1):
        downstream[k] = downstream[k + 1] * norms[k + 1]
    factor = torch.tensor(downstream, dtype=torch.float64).unsqueeze(1)
    terms_op = factor * torch.stack(op_raw)
    terms_ent = factor * torch.stack(ent_raw)
    return LayerwiseBound(
        operator=terms_op.sum(dim=0),
        entrywise=terms_ent.sum(dim=0),
        terms_operator=terms_op,
        terms_entrywise=terms_ent,
        norms=norms,
        delta_operator=d_op,
        delta_entrywise=d_ent,
        output=h,
    )


def sequential_output_bound(
    model: nn.Sequential, pruned: nn.Sequential | Mapping[str, torch.Tensor], x: torch.Tensor, *, form: str = "operator"
) -> torch.Tensor:
    """The model.md section 3 bound on the output distortion per sample (float64, shape ``[batch]``).

    Parameters
    ----------
    model : torch.nn.Sequential
        The unmodified network.
    pruned : torch.nn.Sequential or mapping of str to torch.Tensor
        The modified copy or a mapping of replaced weights.
    x : torch.Tensor
        Input batch [input units].
    form : str
        ``"operator"`` (``||.||_{1->1}`` norms) or ``"entrywise"`` (sums of magnitudes, the looser form).

    Returns
    -------
    torch.Tensor
        The right-hand side of the bound per sample [output units].

    References
    ----------
    docs/model.md, section 3.1.
    """
    require_choice("form", form, FORMS)
    bound = layerwise_bound(model, pruned, x)
    return bound.operator if form == "operator" else bound.entrywise


@torch.no_grad()
def _forward_float64(
    model: nn.Module, x: torch.Tensor, weights: Mapping[str, torch.Tensor] | None = None
) -> torch.Tensor:
    """``model(x)`` in float64, optionally with ``weights`` replaced; the model itself is not changed.

    Runs the model's own ``forward`` (not the canonical layers), so a check
    compares the bound with what the network really computes.
    """
    state = {name: t.detach() for name, t in model.named_parameters()}
    state.update({name: t for name, t in model.named_buffers()})
    state.update({name: t.detach() for name, t in (weights or {}).items()})
    state = {name: t.double() if t.is_floating_point() else t for name, t in state.items()}
    return torch.func.functional_call(model, state, (x.detach().double(),))


def bound_violated(
    output_dist: torch.Tensor | np.ndarray, bound: torch.Tensor | np.ndarray, rtol: float = RTOL
) -> np.ndarray:
    """Boolean per sample: not ``output_dist <= bound * (1 + rtol)`` (a violation means a bug; NaN counts as one).

    Parameters
    ----------
    output_dist : torch.Tensor or numpy.ndarray
        Measured output distortion per sample [output units].
    bound : torch.Tensor or numpy.ndarray
        The bound per sample [output units], broadcast against ``output_dist``.
    rtol : float
        Relative slack of the comparison [1].

    Returns
    -------
    numpy.ndarray
        Boolean per sample, True where the bound is violated.

    References
    ----------
    docs/model.md, section 3.
    """
    out = np.asarray(output_dist, dtype=float)
    b = np.asarray(bound, dtype=float)
    return ~(out <= b * (1.0 + rtol))


def check_pair(
    model: nn.Sequential, modified: nn.Sequential | Mapping[str, torch.Tensor], x: torch.Tensor
) -> pd.DataFrame:
    """One row per sample of ``x``: output distortion, both bounds, tightness, violation flags (float64).

    Parameters
    ----------
    model : torch.nn.Sequential
        The unmodified network.
    modified : torch.nn.Sequential or mapping of str to torch.Tensor
        A modified copy of ``model`` or a mapping of replaced weights.
    x : torch.Tensor
        Input batch [input units].

    Returns
    -------
    pandas.DataFrame
        ``sample``, ``output_distortion``, ``bound_operator``, ``bound_entrywise`` [output units],
        ``tightness_operator``, ``tightness_entrywise`` [1] (distortion over bound) and the flags
        ``violated_operator``, ``violated_entrywise``.

    References
    ----------
    docs/model.md, section 3.1.
    """
    bound = layerwise_bound(model, modified, x)
    reference = _forward_float64(model, x)
    # the bound is computed on the canonical (folded) layers: they must be the same function as the model
    scale = float(reference.abs().max()) if reference.numel() else 0.0
    if not torch.allclose(bound.output, reference, rtol=1e-9, atol=1e-9 * scale):
        raise ParameterError(
            "model: its canonical Linear/Conv2d chain does not reproduce its output "
            "(a layer is used in a way model.md section 3 does not cover, e.g. BatchNorm1d on 3-d input)"
        )
    if isinstance(modified, Mapping):
        output = _forward_float64(model, x, modified)
    else:
        output = _forward_float64(modified, x)
    out = output_distortion(reference, output).numpy()
    op, ent = bound.operator.numpy(), bound.entrywise.numpy()
    with np.errstate(divide="ignore", invalid="ignore"):
        return pd.DataFrame(
            {
                "sample": np.arange(len(out)),
                "output_distortion": out,
                "bound_operator": op,
                "bound_entrywise": ent,
                "tightness_operator": np.where(op > 0, out / op, np.nan),
                "tightness_entrywise": np.where(ent > 0, out / ent, np.nan),
                "violated_operator": bound_violated(out, op),
                "violated_entrywise": bound_violated(out, ent),
            }
        )


def summarise_checks(frame: pd.DataFrame) -> dict[str, Any]:
    """Per-sample rows of :func:`check_pair` reduced to one observation (count, worst case, median).

    Parameters
    ----------
    frame : pandas.DataFrame
        Per-sample rows of :func:`check_pair`.

    Returns
    -------
    dict of str to Any
        ``n_checks`` and the violations of each bound [count]; the mean output distortion and bounds [output
        units]; the median and largest tightness (output distortion / bound) of each bound [1].

    References
    ----------
    docs/model.md, section 3.
    """
    return {
        "n_checks": len(frame),
        "violations_operator": int(frame["violated_operator"].sum()),
        "violations_entrywise": int(frame["violated_entrywise"].sum()),
        "output_distortion_mean": float(frame["output_distortion"].mean()),
        "bound_operator_mean": float(frame["bound_operator"].mean()),
        "bound_entrywise_mean": float(frame["bound_entrywise"].mean()),
        "tightness_operator_median": float(frame["tightness_operator"].median()),
        "tightness_operator_max": float(frame["tightness_operator"].max()),
        "tightness_entrywise_median": float(frame["tightness_entrywise"].median()),
        "tightness_entrywise_max": float(frame["tightness_entrywise"].max()),
    }
