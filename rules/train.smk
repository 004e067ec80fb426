rule train:
    input:
        features_of,
    output:
        model="results/models/{dataset}/{model}/model.pt",
        metrics="results/models/{dataset}/{model}/metrics.json",
        history="results/models/{dataset}/{model}/history.csv",
    params:
        config=lambda w: model_part(w.model, "seed", "train"),
        out_dir=model_dir,
    log:
        "results/logs/train/{dataset}_{model}.log",
    benchmark:
        "results/benchmarks/rules/train/{dataset}_{model}.tsv"
    threads: config["train"]["threads"]
    resources:
        mem_mb=4000,
        runtime=120,
    shell:
        "{SPARSEKWS} train --config {EFFECTIVE_CONFIG} --model {wildcards.model} --features {input}"
        " --out-dir {params.out_dir} > {log} 2>&1"
