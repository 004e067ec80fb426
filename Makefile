# The two commands of the README: `make run` and `make test`.
.PHONY: setup run test clean
SNAKEMAKE = .venv/bin/snakemake --workflow-profile workflow/profiles/default

setup:
	bash scripts/setup.sh

# The workflow, then the report (results/report.html) and results/publish/.
run: setup
	$(SNAKEMAKE) --cores all
	$(SNAKEMAKE) --cores all publish

test: setup
	.venv/bin/python -m pytest

clean:
	rm -rf results .snakemake
