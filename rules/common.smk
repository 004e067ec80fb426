# Helpers, config validation, wildcard constraints and target lists. No rules here.
import json
import os
import re
import sys
from argparse import Namespace
from pathlib import Path

from snakemake.exceptions import WorkflowError

sys.path.insert(0, str(Path(workflow.basedir) / "src"))

from sparsekws.core.config import resolve_inheritance, train_settings, training_entry, validate_config  # noqa: E402
from sparsekws.core.environment import VIVADO_HANDOFF_MESSAGE, cuda_driver_present, vivado_status  # noqa: E402
from sparsekws.core.errors import ConfigError  # noqa: E402
from sparsekws.core.provenance import config_hash  # noqa: E402
from sparsekws.data.labels import class_names  # noqa: E402
from sparsekws.features.frontends import frontend_shape  # noqa: E402
from sparsekws.models.spec import model_input_shape, model_spec  # noqa: E402
from sparsekws.models.ablation import ablation_variants  # noqa: E402
from sparsekws.models.variants import expand_variants  # noqa: E402

try:
    # a named config that extends another (`inherit:`) is completed by it, key by key
    resolved = resolve_inheritance(dict(config), workflow.basedir)
    config.clear()
    config.update(resolved)
    validate_config(
        config,
        Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml",
        Path(workflow.basedir) / "config" / "boards",
    )
    expand_variants(config, Path(workflow.basedir) / "workflow" / "schemas" / "config.schema.yaml")
except ConfigError as error:
    raise WorkflowError(str(error)) from None

