# sparsekws: is a sparse keyword-spotting network faster and more efficient than a dense one?
# Run: snakemake --cores all        (config/config.yaml, the embedded offline default)
#      snakemake --cores all --configfile config/smoke.yaml
from snakemake.utils import min_version

min_version("9.0")


# The embedded default, unless the run names its own config (--configfile): a named config
# means exactly what it says, and a key it leaves out takes the schema's documented default.
if not workflow.overwrite_configfiles:

    configfile: "config/config.yaml"


# rules/common.smk puts the interpreter running Snakemake first on PATH (`python` in the rules)
envvars:
    "PATH",


report: "workflow/report/workflow.rst"


include: "rules/common.smk"
include: "rules/dataset.smk"
include: "rules/features.smk"
include: "rules/train.smk"
include: "rules/cross_voice.smk"
include: "rules/ablation.smk"
include: "rules/export.smk"
include: "rules/compile.smk"
include: "rules/measure.smk"
include: "rules/figures.smk"
include: "rules/report.smk"
include: "rules/rtl.smk"


rule all:
    default_target: True
    input:
        all_targets(),
