"""The published report: the Snakemake report as one file with the figures and tables, checked in a browser."""
