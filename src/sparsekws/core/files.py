"""Atomic file output: write to a temporary file beside the target, then rename.

A reader (or Snakemake after a crash) never sees a half-written file under the final name. A
finished file or folder gets the permissions the user's umask gives (as if created directly),
not the owner-only ones of a temporary file. A folder that already exists is swapped with the
new one in one step where the system can (Linux ``renameat2``), so that the old or the new
folder always stands under the name.
"""

from __future__ import annotations

import contextlib
import ctypes
import io
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any, Iterator

import yaml


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _publishable(path: Path, directory: bool = False) -> None:
    """Give ``path`` the permissions a newly created file (or folder) gets under the user's umask."""
    os.chmod(path, (0o777 if directory else 0o666) & ~_umask())


def _exchange(first: Path, second: Path) -> bool:
    """Swap two existing paths in one step (Linux ``renameat2(RENAME_EXCHANGE)``); False where unsupported."""
    try:
        renameat2 = ctypes.CDLL(None, use_errno=True).renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    renameat2.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return renameat2(at_fdcwd, os.fsencode(first), at_fdcwd, os.fsencode(second), rename_exchange) == 0


@contextlib.contextmanager
def atomic_path(target: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it to ``target`` on success.

    ``suffix`` keeps an extension for libraries that infer the format from the name.
    On any exception the temporary file (or folder) is removed and the target is untouched.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=suffix + ".tmp", dir=target.parent)
    os.close(fd)
    tmp = Path(tmp_name)
    try:
        yield tmp
        _publishable(tmp)
        os.replace(tmp, target)
    finally:
        if tmp.exists():
            tmp.unlink()


@contextlib.contextmanager
def atomic_dir(target: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; move it into place on success.

    An existing ``target`` is replaced only after the new folder is complete: swapped with it in
    one step, or (where the system cannot swap) moved aside, the new folder moved in, the old one
    deleted.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        yield tmp
        _publishable(tmp, directory=True)
        if not target.exists():
            os.replace(tmp, target)
        elif not _exchange(tmp, target):  # tmp now holds the old folder when the swap worked
            aside = tmp.with_name(tmp.name + ".old")
            os.replace(target, aside)
            os.replace(tmp, target)
            shutil.rmtree(aside)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp)


def write_text(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)


def write_json(path: str | os.PathLike, data: Any) -> None:
    """Write ``data`` as indented, key-sorted JSON atomically (stable bytes for equal data)."""
    write_text(path, json.dumps(data, indent=2, sort_keys=True, default=_jsonable) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    return json.loads(Path(path).read_text())


def write_yaml(path: str | os.PathLike, data: Any) -> None:
    write_text(path, yaml.safe_dump(data, sort_keys=False))


def write_csv(path: str | os.PathLike, frame) -> None:
    """Write a pandas DataFrame as CSV atomically."""
    with atomic_path(path, suffix=".csv") as tmp:
        frame.to_csv(tmp, index=False)


def write_torch(path: str | os.PathLike, data: Any) -> None:
    """``torch.save`` atomically, with the same bytes for the same data (torch names the records of a
    file after the file, so the data is serialised in memory first)."""
    import torch

    buffer = io.BytesIO()
    torch.save(data, buffer)
    with atomic_path(path, suffix=".pt") as tmp:
        tmp.write_bytes(buffer.getvalue())


def read_npz(path: str | os.PathLike, needed: tuple[str, ...] = (), what: str = "file") -> dict[str, Any]:
    """Every array of an ``.npz`` file, read now; a missing, damaged or incomplete file (one without
    the ``needed`` arrays) is a ``UserError`` naming it, ``what`` it is and how to make it again."""
    import numpy as np

    from sparsekws.core.errors import UserError

    path = Path(path)
    rebuild = f"rebuild it with: snakemake --cores all --forcerun {path}"
    try:
        with np.load(path, allow_pickle=False) as data:
            arrays = {name: data[name] for name in data.files}
    except FileNotFoundError:
        raise UserError(f"{what} not found: {path}") from None
    except Exception as exc:  # numpy and zipfile raise many kinds for a truncated or foreign file
        raise UserError(f"{what} {path} is damaged ({type(exc).__name__}: {str(exc)[:200]}); {rebuild}") from None
    missing = [name for name in needed if name not in arrays]
    if missing:
        raise UserError(f"{what} {path} lacks {', '.join(missing)}; {rebuild}")
    return arrays


def read_onnx(path: str | os.PathLike, what: str = "QONNX model"):
    """The ``onnx.ModelProto`` of a file; a missing or damaged file is a ``UserError`` naming it and
    how to make it again."""
    import onnx

    from sparsekws.core.errors import UserError

    path = Path(path)
    try:
        return onnx.load(str(path))
    except FileNotFoundError:
        raise UserError(f"{what} not found: {path}") from None
    except Exception as exc:  # protobuf's DecodeError and friends for a truncated or foreign file
        raise UserError(f"{what} {path} is damaged ({type(exc).__name__}: {str(exc)[:200]}); rebuild it with: "
                        f"snakemake --cores all --forcerun {path}") from None


def write_npz(path: str | os.PathLike, arrays: dict) -> None:
    """``np.savez`` atomically (through a file object, so no ``.npz`` is appended to the name)."""
    import numpy as np

    with atomic_path(path, suffix=".npz") as tmp:
        with open(tmp, "wb") as handle:
            np.savez(handle, **arrays)


def _jsonable(value: Any) -> Any:
    """Convert numpy scalars/arrays and paths for JSON."""
    if hasattr(value, "tolist"):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"cannot write {type(value).__name__} as JSON")
