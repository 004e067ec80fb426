rule features:
    input:
        "results/datasets/{dataset}",
    output:
        features="results/features/{dataset}/{frontend}.npz",
        counts="results/features/{dataset}/{frontend}_counts.csv",
    params:
        config=lambda w: config_part("seed", "task", "features"),
    log:
        "results/logs/features/{dataset}_{frontend}.log",
    benchmark:
        "results/benchmarks/rules/features/{dataset}_{frontend}.tsv"
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "{SPARSEKWS} features --config {EFFECTIVE_CONFIG} --dataset-dir {input} --frontend {wildcards.frontend}"
        " --out {output.features} --counts {output.counts} > {log} 2>&1"
