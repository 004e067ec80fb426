"""The k-WTA with the pairs output (rank-ROM unit + pairs packer) in RTL on a trained model's test words.

The k-WTA that feeds a scatter convolution (``sparse_hw`` mode ``scatter_conv``) streams its
winners as (y, x, c, value) pairs; how many winners a beat holds depends on the word. This script
takes the trained model (``results/models/<dataset>/<model>/model.pt``) and ``--words`` words (the
whole test split first, then validation and training words when the test split is smaller), runs
the sparse-aware engine (``cpu_engine.reference``) to the k-WTA's input levels, builds the unit at
its full shape with the trained rank ROM (activation scale, boost) and the folding given (PE,
pairs per beat), and simulates every word once, back to back, in Verilator (cocotb), the output
always ready. Every output beat is compared with the golden model (``units.kwta_pairs``); the
cycles between consecutive frame ends (the unit's rate per word) are summarised as mean, p99 and
worst beside the compile stage's model (``units.cost.KWinnersUnit.cycles``). Also reported: on how
many words the hardware's winners (ranks, tie order) equal the engine's k-WTA. Writes
results/benchmarks/kwta_pairs.json (or --out). A script, not a test: 1,000 words take minutes.
"""

from __future__ import annotations

import argparse
import logging
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from workflow_config import REPO_ROOT, load as load_config  # noqa: E402  (puts src/ on the path)

from sparsekws.core.config import model_config  # noqa: E402
from sparsekws.core.files import read_npz, write_json  # noqa: E402
from sparsekws.core.provenance import stamp, utc_now  # noqa: E402
from sparsekws.cpu_engine.reference import compile_network  # noqa: E402
from sparsekws.models.spec import k_winners_count  # noqa: E402
from sparsekws.rtl import cases  # noqa: E402
from sparsekws.units.kwta_pairs import pairs_shape  # noqa: E402
from sparsekws.rtl.sim import simulate  # noqa: E402
from sparsekws.training.model_file import load_trained_model, saved_input_shape  # noqa: E402
from sparsekws.units.cost import KWinnersUnit  # noqa: E402
from sparsekws.units.kwta import RankedKwtaShape, reference  # noqa: E402
from sparsekws.units.ranking import score_ranks  # noqa: E402

log = logging.getLogger("bench_kwta_pairs")


def scatter_feeder(mcfg: dict) -> int:
    """Index (among the model's k-WTA layers) of the k-WTA before the first ``scatter_conv`` layer."""
    modes = {int(i): mode for i, mode in ((mcfg.get("sparse_hw") or {}).get("mode") or {}).items()}
    scatter = [index for index, mode in modes.items() if mode == "scatter_conv"]
    if not scatter:
        raise SystemExit("the model's sparse_hw.mode names no scatter_conv layer: no k-WTA streams pairs")
    return min(scatter) - 1  # conv i is fed by the k-WTA after conv i - 1


def words_of(features: Path, words: int) -> tuple[np.ndarray, dict[str, int]]:
    """Up to ``words`` feature words: the test split, then validation, then training; words per split."""
    data = read_npz(features, ("x_test", "x_validation", "x_train"), "features file")
    parts, counts = [], {}
    for split in ("test", "validation", "train"):
        taken = data[f"x_{split}"][: words - sum(counts.values())]
        parts.append(taken)
        counts[split] = len(taken)
    return np.concatenate(parts), counts


