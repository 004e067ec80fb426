# Figures and tables (the blog's Graphs 1-4 and Table 1 for our data, accuracy, training, headline):
# one rule each, reading only result files; every footer names the config hash and git revision.
THROUGHPUT = "results/measurements/{dataset}/throughput.csv"
ACCURACY = "results/tables/{dataset}/accuracy.csv"


rule figure_answer:
    input:
        "results/tables/{dataset}/headline.csv",
    output:
        png=report(
            "results/figures/{dataset}/answer.png",
            caption=f"../results/figures/{DATASET}/answer.rst",  # written by the rule: the answer in three sentences
            category="0 Answer",
        ),
        svg="results/figures/{dataset}/answer.svg",
        caption="results/figures/{dataset}/answer.rst",
        landing="results/figures/{dataset}/landing.rst",  # the report's landing page (workflow/report/workflow.rst)
    log:
        "results/logs/figures/{dataset}_answer.log",
    benchmark:
        "results/benchmarks/rules/figure_answer/{dataset}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    params:
        config_hash=CONFIG_HASH,
        stem=lambda w, output: output.png[: -len(".png")],
    shell:
        "python -m sparsekws figures answer --headline {input} --caption {output.caption}"
        " --landing {output.landing} --config-hash {params.config_hash} --out {params.stem} > {log} 2>&1"


rule figure_throughput:
    input:
        throughput=THROUGHPUT,
        estimates=estimates(),
    output:
        png=report(
            "results/figures/{dataset}/throughput.png",
            caption="../workflow/report/throughput.rst",
            category="1 Throughput",
        ),
        svg="results/figures/{dataset}/throughput.svg",
    log:
        "results/logs/figures/{dataset}_throughput.log",
    benchmark:
        "results/benchmarks/rules/figure_throughput/{dataset}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    params:
        config_hash=CONFIG_HASH,
        stem=lambda w, output: output.png[: -len(".png")],
        settings=lambda w: settings("models"),
    shell:
        "python -m sparsekws figures throughput --throughput {input.throughput} --estimates {input.estimates}"
        " --settings {params.settings:q} --config-hash {params.config_hash} --out {params.stem} > {log} 2>&1"


rule figure_host_throughput:
    input:
        throughput=THROUGHPUT,
        estimates=estimates(),
    output:
        png=report(
            "results/figures/{dataset}/host_throughput.png",
            caption="../workflow/report/host_throughput.rst",
            category="1 Throughput",
        ),
        svg="results/figures/{dataset}/host_throughput.svg",
    log:
        "results/logs/figures/{dataset}_host_throughput.log",
    benchmark:
        "results/benchmarks/rules/figure_host_throughput/{dataset}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    params:
        config_hash=CONFIG_HASH,
        stem=lambda w, output: output.png[: -len(".png")],
    shell:
        "python -m sparsekws figures host-throughput --throughput {input.throughput} --estimates {input.estimates}"
        " --config-hash {params.config_hash} --out {params.stem} > {log} 2>&1"


rule table_race:
    input:
        throughput=THROUGHPUT,
        estimates=estimates(),
    output:
        report(
            "results/tables/{dataset}/race.csv",
            caption="../workflow/report/race_table.rst",
            category="2 Race",
        ),
    log:
        "results/logs/figures/{dataset}_race_table.log",
    benchmark:
        "results/benchmarks/rules/table_race/{dataset}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    params:
        settings=lambda w: settings("models"),
    shell:
        "python -m sparsekws tables race --throughput {input.throughput} --estimates {input.estimates}"
        " --settings {params.settings:q} --csv {output} > {log} 2>&1"


rule figure_race:
    input:
        "results/tables/{dataset}/race.csv",
    output:
        png=report(
            "results/figures/{dataset}/race.png",
            caption="../workflow/report/race.rst",
            category="2 Race",
        ),
        svg="results/figures/{dataset}/race.svg",
    log:
        "results/logs/figures/{dataset}_race.log",
    benchmark:
        "results/benchmarks/rules/figure_race/{dataset}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    params:
        config_hash=CONFIG_HASH,
        stem=lambda w, output: output.png[: -len(".png")],
    shell:
        "python -m sparsekws figures race --race {input} --config-hash {params.config_hash} --out {params.stem}"
        " > {log} 2>&1"


rule figure_full_chip:
    input:
        throughput=THROUGHPUT,
        estimates=estimates(),
    output:
        png=report(
            "results/figures/{dataset}/full_chip.png",
            caption="../workflow/report/full_chip.rst",
            category="3 Full chip",
        ),
        svg="results/figures/{dataset}/full_chip.svg",
    log:
        "results/logs/figures/{dataset}_full_chip.log",
    benchmark:
        "results/benchmarks/rules/figure_full_chip/{dataset}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    params:
        config_hash=CONFIG_HASH,
        stem=lambda w, output: output.png[: -len(".png")],
        settings=lambda w: settings("models"),
    shell:
        "python -m sparsekws figures full-chip --throughput {input.throughput} --estimates {input.estimates}"
        " --settings {params.settings:q} --config-hash {params.config_hash} --out {params.stem} > {log} 2>&1"


