"""The Yosys calibration table (``config/calibration/yosys_units.csv``): dense and sparse units at
the real layer shapes, and the LUT/FF factors fitted from it (``config/calibration/factors.json``).

Folding (stated per row of the table): the dense unit uses the layer's PE/SIMD; the sparse unit
the same PE and SIMD (the same datapath and input stream), with random bank-balanced fixed
fan-in weights (as the models' ``weight_banks`` masks give: ``bank_depth = ceil(F/SIMD)``), so it
does a vector in ``max(NF*ceil(F/SIMD), cols/SIMD)`` cycles instead of ``NF*cols/SIMD``. Large
units are synthesised as slices and extrapolated (``method``): ``full`` = the whole unit;
``pe-slices`` = the unit with PE'=1 and PE'=2 (each PE with its full weight memory, NF
unchanged), extrapolated linearly to the layer's PE (``count(PE) = count(1) + (count(2) -
count(1)) * (PE - 1)``); ``pe-nf-slices`` = when one PE's weight memory is still too large for
Yosys here (its run time grows faster than linearly with the memory), the PE'=1 and PE'=2 slices
with NF'=n and 2n neuron folds, extrapolated bilinearly in PE and NF (memories scale with
PE x NF, the datapath with PE).

k-WTA rows: the rank-ROM unit (``units.kwta``, ``rtl.kwta_ranked``) at the sparse CNN's k-WTA layers (``KWTA``:
channels, positions, k), 4-bit unsigned levels, ``KWTA_PE`` lanes (column ``simd``), global mode,
synthesised whole. Its rank ROM is that of a trained layer (``kwta_rank_table``): one activation
scale and a per-channel boost ``exp((target - d_c) * beta)`` as ``models.kwinners`` computes it,
with duty cycles ``d_c`` drawn uniformly from ``[0, 2 * target]`` (seeded; target = the training
k fraction, ``beta`` = ``KWTA_BOOST_STRENGTH``), so nearly every (channel, level > 0) has its own
rank: ``bins`` = 14,985 for the fully connected layer (a trained one had 14,833), 961 for the
convolutions. Columns ``positions`` and ``bins`` (k-WTA only; 1 and 0 for the matrix units and in
tables written before them) rebuild the cost unit.

Scatter-convolution rows (``SCATTER``): the sparse CNN's conv2 as ``units.scatter_conv`` (rows =
output channels, cols = C x K x K, ``positions`` = the input map's H x W, ``kernel`` = K) with the
model's complementary masks (packs of ``SCATTER_PACKS`` kernels, bank-balanced, random 4-bit
values), k = the conv1 k-WTA's, at PE 16 (one step per pair) and PE 8 (two), synthesised whole;
at ``SCATTER_LUT_PES`` also with the products in LUTs (``res_type`` lut, Yosys ``-nodsp``: rows
with 0 DSP), calibrated as their own kind (``scatter_conv_lut``).

Pairs-packer rows (``PAIRS``, kind ``kwta_pairs``): the packer behind the conv1 k-WTA that feeds
the scatter convolution (``units.kwta_pairs``, ``rtl.kwta_pairs``: rows = channels, cols = values
per frame, ``simd`` = values per input beat, ``pe`` = pairs per output beat, ``positions`` = H x W,
``active`` = k), its ring at the default capacity, synthesised whole; its own calibration kind.
"""

from __future__ import annotations

import math
import os
import subprocess
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from sparsekws.core.files import write_csv, write_json
from sparsekws.rtl import cycles
from sparsekws.models.sparse_weights import complementary_fan_in_mask
from sparsekws.rtl.constant_mvu import constant_mvu
from sparsekws.rtl.kwta_pairs import pairs_packer
from sparsekws.rtl.kwta_ranked import ranked_kwta
from sparsekws.rtl.scatter_conv import scatter_conv
from sparsekws.rtl.synth import SynthTimeout, synthesize
from sparsekws.rtl.tools import yosys_path
from sparsekws.rtl.verilog import MvuShape, dense_mvu, sparse_mvu, sparse_sparse_mvu
from sparsekws.units import calibration, golden
from sparsekws.units.constant import ConstantUnit, csd_terms
from sparsekws.units.cost import KWinnersUnit, MatrixUnit, PairsPackerUnit
from sparsekws.units.kwta import RankedKwtaShape
from sparsekws.units.kwta_pairs import PairsShape
from sparsekws.units.ranking import score_ranks
from sparsekws.units.scatter_conv import ScatterConvShape, bank_depth

