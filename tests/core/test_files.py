import json

import pandas as pd
import pytest

from sparsekws.core.files import atomic_dir, atomic_path, read_json, write_csv, write_json


def test_atomic_path_renames_on_success(tmp_path):
    target = tmp_path / "sub" / "out.txt"
    with atomic_path(target) as tmp:
        tmp.write_text("done")
        assert not target.exists()
    assert target.read_text() == "done"
    assert list(target.parent.iterdir()) == [target]


def test_atomic_path_leaves_old_file_and_no_temp_on_failure(tmp_path):
    target = tmp_path / "out.txt"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_path(target) as tmp:
            tmp.write_text("half")
            raise RuntimeError("crash")
    assert target.read_text() == "old"
    assert list(tmp_path.iterdir()) == [target]


def test_atomic_dir_replaces_only_when_complete(tmp_path):
    target = tmp_path / "data"
    with atomic_dir(target) as tmp:
        (tmp / "a.txt").write_text("1")
    with pytest.raises(ValueError):
        with atomic_dir(target) as tmp:
            (tmp / "b.txt").write_text("2")
            raise ValueError
    assert sorted(p.name for p in target.iterdir()) == ["a.txt"]
    assert list(tmp_path.iterdir()) == [target]


def test_json_is_stable_and_handles_numpy(tmp_path):
    import numpy as np

    write_json(tmp_path / "a.json", {"b": np.float32(1.5), "a": np.arange(3)})
    text = (tmp_path / "a.json").read_text()
    assert text.index('"a"') < text.index('"b"')
    assert read_json(tmp_path / "a.json") == {"a": [0, 1, 2], "b": 1.5}
    with pytest.raises(TypeError):
        write_json(tmp_path / "c.json", {"x": object()})
    assert not (tmp_path / "c.json").exists()
    json.loads(text)


def test_write_csv(tmp_path):
    write_csv(tmp_path / "t.csv", pd.DataFrame({"x": [1, 2]}))
    assert (tmp_path / "t.csv").read_text().splitlines() == ["x", "1", "2"]