rule figure_energy:
    input:
        throughput=THROUGHPUT,
        estimates=estimates(),
    output:
        png=report(
            "results/figures/{dataset}/energy.png",
            caption="../workflow/report/energy.rst",
            category="4 Energy",
        ),
        svg="results/figures/{dataset}/energy.svg",
    log:
        "results/logs/figures/{dataset}_energy.log",
    benchmark:
        "results/benchmarks/rules/figure_energy/{dataset}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    params:
        config_hash=CONFIG_HASH,
        stem=lambda w, output: output.png[: -len(".png")],
    shell:
        "python -m sparsekws figures energy --throughput {input.throughput} --estimates {input.estimates}"
        " --config-hash {params.config_hash} --out {params.stem} > {log} 2>&1"


rule table_accuracy:
    input:
        metrics=per_model("metrics.json"),
        evaluations=per_model("evaluation.json"),
    output:
        report(ACCURACY, caption="../workflow/report/accuracy.rst", category="5 Accuracy"),
    log:
        "results/logs/figures/{dataset}_accuracy_table.log",
    benchmark:
        "results/benchmarks/rules/table_accuracy/{dataset}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    params:
        settings=lambda w: settings("models"),
    shell:
        "python -m sparsekws tables accuracy --metrics {input.metrics} --evaluations {input.evaluations}"
        " --settings {params.settings:q} --csv {output} > {log} 2>&1"


rule figure_accuracy_vs_macs:
    input:
        ACCURACY,
    output:
        png=report(
            "results/figures/{dataset}/accuracy_vs_macs.png",
            caption="../workflow/report/accuracy_vs_macs.rst",
            category="5 Accuracy",
        ),
        svg="results/figures/{dataset}/accuracy_vs_macs.svg",
    log:
        "results/logs/figures/{dataset}_accuracy_vs_macs.log",
    benchmark:
        "results/benchmarks/rules/figure_accuracy_vs_macs/{dataset}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    params:
        config_hash=CONFIG_HASH,
        stem=lambda w, output: output.png[: -len(".png")],
    shell:
        "python -m sparsekws figures accuracy-vs-macs --accuracy {input} --config-hash {params.config_hash}"
        " --out {params.stem} > {log} 2>&1"


rule figure_accuracy:
    input:
        ACCURACY,
    output:
        png=report(
            "results/figures/{dataset}/accuracy.png",
            caption="../workflow/report/accuracy.rst",
            category="5 Accuracy",
        ),
        svg="results/figures/{dataset}/accuracy.svg",
    log:
        "results/logs/figures/{dataset}_accuracy.log",
    benchmark:
        "results/benchmarks/rules/figure_accuracy/{dataset}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    params:
        config_hash=CONFIG_HASH,
        stem=lambda w, output: output.png[: -len(".png")],
    shell:
        "python -m sparsekws figures accuracy --accuracy {input} --config-hash {params.config_hash}"
        " --out {params.stem} > {log} 2>&1"


rule table_table1:
    input:
        throughput=THROUGHPUT,
        estimates=estimates(),
    output:
        csv=report(
            "results/tables/{dataset}/table1.csv",
            caption="../workflow/report/table1.rst",
            category="6 Tables",
        ),
        html=report(
            "results/tables/{dataset}/table1.html",
            caption="../workflow/report/table1.rst",
            category="6 Tables",
        ),
    log:
        "results/logs/figures/{dataset}_table1.log",
    benchmark:
        "results/benchmarks/rules/table_table1/{dataset}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    params:
        settings=lambda w: settings("models"),
        config_hash=CONFIG_HASH,
    shell:
        "python -m sparsekws tables table1 --throughput {input.throughput} --estimates {input.estimates}"
        " --settings {params.settings:q} --config-hash {params.config_hash}"
        " --csv {output.csv} --html {output.html} > {log} 2>&1"


rule table_headline:
    input:
        throughput=THROUGHPUT,
        estimates=estimates(),
        accuracy=ACCURACY,
    output:
        csv=report(
            "results/tables/{dataset}/headline.csv",
            caption="../workflow/report/headline.rst",
            category="6 Tables",
        ),
        html=report(
            "results/tables/{dataset}/headline.html",
            caption="../workflow/report/headline.rst",
            category="6 Tables",
        ),
    log:
        "results/logs/figures/{dataset}_headline.log",
    benchmark:
        "results/benchmarks/rules/table_headline/{dataset}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    params:
        settings=lambda w: settings("models"),
        config_hash=CONFIG_HASH,
    shell:
        "python -m sparsekws tables headline --throughput {input.throughput} --estimates {input.estimates}"
        " --accuracy {input.accuracy} --settings {params.settings:q} --config-hash {params.config_hash}"
        " --csv {output.csv} --html {output.html} > {log} 2>&1"