DENSITIES = (1.0, 0.5, 0.2, 0.1, 0.05)
METRICS = ("lut", "lut_logic", "lut_mem", "ff", "bram18", "uram", "dsp", "carry")
SLICE_LIMIT = 150_000  # weight bits, plus gather bits PE*SIMD*cols*abits (sparse), above which to slice
NF_SLICE_WORDS = 8192  # weight words per PE (NF x schedule words) above which PE slices are cut in NF too


@dataclass(frozen=True)
class Layer:
    """A matrix layer of a real network (conv layers as im2col: rows = out channels)."""

    name: str
    rows: int
    cols: int
    wbits: int
    abits: int
    obits: int
    pe: int
    simd: int
    in_signed: bool = False

    def shape(self, **changes) -> MvuShape:
        return replace(MvuShape(self.rows, self.cols, self.pe, self.simd, self.wbits, self.abits, self.obits,
                                self.in_signed), **changes)


# The real shapes: MLP 490-256-256-256-12 (W3A3, 8-bit input), CNN conv 1->64 and 64->64 5x5,
# linear 1600->1000->12 (W4A4, 8-bit input). The MLP's two 256x256 layers share one entry.
LAYERS = (
    Layer("mlp_out", 12, 256, 3, 3, 3, 4, 8),
    Layer("cnn_conv1", 64, 25, 4, 8, 4, 8, 5, in_signed=True),
    Layer("cnn_out", 12, 1000, 4, 4, 4, 4, 8),
    Layer("mlp_hidden", 256, 256, 3, 3, 3, 8, 8),
    Layer("mlp_in", 256, 490, 3, 8, 3, 8, 7, in_signed=True),
    Layer("cnn_conv2", 64, 1600, 4, 4, 4, 8, 8),
    Layer("cnn_fc", 1000, 1600, 4, 4, 4, 8, 8),
)
# k-WTA layers of the sparse CNN (global mode, 4-bit unsigned after QuantReLU + max-pool) as
# (name, channels, positions H x W, k); k = round(C x P * activation density * k_inference_factor).
KWTA = (("cnn_kwta_fc", 1000, 1, 150), ("cnn_kwta_conv2", 64, 5 * 5, 300), ("cnn_kwta_conv1", 64, 14 * 14, 1788))
KWTA_PE = 8
# Scatter convolutions: (name, channels, input side, kernel, outputs, k, density, PE values).
SCATTER = (("cnn_conv2", 64, 14, 5, 64, 1788, 0.2, (16, 8)),)
SCATTER_PACKS = 4
SCATTER_LUT_PES = (8,)  # PE values also synthesised with the products in LUTs (resType lut, Yosys -nodsp)
# Constant-coefficient units: layers small enough to compute a whole vector per cycle.
CONSTANT = ("cnn_conv1",)
# Pairs packers behind a k-WTA: (name, channels, side, k, ((values per beat, pairs per beat), ...)).
PAIRS = (("cnn_kwta_conv1", 64, 14, 1788, ((16, 2), (KWTA_PE, 1))),)
KWTA_BITS = 4
KWTA_INFERENCE_FACTOR = 1.5  # inference k / training k (the target duty cycle)
KWTA_BOOST_STRENGTH = 1.5  # beta of the boost (``models.kwinners`` default)


def kwta_boost(channels: int, target: float, seed: int = 0) -> np.ndarray:
    """Per-channel boost like a trained layer's: ``exp((target - d_c) * beta)`` with duty cycles
    ``d_c`` uniform in ``[0, 2 * target]`` (seeded), ``beta = KWTA_BOOST_STRENGTH``."""
    duty = np.random.default_rng(seed).uniform(0.0, 2.0 * target, channels)
    return np.exp((target - duty) * KWTA_BOOST_STRENGTH).astype(np.float32)


def kwta_rank_table(channels: int, target: float, bits: int = KWTA_BITS, seed: int = 0) -> np.ndarray:
    """Rank ROM ``[C, 2^bits]`` of unsigned levels with one scale and ``kwta_boost`` (``score_ranks``)."""
    return score_ranks(np.arange(1 << bits), np.ones(channels, dtype=np.float32), kwta_boost(channels, target, seed))


