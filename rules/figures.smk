rule figures:
    input:
        throughput="results/measurements/{dataset}/throughput.csv",
        metrics=expand("results/models/{{dataset}}/{model}/metrics.json", model=MODELS),
    output:
        throughput_png=report(
            "results/figures/{dataset}/throughput.png",
            caption="../workflow/report/throughput.rst",
            category="Throughput",
        ),
        throughput_svg="results/figures/{dataset}/throughput.svg",
        accuracy_png=report(
            "results/figures/{dataset}/accuracy.png",
            caption="../workflow/report/accuracy.rst",
            category="Accuracy",
        ),
        accuracy_svg="results/figures/{dataset}/accuracy.svg",
        accuracy_csv=report(
            "results/tables/{dataset}/accuracy.csv",
            caption="../workflow/report/accuracy.rst",
            category="Accuracy",
        ),
    params:
        figures_dir=lambda w: f"results/figures/{w.dataset}",
        tables_dir=lambda w: f"results/tables/{w.dataset}",
    log:
        "results/logs/figures/{dataset}.log",
    shell:
        "{SPARSEKWS} figures --config {EFFECTIVE_CONFIG} --throughput {input.throughput}"
        " --metrics {input.metrics} --figures-dir {params.figures_dir} --tables-dir {params.tables_dir}"
        " > {log} 2>&1"
