"""The FINN (finn-plus) build of an exported model: the project's HW ops for sparsity (``ops``), the
transforms that put them into a FINN graph (``streamline``, ``convert``, ``specialize``), the
estimate flow's steps (``build``), the folding search (``folding``) and fit against a board
(``fit``), the compile record (``compile``) and the Vivado part of the build (``vivado``)."""
