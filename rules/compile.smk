rule compile:
    input:
        qonnx="results/models/{dataset}/{model}/model.qonnx.onnx",
        reference="results/models/{dataset}/{model}/reference_io.npz",
        board="config/boards/{board}.yaml",
        calibration=CALIBRATION_FACTORS,  # the sparse units' LUT/FF factors
    output:
        estimate="results/hw/{dataset}/{model}/{board}/estimate.json",
        folding="results/hw/{dataset}/{model}/{board}/folding_config.json",
    params:
        config=lambda w: model_part(w.model, "compile", hardware=True),
        out_dir=lambda w: f"results/hw/{w.dataset}/{w.model}/{w.board}",
        budget=config["compile"]["budget"],
    log:
        "results/logs/compile/{dataset}_{model}_{board}.log",
    benchmark:
        "results/benchmarks/rules/compile/{dataset}_{model}_{board}.tsv"
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "{SPARSEKWS} compile --config {EFFECTIVE_CONFIG} --model {wildcards.model} --board {wildcards.board}"
        " --qonnx {input.qonnx} --reference-io {input.reference} --out-dir {params.out_dir}"
        " --budget {params.budget} > {log} 2>&1"


# ---- the Vivado part (stitched IP, synthesis, bitstream, deployment package) ----------------
# Runs only where Vivado is installed (XILINX_VIVADO set or vivado on PATH); elsewhere the targets
# are left out with one message and the compile folder (finn/codegen, finn/onnx,
# folding_config.json) is the hand-off for a Vivado machine: docs/vivado-handoff.md.
from sparsekws.hw.finn_build import vivado_status  # noqa: E402
from sparsekws.hw.vivado_build import NO_VIVADO_MESSAGE  # noqa: E402

VIVADO_AVAILABLE = vivado_status()["available"]
if not VIVADO_AVAILABLE:
    logger.info(f"sparsekws: {NO_VIVADO_MESSAGE}")


def vivado_targets():
    """The Vivado builds of every (model, board); empty without Vivado."""
    if not VIVADO_AVAILABLE:
        return []
    return expand("results/hw/{dataset}/{model}/{board}/vivado/build.json", dataset=DATASET, model=HW_MODELS,
                  board=BOARDS)


rule vivado_build:
    input:
        estimate="results/hw/{dataset}/{model}/{board}/estimate.json",
        folding="results/hw/{dataset}/{model}/{board}/folding_config.json",
        board="config/boards/{board}.yaml",
    output:
        build="results/hw/{dataset}/{model}/{board}/vivado/build.json",
    params:
        compile_dir=lambda w: f"results/hw/{w.dataset}/{w.model}/{w.board}",
        out_dir=lambda w: f"results/hw/{w.dataset}/{w.model}/{w.board}/vivado",
    log:
        "results/logs/vivado_build/{dataset}_{model}_{board}.log",
    benchmark:
        "results/benchmarks/rules/vivado_build/{dataset}_{model}_{board}.tsv"
    resources:
        mem_mb=16000,
        runtime=600,
    shell:
        "{SPARSEKWS} vivado-build --compile-dir {params.compile_dir} --board {wildcards.board}"
        " --out-dir {params.out_dir} > {log} 2>&1"


rule vivado:
    """All Vivado builds (nothing without Vivado)."""
    input:
        vivado_targets(),
