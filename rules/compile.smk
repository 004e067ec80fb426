rule compile:
    input:
        qonnx="results/models/{dataset}/{model}/model.qonnx.onnx",
        reference="results/models/{dataset}/{model}/reference_io.npz",
        board="config/boards/{board}.yaml",
        calibration=CALIBRATION_FACTORS,  # the sparse units' LUT/FF factors
    output:
        estimate="results/hw/{dataset}/{model}/{board}/estimate.json",
        folding="results/hw/{dataset}/{model}/{board}/folding_config.json",
    log:
        "results/logs/compile/{dataset}_{model}_{board}.log",
    benchmark:
        "results/benchmarks/rules/compile/{dataset}_{model}_{board}.tsv"
    priority: 2
    conda:
        "../envs/sparsekws.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        settings=lambda w: settings("compile", model=w.model),
        out_dir=lambda w: f"results/hw/{w.dataset}/{w.model}/{w.board}",
    shell:
        "python -m sparsekws compile --settings {params.settings:q} --model {wildcards.model}"
        " --board-file {input.board} --calibration {input.calibration} --qonnx {input.qonnx}"
        " --reference-io {input.reference} --out-dir {params.out_dir} > {log} 2>&1"


# ---- the Vivado part (stitched IP, synthesis, bitstream, deployment package) ----------------
# Runs only where Vivado is installed (XILINX_VIVADO set or vivado on PATH); elsewhere the targets
# are left out with one message and the compile folder (finn/codegen, finn/onnx,
# folding_config.json) is the hand-off for a Vivado machine: docs/vivado-handoff.md.
rule vivado_build:
    input:
        estimate="results/hw/{dataset}/{model}/{board}/estimate.json",
        folding="results/hw/{dataset}/{model}/{board}/folding_config.json",
        board="config/boards/{board}.yaml",
    output:
        build="results/hw/{dataset}/{model}/{board}/vivado/build.json",
    log:
        "results/logs/vivado_build/{dataset}_{model}_{board}.log",
    benchmark:
        "results/benchmarks/rules/vivado_build/{dataset}_{model}_{board}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    resources:
        mem_mb=16000,
        runtime=600,
    params:
        compile_dir=lambda w: f"results/hw/{w.dataset}/{w.model}/{w.board}",
        out_dir=lambda w: f"results/hw/{w.dataset}/{w.model}/{w.board}/vivado",
    shell:
        "python -m sparsekws vivado-build --compile-dir {params.compile_dir} --board-file {input.board}"
        " --out-dir {params.out_dir} > {log} 2>&1"


rule vivado:
    """All Vivado builds (nothing without Vivado)."""
    input:
        vivado_targets(),
