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


@pytest.fixture
def umask_027():
    import os

    old = os.umask(0o027)
    yield
    os.umask(old)


def test_outputs_get_the_permissions_of_the_users_umask(tmp_path, umask_027):
    import stat

    write_json(tmp_path / "a.json", {"a": 1})
    with atomic_dir(tmp_path / "d") as tmp:
        (tmp / "x.txt").write_text("x")
    assert stat.S_IMODE((tmp_path / "a.json").stat().st_mode) == 0o640  # not mkstemp's 0600
    assert stat.S_IMODE((tmp_path / "d").stat().st_mode) == 0o750  # not mkdtemp's 0700


def test_a_folder_is_swapped_in_one_step_with_the_old_one(tmp_path):
    from sparsekws.core.files import _exchange

    a, b = tmp_path / "a", tmp_path / "b"
    a.mkdir(), b.mkdir()
    (a / "from_a").touch(), (b / "from_b").touch()
    assert _exchange(a, b)  # Linux renameat2(RENAME_EXCHANGE) on this file system
    assert [p.name for p in a.iterdir()] == ["from_b"] and [p.name for p in b.iterdir()] == ["from_a"]
    target = tmp_path / "data"
    with atomic_dir(target) as tmp:
        (tmp / "old.txt").write_text("1")
    with atomic_dir(target) as tmp:
        (tmp / "new.txt").write_text("2")
    assert [p.name for p in target.iterdir()] == ["new.txt"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["a", "b", "data"]  # the old folder is gone


def test_a_folder_is_replaced_where_it_cannot_be_swapped(tmp_path, monkeypatch):
    from sparsekws.core import files

    monkeypatch.setattr(files, "_exchange", lambda first, second: False)
    target = tmp_path / "data"
    for name in ("old.txt", "new.txt"):
        with atomic_dir(target) as tmp:
            (tmp / name).write_text(name)
    assert [p.name for p in target.iterdir()] == ["new.txt"] and list(tmp_path.iterdir()) == [target]


def test_torch_files_have_the_same_bytes_for_the_same_data(tmp_path):
    import torch

    from sparsekws.core.files import write_torch

    data = {"w": torch.arange(6.0).reshape(2, 3), "name": "m"}
    write_torch(tmp_path / "one.pt", data)
    write_torch(tmp_path / "sub" / "two.pt", data)
    assert (tmp_path / "one.pt").read_bytes() == (tmp_path / "sub" / "two.pt").read_bytes()
    assert torch.equal(torch.load(tmp_path / "one.pt", weights_only=True)["w"], data["w"])


def test_damaged_npz_and_onnx_files_name_the_file_and_how_to_rebuild_it(tmp_path):
    import numpy as np

    from sparsekws.core.errors import UserError
    from sparsekws.core.files import read_npz, read_onnx

    np.savez(tmp_path / "f.npz", x=np.arange(3))
    assert read_npz(tmp_path / "f.npz", ("x",))["x"].tolist() == [0, 1, 2]
    truncated = tmp_path / "t.npz"
    truncated.write_bytes((tmp_path / "f.npz").read_bytes()[:100])
    with pytest.raises(UserError, match=rf"features file {truncated} is damaged .*--forcerun {truncated}"):
        read_npz(truncated, what="features file")
    with pytest.raises(UserError, match="lacks y; rebuild it"):
        read_npz(tmp_path / "f.npz", ("x", "y"))
    with pytest.raises(UserError, match="not found"):
        read_npz(tmp_path / "none.npz")
    (tmp_path / "m.onnx").write_bytes(b"\x08\x07garbage" * 10)
    with pytest.raises(UserError, match=r"QONNX model .*m.onnx is damaged .*--forcerun"):
        read_onnx(tmp_path / "m.onnx")
