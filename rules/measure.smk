# Measure stage: every platform in measure.platforms, one job per (model, platform); absent
# hardware or libraries give skipped rows with the reason, never numbers.
rule measure_cpu:
    input:
        qonnx="results/models/{dataset}/{model}/model.qonnx.onnx",
        checkpoint="results/models/{dataset}/{model}/model.pt",
        features=features_of,
    output:
        records="results/measurements/{dataset}/cpu/{model}.csv",
        skipped="results/measurements/{dataset}/cpu/{model}.skipped.csv",
    log:
        "results/logs/measure/{dataset}_cpu_{model}.log",
    benchmark:
        "results/benchmarks/rules/measure_cpu/{dataset}_{model}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    # All cores: no other job runs beside a timing run (the backends themselves use
    # measure.cpu.threads of them, pinned).
    threads: lambda wildcards: workflow.cores
    resources:
        mem_mb=2000,
        runtime=20,
    params:
        settings=lambda w: settings("measure", model=w.model),
        work_dir=lambda w: f"results/measurements/{w.dataset}/cpu/{w.model}.work",
    shell:
        "python -m sparsekws measure --platform cpu --settings {params.settings:q} --model {wildcards.model}"
        " --qonnx {input.qonnx} --checkpoint {input.checkpoint} --features {input.features}"
        " --work-dir {params.work_dir} --out {output.records} --skipped-out {output.skipped} > {log} 2>&1"


rule measure_device:
    input:
        qonnx="results/models/{dataset}/{model}/model.qonnx.onnx",
        checkpoint="results/models/{dataset}/{model}/model.pt",
        features=features_of,
    output:
        records="results/measurements/{dataset}/{platform}/{model}.csv",
        skipped="results/measurements/{dataset}/{platform}/{model}.skipped.csv",
    log:
        "results/logs/measure/{dataset}_{platform}_{model}.log",
    benchmark:
        "results/benchmarks/rules/measure_device/{dataset}_{platform}_{model}.tsv"
    wildcard_constraints:
        platform="cuda|pynq|alveo",
    conda:
        "../envs/sparsekws.yaml"
    # the whole machine while timing a device; one core where it can only be skipped
    threads: lambda wildcards: workflow.cores if device_may_be_present(wildcards.platform) else 1
    resources:
        mem_mb=2000,
        runtime=30,
    params:
        settings=lambda w: settings("measure", model=w.model),
        work_dir=lambda w: f"results/measurements/{w.dataset}/{w.platform}/{w.model}.work",
    shell:
        "python -m sparsekws measure --platform {wildcards.platform} --settings {params.settings:q}"
        " --model {wildcards.model} --qonnx {input.qonnx} --checkpoint {input.checkpoint}"
        " --features {input.features} --work-dir {params.work_dir} --out {output.records}"
        " --skipped-out {output.skipped} > {log} 2>&1"


rule collect_measurements:
    input:
        measurements=measured_files("records"),
        skipped=measured_files("skipped"),
        estimates=estimates() if "finn-estimate" in MEASURE_PLATFORMS else [],
        simulated=netsim_records,  # whole-network RTL simulations, once run (target netsim)
    output:
        throughput=report(
            "results/measurements/{dataset}/throughput.csv",
            caption="../workflow/report/throughput_table.rst",
            category="Throughput",
        ),
        skipped="results/measurements/{dataset}/skipped.csv",
    log:
        "results/logs/measure/{dataset}_collect.log",
    benchmark:
        "results/benchmarks/rules/collect_measurements/{dataset}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    shell:
        "python -m sparsekws collect --measurements {input.measurements} --estimates {input.estimates}"
        " --simulated {input.simulated}"
        " --skipped {input.skipped} --out {output.throughput} --skipped-out {output.skipped} > {log} 2>&1"
