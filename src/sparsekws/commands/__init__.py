"""The command line, one module per command (``python -m sparsekws <command>``): each parses its
arguments (``common`` holds the shared ones) and makes one call into the library."""
