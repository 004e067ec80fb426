"""Hardware builds: the FINN dataflow flow per board (``finn_build``), the resource fit
against a board (``fit``) and the ``compile`` command that ties them together."""
