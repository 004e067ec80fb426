"""Google Speech Commands (GSC): the split rule, the list files, and the real download.

The split rule is ``which_set`` of TensorFlow's speech_commands ``input_data.py``: a file's
split depends only on the part of its name before ``_nohash_`` (the speaker id), so one
speaker never appears in two splits. The published ``validation_list.txt`` and
``testing_list.txt`` were made with it; every file in neither list is training data.

The download is streamed to ``<archive>.part`` (resumed with an HTTP range request when a
partial file exists), checked against the published sha256 and only then renamed, so a file
under the final name is always complete and verified. Extraction goes into a temporary
folder that is renamed when complete.

Test split (``dataset.gsc.test_set``): ``lists`` takes it from ``testing_list.txt`` of the
main archive (TensorFlow's speech_commands example); ``official`` replaces it with the
separately published, already balanced v0.02 test set (12 class folders including
``_silence_`` and ``_unknown_``), as TensorFlow Datasets does. It is extracted into
``OFFICIAL_TEST_DIR`` inside the dataset folder and listed with split ``test``; the files of
``testing_list.txt`` are then used by no split.
"""

from __future__ import annotations

import dataclasses
import hashlib
import http.client
import logging
import os
import re
import shutil
import tarfile
import urllib.error
import urllib.request
from pathlib import Path

from tqdm import tqdm

from sparsekws.data.labels import BACKGROUND_NOISE_DIR, SILENCE, UNKNOWN
from sparsekws.core.errors import UserError
from sparsekws.core.files import atomic_dir

log = logging.getLogger(__name__)

MAX_NUM_WAVS_PER_CLASS = 2**27 - 1  # ~134M, as in TensorFlow's input_data.py
VALIDATION_LIST = "validation_list.txt"
TESTING_LIST = "testing_list.txt"
OFFICIAL_TEST_DIR = "_official_test_"

# Published releases: URLs and checksums as listed by TensorFlow Datasets (url_checksums/speech_commands.txt).
RELEASES = {
    "v0.01": {
        "url": "http://download.tensorflow.org/data/speech_commands_v0.01.tar.gz",
        "sha256": "743935421bb51cccdb6bdd152e04c5c70274e935c82119ad7faeec31780d811d",
        "size": None,
    },
    "v0.02": {
        "url": "http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz",
        "sha256": "af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58",
        "size": 2_428_923_189,
    },
}
# The separately published, balanced v0.02 test set (TensorFlow Datasets' test split).
TEST_SETS = {
    "v0.02": {
        "url": "http://download.tensorflow.org/data/speech_commands_test_set_v0.02.tar.gz",
        "sha256": "cc2a00c1147c2254e9be3fa0f779d8c17421dc349b86366567a8edfa9acd51df",
        "size": 112_563_277,
    },
}


def speaker_id(filename: str) -> str:
    """The speaker of a clip: its base name up to ``_nohash_``."""
    return re.sub(r"_nohash_.*$", "", os.path.basename(filename))


def which_set(filename: str, validation_percentage: float = 10, testing_percentage: float = 10) -> str:
    """The split (``train``, ``validation`` or ``test``) GSC assigns to ``filename``.

    sha1 of the base name with ``_nohash_.*`` removed, taken modulo ``2**27`` and scaled to a
    percentage: below ``validation_percentage`` is validation, below the sum is test.
    (TensorFlow names the splits ``training``/``validation``/``testing``.)
    """
    hash_hex = hashlib.sha1(speaker_id(filename).encode("utf-8")).hexdigest()
    percentage_hash = (int(hash_hex, 16) % (MAX_NUM_WAVS_PER_CLASS + 1)) * (100.0 / MAX_NUM_WAVS_PER_CLASS)
    if percentage_hash < validation_percentage:
        return "validation"
    if percentage_hash < testing_percentage + validation_percentage:
        return "test"
    return "train"


@dataclasses.dataclass(frozen=True, order=True)
class Entry:
    """One utterance: its path relative to the dataset folder, its word and its split."""

    path: str
    word: str
    split: str


