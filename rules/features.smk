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


rule dataset_card:
    input:
        "results/datasets/{dataset}",
    output:
        csv=report(
            "results/tables/{dataset}/dataset_card.csv",
            caption="../workflow/report/dataset_card.rst",
            category="0 Dataset",
        ),
        png=report(
            "results/figures/{dataset}/class_balance.png",
            caption="../workflow/report/class_balance.rst",
            category="0 Dataset",
        ),
        svg="results/figures/{dataset}/class_balance.svg",
    params:
        config=lambda w: config_part("seed", "task"),
        stem=lambda w: f"results/figures/{w.dataset}/class_balance",
    log:
        "results/logs/features/{dataset}_dataset_card.log",
    resources:
        mem_mb=1000,
        runtime=10,
    shell:
        "{SPARSEKWS} dataset-card --config {EFFECTIVE_CONFIG} --dataset-dir {input} --csv {output.csv}"
        " --figure {params.stem} > {log} 2>&1"


# Raw train audio for on-the-fly augmentation; only a target when augment.enabled is true.
rule train_audio:
    input:
        "results/datasets/{dataset}",
    output:
        "results/features/{dataset}/audio_train.npz",
    params:
        config=lambda w: config_part("seed", "task"),
    log:
        "results/logs/features/{dataset}_train_audio.log",
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "{SPARSEKWS} train-audio --config {EFFECTIVE_CONFIG} --dataset-dir {input} --out {output} > {log} 2>&1"
