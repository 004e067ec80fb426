"""Every hardware unit as plain Python: cycle and resource models (``cost``, ``constants``,
``calibration``), memory images and schedules (``schedule``), golden models (``golden``), the
k-WTA's ranks and its rank-ROM unit (``ranking``, ``kwta``). The contract that the RTL generators
and the FINN ops both follow; importable without FINN or Brevitas."""