def read_list(path: str | os.PathLike) -> list[str]:
    """The relative wav paths in a GSC list file (one per line; blank lines ignored)."""
    path = Path(path)
    if not path.is_file():
        raise UserError(f"split list {path} is missing; a GSC-layout dataset needs "
                        f"{VALIDATION_LIST} and {TESTING_LIST} (rebuild it with 'sparsekws dataset')")
    return [line.strip() for line in path.read_text().splitlines() if line.strip()]


def split_lists(dataset_dir: str | os.PathLike) -> dict[str, str]:
    """Map every path named in the list files to ``validation`` or ``test``."""
    dataset_dir = Path(dataset_dir)
    splits: dict[str, str] = {}
    for name, split in ((VALIDATION_LIST, "validation"), (TESTING_LIST, "test")):
        for rel in read_list(dataset_dir / name):
            if splits.setdefault(rel, split) != split:
                raise UserError(f"{rel} is listed in both {VALIDATION_LIST} and {TESTING_LIST}")
    return splits


def list_dataset(dataset_dir: str | os.PathLike, required_words: list[str] | tuple[str, ...] = ()) -> list[Entry]:
    """All utterances of a GSC-layout folder as sorted ``Entry`` records.

    Every folder not starting with ``_`` is a word. Raises ``UserError`` for a missing list
    file, a word folder without wav files, a word in ``required_words`` that has no folder,
    or a list file naming a file that does not exist.
    """
    dataset_dir = Path(dataset_dir)
    if not dataset_dir.is_dir():
        raise UserError(f"dataset folder {dataset_dir} does not exist (build it with 'sparsekws dataset')")
    splits = split_lists(dataset_dir)
    entries: list[Entry] = []
    words = sorted(p.name for p in dataset_dir.iterdir() if p.is_dir() and not p.name.startswith("_"))
    for word in words:
        files = sorted(p.name for p in (dataset_dir / word).glob("*.wav"))
        if not files:
            raise UserError(f"class folder {dataset_dir / word} holds no .wav files")
        for name in files:
            rel = f"{word}/{name}"
            entries.append(Entry(rel, word, splits.get(rel, "train")))
    missing = [w for w in required_words if w not in words]
    if missing:
        raise UserError(f"configured word(s) {', '.join(missing)} not found in {dataset_dir} "
                        f"(it has: {', '.join(words) or 'no word folders'})")
    known = {e.path for e in entries}
    absent = sorted(set(splits) - known)
    if absent:
        raise UserError(f"{len(absent)} file(s) named in the split lists of {dataset_dir} do not exist, "
                        f"e.g. {absent[0]}")
    official = dataset_dir / OFFICIAL_TEST_DIR
    if official.is_dir():
        entries = [e for e in entries if e.split != "test"] + official_test_entries(dataset_dir, required_words)
    return sorted(entries)


def official_test_entries(dataset_dir: str | os.PathLike, words: list[str] | tuple[str, ...] = ()) -> list[Entry]:
    """The pre-labelled test split of ``OFFICIAL_TEST_DIR``: class folders of task words,
    ``_silence_`` and ``_unknown_``. ``UserError`` for a folder that is none of these (the
    official set only fits the 12-class task) or a task word without files."""
    folder = Path(dataset_dir) / OFFICIAL_TEST_DIR
    allowed = {*words, SILENCE, UNKNOWN}
    entries = []
    classes = sorted(p.name for p in folder.iterdir() if p.is_dir())
    strange = [c for c in classes if words and c not in allowed]
    if strange:
        raise UserError(f"the official test set in {folder} has class folder(s) {', '.join(strange)} that are not "
                        f"task words; it only fits the 12-class task: set dataset.gsc.test_set: lists")
    for cls in classes:
        entries += [Entry(f"{OFFICIAL_TEST_DIR}/{cls}/{p.name}", cls, "test") for p in sorted((folder / cls).glob("*.wav"))]
    missing = [w for w in words if not any(e.word == w for e in entries)]
    if missing:
        raise UserError(f"the official test set in {folder} has no files for task word(s) {', '.join(missing)}")
    return entries


