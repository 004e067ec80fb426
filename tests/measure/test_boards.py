"""The pynq and alveo backends against FAKE boards.

``FakePynq`` and ``FakeOverlay`` are fakes, not hardware: they mimic the parts of the real APIs
the backends call (``pynq.get_rails()`` rails with ``.power`` sensors, ``pynq.DataRecorder`` with
``record(interval)``, ``mark()`` and ``frame``; the FINN driver's ``FINNExampleOverlay`` with a
``batch_size`` attribute, ``throughput_test()`` returning its metrics dict and ``execute()``;
pyxrt's ``device(i).get_info(xrt_info_device.electrical)`` JSON), so that the real code paths run.
"""

import json
import math
import subprocess
import sys
import types

import numpy as np
import pandas as pd
import pytest

from sparsekws.measure import RECORD_COLUMNS
from sparsekws.measure.backends import alveo, pynq_board
from sparsekws.measure.backends.pynq import PynqFinn, board_records, ssh_measure
from sparsekws.measure.records import Workload


class FakeSensor:
    def __init__(self, name, watts):
        self.name, self.watts = name, watts


class FakeRecorder:
    """Like pynq.DataRecorder: samples sensors while recording; marks split the frame."""

    def __init__(self, *sensors):
        self.sensors, self.rows, self.mark_index = sensors, [], 0

    def record(self, interval):
        recorder = self

        class Context:
            def __enter__(self):
                return recorder

            def __exit__(self, *exc):
                for _ in range(3):  # three samples per recording
                    recorder.rows.append({"Mark": recorder.mark_index, **{s.name: s.watts for s in recorder.sensors}})
        return Context()

    def mark(self):
        self.mark_index += 1

    @property
    def frame(self):
        return pd.DataFrame(self.rows)


class FakePynq:
    def __init__(self, rails):
        self.rails = {name: types.SimpleNamespace(power=FakeSensor(f"{name}_power", w)) for name, w in rails.items()}
        self.DataRecorder = FakeRecorder

    def get_rails(self):
        return self.rails


class FakeOverlay:
    """Like FINNExampleOverlay: throughput grows with the batch size; execute() returns class indices."""

    def __init__(self, classes):
        self.batch_size, self.classes = 1, classes

    def throughput_test(self):
        runtime_ms = 0.01 + 0.004 * self.batch_size
        return {"runtime[ms]": runtime_ms, "throughput[images/s]": self.batch_size / runtime_ms * 1e3,
                "fclk[mhz]": 100.0, "batch_size": self.batch_size}

    def execute(self, inputs):
        assert len(inputs) == self.batch_size
        return self.classes[:len(inputs)].reshape(-1, 1)


def workload():
    reference = np.eye(12)[np.arange(20) % 12] * 5.0
    return Workload(model="sparse", model_config={}, inputs=np.zeros((20, 490), np.float32),
                    labels=np.arange(20) % 12, reference=reference, provenance={"config_hash": "c", "git_revision": "g"})


SETTINGS = {"batch_sizes": [1, 64], "repeats": 3, "power_rails": ["12V"], "power_interval_s": 0.01, "board": "zcu104",
            "deployment": None, "host": None, "user": "xilinx", "python": "python3", "remote_dir": "/home/xilinx/s"}


def test_pynq_rails_give_power_and_driver_gives_throughput():
    work = workload()
    result = PynqFinn.on_board(FakePynq({"12V": 7.5, "INT": 1.0}), FakeOverlay(work.labels), SETTINGS, work.inputs)
    records = board_records(result, work, platform="pynq", backend="finn-pynq-driver", device="zcu104",
                            method="FINN driver")
    assert list(records.columns) == RECORD_COLUMNS and list(records["batch_size"]) == [1, 64]
    assert (records["power_w"] == 7.5).all()  # only the named rail
    assert records.loc[1, "throughput_words_per_s"] == pytest.approx(64 / 0.266e-3)
    assert records.loc[0, "energy_per_word_j"] == pytest.approx(7.5 / records.loc[0, "throughput_words_per_s"])
    assert (records["accuracy_on_measured"] == 1.0).all() and records["outputs_match_model"].all()
    assert (records["source"] == "measured").all() and "100 MHz" in records.loc[0, "device"]


def test_a_board_without_power_rails_gives_missing_power_not_zero():
    work = workload()
    result = PynqFinn.on_board(FakePynq({}), FakeOverlay(work.labels), SETTINGS, work.inputs)
    assert "none of the rails ['12V']" in result["power_reason"]
    records = board_records(result, work, platform="pynq", backend="finn-pynq-driver", device="pynq-z1", method="m")
    assert records["power_w"].isna().all() and records["energy_per_word_j"].isna().all()
    assert "no power: none of the rails" in records.loc[0, "method"]


def test_pynq_is_skipped_without_a_deployment_package(tmp_path):
    with pytest.raises(Exception, match="measure.pynq.deployment is not set"):
        PynqFinn().measure(workload(), SETTINGS)
    with pytest.raises(Exception, match="not a FINN deployment package"):
        PynqFinn().measure(workload(), {**SETTINGS, "deployment": str(tmp_path)})


