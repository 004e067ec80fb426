# The effective config (files + --config overrides + defaults + the sweep's models), written by a
# job: the report's configuration appendix and the config the report is made with.
rule effective_config:
    output:
        "results/config/{dataset}.yaml",
    log:
        "results/logs/report/{dataset}_config.log",
    benchmark:
        "results/benchmarks/rules/effective_config/{dataset}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    params:
        settings=lambda w: json.dumps(config),
    shell:
        "python -m sparsekws config --settings {params.settings:q} --out {output} > {log} 2>&1"


# Publishing. The report cannot be an output of the run it reports on, so it is made after the
# workflow: `snakemake --cores all publish` (or `make publish`) runs `snakemake --report` from
# inside this rule (read-only, --nolock), refreshes results/report.html, then writes
# results/publish/: report.html, figures/, tables/, README.md (contents and provenance) and,
# where Chromium is installed, a browser check of the report with a screenshot. The cross-voice test,
# when not part of `all` (cross_voice.in_default_run: false), is in the report once it has been run.
# `publish` is not part of `all`: ask for it by name.
rule publish:
    input:
        all_targets(),
        config=f"results/config/{DATASET}.yaml",
        figure=f"results/figures/{DATASET}/throughput.png",
        table=f"results/tables/{DATASET}/headline.csv",
    output:
        directory("results/publish"),
    log:
        "results/logs/report/publish.log",
    benchmark:
        "results/benchmarks/rules/publish/publish.tsv"
    localrule: True
    conda:
        "../envs/sparsekws.yaml"
    params:
        figures=lambda w, input: os.path.dirname(input.figure),
        tables=lambda w, input: os.path.dirname(input.table),
        # the cross-voice test joins the report once it has been run (`snakemake --cores all cross_voice`)
        also=f"--also cross_voice=results/tables/{DATASET}/cross_voice.csv" if CROSS_VOICE_MODELS else "",
    shell:
        "python -m sparsekws publish --config {input.config} --figures-dir {params.figures}"
        " --tables-dir {params.tables} --report results/report.html --out {output} --nolock {params.also} > {log} 2>&1"
