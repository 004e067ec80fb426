# Publishing. The report cannot be an output of the run it reports on, so it is made after the
# workflow: `snakemake --cores all publish` (or `make publish`) runs `snakemake --report` from
# inside this rule (read-only, --nolock), refreshes results/report.html, then writes
# results/publish/: report.html, figures/, tables/, README.md (contents and provenance) and,
# where Chromium is installed, a browser check of the report with a screenshot.
# `publish` is not part of `all`: ask for it by name.
rule publish:
    input:
        all_targets(),
    output:
        directory("results/publish"),
    log:
        "results/logs/report/publish.log",
    localrule: True
    shell:
        "{SPARSEKWS} publish --config {EFFECTIVE_CONFIG} --report results/report.html --out {output} --nolock"
        " > {log} 2>&1"
