rule features:
    input:
        "results/datasets/{dataset}",
    output:
        features="results/features/{dataset}/{frontend}.npz",
        counts="results/features/{dataset}/{frontend}_counts.csv",
    log:
        "results/logs/features/{dataset}_{frontend}.log",
    benchmark:
        "results/benchmarks/rules/features/{dataset}_{frontend}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        settings=lambda w: settings("seed", "task", "features"),
    shell:
        "python -m sparsekws features --settings {params.settings:q} --dataset-dir {input}"
        " --frontend {wildcards.frontend} --out {output.features} --counts {output.counts} > {log} 2>&1"


rule dataset_card:
    input:
        "results/datasets/{dataset}",
    output:
        csv=report(
            "results/tables/{dataset}/dataset_card.csv",
            caption="../workflow/report/dataset_card.rst",
            category="0 Dataset",
        ),
        json="results/tables/{dataset}/dataset_card.json",
    log:
        "results/logs/features/{dataset}_dataset_card.log",
    benchmark:
        "results/benchmarks/rules/dataset_card/{dataset}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    resources:
        mem_mb=1000,
        runtime=10,
    params:
        settings=lambda w: settings("seed", "task"),
    shell:
        "python -m sparsekws dataset-card --settings {params.settings:q} --dataset-dir {input} --csv {output.csv}"
        " --json {output.json}"
        " > {log} 2>&1"


# Augmented copies of the train split's features; only a target when augment.enabled is true.
rule augment:
    input:
        dataset="results/datasets/{dataset}",
        features="results/features/{dataset}/{frontend}.npz",
    output:
        AUGMENTED,
    log:
        "results/logs/features/{dataset}_{frontend}_augment.log",
    benchmark:
        "results/benchmarks/rules/augment/{dataset}_{frontend}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    # copies are independent: one process each, up to the machine (the same arrays for any number)
    threads: lambda wildcards: min(workflow.cores, config["augment"]["copies"])
    resources:
        mem_mb=6000,
        runtime=60,
    params:
        settings=lambda w: settings("seed", "task", "features", "augment"),
    shell:
        "python -m sparsekws augment --settings {params.settings:q} --dataset-dir {input.dataset}"
        " --features {input.features} --frontend {wildcards.frontend} --workers {threads} --out {output} > {log} 2>&1"
