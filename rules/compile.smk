rule compile:
    input:
        qonnx="results/models/{dataset}/{model}/model.qonnx.onnx",
        reference="results/models/{dataset}/{model}/reference_io.npz",
        board="config/boards/{board}.yaml",
    output:
        estimate="results/hw/{dataset}/{model}/{board}/estimate.json",
        folding="results/hw/{dataset}/{model}/{board}/folding_config.json",
    params:
        config=lambda w: model_part(w.model, "compile"),
        out_dir=lambda w: f"results/hw/{w.dataset}/{w.model}/{w.board}",
    log:
        "results/logs/compile/{dataset}_{model}_{board}.log",
    benchmark:
        "results/benchmarks/rules/compile/{dataset}_{model}_{board}.tsv"
    resources:
        mem_mb=4000,
        runtime=30,
    shell:
        "{SPARSEKWS} compile --config {EFFECTIVE_CONFIG} --model {wildcards.model} --board {wildcards.board}"
        " --qonnx {input.qonnx} --reference-io {input.reference} --out-dir {params.out_dir} > {log} 2>&1"