rule table_compile:
    input:
        estimates(),
    output:
        csv=report(
            "results/tables/{dataset}/compile.csv",
            caption="../workflow/report/compile_table.rst",
            category="6 Tables",
        ),
        html=report(
            "results/tables/{dataset}/compile.html",
            caption="../workflow/report/compile_table.rst",
            category="6 Tables",
        ),
    log:
        "results/logs/figures/{dataset}_compile_table.log",
    benchmark:
        "results/benchmarks/rules/table_compile/{dataset}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    params:
        config_hash=CONFIG_HASH,
    shell:
        "python -m sparsekws tables compile --estimates {input} --config-hash {params.config_hash}"
        " --csv {output.csv} --html {output.html} > {log} 2>&1"


rule table_provenance:
    output:
        report(
            "results/tables/{dataset}/provenance.csv",
            caption="../workflow/report/provenance.rst",
            category="7 Provenance",
        ),
    log:
        "results/logs/figures/{dataset}_provenance.log",
    benchmark:
        "results/benchmarks/rules/table_provenance/{dataset}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    params:
        config_hash=CONFIG_HASH,
    shell:
        "python -m sparsekws tables provenance --config-hash {params.config_hash} --csv {output} > {log} 2>&1"


rule figure_training_curves:
    input:
        per_model("history.csv"),
    output:
        png=report(
            "results/figures/{dataset}/training_curves.png",
            caption="../workflow/report/training_curves.rst",
            category="Training",
        ),
        svg="results/figures/{dataset}/training_curves.svg",
    log:
        "results/logs/figures/{dataset}_training_curves.log",
    benchmark:
        "results/benchmarks/rules/figure_training_curves/{dataset}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    params:
        models=MODELS,
        config_hash=CONFIG_HASH,
        stem=lambda w, output: output.png[: -len(".png")],
    shell:
        "python -m sparsekws figures training-curves --models {params.models} --history {input}"
        " --config-hash {params.config_hash} --out {params.stem} > {log} 2>&1"


rule figure_confusion:
    input:
        per_model("confusion.csv"),
    output:
        png=report(
            "results/figures/{dataset}/confusion.png",
            caption="../workflow/report/confusion.rst",
            category="Accuracy",
        ),
        svg="results/figures/{dataset}/confusion.svg",
    log:
        "results/logs/figures/{dataset}_confusion.log",
    benchmark:
        "results/benchmarks/rules/figure_confusion/{dataset}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    params:
        models=MODELS,
        config_hash=CONFIG_HASH,
        stem=lambda w, output: output.png[: -len(".png")],
    shell:
        "python -m sparsekws figures confusion --models {params.models} --confusion {input}"
        " --config-hash {params.config_hash} --out {params.stem} > {log} 2>&1"


rule figure_noise_robustness:
    input:
        per_model("noise_robustness.csv"),
    output:
        png=report(
            "results/figures/{dataset}/noise_robustness.png",
            caption="../workflow/report/noise_robustness.rst",
            category="Accuracy",
        ),
        svg="results/figures/{dataset}/noise_robustness.svg",
    log:
        "results/logs/figures/{dataset}_noise_robustness.log",
    benchmark:
        "results/benchmarks/rules/figure_noise_robustness/{dataset}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    params:
        models=MODELS,
        config_hash=CONFIG_HASH,
        stem=lambda w, output: output.png[: -len(".png")],
    shell:
        "python -m sparsekws figures noise-robustness --models {params.models} --noise {input}"
        " --config-hash {params.config_hash} --out {params.stem} > {log} 2>&1"


rule figure_class_balance:
    input:
        "results/tables/{dataset}/dataset_card.csv",
    output:
        png=report(
            "results/figures/{dataset}/class_balance.png",
            caption="../workflow/report/class_balance.rst",
            category="0 Dataset",
        ),
        svg="results/figures/{dataset}/class_balance.svg",
    log:
        "results/logs/figures/{dataset}_class_balance.log",
    benchmark:
        "results/benchmarks/rules/figure_class_balance/{dataset}.tsv"
    conda:
        "../envs/sparsekws.yaml"
    params:
        source=config["dataset"]["source"],
        config_hash=CONFIG_HASH,
        stem=lambda w, output: output.png[: -len(".png")],
    shell:
        "python -m sparsekws figures class-balance --card {input} --dataset {wildcards.dataset}"
        " --source {params.source} --config-hash {params.config_hash} --out {params.stem} > {log} 2>&1"
