"""Quantised networks: the layer specification of a model entry (``spec``), the sparse building
blocks (fixed fan-in weights, k-WTA with boosting), the Brevitas builders, MAC counts and the
sparsity sweep."""
