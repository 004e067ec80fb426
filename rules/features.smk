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
        report(
            "results/tables/{dataset}/dataset_card.csv",
            caption="../workflow/report/dataset_card.rst",
            category="0 Dataset",
        ),
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
        "python -m sparsekws dataset-card --settings {params.settings:q} --dataset-dir {input} --csv {output}"
        " > {log} 2>&1"


# Raw train audio for on-the-fly augmentation; only a target when augment.enabled is true.
rule train_audio:
    input:
        "results/datasets/{dataset}",
    output:
        "results/features/{dataset}/audio_train.npz",
    log:
        "results/logs/features/{dataset}_train_audio.log",
    benchmark:
        "results/benchmarks/rules/train_audio/{dataset}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        settings=lambda w: settings("seed", "task"),
    shell:
        "python -m sparsekws train-audio --settings {params.settings:q} --dataset-dir {input} --out {output}"
        " > {log} 2>&1"