def test_ssh_path_copies_runs_the_board_script_and_parses_its_json(tmp_path):
    """A fake runner stands in for ssh/scp: the remote command runs the board script's real
    measure function against the fake board and prints its JSON, as the board would."""
    work = workload()
    commands = []

    def fake_run(command, **kwargs):
        commands.append(command)
        if command[0] == "ssh" and "pynq_board.py" in command[-1]:
            result = PynqFinn.on_board(FakePynq({"12V": 5.0}), FakeOverlay(work.labels), SETTINGS, work.inputs)
            return subprocess.CompletedProcess(command, 0, stdout="log line\n" + json.dumps(result))
        return subprocess.CompletedProcess(command, 0, stdout="")

    result = ssh_measure({**SETTINGS, "host": "board"}, tmp_path, work.inputs, [1, 64], 3, run=fake_run)
    assert [c[0] for c in commands] == ["ssh", "scp", "scp", "ssh"]
    assert commands[1][-1] == "xilinx@board:/home/xilinx/s/deploy"
    assert "--rails 12V" in commands[-1][-1] and "sudo" in commands[-1]
    assert {r["power_w"] for r in result["runs"]} == {5.0}


def test_board_script_runs_standalone_help():
    done = subprocess.run([sys.executable, pynq_board.__file__, "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "--deployment" in done.stdout


class FakePyxrt:
    """Like pyxrt: device(i).get_info(xrt_info_device.electrical) returns the electrical JSON."""

    xrt_info_device = types.SimpleNamespace(electrical="electrical")

    def __init__(self, watts):
        self.watts = watts

    def device(self, index):
        watts = self.watts

        class Device:
            def get_info(self, key):
                assert key == "electrical"
                return json.dumps({"power_consumption_watts": str(watts), "power_consumption_max_watts": "225"})
        return Device()


def test_alveo_power_through_xrt_and_xbutil_json(tmp_path):
    work = workload()
    read_w = alveo.pyxrt_reader(FakePyxrt(31.5), 0)
    settings = {**SETTINGS, "power_interval_s": 0.001}
    result = alveo.AlveoFinn.on_host(FakeOverlay(work.labels), settings, work.inputs, read_w)
    records = board_records(result, work, platform="alveo", backend="finn-alveo-xrt", device="u250", method="m")
    assert (records["power_w"] == 31.5).all() and records["outputs_match_model"].all()

    def fake_xbutil(command, **kwargs):
        out = command[command.index("-o") + 1]
        with open(out, "w") as handle:
            json.dump({"devices": [{"electrical": {"power_consumption_watts": "28.0"}}]}, handle)
    assert alveo.xbutil_reader("0000:3b:00.1", run=fake_xbutil)() == 28.0
    assert math.isnan(alveo.electrical_watts({"electrical": {"power_consumption_watts": "N/A"}}))
    no_power = alveo.AlveoFinn.on_host(FakeOverlay(work.labels), settings, work.inputs, None, "no pyxrt")
    assert all(math.isnan(r["power_w"]) for r in no_power["runs"]) and no_power["power_reason"] == "no pyxrt"


def test_alveo_is_skipped_without_a_deployment_package():
    with pytest.raises(Exception, match="measure.alveo.deployment is not set"):
        alveo.AlveoFinn().measure(workload(), {**SETTINGS, "deployment": None})


def test_a_platform_that_cannot_run_is_skipped_without_loading_the_model(tmp_path):
    """measure for alveo without a deployment package: the skipped row and an empty record table,
    although the checkpoint and features do not exist (nothing is loaded)."""
    from sparsekws.cli import main
    from sparsekws.measure.backends import unavailable_platform
    from support.fixtures import mlp_config

    settings = {"measure": {"alveo": {**SETTINGS, "deployment": None}}, "models": {"m": mlp_config(0.1)}}
    assert unavailable_platform("alveo", settings["measure"]["alveo"]) == {
        "finn-alveo-xrt": alveo.AlveoFinn.unavailable(settings["measure"]["alveo"])}
    assert unavailable_platform("pynq", {**SETTINGS, "deployment": str(tmp_path)}) is None
    assert main(["measure", "--platform", "alveo", "--settings", json.dumps(settings), "--model", "m",
                 "--checkpoint", str(tmp_path / "none.pt"), "--features", str(tmp_path / "none.npz"),
                 "--work-dir", str(tmp_path / "work"), "--out", str(tmp_path / "r.csv"),
                 "--skipped-out", str(tmp_path / "s.csv")]) == 0
    assert pd.read_csv(tmp_path / "r.csv").empty and list(pd.read_csv(tmp_path / "r.csv").columns) == RECORD_COLUMNS
    skipped = pd.read_csv(tmp_path / "s.csv")
    assert skipped[["model", "platform", "backend"]].values.tolist() == [["m", "alveo", "finn-alveo-xrt"]]
    assert "measure.alveo.deployment is not set" in skipped.loc[0, "reason"]