def kwta_entry(name: str, channels: int, positions: int, k: int, rank_table: np.ndarray | None = None) -> dict:
    """Grid entry of a k-WTA layer: the ranked unit's shape and rank ROM (``kwta_rank_table`` unless given)."""
    if rank_table is None:
        rank_table = kwta_rank_table(channels, k / (channels * positions) / KWTA_INFERENCE_FACTOR)
    shape = RankedKwtaShape(channels, positions, k, KWTA_PE, KWTA_BITS, bins=int(rank_table.max()) + 1)
    return {"layer": name, "kind": "kwta", "density": k / shape.values, "shape": shape, "rank_table": rank_table}


def scatter_entries(name: str, channels: int, side: int, kernel: int, outputs: int, k: int, density: float,
                    pes: tuple[int, ...], seed: int = 0) -> list[dict]:
    """Grid entries of a scatter convolution with complementary weights (kind ``scatter_conv``), one per PE."""
    import torch

    fan_in = golden.fan_in_for_density(channels * kernel * kernel, density)
    mask = complementary_fan_in_mask(outputs, channels * kernel * kernel, fan_in, channels, SCATTER_PACKS,
                                     torch.Generator().manual_seed(seed)).numpy()
    rng = np.random.default_rng(seed)
    values = rng.integers(-8, 8, size=mask.shape)
    values[values == 0] = 1
    # hardware order (kh, kw, c) -> torch [M, C, K, K]
    weights = (values * mask).astype(np.int64).reshape(outputs, kernel, kernel, channels).transpose(0, 3, 1, 2)
    entries = []
    for pe, res_type in [(pe, "dsp") for pe in pes] + [(pe, "lut") for pe in pes if pe in SCATTER_LUT_PES]:
        shape = ScatterConvShape(channels=channels, height=side, width=side, kernel=kernel, outputs=outputs, active=k,
                                 pe=pe, simd=1, wbits=4, abits=4, obits=4, fan_in=fan_in,
                                 bank_depth=bank_depth(weights, pe), res_type=res_type)
        lo = -(1 << (shape.acc_bits - 3))
        entries.append({"layer": name, "kind": "scatter_conv", "density": density, "pe": pe, "shape": shape,
                        "weights": weights, "thresholds": golden.random_thresholds(lo, -lo, outputs, 4, rng)})
    return entries


def pairs_entries(name: str, channels: int, side: int, k: int, foldings: tuple) -> list[dict]:
    """Grid entries of the pairs packer behind a k-WTA, one per (values per beat, pairs per beat)."""
    return [{"layer": name, "kind": "kwta_pairs", "density": k / (channels * side * side), "pe": simd, "simd": pe,
             "shape": PairsShape(height=side, width=side, channels=channels, pe=pe, simd=simd, k=k, bits=KWTA_BITS)}
            for pe, simd in foldings]


def constant_entry(layer: Layer, seed: int = 0) -> dict:
    """Grid entry of a constant-coefficient unit: the layer fully parallel at its configured density."""
    density = CONFIGURED[layer.name]
    shape = layer.shape(pe=layer.rows, simd=layer.cols, fan_in=golden.fan_in_for_density(layer.cols, density))
    weights, thresholds = _weights("constant", shape, np.random.default_rng(seed))
    return {"layer": layer.name, "kind": "constant", "density": density, "shape": shape, "weights": weights,
            "thresholds": thresholds, "terms": csd_terms(weights)}


def sparse_shape(layer: Layer, density: float) -> MvuShape:
    """The sparse unit of ``layer`` at ``density``: same PE and SIMD, bank-balanced fan-in."""
    fan_in = golden.fan_in_for_density(layer.cols, density)
    return layer.shape(fan_in=fan_in, bank_depth=math.ceil(fan_in / layer.simd))


def _weights(kind: str, shape: MvuShape, rng: np.random.Generator):
    if kind == "sparse":
        weights = golden.random_bank_balanced(shape.rows, shape.cols, shape.fan_in, shape.simd, shape.wbits, rng)
    else:
        weights = golden.random_fixed_fan_in(shape.rows, shape.cols, shape.fan_in or shape.cols, shape.wbits, rng)
    lo = -(1 << (shape.acc_bits - 3))
    thresholds = golden.random_thresholds(lo, -lo, shape.rows, shape.obits, rng)
    return weights, thresholds


