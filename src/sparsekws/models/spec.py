"""The layer specification of a model entry: the one place that works out a model's layers.

``model_spec(entry, input_shape, num_classes)`` turns a ``models.<name>`` config entry into the
ordered list of its weight layers (shape, kind, configured weight density, output positions per
frame, the input's channels-first shape) and k-WTA layers (channels, positions, training and
inference k). Training builds the torch network from it (``models.cnn``, ``models.mlp``), FINN's
conversion takes its densities (``finn.convert``), the RTL report its shapes (``rtl.layers``), the
workflow its target list (which models have sparse layers), and the sparsity sweep the config
keys of a family (``FAMILIES``). Plain Python: no torch, no Brevitas, no FINN.

Families:

- ``mlp`` (the FINN KWS MLP): flat input; ``hidden_units`` linear layers and an output layer,
  every one at ``weight_density``; no k-WTA. Layers ``in``, ``hidden1`` ... ``out``.
- ``cnn`` (Numenta's GSC CNN): input ``[1, H, W]``; per conv layer a ``kernel_size`` convolution
  without padding at ``conv_weight_density[i]``, max-pool ``POOL`` and, where ``kwinners`` is true
  and ``conv_activation_density[i]`` < 1, a k-WTA over the pooled map (``kwinners_mode``; with
  ``kwinners_placement: before_pool`` over the map before pooling, nupic.torch's order, which
  only training supports: the compile stage maps k-WTA after pooling); then a
  linear layer of ``linear_units`` at ``linear_weight_density`` on the flattened map, with a 1-D
  k-WTA at ``linear_activation_density``, and a dense output layer. Layers ``conv1`` ... ``fc``,
  ``out``; k-WTA ``kwta_<layer it follows>``.

k-WTA sizes follow ``models.kwinners``: ``units`` = C x H x W (global, or 1-D: C), C (local);
``k = round(fraction x units)`` clamped to 1..units, with ``fraction`` = the density in training
and density x ``k_inference_factor`` at inference.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

from sparsekws.core.errors import UserError

POOL = 2


def k_winners_count(units: int, fraction: float) -> int:
    """``round(fraction * units)`` clamped to ``1..units``."""
    return max(1, min(units, round(fraction * units)))


@dataclass(frozen=True)
class WeightLayer:
    """A convolution (as its im2col matrix) or a linear layer.

    ``index``: position among the weight layers (the mask seed is ``seed * 1000 + index``);
    ``in_features``: the fan-in size (``C_in x k x k`` for a convolution); ``positions``: output
    positions per frame (H x W of a convolution's output, 1 for a linear layer); ``input_chw``: the
    ``(C, H, W)`` map a convolution reads or a linear layer flattens (None for a flat input).
    """

    index: int
    name: str
    kind: str  # "conv" or "linear"
    in_features: int
    out_features: int
    density: float
    positions: int = 1
    kernel: int = 1
    input_chw: tuple[int, int, int] | None = None

    @property
    def sparse(self) -> bool:
        return self.density < 1.0


@dataclass(frozen=True)
class KwtaLayer:
    """A k-winners-take-all layer over ``channels`` x ``positions`` values (positions = H x W, 1 for 1-D)."""

    name: str
    channels: int
    positions: int
    density: float
    k_inference_factor: float
    mode: str = "global"
    before_pool: bool = False

    @property
    def units(self) -> int:
        """Values that compete in one group."""
        return self.channels if self.mode == "local" else self.channels * self.positions

    @property
    def k_train(self) -> int:
        return k_winners_count(self.units, self.density)

    @property
    def k_inference(self) -> int:
        return k_winners_count(self.units, self.density * self.k_inference_factor)


@dataclass(frozen=True)
class ModelSpec:
    """The layers of one model in forward order (see the module docstring)."""

    family: str
    input_shape: tuple[int, ...]
    num_classes: int
    layers: tuple[WeightLayer | KwtaLayer, ...]

    @property
    def weight_layers(self) -> list[WeightLayer]:
        return [layer for layer in self.layers if isinstance(layer, WeightLayer)]

    @property
    def kwta_layers(self) -> list[KwtaLayer]:
        return [layer for layer in self.layers if isinstance(layer, KwtaLayer)]

    @property
    def densities(self) -> list[float]:
        """Configured weight density of each weight layer, in order."""
        return [layer.density for layer in self.weight_layers]

    @property
    def has_sparse_layers(self) -> bool:
        """A weight layer below density 1, or a k-WTA layer."""
        return any(layer.sparse for layer in self.weight_layers) or bool(self.kwta_layers)

    def kwta_feeding(self, layer: WeightLayer) -> KwtaLayer | None:
        """The k-WTA layer right before ``layer``, whose output is its whole input, or None."""
        position = self.layers.index(layer)
        before = self.layers[position - 1] if position else None
        return before if isinstance(before, KwtaLayer) and layer.kind == "linear" else None


def _mlp_layers(entry: dict[str, Any], input_shape: tuple[int, ...], num_classes: int) -> list[WeightLayer]:
    widths = [math.prod(input_shape), *entry["hidden_units"], num_classes]
    names = ["in", *(f"hidden{i}" for i in range(1, len(widths) - 2)), "out"]
    return [WeightLayer(index, name, "linear", fan_in, units, float(entry["weight_density"]))
            for index, (name, fan_in, units) in enumerate(zip(names, widths[:-1], widths[1:]))]


def _per_layer(entry: dict[str, Any], key: str, layers: int) -> list[float]:
    values = entry[key]
    if len(values) != layers:
        raise UserError(f"model config key '{key}' has {len(values)} entries but 'conv_channels' has {layers}; "
                        "give one value per conv layer")
    return [float(v) for v in values]


def _kwta(entry: dict[str, Any], name: str, channels: int, positions: int, density: float,
          mode: str, before_pool: bool = False) -> list[KwtaLayer]:
    if not entry["kwinners"] or density >= 1.0:
        return []
    return [KwtaLayer(name, channels, positions, density, float(entry["k_inference_factor"]), mode, before_pool)]


def _cnn_layers(entry: dict[str, Any], input_shape: tuple[int, ...], num_classes: int) -> list:
    channels, height, width = input_shape
    conv_channels = list(entry["conv_channels"])
    kernel = entry["kernel_size"]
    densities = _per_layer(entry, "conv_weight_density", len(conv_channels))
    activations = _per_layer(entry, "conv_activation_density", len(conv_channels))
    layers: list = []
    for index, (out_channels, density, activation) in enumerate(zip(conv_channels, densities, activations)):
        out_h, out_w = height - kernel + 1, width - kernel + 1
        if out_h // POOL < 1 or out_w // POOL < 1:
            raise UserError(f"input {tuple(input_shape)} is too small for {len(conv_channels)} conv layers of "
                            f"kernel {kernel} with max-pool {POOL}; use the 32x32 log-mel front end "
                            "(frontend: logmel) or fewer conv layers")
        name = f"conv{index + 1}"
        layers.append(WeightLayer(index, name, "conv", channels * kernel * kernel, out_channels, density,
                                  positions=out_h * out_w, kernel=kernel, input_chw=(channels, height, width)))
        channels, height, width = out_channels, out_h // POOL, out_w // POOL
        before_pool = entry["kwinners_placement"] == "before_pool"
        layers += _kwta(entry, f"kwta_{name}", channels, out_h * out_w if before_pool else height * width,
                        activation, entry["kwinners_mode"], before_pool)
    units = entry["linear_units"]
    index = len(conv_channels)
    layers.append(WeightLayer(index, "fc", "linear", channels * height * width, units,
                              float(entry["linear_weight_density"]), input_chw=(channels, height, width)))
    layers += _kwta(entry, "kwta_fc", units, 1, float(entry["linear_activation_density"]), "global")
    layers.append(WeightLayer(index + 1, "out", "linear", units, num_classes, 1.0))
    return layers


def _cnn_input(feature_shape: tuple[int, ...]) -> tuple[int, ...]:
    if len(feature_shape) != 2:
        raise UserError(f"a cnn model needs 2-D features per sample (e.g. 32x32 log-mel), got shape "
                        f"{feature_shape}; set the model's 'frontend' to logmel")
    return (1, *feature_shape)


@dataclass(frozen=True)
class Family:
    """A model family: how its input is shaped, its layers, and which config keys hold its densities."""

    input_shape: Callable[[tuple[int, ...]], tuple[int, ...]]
    layers: Callable[[dict[str, Any], tuple[int, ...], int], list]
    weight_density_keys: tuple[str, ...]
    activation_density_keys: tuple[str, ...] = ()


FAMILIES = {
    "mlp": Family(input_shape=lambda shape: (math.prod(shape),), layers=_mlp_layers,
                  weight_density_keys=("weight_density",)),
    "cnn": Family(input_shape=_cnn_input, layers=_cnn_layers,
                  weight_density_keys=("conv_weight_density", "linear_weight_density"),
                  activation_density_keys=("conv_activation_density", "linear_activation_density")),
}


def family(entry: dict[str, Any]) -> Family:
    """The ``Family`` of a model entry (``UserError`` for an unknown one)."""
    try:
        return FAMILIES[entry["family"]]
    except KeyError:
        raise UserError(f"unknown model family '{entry['family']}' (known: {', '.join(FAMILIES)})") from None


def model_input_shape(entry: dict[str, Any], feature_shape: Sequence[int]) -> tuple[int, ...]:
    """The per-sample input shape the model takes, given the per-sample feature shape:
    ``mlp`` flattens it ((49, 10) -> (490,)), ``cnn`` adds a channel ((32, 32) -> (1, 32, 32))."""
    return family(entry).input_shape(tuple(int(d) for d in feature_shape))


def model_spec(entry: dict[str, Any], input_shape: Sequence[int], num_classes: int) -> ModelSpec:
    """The layers of a ``models.<name>`` entry for a per-sample ``input_shape`` and ``num_classes``."""
    shape = tuple(int(d) for d in input_shape)
    if entry["family"] == "cnn" and len(shape) != 3:
        raise UserError(f"a cnn model takes inputs [channels, height, width], got {shape}")
    layers = family(entry).layers(entry, shape, int(num_classes))
    return ModelSpec(entry["family"], shape, int(num_classes), tuple(layers))