def word_levels(checkpoint: Path, x: np.ndarray, mcfg: dict, feeder: int):
    """The k-WTA's input levels ``[words, C, H, W]`` for feature words ``x``, their scale, the engine's k-WTA step."""
    model, saved = load_trained_model(checkpoint, mcfg)
    shape = saved_input_shape(saved)
    net = compile_network(model, shape)
    levels, scale, op = net.kwta_inputs(x.reshape(len(x), *shape).astype(np.float32))[feeder]
    return levels.astype(np.int64), scale, op


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="config/config.yaml", help="workflow config (default %(default)s)")
    parser.add_argument("--model", default="sparse-cnn", help="model name in the config")
    parser.add_argument("--results", default=str(REPO_ROOT / "results"), help="the workflow's results folder")
    parser.add_argument("--words", type=int, default=1000, help="test words to stream (default %(default)s)")
    parser.add_argument("--pe", type=int, default=16, help="k-WTA values per input beat (default %(default)s)")
    parser.add_argument("--pairs-per-beat", type=int, default=2, help="the consumer's SIMD (default %(default)s)")
    parser.add_argument("--ring", type=int, default=0, help="ring positions (default: units.kwta_pairs.ring_capacity)")
    parser.add_argument("--out", default=str(REPO_ROOT / "results" / "benchmarks" / "kwta_pairs.json"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    config = load_config(args.config)
    mcfg = model_config(config, args.model)
    dataset = config["dataset"]["name"]
    checkpoint = Path(args.results) / "models" / dataset / args.model / "model.pt"
    features = Path(args.results) / "features" / dataset / f"{mcfg['frontend']}.npz"
    for path in (checkpoint, features):
        if not path.is_file():
            raise SystemExit(f"{path} not found: run the workflow with {args.config} first")
    x, splits = words_of(features, args.words)
    levels, scale, op = word_levels(checkpoint, x, mcfg, scatter_feeder(mcfg))
    n, channels, height, width = levels.shape
    frames = levels.transpose(0, 2, 3, 1).reshape(n, -1)  # the stream: channels last
    table = score_ranks(np.arange(16), np.full(channels, scale, dtype=np.float32), op.boost)
    k = k_winners_count(frames.shape[1], op.fraction)
    shape = RankedKwtaShape(channels, height * width, k, args.pe, 4, bins=int(table.max()) + 1)
    pairs = pairs_shape(shape, height, width, args.pairs_per_beat, args.ring)
    engine = op(levels.astype(np.float32)).transpose(0, 2, 3, 1).reshape(n, -1)
    hardware = reference(frames, shape, table)
    agree = int((hardware == engine).all(axis=1).sum())
    model = KWinnersUnit(channels=channels, positions=height * width, pe=args.pe, input_bits=4, k=k,
                         score_bins=shape.rank_bins, rank_table=True, pairs=pairs).cycles()
    case = cases.kwta_pairs_case(shape, table, pairs, np.random.default_rng(0), n, x=frames)
    log.info("k-WTA %dx%dx%d, k=%d, PE %d -> %d pairs/beat: simulating %d words", height, width, channels, k,
             args.pe, args.pairs_per_beat, n)
    start = time.time()
    with tempfile.TemporaryDirectory() as work:
        result = simulate(case, Path(work), back_pressure=False, optimise=True)
    intervals = np.asarray(result.intervals)
    winners = (hardware != 0).sum(axis=1)
    record = {
        "what": __doc__.splitlines()[0], "source": "simulated (Verilator, cocotb)", "created": utc_now(),
        "provenance": stamp(mcfg), "model": args.model, "checkpoint": str(checkpoint), "words": n,
        "words_per_split": splits,
        "unit": {"height": height, "width": width, "channels": channels, "k": k, "pe": args.pe,
                 "pairs_per_beat": args.pairs_per_beat, "rank_bins": shape.rank_bins,
                 "ring_positions": pairs.positions, "ring_banks": pairs.banks},
        "passed": result.passed, "beats_checked": result.beats_checked, "mismatches": result.mismatches,
        "first_mismatch": result.first_mismatch,
        "cycles_per_word": {"model": model, "mean": float(intervals.mean()), "p99": float(np.percentile(intervals, 99)),
                            "worst": int(intervals.max()), "best": int(intervals.min()),
                            "first_word_latency": result.first_frame_latency},
        "nonzero_winners_per_word": {"mean": float(winners.mean()), "max": int(winners.max())},
        "hardware_equals_engine_words": agree, "sim_seconds": round(time.time() - start, 1)}
    write_json(args.out, record)
    log.info("%s: mean %.1f, p99 %.1f, worst %d cycles per word (model %d); %d/%d words as the engine; -> %s",
             "passed" if result.passed else f"FAILED ({result.first_mismatch})", intervals.mean(),
             np.percentile(intervals, 99), intervals.max(), model, agree, n, args.out)
    return 0 if result.passed else 1


if __name__ == "__main__":
    sys.exit(main())
