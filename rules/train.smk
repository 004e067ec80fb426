# one job per seed, side by side; `train` gathers them (and would train a missing one itself)
rule train_seed:
    input:
        features=features_of,
        # the augmented copies of the train split, only when training-time augmentation is on
        augmented=lambda w: [augmented_of(w)] if config["augment"]["enabled"] else [],
    output:
        temp("results/models/{dataset}/{model}/runs/seed{index}.pt"),
    log:
        "results/logs/train/{dataset}_{model}_seed{index}.log",
    benchmark:
        "results/benchmarks/rules/train_seed/{dataset}_{model}_{index}.tsv"
    # the critical path first: training, export and the long RTL job before compiles, figures and tables
    priority: 10
    conda:
        "../envs/sparsekws.yaml"
    threads: config["train"]["threads"]
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        settings=lambda w: train_settings_of(w.model),
        out_dir=model_dir,
        augmented=lambda w, input: f"--augmented {input.augmented}" if input.augmented else "",
        held_out="",
    shell:
        "python -m sparsekws train --settings {params.settings:q} --model {wildcards.model} --seed-index {wildcards.index}"
        " --features {input.features} {params.augmented} {params.held_out} --out-dir {params.out_dir} > {log} 2>&1"


rule train:
    input:
        features=features_of,
        augmented=lambda w: [augmented_of(w)] if config["augment"]["enabled"] else [],
        seeds=seed_runs_of,
    output:
        model="results/models/{dataset}/{model}/model.pt",
        metrics="results/models/{dataset}/{model}/metrics.json",
        history="results/models/{dataset}/{model}/history.csv",
    log:
        "results/logs/train/{dataset}_{model}.log",
    benchmark:
        "results/benchmarks/rules/train/{dataset}_{model}.tsv"
    priority: 10
    conda:
        "../envs/sparsekws.yaml"
    threads: config["train"]["threads"]
    resources:
        mem_mb=4000,
        runtime=120,
    params:
        settings=lambda w: train_settings_of(w.model),
        out_dir=model_dir,
        augmented=lambda w, input: f"--augmented {input.augmented}" if input.augmented else "",
        held_out="",
    shell:
        "python -m sparsekws train --settings {params.settings:q} --model {wildcards.model}"
        " --features {input.features} {params.augmented} {params.held_out} --out-dir {params.out_dir} > {log} 2>&1"


rule evaluate:
    input:
        model="results/models/{dataset}/{model}/model.pt",
        features=features_of,
        dataset="results/datasets/{dataset}",
    output:
        evaluation="results/models/{dataset}/{model}/evaluation.json",
        confusion="results/models/{dataset}/{model}/confusion.csv",
        noise="results/models/{dataset}/{model}/noise_robustness.csv",
    log:
        "results/logs/evaluate/{dataset}_{model}.log",
    benchmark:
        "results/benchmarks/rules/evaluate/{dataset}_{model}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    threads: config["train"]["threads"]
    resources:
        mem_mb=4000,
        runtime=30,
    params:
        settings=lambda w: settings("seed", "features", "evaluate", model=w.model, train=threads_only()),
        out_dir=model_dir,
    shell:
        "python -m sparsekws evaluate --settings {params.settings:q} --model {wildcards.model}"
        " --checkpoint {input.model} --features {input.features} --dataset-dir {input.dataset}"
        " --out-dir {params.out_dir} > {log} 2>&1"
