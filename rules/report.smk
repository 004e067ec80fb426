# The effective config (files + --config overrides + defaults + the sweep's models), written by a
# job: the report's configuration appendix and the config the report is made with.
rule effective_config:
    output:
        report(
            "results/config/{dataset}.yaml",
            caption="../workflow/report/config.rst",
            category="9 Appendix",
        ),
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
# when not part of `all` (cross_voice.in_default_run: false), is in the report once it has been run
# (`snakemake --cores all cross_voice`, then `publish` again).
# `publish` is not part of `all`: ask for it by name.
rule publish:
    input:
        all_targets(),
        config=f"results/config/{DATASET}.yaml",
        figure=f"results/figures/{DATASET}/answer.png",
        table=f"results/tables/{DATASET}/headline.csv",
        # the cross-voice test, once run outside `all`: publishing again then includes it
        cross_voice=lambda w: [CROSS_VOICE_TABLE] if CROSS_VOICE_MODELS and os.path.exists(CROSS_VOICE_TABLE) else [],
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
        also=lambda w, input: f"--also cross_voice={input.cross_voice}" if input.cross_voice else "",
    shell:
        "python -m sparsekws publish --config {input.config} --figures-dir {params.figures}"
        " --tables-dir {params.tables} --report results/report.html --out {output} --nolock {params.also} > {log} 2>&1"
