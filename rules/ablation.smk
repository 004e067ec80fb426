# The training-recipe ablation (sparsekws.models.ablation, config ablation.rows): every variant
# trains like any model (train_seed, train); the table and figure set each against its base over seeds.
# `snakemake --cores all ablation --configfile config/ablation.yaml` runs only this.


rule table_ablation:
    input:
        metrics=lambda w: per_model(
            "metrics.json", [*dict.fromkeys(v["base"] for v in ABLATION_VARIANTS.values()), *ABLATION_VARIANTS]
        ),
    output:
        csv=report(
            "results/tables/{dataset}/ablation.csv",
            caption="../workflow/report/ablation.rst",
            category="5 Accuracy",
        ),
        html="results/tables/{dataset}/ablation.html",
    log:
        "results/logs/figures/{dataset}_ablation_table.log",
    benchmark:
        "results/benchmarks/rules/table_ablation/{dataset}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    params:
        settings=lambda w: settings("ablation"),
        config_hash=CONFIG_HASH,
    shell:
        "python -m sparsekws tables ablation --metrics {input.metrics} --settings {params.settings:q}"
        " --config-hash {params.config_hash} --csv {output.csv} --html {output.html} > {log} 2>&1"


rule figure_ablation:
    input:
        ABLATION_TABLE,
    output:
        png=report(
            "results/figures/{dataset}/ablation.png",
            caption="../workflow/report/ablation.rst",
            category="5 Accuracy",
        ),
        svg="results/figures/{dataset}/ablation.svg",
    log:
        "results/logs/figures/{dataset}_ablation.log",
    benchmark:
        "results/benchmarks/rules/figure_ablation/{dataset}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    params:
        config_hash=CONFIG_HASH,
        stem=lambda w, output: output.png[: -len(".png")],
    shell:
        "python -m sparsekws figures ablation --ablation {input} --config-hash {params.config_hash}"
        " --out {params.stem} > {log} 2>&1"


rule ablation:
    """The ablation's table and figure alone (config ablation.rows)."""
    input:
        ABLATION_TARGETS,