# Jobs run the library with this interpreter: `python` in a rule's shell is the one running
# Snakemake (or the rule's conda environment with --use-conda, which comes first on PATH).
os.environ["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"

DATASET = config["dataset"]["name"]
MODELS = list(config["models"])
# the models that go on to compile and measure (sweep variants stop after export)
HW_MODELS = [name for name in MODELS if config["models"][name].get("hardware", True)]
BOARDS = list(config["compile"]["boards"])
FRONTENDS = sorted({m["frontend"] for m in config["models"].values()})
# the config's hash: the footer of every figure and table
CONFIG_HASH = config_hash(config)
# the Yosys table of the RTL units and the LUT/FF factors fitted from it (scripts/rtl_calibrate.py)
YOSYS_TABLE = "config/calibration/yosys_units.csv"
CALIBRATION_FACTORS = "config/calibration/factors.json"
MEASURE_PLATFORMS = config["measure"]["platforms"]
# platforms measured by a job besides the CPU (finn-estimate is read from the compile stage)
DEVICE_PLATFORMS = [p for p in MEASURE_PLATFORMS if p not in ("cpu", "finn-estimate")]
VIVADO_AVAILABLE = vivado_status()["available"]
if not VIVADO_AVAILABLE:
    logger.info(f"sparsekws: {VIVADO_HANDOFF_MESSAGE}")


def spec_of(name):
    """The layer specification of model ``name`` (``sparsekws.models.spec``)."""
    entry = config["models"][name]
    shape = model_input_shape(entry, frontend_shape(entry["frontend"], config["features"]))
    return model_spec(entry, shape, len(class_names(config["task"]["words"])))


# models whose sparse layers get an RTL report (simulation + Yosys counts, rules/rtl.smk)
RTL_MODELS = [name for name in HW_MODELS if spec_of(name).has_sparse_layers]
unmappable = [name for name in HW_MODELS if config["models"][name].get("kwinners_placement") == "before_pool"]
if unmappable:
    raise WorkflowError(
        f"models {', '.join(unmappable)}: kwinners_placement before_pool has no hardware mapping (the compile"
        " stage maps k-WTA after the max-pool); set hardware: false or kwinners_placement: after_pool"
    )


# the leave-one-voice-family-out test: only on a synthetic dataset (the real GSC records no voice families)
VOICE_FAMILIES = (
    [f for f, share in config["dataset"]["synthetic"]["families"].items() if share > 0]
    if config["dataset"]["source"] == "synthetic"
    else []
)
CROSS_VOICE_MODELS = list(config["cross_voice"]["models"]) if len(VOICE_FAMILIES) > 1 else []
unknown_cross_voice = sorted(set(CROSS_VOICE_MODELS) - set(MODELS))
if unknown_cross_voice:
    raise WorkflowError(f"cross_voice.models names {', '.join(unknown_cross_voice)}, not in models")


# the augmented copies of a front end's train split (rule augment)
AUGMENTED = "results/features/{dataset}/{frontend}_augmented.npz"
CROSS_VOICE_TABLE = f"results/tables/{DATASET}/cross_voice.csv"
# the training-recipe ablation (config ablation.rows; config/ablation.yaml): variant -> {base, change}
ABLATION_VARIANTS = ablation_variants(config)
ABLATION_TABLE = f"results/tables/{DATASET}/ablation.csv"
# the ablation's table and figure, when the config has ablation rows
ABLATION_TARGETS = (
    [ABLATION_TABLE, f"results/figures/{DATASET}/ablation.png", f"results/figures/{DATASET}/ablation.svg"]
    if ABLATION_VARIANTS
    else []
)
# the features of a cross-voice model (without a family), and the held-out family's samples
CROSS_WITHOUT = "results/cross_voice/{dataset}/features/{frontend}_without_{family}.npz"
CROSS_WITHOUT_AUGMENTED = "results/cross_voice/{dataset}/features/{frontend}_without_{family}_augmented.npz"
CROSS_ONLY = "results/cross_voice/{dataset}/features/{frontend}_only_{family}.npz"
CROSS_VOICE_DIR = "results/cross_voice/{dataset}/{model}/without_{family}"  # a cross-voice model's results


def cross_voice_path(pattern, wildcards):
    """``pattern`` for a cross-voice job's model (its front end) and held-out family."""
    frontend = config["models"][wildcards.model]["frontend"]
    return pattern.format(dataset=wildcards.dataset, frontend=frontend, family=wildcards.family)


def family_split_outputs():
    """The family_split rule's outputs: the augmented copies only when training uses them."""
    outputs = {"without": CROSS_WITHOUT, "only": CROSS_ONLY}
    if config["augment"]["enabled"]:
        outputs["without_augmented"] = CROSS_WITHOUT_AUGMENTED
    return outputs


def cross_voice_dir(wildcards):
    """A cross-voice model's results folder."""
    return CROSS_VOICE_DIR.format(dataset=wildcards.dataset, model=wildcards.model, family=wildcards.family)


def cross_voice_seed_runs(wildcards):
    """The per-seed results a cross_voice_train job gathers."""
    return seed_runs_in(cross_voice_dir(wildcards), wildcards.model)


def cross_voice_runs(wildcards):
    """(model, family, model.pt, metrics.json, held-out samples) of every cross-voice model."""
    runs = []
    for model in CROSS_VOICE_MODELS:
        for family in VOICE_FAMILIES:
            run = Namespace(dataset=wildcards.dataset, model=model, family=family)
            folder = cross_voice_dir(run)
            runs.append(
                (model, family, f"{folder}/model.pt", f"{folder}/metrics.json", cross_voice_path(CROSS_ONLY, run))
            )
    return runs


NETSIM = config["netsim"]
unknown_netsim = sorted(set(NETSIM["models"]) - set(HW_MODELS)) + sorted(set(NETSIM["boards"]) - set(BOARDS))
if unknown_netsim:
    raise WorkflowError(f"netsim names {', '.join(unknown_netsim)}: not a hardware model or a board of compile.boards")


def netsim_targets():
    """The whole-network simulation records of netsim.models x netsim.boards x netsim.designs."""
    return expand(
        "results/netsim/{dataset}/{model}/{board}/{design}.json",
        dataset=DATASET,
        model=NETSIM["models"],
        board=NETSIM["boards"],
        design=NETSIM["designs"],
    )


def netsim_records(wildcards):
    """The simulation records the measure stage's table takes: all of them in the default run, else those present."""
    records = [path.replace(DATASET, wildcards.dataset, 1) for path in netsim_targets()]
    return records if NETSIM["in_default_run"] else [path for path in records if os.path.exists(path)]


def cross_voice_targets():
    """The leave-one-family-out table, its confusions and figure (empty when there is no test)."""
    if not CROSS_VOICE_MODELS:
        return []
    return [
        CROSS_VOICE_TABLE,
        f"results/tables/{DATASET}/cross_voice_confusion.csv",
        *expand("results/figures/{dataset}/cross_voice.{ext}", dataset=DATASET, ext=["png", "svg"]),
    ]


wildcard_constraints:
    dataset=DATASET,
    family="|".join(VOICE_FAMILIES) or "no-family",
    model="|".join(re.escape(name) for name in MODELS),
    board="|".join(BOARDS),
    frontend="|".join(FRONTENDS),
    index=r"\d+",
    design="fastest|full_chip",


def settings(*sections, model=None, training=False, **values):
    """The config sections a command reads, as JSON (a rule's params, passed as ``--settings``):
    the top-level ``sections``, model ``model``'s entry (without its compile-only keys where
    ``training``), and ``values`` as further sections."""
    part = {key: config[key] for key in sections} | values
    if model is not None:
        entry = config["models"][model]
        part["models"] = {model: training_entry(entry) if training else entry}
    return json.dumps(part, sort_keys=True)


def train_settings_of(model):
    """What one model's training reads: seed, its entry, its ``train`` settings (``train.per_model``
    applied), the augmentation and the front ends (augmented features are recomputed)."""
    return settings("seed", "augment", "features", model=model, training=True, train=train_settings(config, model))


def threads_only():
    """The ``train.threads`` setting alone (evaluate and export run torch with it)."""
    return {"threads": config["train"]["threads"]}


def features_of(wildcards):
    return f"results/features/{wildcards.dataset}/{config['models'][wildcards.model]['frontend']}.npz"


def augmented_of(wildcards):
    frontend = config["models"][wildcards.model]["frontend"]
    return AUGMENTED.format(dataset=wildcards.dataset, frontend=frontend)


def seed_runs_in(folder, model):
    """The per-seed results under ``folder`` that a train job gathers (``train.seeds``, ``train.per_model`` applied)."""
    return [f"{folder}/runs/seed{index}.pt" for index in range(train_settings(config, model)["seeds"])]


def seed_runs_of(wildcards):
    """The per-seed results the train rule gathers."""
    return seed_runs_in(model_dir(wildcards), wildcards.model)


def model_dir(wildcards):
    return f"results/models/{wildcards.dataset}/{wildcards.model}"


def device_may_be_present(platform):
    """False when the backend can only skip: no deployment package configured (pynq, alveo), no NVIDIA driver (cuda)."""
    if platform == "cuda":
        return cuda_driver_present()
    return bool(config["measure"][platform].get("deployment"))


def measured_files(kind):
    """The per-(model, platform) record or skipped CSVs of every measured platform."""
    platforms = [p for p in MEASURE_PLATFORMS if p != "finn-estimate"]
    suffix = ".skipped.csv" if kind == "skipped" else ".csv"
    return expand(
        "results/measurements/{{dataset}}/{platform}/{model}{suffix}",
        platform=platforms,
        model=HW_MODELS,
        suffix=suffix,
    )


def estimates(dataset="{dataset}"):
    """Every (model, board) estimate.json of the compile stage (of ``dataset``, default the wildcard)."""
    return expand("results/hw/{dataset}/{model}/{board}/estimate.json", dataset=dataset, model=HW_MODELS, board=BOARDS)


def per_model(name, models=None):
    """One file ``name`` of every model (of ``models``, default all), in config order."""
    return expand("results/models/{{dataset}}/{model}/{name}", model=models or MODELS, name=name)


def vivado_targets():
    """The Vivado builds of every (model, board); empty without Vivado."""
    if not VIVADO_AVAILABLE:
        return []
    return expand(
        "results/hw/{dataset}/{model}/{board}/vivado/build.json", dataset=DATASET, model=HW_MODELS, board=BOARDS
    )


FIGURES = ["answer", "throughput", "host_throughput", "race", "full_chip", "energy", "accuracy_vs_macs", "accuracy",
           "training_curves", "confusion", "noise_robustness", "class_balance"]  # fmt: skip
TABLES = ["accuracy.csv", "table1.csv", "table1.html", "headline.csv", "headline.html", "race.csv", "compile.csv",
          "compile.html", "provenance.csv", "dataset_card.csv", "dataset_card.json"]  # fmt: skip


def all_targets():
    """Every file the workflow promises. Per-model files are listed too, so that deleting one
    (say a QONNX export) regenerates it and, through it, everything that depends on it."""
    per_model_files = expand(
        "results/models/{dataset}/{model}/{name}",
        dataset=DATASET,
        model=MODELS,
        name=["metrics.json", "model.qonnx.onnx", "export_check.json", "evaluation.json", "confusion.csv",
              "noise_robustness.csv"],  # fmt: skip
    )
    return [
        *per_model_files,
        *estimates(DATASET),
        *vivado_targets(),
        *expand("results/rtl/{dataset}/{model}/rtl_report.html", dataset=DATASET, model=RTL_MODELS),
        f"results/measurements/{DATASET}/throughput.csv",
        f"results/measurements/{DATASET}/skipped.csv",
        *expand("results/figures/{dataset}/{name}.{ext}", dataset=DATASET, ext=["png", "svg"], name=FIGURES),
        *expand("results/tables/{dataset}/{name}", dataset=DATASET, name=TABLES),
        *(cross_voice_targets() if config["cross_voice"]["in_default_run"] else []),
        *(netsim_targets() if NETSIM["in_default_run"] else []),
        *ABLATION_TARGETS,
        f"results/config/{DATASET}.yaml",
    ]
