"""Hardware builds: the FINN dataflow flow per board (``finn_build``), the folding search
(``folding``), the resource fit against a board (``fit``), the ``compile`` command that ties
them together, and the Vivado part of the build (``vivado_build``)."""