def mvu_verilog(kind: str, shape: MvuShape, rng: np.random.Generator) -> tuple[str, str]:
    """Module name and Verilog of a unit with random (sparse: bank-balanced) fixed fan-in weights."""
    weights, thresholds = _weights(kind, shape, rng)
    name = f"{kind}_{shape.rows}x{shape.cols}"
    generator = {"dense": dense_mvu, "sparse": sparse_mvu, "sparse_sparse": sparse_sparse_mvu}[kind]
    return name, generator(name, shape, weights, thresholds)


def _size(kind: str, shape: MvuShape) -> int:
    if kind == "sparse":
        return 2 * shape.cols * shape.abits * shape.pe + shape.rows * shape.bank_depth * shape.simd * shape.wbits
    return shape.rows * shape.cols * shape.wbits * (shape.simd if kind == "sparse_sparse" else 1)


def _words_per_pe(kind: str, shape: MvuShape) -> int:
    """Weight-memory words one PE holds (what makes a slice slow to synthesise)."""
    if kind == "sparse":
        return shape.nf * shape.bank_depth
    return shape.nf * shape.cols // shape.simd


def _extrapolate(points: dict[tuple[int, int], dict], pe: int, nf: int) -> dict:
    """Bilinear extrapolation of slice counts ``{(pe', nf'): counts}`` to (``pe``, ``nf``)."""
    (p1, n1), (p2, n2) = min(points), max(points)
    out = {"seconds": round(sum(p["seconds"] for p in points.values()), 2),
           "depth": max(p["depth"] for p in points.values())}
    u = (pe - p1) / (p2 - p1)
    v = (nf - n1) / (n2 - n1) if n2 != n1 else 0.0
    for key in METRICS:
        c11, c21 = points[(p1, n1)][key], points[(p2, n1)][key]
        c12, c22 = points.get((p1, n2), {key: c11})[key], points.get((p2, n2), {key: c21})[key]
        value = c11 + (c21 - c11) * u + (c12 - c11) * v + (c22 - c21 - c12 + c11) * u * v
        out[key] = max(0, round(value))
    return out


