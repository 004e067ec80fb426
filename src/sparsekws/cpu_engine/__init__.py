"""The sparse-aware CPU inference engine: the numpy reference (``reference``), the compiled path of
fused layers (``fast``) with its numba kernels (``kernels``) and AVX-512 VNNI intrinsics (``vnni``)."""
