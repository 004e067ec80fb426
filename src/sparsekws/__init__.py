"""sparsekws: does a sparse keyword-spotting network beat a dense one on FPGAs?"""

__version__ = "0.1.0"
