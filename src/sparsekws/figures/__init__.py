"""Figures and tables from result files only (seaborn; PNG and SVG): the blog's graphs for our data
(``graphs``), accuracy (``accuracy``), training (``training``), the dataset card's class balance,
the comparisons they rest on (``comparison``, ``race``, ``headline``), the compile table and
provenance; ``style`` holds what every figure shares (palette, footer, estimate marking),
``results`` reads the result files of a run into the tables the figures need.
"""

import matplotlib

matplotlib.use("Agg")  # files only, no screen
