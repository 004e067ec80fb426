rule measure_cpu:
    input:
        qonnx="results/models/{dataset}/{model}/model.qonnx.onnx",
        reference="results/models/{dataset}/{model}/reference_io.npz",
        features=features_of,
    output:
        records="results/measurements/{dataset}/cpu/{model}.csv",
        onnx="results/measurements/{dataset}/cpu/{model}.qcdq.onnx",
    params:
        config=lambda w: model_part(w.model, "measure"),
    log:
        "results/logs/measure/{dataset}_cpu_{model}.log",
    # All cores: no other job runs beside a timing run (ONNX Runtime itself uses
    # measure.cpu.threads of them).
    threads: lambda wildcards: workflow.cores
    resources:
        mem_mb=2000,
        runtime=20,
    shell:
        "{SPARSEKWS} measure-cpu --config {EFFECTIVE_CONFIG} --model {wildcards.model} --qonnx {input.qonnx}"
        " --features {input.features} --reference-io {input.reference} --onnx-out {output.onnx}"
        " --out {output.records} > {log} 2>&1"


rule collect_measurements:
    input:
        measurements=expand("results/measurements/{{dataset}}/cpu/{model}.csv", model=MODELS),
        estimates=expand("results/hw/{{dataset}}/{model}/{board}/estimate.json", model=MODELS, board=BOARDS),
    output:
        report(
            "results/measurements/{dataset}/throughput.csv",
            caption="../workflow/report/throughput_table.rst",
            category="Throughput",
        ),
    log:
        "results/logs/measure/{dataset}_collect.log",
    shell:
        "{SPARSEKWS} collect --measurements {input.measurements} --estimates {input.estimates}"
        " --out {output} > {log} 2>&1"
