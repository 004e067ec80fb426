rule export:
    input:
        model="results/models/{dataset}/{model}/model.pt",
        features=features_of,
    output:
        qonnx="results/models/{dataset}/{model}/model.qonnx.onnx",
        check="results/models/{dataset}/{model}/export_check.json",
        reference="results/models/{dataset}/{model}/reference_io.npz",
    params:
        config=lambda w: model_part(w.model),
    log:
        "results/logs/export/{dataset}_{model}.log",
    resources:
        mem_mb=4000,
        runtime=20,
    shell:
        "{SPARSEKWS} export --config {EFFECTIVE_CONFIG} --model {wildcards.model} --checkpoint {input.model}"
        " --features {input.features} --out {output.qonnx} --check-out {output.check}"
        " --reference-out {output.reference} > {log} 2>&1"
