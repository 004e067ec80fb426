# Figures and tables (the blog's Graphs 1-4 and Table 1 for our data, headline comparison).
# One job: every output reads the same throughput table, estimates and metrics.
rule figures:
    input:
        throughput="results/measurements/{dataset}/throughput.csv",
        metrics=expand("results/models/{{dataset}}/{model}/metrics.json", model=MODELS),
        evaluations=expand("results/models/{{dataset}}/{model}/evaluation.json", model=MODELS),
        estimates=expand("results/hw/{{dataset}}/{model}/{board}/estimate.json", model=HW_MODELS, board=BOARDS),
    output:
        throughput_png=report(
            "results/figures/{dataset}/throughput.png",
            caption="../workflow/report/throughput.rst",
            category="1 Throughput",
        ),
        throughput_svg="results/figures/{dataset}/throughput.svg",
        race_png=report(
            "results/figures/{dataset}/race.png",
            caption="../workflow/report/race.rst",
            category="2 Race",
        ),
        race_svg="results/figures/{dataset}/race.svg",
        race_csv=report(
            "results/tables/{dataset}/race.csv",
            caption="../workflow/report/race_table.rst",
            category="2 Race",
        ),
        full_chip_png=report(
            "results/figures/{dataset}/full_chip.png",
            caption="../workflow/report/full_chip.rst",
            category="3 Full chip",
        ),
        full_chip_svg="results/figures/{dataset}/full_chip.svg",
        energy_png=report(
            "results/figures/{dataset}/energy.png",
            caption="../workflow/report/energy.rst",
            category="4 Energy",
        ),
        energy_svg="results/figures/{dataset}/energy.svg",
        accuracy_vs_macs_png=report(
            "results/figures/{dataset}/accuracy_vs_macs.png",
            caption="../workflow/report/accuracy_vs_macs.rst",
            category="5 Accuracy",
        ),
        accuracy_vs_macs_svg="results/figures/{dataset}/accuracy_vs_macs.svg",
        accuracy_png=report(
            "results/figures/{dataset}/accuracy.png",
            caption="../workflow/report/accuracy.rst",
            category="5 Accuracy",
        ),
        accuracy_svg="results/figures/{dataset}/accuracy.svg",
        accuracy_csv=report(
            "results/tables/{dataset}/accuracy.csv",
            caption="../workflow/report/accuracy.rst",
            category="5 Accuracy",
        ),
        table1_csv=report(
            "results/tables/{dataset}/table1.csv",
            caption="../workflow/report/table1.rst",
            category="6 Tables",
        ),
        table1_html=report(
            "results/tables/{dataset}/table1.html",
            caption="../workflow/report/table1.rst",
            category="6 Tables",
        ),
        headline_csv=report(
            "results/tables/{dataset}/headline.csv",
            caption="../workflow/report/headline.rst",
            category="6 Tables",
        ),
        headline_html=report(
            "results/tables/{dataset}/headline.html",
            caption="../workflow/report/headline.rst",
            category="6 Tables",
        ),
        compile_csv=report(
            "results/tables/{dataset}/compile.csv",
            caption="../workflow/report/compile_table.rst",
            category="6 Tables",
        ),
        compile_html=report(
            "results/tables/{dataset}/compile.html",
            caption="../workflow/report/compile_table.rst",
            category="6 Tables",
        ),
        provenance_csv=report(
            "results/tables/{dataset}/provenance.csv",
            caption="../workflow/report/provenance.rst",
            category="7 Provenance",
        ),
    params:
        figures_dir=lambda w: f"results/figures/{w.dataset}",
        tables_dir=lambda w: f"results/tables/{w.dataset}",
    log:
        "results/logs/figures/{dataset}.log",
    shell:
        "{SPARSEKWS} figures --config {EFFECTIVE_CONFIG} --throughput {input.throughput}"
        " --metrics {input.metrics} --evaluations {input.evaluations} --estimates {input.estimates}"
        " --figures-dir {params.figures_dir} --tables-dir {params.tables_dir}"
        " > {log} 2>&1"
