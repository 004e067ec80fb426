rule dataset:
    output:
        directory("results/datasets/{dataset}"),
    log:
        "results/logs/dataset/{dataset}.log",
    benchmark:
        "results/benchmarks/rules/dataset/{dataset}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    threads: config["dataset"].get("synthetic", {}).get("workers", 1)
    resources:
        mem_mb=2000,
        runtime=60,
    params:
        settings=lambda w: settings("seed", "dataset", "task"),
    shell:
        "python -m sparsekws dataset --settings {params.settings:q} --out {output} > {log} 2>&1"