def background_noise_files(dataset_dir: str | os.PathLike) -> list[Path]:
    """The sorted wav files of ``_background_noise_/``; ``UserError`` if there are none."""
    folder = Path(dataset_dir) / BACKGROUND_NOISE_DIR
    files = sorted(folder.glob("*.wav"))
    if not files:
        raise UserError(f"{folder} holds no .wav files; silence samples are cut from them")
    return files


# --------------------------------------------------------------------------- download


def sha256_of(path: str | os.PathLike, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def download(url: str, target: str | os.PathLike, sha256: str | None, timeout: float = 60) -> Path:
    """Stream ``url`` to ``target`` with a progress bar, verify its sha256, then rename.

    Bytes go to ``<target>.part``; an existing ``.part`` is resumed with a range request when
    the server supports it. On a checksum mismatch the ``.part`` file is deleted and a
    ``UserError`` states the expected and the actual hash. ``sha256=None`` skips the check
    (for a mirror of unknown content; logged as a warning).
    """
    target = Path(target)
    part = target.with_name(target.name + ".part")
    target.parent.mkdir(parents=True, exist_ok=True)
    offset = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        response = urllib.request.urlopen(request, timeout=timeout)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # range beyond the end: the .part file may be complete
            response = None
        else:
            raise UserError(f"download of {url} failed: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        raise UserError(f"download of {url} failed: {exc}; without network access, download the archive "
                        f"elsewhere and set dataset.gsc.archive to its local path") from None
    if response is not None:
        with response:
            resumed = offset and response.status == 206
            if offset and not resumed:
                log.info("server ignored the range request; restarting the download of %s", url)
                offset = 0
            length = response.headers.get("Content-Length")
            total = offset + int(length) if length is not None else None
            try:
                with open(part, "ab" if resumed else "wb") as f, tqdm(
                        total=total, initial=offset, unit="B", unit_scale=True, desc=target.name) as bar:
                    while block := response.read1(1 << 20):
                        f.write(block)
                        bar.update(len(block))
            except (OSError, urllib.error.URLError, http.client.HTTPException) as exc:
                raise UserError(f"download of {url} interrupted ({type(exc).__name__}: {exc}); "
                                f"rerun to resume from {part}") from None
            if total is not None and part.stat().st_size < total:
                raise UserError(f"download of {url} interrupted: got {part.stat().st_size} of {total} bytes; "
                                f"rerun to resume from {part}")
    if sha256 is None:
        log.warning("no sha256 to verify %s against; accepting it unchecked", url)
    else:
        actual = sha256_of(part)
        if actual != sha256.lower():
            part.unlink()
            raise UserError(f"checksum mismatch for {url}: expected sha256 {sha256.lower()}, got {actual}; "
                            f"the partial download was deleted")
    os.replace(part, target)
    log.info("downloaded and verified %s", target)
    return target


def _safe_members(tar: tarfile.TarFile, archive: Path):
    for member in tar.getmembers():
        name = member.name
        if name.startswith(("/", "\\")) or ".." in Path(name).parts:
            raise UserError(f"{archive}: refusing unsafe member path {name!r}")
        if not (member.isfile() or member.isdir()):
            continue  # links and devices have no place in GSC
        yield member


def extract_archive(archive: str | os.PathLike, target: str | os.PathLike) -> Path:
    """Extract a GSC ``.tar.gz`` into ``target`` atomically (temporary folder, then rename).

    An archive with a single top-level folder holding the dataset is unwrapped.
    """
    archive, target = Path(archive), Path(target)
    try:
        with atomic_dir(target) as tmp, tarfile.open(archive, "r:*") as tar:
            members = list(_safe_members(tar, archive))
            for member in tqdm(members, desc=f"extract {archive.name}", unit="file"):
                tar.extract(member, tmp, set_attrs=False)
            _unwrap_single_folder(tmp)
    except (tarfile.TarError, EOFError, OSError) as exc:
        raise UserError(f"cannot extract {archive}: {exc}") from None
    return target


def _unwrap_single_folder(folder: Path) -> None:
    """Move the content of a lone top-level folder up, unless that folder is itself a class."""
    children = list(folder.iterdir())
    if len(children) == 1 and children[0].is_dir() and not any(children[0].glob("*.wav")):
        inner = children[0]
        for child in list(inner.iterdir()):
            os.replace(child, folder / child.name)
        inner.rmdir()


def _link_or_copy(src: str, dst: str) -> str:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copy2(src, dst)
    return dst


def _obtain_archive(local, url: str, expected: str | None, download_dir: Path, key: str, info: dict) -> Path:
    """A verified archive (or extracted folder): ``local`` when given, else a download of ``url``."""
    if local:
        local = Path(local).expanduser()
        info["archive"] = str(local)
        if local.is_dir():
            return local
        if not local.is_file():
            raise UserError(f"dataset.gsc.{key} {local} is neither a file nor a folder")
        actual = sha256_of(local)
        if expected and actual != expected.lower():
            raise UserError(f"checksum mismatch for {local}: expected sha256 {expected.lower()}, got {actual}")
        info["sha256"] = actual
        return local
    archive = download_dir / url.rstrip("/").rsplit("/", 1)[-1]
    if archive.is_file():
        log.info("using the verified download %s", archive)
    else:
        download(url, archive, expected)
    info.update(url=url, archive=str(archive), sha256=expected)
    return archive


def _install(source: Path, out_dir: Path) -> None:
    """Put the content of an extracted folder or an archive into ``out_dir`` (which may exist)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    if source.is_dir():
        log.info("copying (hard-linking where possible) the extracted folder %s", source)
        shutil.copytree(source, out_dir, dirs_exist_ok=True, copy_function=_link_or_copy)
        return
    extracted = out_dir.with_name(out_dir.name + ".extract")
    extract_archive(source, extracted)
    try:
        for child in list(extracted.iterdir()):
            os.replace(child, out_dir / child.name)
    finally:
        shutil.rmtree(extracted, ignore_errors=True)


def prepare_gsc(gsc_config: dict, out_dir: str | os.PathLike, download_dir: str | os.PathLike) -> dict:
    """Fill the (empty, temporary) folder ``out_dir`` with the real GSC release.

    ``gsc_config`` is the config's ``dataset.gsc`` section: ``archive`` (a local ``.tar.gz``
    or an extracted folder) wins; otherwise the release ``version`` is downloaded from
    ``url`` (or the official address) into ``download_dir`` and verified against ``sha256``
    (or the published checksum). With ``test_set: official`` the v0.02 test set is obtained
    the same way (``test_archive``, ``test_url``, ``test_sha256``) into ``OFFICIAL_TEST_DIR``.
    Returns provenance for ``dataset_info.json``.
    """
    out_dir, download_dir = Path(out_dir), Path(download_dir)
    version = gsc_config.get("version", "v0.02")
    test_set = gsc_config.get("test_set", "lists")
    if test_set == "official" and version not in TEST_SETS:
        raise UserError(f"dataset.gsc.test_set: official needs version {', '.join(TEST_SETS)} (the test set "
                        f"published with checksum); for {version} use test_set: lists")
    release = RELEASES[version]
    info: dict = {"version": version, "test_set": test_set}
    main = _obtain_archive(gsc_config.get("archive"), gsc_config.get("url") or release["url"],
                           gsc_config.get("sha256") or (None if gsc_config.get("archive") else release["sha256"]),
                           download_dir, "archive", info)
    if test_set == "official":
        published = TEST_SETS[version]
        local = gsc_config.get("test_archive")
        info["test"] = {}
        test = _obtain_archive(local, gsc_config.get("test_url") or published["url"],
                               gsc_config.get("test_sha256") or (None if local else published["sha256"]),
                               download_dir, "test_archive", info["test"])
    _install(main, out_dir)
    if test_set == "official":
        _install(test, out_dir / OFFICIAL_TEST_DIR)
    return info
