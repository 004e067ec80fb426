# The two commands of the README: `make run` and `make test`.
.PHONY: setup run report test bench clean
SNAKEMAKE = .venv/bin/snakemake

setup:
	bash scripts/setup.sh

run: setup
	$(SNAKEMAKE) --cores all
	$(SNAKEMAKE) --report results/report.html

test: setup
	.venv/bin/python -m pytest

clean:
	rm -rf results .snakemake
