# The training-recipe ablation (sparsekws.models.ablation, config ablation.rows): every variant
# trains like any model (train_seed, train); the table sets each against its base over seeds.
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


rule ablation:
    """The ablation table alone (config ablation.rows)."""
    input:
        [ABLATION_TABLE] if ABLATION_VARIANTS else [],
