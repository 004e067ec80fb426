rule export:
    input:
        model="results/models/{dataset}/{model}/model.pt",
        features=features_of,
    output:
        qonnx="results/models/{dataset}/{model}/model.qonnx.onnx",
        check="results/models/{dataset}/{model}/export_check.json",
        reference="results/models/{dataset}/{model}/reference_io.npz",
    log:
        "results/logs/export/{dataset}_{model}.log",
    benchmark:
        "results/benchmarks/rules/export/{dataset}_{model}.tsv"
    priority: 10
    conda:
        "../envs/sparsekws.yaml"
    resources:
        mem_mb=4000,
        runtime=20,
    params:
        settings=lambda w: settings("seed", model=w.model, train=threads_only()),
    shell:
        "python -m sparsekws export --settings {params.settings:q} --model {wildcards.model}"
        " --checkpoint {input.model} --features {input.features} --out {output.qonnx} --check-out {output.check}"
        " --reference-out {output.reference} > {log} 2>&1"
