rule train:
    input:
        features=features_of,
        # the train split's raw audio, only when training-time augmentation is on
        audio=lambda w: [f"results/features/{w.dataset}/audio_train.npz"] if config["augment"]["enabled"] else [],
    output:
        model="results/models/{dataset}/{model}/model.pt",
        metrics="results/models/{dataset}/{model}/metrics.json",
        history="results/models/{dataset}/{model}/history.csv",
    params:
        config=lambda w: train_part(w.model),
        out_dir=model_dir,
        audio=lambda w, input: f"--train-audio {input.audio}" if input.audio else "",
    log:
        "results/logs/train/{dataset}_{model}.log",
    benchmark:
        "results/benchmarks/rules/train/{dataset}_{model}.tsv"
    threads: config["train"]["threads"]
    resources:
        mem_mb=4000,
        runtime=120,
    shell:
        "{SPARSEKWS} train --config {EFFECTIVE_CONFIG} --model {wildcards.model} --features {input.features}"
        " {params.audio} --out-dir {params.out_dir} > {log} 2>&1"


rule evaluate:
    input:
        model="results/models/{dataset}/{model}/model.pt",
        features=features_of,
        dataset="results/datasets/{dataset}",
    output:
        evaluation="results/models/{dataset}/{model}/evaluation.json",
        confusion="results/models/{dataset}/{model}/confusion.csv",
        noise="results/models/{dataset}/{model}/noise_robustness.csv",
    params:
        config=lambda w: model_part(w.model, "seed", "features", "evaluate"),
        out_dir=model_dir,
    log:
        "results/logs/evaluate/{dataset}_{model}.log",
    benchmark:
        "results/benchmarks/rules/evaluate/{dataset}_{model}.tsv"
    threads: config["train"]["threads"]
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "{SPARSEKWS} evaluate --config {EFFECTIVE_CONFIG} --model {wildcards.model} --checkpoint {input.model}"
        " --features {input.features} --dataset-dir {input.dataset} --out-dir {params.out_dir} > {log} 2>&1"


rule training_figures:
    input:
        history=expand("results/models/{{dataset}}/{model}/history.csv", model=MODELS),
        confusion=expand("results/models/{{dataset}}/{model}/confusion.csv", model=MODELS),
        noise=expand("results/models/{{dataset}}/{model}/noise_robustness.csv", model=MODELS),
    output:
        curves=report(
            "results/figures/{dataset}/training_curves.png",
            caption="../workflow/report/training_curves.rst",
            category="Training",
        ),
        curves_svg="results/figures/{dataset}/training_curves.svg",
        confusion=report(
            "results/figures/{dataset}/confusion.png",
            caption="../workflow/report/confusion.rst",
            category="Accuracy",
        ),
        confusion_svg="results/figures/{dataset}/confusion.svg",
        noise=report(
            "results/figures/{dataset}/noise_robustness.png",
            caption="../workflow/report/noise_robustness.rst",
            category="Accuracy",
        ),
        noise_svg="results/figures/{dataset}/noise_robustness.svg",
    params:
        models=MODELS,
        figures_dir=lambda w: f"results/figures/{w.dataset}",
    log:
        "results/logs/figures/{dataset}_training.log",
    shell:
        "{SPARSEKWS} training-figures --config {EFFECTIVE_CONFIG} --models {params.models}"
        " --history {input.history} --confusion {input.confusion} --noise {input.noise}"
        " --figures-dir {params.figures_dir} > {log} 2>&1"
