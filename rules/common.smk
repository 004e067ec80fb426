# Helpers, config validation, wildcard constraints and target lists. No rules here.
import json
import re
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from sparsekws.config import training_entry, validate_config  # noqa: E402
from sparsekws.errors import ConfigError  # noqa: E402
from sparsekws.fileio import write_yaml  # noqa: E402
from sparsekws.rtl.calibration import CALIBRATION_CSV, FACTORS_JSON  # noqa: E402
from sparsekws.rtl.layers import has_sparse_units  # noqa: E402
import yaml  # noqa: E402

try:
    validate_config(config, Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml")
except ConfigError as error:
    raise WorkflowError(str(error)) from None

DATASET = config["dataset"]["name"]
MODELS = list(config["models"])
# the models that go on to compile and measure (sweep variants stop after export)
HW_MODELS = [name for name in MODELS if config["models"][name].get("hardware", True)]
# models whose sparse layers get an RTL report (simulation + Yosys counts, rules/rtl.smk)
RTL_MODELS = [name for name in HW_MODELS if has_sparse_units(config["models"][name])]
# the package's Yosys table and the LUT/FF factors fitted from it (scripts/rtl_calibrate.py)
YOSYS_TABLE = str(CALIBRATION_CSV)
CALIBRATION_FACTORS = str(FACTORS_JSON)
BOARDS = list(config["compile"]["boards"])
FRONTENDS = sorted({m["frontend"] for m in config["models"].values()})

# The library's command line, run by the interpreter that runs Snakemake.
SPARSEKWS = f"{sys.executable} -m sparsekws"

# The effective config (files + --config overrides + defaults), read by every command. It is
# rewritten only when it changes, so it never triggers reruns by itself; each rule's params
# carry the part of the config it depends on, so a change reruns exactly the affected jobs.
EFFECTIVE_CONFIG = f"results/config/{DATASET}.yaml"
if not Path(EFFECTIVE_CONFIG).is_file() or yaml.safe_load(Path(EFFECTIVE_CONFIG).read_text()) != config:
    write_yaml(EFFECTIVE_CONFIG, config)


wildcard_constraints:
    dataset=DATASET,
    model="|".join(re.escape(name) for name in MODELS),
    board="|".join(BOARDS),
    frontend="|".join(FRONTENDS),


def config_part(*keys):
    """A JSON string of the named top-level config sections (a rule's params)."""
    return json.dumps({key: config[key] for key in keys}, sort_keys=True)


def model_part(model, *keys, hardware=False):
    """A JSON string of a model's entry plus the named top-level sections; the entry's
    compile-only keys (``hardware``, ``sparse_hw``) only where ``hardware`` is true."""
    part = {key: config[key] for key in keys}
    entry = config["models"][model]
    part["model"] = entry if hardware else training_entry(entry)
    return json.dumps(part, sort_keys=True)


def train_part(model):
    """A JSON string of what one model's training depends on: seed, its entry, its effective
    ``train`` settings (``train.per_model.<model>`` applied; the other models' overrides left out)
    and the training-time augmentation."""
    settings = {key: value for key, value in config["train"].items() if key != "per_model"}
    settings.update(config["train"].get("per_model", {}).get(model, {}))
    return json.dumps({"seed": config["seed"], "model": training_entry(config["models"][model]), "train": settings,
                       "augment": config["augment"]}, sort_keys=True)


def features_of(wildcards):
    return f"results/features/{wildcards.dataset}/{config['models'][wildcards.model]['frontend']}.npz"


def model_dir(wildcards):
    return f"results/models/{wildcards.dataset}/{wildcards.model}"


def all_targets():
    """Every file the workflow promises. Per-model files are listed too, so that deleting one
    (say a QONNX export) regenerates it and, through it, everything that depends on it."""
    per_model = expand(
        "results/models/{dataset}/{model}/{name}",
        dataset=DATASET,
        model=MODELS,
        name=["metrics.json", "model.qonnx.onnx", "export_check.json",
              "evaluation.json", "confusion.csv", "noise_robustness.csv"],
    )
    return [
        *per_model,
        *expand("results/hw/{dataset}/{model}/{board}/estimate.json", dataset=DATASET, model=HW_MODELS, board=BOARDS),
        *vivado_targets(),  # rules/compile.smk: empty without Vivado
        *expand("results/rtl/{dataset}/{model}/rtl_report.html", dataset=DATASET, model=RTL_MODELS),
        f"results/measurements/{DATASET}/throughput.csv",
        f"results/measurements/{DATASET}/skipped.csv",
        *expand("results/figures/{dataset}/{name}.{ext}", dataset=DATASET, ext=["png", "svg"],
                name=["throughput", "accuracy", "training_curves", "confusion", "noise_robustness", "race",
                      "full_chip", "energy", "accuracy_vs_macs", "class_balance"]),
        *expand("results/tables/{dataset}/{name}", dataset=DATASET,
                name=["accuracy.csv", "table1.csv", "table1.html", "headline.csv", "headline.html", "race.csv",
                      "compile.csv", "compile.html",
                      "provenance.csv", "dataset_card.csv"]),
    ]
