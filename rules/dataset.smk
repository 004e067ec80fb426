rule dataset:
    output:
        directory("results/datasets/{dataset}"),
    params:
        config=lambda w: config_part("seed", "dataset", "task"),
    log:
        "results/logs/dataset/{dataset}.log",
    benchmark:
        "results/benchmarks/rules/dataset/{dataset}.tsv"
    threads: config["dataset"].get("synthetic", {}).get("workers", 1)
    resources:
        mem_mb=2000,
        runtime=60,
    shell:
        "{SPARSEKWS} dataset --config {EFFECTIVE_CONFIG} --out {output} > {log} 2>&1"