def synth_mvu(kind: str, shape: MvuShape, work: Path, seed: int = 0) -> tuple[dict, str]:
    """Yosys counts of one unit, whole or by slices (see the module docstring)."""
    rng = np.random.default_rng(seed)
    if _size(kind, shape) <= SLICE_LIMIT or shape.pe <= 2:
        name, text = mvu_verilog(kind, shape, rng)
        return synthesize(text, name, work / name).as_dict(), "full"
    per_fold = max(1, _words_per_pe(kind, shape) // shape.nf)
    small = max(1, NF_SLICE_WORDS // per_fold // 2)
    folds, method = ((shape.nf,), "pe-slices") if small * 2 >= shape.nf else ((small, 2 * small), "pe-nf-slices")
    points = {}
    for pe in (1, 2):
        for nf in folds:
            part = replace(shape, pe=pe, rows=nf * pe)
            name, text = mvu_verilog(kind, part, rng)
            points[(pe, nf)] = synthesize(text, name, work / f"{name}_pe{pe}").as_dict()
    return _extrapolate(points, shape.pe, shape.nf), method


# The densities our configs use per layer: these rows are synthesised first.
CONFIGURED = {"mlp_out": 0.1, "cnn_conv1": 0.5, "cnn_out": 0.1, "mlp_hidden": 0.1, "mlp_in": 0.1,
              "cnn_conv2": 0.2, "cnn_fc": 0.1}


def grid() -> list[dict]:
    """Every (layer, unit, density) of the table: the configured densities first, then the sweep."""
    first, rest = [], []
    for layer in LAYERS:
        first.append({"layer": layer.name, "kind": "dense", "density": 1.0, "shape": layer.shape()})
        for density in sorted(DENSITIES):  # cheapest first
            entry = {"layer": layer.name, "kind": "sparse", "density": density,
                     "shape": sparse_shape(layer, density)}
            (first if density == CONFIGURED[layer.name] else rest).append(entry)
    out = next(layer for layer in LAYERS if layer.name == "cnn_out")
    first.append({"layer": out.name, "kind": "sparse_sparse", "density": 1.0,
                  "shape": out.shape(active=152)})  # k-WTA K=150 padded to SIMD 8
    first += [kwta_entry(*item) for item in KWTA]
    first += [entry for item in SCATTER for entry in scatter_entries(*item)]
    first += [entry for item in PAIRS for entry in pairs_entries(*item)]
    first += [constant_entry(layer) for layer in LAYERS if layer.name in CONSTANT]
    return first + rest


def _key(row: dict) -> str:
    """A table row's identity (density to 6 digits: a CSV round trip may change its last digit; the
    scatter convolution's PE too)."""
    pe = ""
    if row["kind"] == "scatter_conv":
        lut = row["shape"].res_type == "lut" if "shape" in row else row["dsp"] == 0
        pe = f"|pe{int(row['pe'])}" + ("|lut" if lut else "")
    if row["kind"] == "kwta_pairs":
        pe = f"|simd{int(row['simd'])}|pe{int(row['pe'])}"
    return f"{row['layer']}|{row['kind']}|{float(row['density']):.6g}{pe}"


def describe(entry: dict) -> dict:
    """The table columns that describe a unit (no synthesis)."""
    shape, kind = entry["shape"], entry["kind"]
    if kind == "scatter_conv":
        return {"layer": entry["layer"], "kind": kind, "density": entry["density"], "rows": shape.outputs,
                "cols": shape.channels * shape.offsets, "fan_in": shape.fan_in, "bank_depth": shape.bank_depth,
                "active": shape.active, "pe": shape.pe, "simd": shape.simd, "wbits": shape.wbits, "abits": shape.abits,
                "obits": shape.obits, "positions": shape.height * shape.width, "bins": 0, "kernel": shape.kernel,
                "cycles_model": shape.cycles()}
    if kind == "kwta_pairs":  # simd = values per input beat, pe = pairs per output beat
        return {"layer": entry["layer"], "kind": kind, "density": entry["density"], "rows": shape.channels,
                "cols": shape.values, "fan_in": 0, "bank_depth": 0, "active": shape.k, "pe": shape.simd,
                "simd": shape.pe, "wbits": 0, "abits": shape.bits, "obits": shape.bits,
                "positions": shape.height * shape.width, "bins": 0, "cycles_model": PairsPackerUnit(shape).cycles()}
    if kind == "kwta":  # rows = channels, cols = values per frame, simd = lanes
        return {"layer": entry["layer"], "kind": kind, "density": entry["density"], "rows": shape.channels,
                "cols": shape.values, "fan_in": 0, "bank_depth": 0, "active": shape.k, "pe": 1, "simd": shape.simd,
                "wbits": 0, "abits": shape.bits, "obits": shape.bits, "positions": shape.positions,
                "bins": shape.rank_bins, "cycles_model": cycles.ranked_kwta(shape)}
    formula = {"dense": cycles.dense_mvu, "constant": cycles.dense_mvu, "sparse": cycles.sparse_mvu,
               "sparse_sparse": cycles.sparse_sparse_mvu}
    row = {"layer": entry["layer"], "kind": kind, "density": entry["density"], "rows": shape.rows,
           "cols": shape.cols, "fan_in": shape.fan_in, "bank_depth": shape.bank_depth, "active": shape.active,
           "pe": shape.pe,
           "simd": shape.simd, "wbits": shape.wbits, "abits": shape.abits, "obits": shape.obits,
           "positions": 1, "bins": 0, "cycles_model": formula[kind](shape)}
    return row | ({"terms": entry["terms"]} if kind == "constant" else {})


def yosys_version() -> str:
    return subprocess.run([yosys_path(), "-V"], capture_output=True, text=True).stdout.strip()


def run(out_csv: str | os.PathLike, work_dir: str | os.PathLike, only: str | None = None,
        log=print) -> pd.DataFrame:
    """Synthesise every grid entry missing from ``out_csv``, rewriting the CSV after each one."""
    out_csv, work = Path(out_csv), Path(work_dir)
    table = pd.read_csv(out_csv) if out_csv.is_file() else pd.DataFrame()
    done = set() if table.empty else {_key(r) for r in table.to_dict("records")}
    version = yosys_version()
    for entry in grid():
        if _key(entry) in done or (only and only not in entry["layer"]):
            continue
        log(f"synthesising {_key(entry)}")
        try:
            if entry["kind"] == "constant":
                name = f"constant_{entry['layer']}"
                verilog = constant_mvu(name, entry["shape"], entry["weights"], entry["thresholds"])
                counts, method = synthesize(verilog, name, work / name).as_dict(), "full"
            elif entry["kind"] == "scatter_conv":
                shape = entry["shape"]
                name = f"scatter_conv_{entry['layer']}_pe{entry['pe']}_{shape.res_type}"
                verilog = scatter_conv(name, shape, entry["weights"], entry["thresholds"])
                counts = synthesize(verilog, name, work / name, dsp=shape.res_type == "dsp").as_dict()
                method = "full"
            elif entry["kind"] == "kwta_pairs":
                shape = entry["shape"]
                name = f"kwta_pairs_{shape.height}x{shape.width}x{shape.channels}_pe{shape.pe}_s{shape.simd}"
                counts, method = synthesize(pairs_packer(name, shape), name, work / name).as_dict(), "full"
            elif entry["kind"] == "kwta":
                shape = entry["shape"]
                name = f"ranked_kwta_{shape.positions}x{shape.channels}_k{shape.k}"
                verilog = ranked_kwta(name, shape, entry["rank_table"])
                counts, method = synthesize(verilog, name, work / name).as_dict(), "full"
            else:
                counts, method = synth_mvu(entry["kind"], entry["shape"], work)
        except SynthTimeout as exc:  # left out of the table: a later run tries again
            log(f"skipped {_key(entry)}: {exc}")
            continue
        row = describe(entry) | {key: counts[key] for key in METRICS} | {
            "depth": counts["depth"], "method": method, "yosys_seconds": counts["seconds"],
            "tool": f"{version} synth_xilinx -family xcup"}
        table = pd.concat([table, pd.DataFrame([row])], ignore_index=True)
        write_csv(out_csv, table)
    return table


# ---- the resource model beside Yosys, and the calibration factors fitted from the table ----------
MODEL_MODES = {"dense": "dense", "sparse": "sparse_weights", "sparse_sparse": "sparse_sparse"}
FIT_METRICS = {"LUT": "lut", "FF": "ff"}  # model resource -> table column


def _in_signed(layer: str) -> bool:
    return next((item.in_signed for item in LAYERS if item.name == layer), False)


def _count(row: dict, key: str, default: int) -> int:
    """An integer column of a row, ``default`` where the table has no such column or no value."""
    value = row.get(key)
    return default if value is None or not np.isfinite(value) else int(value)


def model_unit(row: dict):
    """The compile stage's cost unit (``cost.MatrixUnit`` / ``cost.KWinnersUnit``) of a table row
    (multipliers in DSPs where Yosys put them there, as FINN's ``resType=dsp``)."""
    if row["kind"] == "constant":
        shape = MvuShape(int(row["rows"]), int(row["cols"]), int(row["pe"]), int(row["simd"]), int(row["wbits"]),
                         int(row["abits"]), int(row["obits"]), _in_signed(row["layer"]), fan_in=int(row["fan_in"]))
        return ConstantUnit(mw=shape.cols, mh=shape.rows, weight_bits=shape.wbits, input_bits=shape.abits,
                            terms=int(row["terms"]), acc_bits=shape.acc_bits, output_bits=shape.obits,
                            input_signed=shape.in_signed)
    if row["kind"] == "scatter_conv":
        kernel = int(row["kernel"])
        side = math.isqrt(int(row["positions"]))
        return ScatterConvShape(channels=int(row["cols"]) // (kernel * kernel), height=side, width=side, kernel=kernel,
                                outputs=int(row["rows"]), active=int(row["active"]), pe=int(row["pe"]),
                                simd=int(row["simd"]), wbits=int(row["wbits"]), abits=int(row["abits"]),
                                obits=int(row["obits"]), fan_in=int(row["fan_in"]), bank_depth=int(row["bank_depth"]),
                                res_type="lut" if row.get("dsp", 1) == 0 else "dsp")  # Yosys: 0 DSP = -nodsp
    if row["kind"] == "kwta_pairs":
        side = math.isqrt(int(row["positions"]))
        return PairsPackerUnit(PairsShape(height=side, width=side, channels=int(row["rows"]), pe=int(row["simd"]),
                                          simd=int(row["pe"]), k=int(row["active"]), bits=int(row["abits"])))
    if row["kind"] == "kwta":
        bins = _count(row, "bins", 0)
        return KWinnersUnit(channels=int(row["rows"]), positions=_count(row, "positions", 1), pe=int(row["simd"]),
                            input_bits=int(row["abits"]), k=int(row["active"]), mode="global", score_bins=bins,
                            rank_table=bins > 0)
    cols, bank_depth = int(row["cols"]), row.get("bank_depth")
    return MatrixUnit(mw=cols, mh=int(row["rows"]), pe=int(row["pe"]), simd=int(row["simd"]),
                      weight_bits=int(row["wbits"]), input_bits=int(row["abits"]), input_signed=_in_signed(row["layer"]),
                      mode=MODEL_MODES[row["kind"]], fan_in=int(row["fan_in"] or cols),
                      row_nnz=int(row["rows"]), active_inputs=int(row["active"] or cols),
                      bank_depth=int(bank_depth) if bank_depth and np.isfinite(bank_depth) else 0,
                      output_bits=int(row["obits"]), res_type="dsp" if row.get("dsp", 0) > 0 else "lut")


def _log_ratios(table: pd.DataFrame) -> dict[str | None, dict[str, list[float]]]:
    """log(Yosys / model) per unit kind (None: the dense units) and metric; rows with a zero count
    and sparse units at density 1 (which the model treats as FINN's dense unit) are left out."""
    groups: dict[str | None, dict[str, list[float]]] = {}
    for row in table.to_dict("records"):
        unit = model_unit(row)
        kind = unit.calibration_kind  # None for the dense units, which anchor the fit
        if kind is None and row["kind"] != "dense":
            continue  # a sparse unit at density 1: the model is FINN's dense one, the RTL is not
        raw = unit.resources()
        ratios = groups.setdefault(kind, {name: [] for name in FIT_METRICS})
        for name, column in FIT_METRICS.items():
            if raw[name] > 0 and row[column] > 0:
                ratios[name].append(math.log(row[column] / raw[name]))
    anchor = groups.get(None)
    if not anchor or not all(anchor.values()):
        raise ValueError("the calibration table has no dense units to anchor the factors; run scripts/rtl_calibrate.py")
    return groups


def dense_scale(table: pd.DataFrame) -> dict[str, float]:
    """Yosys / model of the dense units (geometric mean) per metric: how much larger Yosys counts
    than the FINN-scale estimates the factors are relative to."""
    return {name: round(math.exp(float(np.mean(values))), 4) for name, values in _log_ratios(table)[None].items()}


def fit_factors(table: pd.DataFrame) -> dict[str, dict[str, float]]:
    """Calibration factors per unit kind (``units.calibration``): geometric mean of Yosys/model
    over the kind's rows, divided by the same over the dense rows (``_log_ratios``)."""
    groups = _log_ratios(table)
    base = {name: float(np.mean(values)) for name, values in groups[None].items()}
    return {kind: {name: round(math.exp(np.mean(values) - base[name]), 4) for name, values in ratios.items() if values}
            for kind, ratios in sorted(groups.items(), key=lambda item: str(item[0])) if kind is not None}


def write_factors(table: pd.DataFrame, path: str | os.PathLike) -> dict:
    """Fit the factors and write them as a calibration file (``units.calibration``) at ``path``."""
    counts = table.kind.value_counts().to_dict()
    record = {"source": f"Yosys synth_xilinx (xcup) of the RTL units, {len(table)} rows of config/calibration/yosys_units.csv "
                        f"({', '.join(f'{n} {kind}' for kind, n in sorted(counts.items()))}), relative to the dense units",
              "factors": fit_factors(table)}
    write_json(Path(path), record)
    return record


def model_counts(row: dict) -> dict:
    """The compile stage's estimate of a row's unit: cycles per vector, LUT and FF with the
    calibration in force (``units.calibration``), BRAM18 and DSP."""
    unit = model_unit(row)
    return {"cycles": unit.cycles(), "lut": calibration.unit_estimate(unit, "LUT"),
            "ff": calibration.unit_estimate(unit, "FF"), "bram18": unit.bram18(), "dsp": unit.dsps()}
