import shutil

# Measure stage: every platform in measure.platforms, one job per (model, platform); absent
# hardware or libraries give skipped rows with the reason, never numbers.
MEASURE_PLATFORMS = config["measure"]["platforms"]
# Platforms measured by a job (finn-estimate is read from the compile stage by collect).
DEVICE_PLATFORMS = [p for p in MEASURE_PLATFORMS if p not in ("cpu", "finn-estimate")]


rule measure_cpu:
    input:
        qonnx="results/models/{dataset}/{model}/model.qonnx.onnx",
        checkpoint="results/models/{dataset}/{model}/model.pt",
        features=features_of,
    output:
        records="results/measurements/{dataset}/cpu/{model}.csv",
        skipped="results/measurements/{dataset}/cpu/{model}.skipped.csv",
    params:
        config=lambda w: model_part(w.model, "measure"),
        work_dir=lambda w: f"results/measurements/{w.dataset}/cpu/{w.model}.work",
    log:
        "results/logs/measure/{dataset}_cpu_{model}.log",
    # All cores: no other job runs beside a timing run (the backends themselves use
    # measure.cpu.threads of them, pinned).
    threads: lambda wildcards: workflow.cores
    resources:
        mem_mb=2000,
        runtime=20,
    shell:
        "{SPARSEKWS} measure --platform cpu --config {EFFECTIVE_CONFIG} --model {wildcards.model}"
        " --qonnx {input.qonnx} --checkpoint {input.checkpoint} --features {input.features}"
        " --work-dir {params.work_dir} --out {output.records} --skipped-out {output.skipped} > {log} 2>&1"


def device_may_be_present(platform):
    """False when the backend can only skip: no deployment package configured (pynq, alveo), no NVIDIA driver (cuda)."""
    if platform == "cuda":
        return Path("/dev/nvidiactl").exists() or shutil.which("nvidia-smi") is not None
    return bool(config["measure"][platform].get("deployment"))


rule measure_device:
    wildcard_constraints:
        platform="cuda|pynq|alveo",
    input:
        qonnx="results/models/{dataset}/{model}/model.qonnx.onnx",
        checkpoint="results/models/{dataset}/{model}/model.pt",
        features=features_of,
    output:
        records="results/measurements/{dataset}/{platform}/{model}.csv",
        skipped="results/measurements/{dataset}/{platform}/{model}.skipped.csv",
    params:
        config=lambda w: model_part(w.model, "measure"),
        work_dir=lambda w: f"results/measurements/{w.dataset}/{w.platform}/{w.model}.work",
    log:
        "results/logs/measure/{dataset}_{platform}_{model}.log",
    # the whole machine while timing a device; one core where it can only be skipped
    threads: lambda wildcards: workflow.cores if device_may_be_present(wildcards.platform) else 1
    resources:
        mem_mb=2000,
        runtime=30,
    shell:
        "{SPARSEKWS} measure --platform {wildcards.platform} --config {EFFECTIVE_CONFIG} --model {wildcards.model}"
        " --qonnx {input.qonnx} --checkpoint {input.checkpoint} --features {input.features}"
        " --work-dir {params.work_dir} --out {output.records} --skipped-out {output.skipped} > {log} 2>&1"


def measured_files(kind):
    """The per-(model, platform) record or skipped CSVs of every measured platform."""
    platforms = [p for p in MEASURE_PLATFORMS if p != "finn-estimate"]
    suffix = ".skipped.csv" if kind == "skipped" else ".csv"
    return expand("results/measurements/{{dataset}}/{platform}/{model}{suffix}", platform=platforms, model=HW_MODELS,
                  suffix=suffix)


rule collect_measurements:
    input:
        measurements=measured_files("records"),
        skipped=measured_files("skipped"),
        estimates=expand("results/hw/{{dataset}}/{model}/{board}/estimate.json", model=HW_MODELS, board=BOARDS)
        if "finn-estimate" in MEASURE_PLATFORMS else [],
    output:
        throughput=report(
            "results/measurements/{dataset}/throughput.csv",
            caption="../workflow/report/throughput_table.rst",
            category="Throughput",
        ),
        skipped="results/measurements/{dataset}/skipped.csv",
    log:
        "results/logs/measure/{dataset}_collect.log",
    shell:
        "{SPARSEKWS} collect --measurements {input.measurements} --estimates {input.estimates}"
        " --skipped {input.skipped} --out {output.throughput} --skipped-out {output.skipped} > {log} 2>&1"
