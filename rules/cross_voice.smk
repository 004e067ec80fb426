# The leave-one-voice-family-out test (sparsekws.features.family_split, sparsekws.training.cross_voice):
# each model of cross_voice.models is trained once per voice family of the synthetic dataset on the
# other families (same settings, seeds and augmentation as the model itself; one job per seed), then
# every seed is tested on the family it never heard. `snakemake --cores all cross_voice` runs only this.


rule family_split:
    input:
        dataset="results/datasets/{dataset}",
        features="results/features/{dataset}/{frontend}.npz",
        augmented=lambda w: (
            [AUGMENTED.format(dataset=w.dataset, frontend=w.frontend)] if config["augment"]["enabled"] else []
        ),
    output:
        **family_split_outputs(),
    log:
        "results/logs/cross_voice/{dataset}_{frontend}_without_{family}.log",
    benchmark:
        "results/benchmarks/rules/family_split/{dataset}_{frontend}_{family}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    resources:
        mem_mb=4000,
        runtime=10,
    params:
        augmented=lambda w, input, output: (
            f"--augmented {input.augmented} --without-augmented {output.without_augmented}" if input.augmented else ""
        ),
    shell:
        "python -m sparsekws family-split --dataset-dir {input.dataset} --features {input.features} {params.augmented}"
        " --held-out {wildcards.family} --without {output.without} --only {output.only} > {log} 2>&1"


# the train_seed and train rules on the features without one family; every seed is also tested on that family
use rule train_seed as cross_voice_train_seed with:
    input:
        features=lambda w: cross_voice_path(CROSS_WITHOUT, w),
        augmented=lambda w: [cross_voice_path(CROSS_WITHOUT_AUGMENTED, w)] if config["augment"]["enabled"] else [],
        held_out=lambda w: cross_voice_path(CROSS_ONLY, w),
    output:
        temp("results/cross_voice/{dataset}/{model}/without_{family}/runs/seed{index}.pt"),
    log:
        "results/logs/cross_voice/{dataset}_{model}_without_{family}_seed{index}.log",
    benchmark:
        "results/benchmarks/rules/cross_voice_train_seed/{dataset}_{model}_{family}_{index}.tsv"
    params:
        settings=lambda w: train_settings_of(w.model),
        out_dir=cross_voice_dir,
        augmented=lambda w, input: f"--augmented {input.augmented}" if input.augmented else "",
        held_out=lambda w, input: f"--held-out {input.held_out}",


use rule train as cross_voice_train with:
    input:
        features=lambda w: cross_voice_path(CROSS_WITHOUT, w),
        augmented=lambda w: [cross_voice_path(CROSS_WITHOUT_AUGMENTED, w)] if config["augment"]["enabled"] else [],
        held_out=lambda w: cross_voice_path(CROSS_ONLY, w),
        seeds=cross_voice_seed_runs,
    output:
        model="results/cross_voice/{dataset}/{model}/without_{family}/model.pt",
        metrics="results/cross_voice/{dataset}/{model}/without_{family}/metrics.json",
        history="results/cross_voice/{dataset}/{model}/without_{family}/history.csv",
    log:
        "results/logs/cross_voice/{dataset}_{model}_without_{family}.log",
    benchmark:
        "results/benchmarks/rules/cross_voice_train/{dataset}_{model}_{family}.tsv"
    params:
        settings=lambda w: train_settings_of(w.model),
        out_dir=cross_voice_dir,
        augmented=lambda w, input: f"--augmented {input.augmented}" if input.augmented else "",
        held_out=lambda w, input: f"--held-out {input.held_out}",


rule table_cross_voice:
    input:
        lambda w: [path for run in cross_voice_runs(w) for path in run[2:]],
    output:
        csv=report(
            "results/tables/{dataset}/cross_voice.csv",
            caption="../workflow/report/cross_voice.rst",
            category="5 Accuracy",
        ),
        confusion="results/tables/{dataset}/cross_voice_confusion.csv",
    log:
        "results/logs/cross_voice/{dataset}_table.log",
    benchmark:
        "results/benchmarks/rules/table_cross_voice/{dataset}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    params:
        runs=lambda w: " ".join(f"--run {' '.join(run)}" for run in cross_voice_runs(w)),
    shell:
        "python -m sparsekws cross-voice {params.runs} --csv {output.csv} --confusion {output.confusion} > {log} 2>&1"


rule figure_cross_voice:
    input:
        "results/tables/{dataset}/cross_voice.csv",
    output:
        png=report(
            "results/figures/{dataset}/cross_voice.png",
            caption="../workflow/report/cross_voice.rst",
            category="5 Accuracy",
        ),
        svg="results/figures/{dataset}/cross_voice.svg",
    log:
        "results/logs/figures/{dataset}_cross_voice.log",
    benchmark:
        "results/benchmarks/rules/figure_cross_voice/{dataset}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    params:
        config_hash=CONFIG_HASH,
        stem=lambda w, output: output.png[: -len(".png")],
    shell:
        "python -m sparsekws figures cross-voice --cross-voice {input} --config-hash {params.config_hash}"
        " --out {params.stem} > {log} 2>&1"


rule cross_voice:
    input:
        cross_voice_targets(),
