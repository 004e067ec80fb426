"""FIFO and width converters: exact with random back-pressure; a FIFO reports its peak occupancy."""

import numpy as np
import pytest
from support.rtl_sim import simulate_or_skip

from sparsekws.rtl.cases import Case, pack_frames
from sparsekws.rtl.stream import converter_lanes, fifo, width_converter


@pytest.mark.parametrize("lanes_in, lanes_out", [(8, 2), (2, 8), (4, 4)], ids=["down", "up", "equal"])
def test_width_converter_keeps_every_value_in_order(lanes_in, lanes_out, tmp_path):
    x = np.random.default_rng(1).integers(0, 16, size=(4, 16))
    case = Case("wc", width_converter("wc", 4, lanes_in, lanes_out), pack_frames(x, lanes_in, 4),
                pack_frames(x, lanes_out, 4), 4, 16 // min(lanes_in, lanes_out))
    result = simulate_or_skip(case, tmp_path)
    assert result.passed, result.first_mismatch
    assert result.cycles_per_frame_sim == 16 // min(lanes_in, lanes_out)  # one beat per cycle on the narrow side


def test_fifo_passes_values_and_reports_its_peak(tmp_path):
    x = np.random.default_rng(2).integers(0, 1 << 12, size=(4, 8))
    case = Case("q", fifo("q", 12, 5), pack_frames(x, 1, 12), pack_frames(x, 1, 12), 4, 8)
    result = simulate_or_skip(case, tmp_path)
    assert result.passed, result.first_mismatch
    # back-pressure in the bench's second pass fills it to its capacity
    assert "FIFO q peak 5 limit 5" in (tmp_path / "sim.log").read_text()


def test_converter_chain_goes_through_the_common_divisor():
    assert converter_lanes(4, 4) == [] and converter_lanes(64, 16) == [(64, 16)]
    assert converter_lanes(6, 4) == [(6, 2), (2, 4)]
    with pytest.raises(ValueError, match="divide"):
        width_converter("wc", 4, 6, 4)
    with pytest.raises(ValueError, match=">= 2"):
        fifo("q", 8, 1)
