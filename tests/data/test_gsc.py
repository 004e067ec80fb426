import functools
import hashlib
import http.server
import io
import tarfile
import threading
from fractions import Fraction

import numpy as np
import pytest

from sparsekws.data import gsc
from sparsekws.data.gsc import Entry, download, extract_archive, list_dataset, which_set
from sparsekws.data.wav import write_wav
from sparsekws.core.errors import UserError


def _expected_split(name, val=10, test=10):
    """The GSC rule recomputed with exact fractions (no floating point)."""
    speaker = name.split("_nohash_")[0]
    h = int(hashlib.sha1(speaker.encode()).hexdigest(), 16)
    pct = Fraction(h % 2**27) * 100 / (2**27 - 1)
    return "validation" if pct < val else "test" if pct < val + test else "train"


@pytest.mark.parametrize("name, split", [
    ("p_nohash_0.wav", "validation"),   # 8.67 %
    ("b_nohash_3.wav", "test"),         # 15.70 %
    ("i_nohash_0.wav", "test"),         # 12.12 %
    ("c_nohash_0.wav", "train"),        # 28.46 %
    ("0a7c2a8d_nohash_0.wav", "train"),  # 56.84 %
])
def test_which_set_known_values(name, split):
    assert which_set(name) == split
    assert which_set(f"yes/{name}") == split  # folder ignored
    assert _expected_split(name) == split


def test_which_set_matches_formula_and_ignores_take():
    rng = np.random.default_rng(0)
    for _ in range(300):
        speaker = "".join(rng.choice(list("0123456789abcdef"), 8))
        split = which_set(f"{speaker}_nohash_0.wav")
        assert split == _expected_split(speaker)
        assert which_set(f"go/{speaker}_nohash_4.wav") == split
    assert which_set("b_nohash_0.wav", validation_percentage=20) == "validation"


def _make_dataset(root, files, validation=(), testing=(), lists=True):
    for rel in files:
        (root / rel).parent.mkdir(parents=True, exist_ok=True)
        write_wav(root / rel, np.zeros(16000, dtype=np.int16))
    if lists:
        (root / "validation_list.txt").write_text("".join(f"{p}\n" for p in validation))
        (root / "testing_list.txt").write_text("".join(f"{p}\n" for p in testing))
    noise = root / "_background_noise_"
    noise.mkdir(exist_ok=True)
    write_wav(noise / "white_noise.wav", np.ones(20000, dtype=np.int16))


FILES = ["yes/aa_nohash_0.wav", "yes/bb_nohash_0.wav", "no/aa_nohash_0.wav", "no/cc_nohash_0.wav", "cat/bb_nohash_1.wav"]


def test_list_dataset(tmp_path):
    _make_dataset(tmp_path, FILES, validation=["yes/bb_nohash_0.wav", "cat/bb_nohash_1.wav"],
                  testing=["no/cc_nohash_0.wav"])
    entries = list_dataset(tmp_path, required_words=["yes", "no"])
    assert entries == sorted([
        Entry("cat/bb_nohash_1.wav", "cat", "validation"),
        Entry("no/aa_nohash_0.wav", "no", "train"),
        Entry("no/cc_nohash_0.wav", "no", "test"),
        Entry("yes/aa_nohash_0.wav", "yes", "train"),
        Entry("yes/bb_nohash_0.wav", "yes", "validation"),
    ])
    assert [p.name for p in gsc.background_noise_files(tmp_path)] == ["white_noise.wav"]


def test_list_dataset_errors(tmp_path):
    _make_dataset(tmp_path / "nolists", FILES, lists=False)
    with pytest.raises(UserError, match="validation_list.txt is missing"):
        list_dataset(tmp_path / "nolists")

    _make_dataset(tmp_path / "a", FILES)
    with pytest.raises(UserError, match="word.*stop.*not found"):
        list_dataset(tmp_path / "a", required_words=["yes", "stop"])

    (tmp_path / "a" / "up").mkdir()
    with pytest.raises(UserError, match="up holds no .wav"):
        list_dataset(tmp_path / "a")

    _make_dataset(tmp_path / "b", FILES, validation=["yes/zz_nohash_0.wav"])
    with pytest.raises(UserError, match="do not exist"):
        list_dataset(tmp_path / "b")
    with pytest.raises(UserError, match="does not exist"):
        list_dataset(tmp_path / "missing")


def _tiny_archive(tmp_path, top="speech_commands"):
    src = tmp_path / "src"
    _make_dataset(src, FILES, validation=["yes/bb_nohash_0.wav"], testing=["no/cc_nohash_0.wav"])
    archive = tmp_path / "tiny.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        for path in sorted(src.rglob("*")):
            tar.add(path, arcname=f"{top}/{path.relative_to(src)}" if top else str(path.relative_to(src)),
                    recursive=False)
    return archive


@pytest.mark.parametrize("top", ["speech_commands", None])
def test_extract_archive(tmp_path, top):
    archive = _tiny_archive(tmp_path, top)
    out = extract_archive(archive, tmp_path / "out")
    entries = list_dataset(out, required_words=["yes", "no"])
    assert len(entries) == len(FILES)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "src", "tiny.tar.gz"]  # no temporaries


def test_extract_refuses_unsafe_and_corrupt(tmp_path):
    evil = tmp_path / "evil.tar.gz"
    with tarfile.open(evil, "w:gz") as tar:
        data = b"x"
        info = tarfile.TarInfo("../escape.txt")
        info.size = len(data)
        tar.addfile(info, io.BytesIO(data))
    with pytest.raises(UserError, match="unsafe"):
        extract_archive(evil, tmp_path / "out")
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(_tiny_archive(tmp_path).read_bytes()[:300])
    with pytest.raises(UserError, match="cannot extract"):
        extract_archive(broken, tmp_path / "out")
    assert not (tmp_path / "out").exists() and not (tmp_path.parent / "escape.txt").exists()
    assert not list(tmp_path.glob(".out.*"))


@pytest.fixture
def http_root(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *a, **k: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_download_verified(tmp_path, http_root):
    root, base = http_root
    payload = _tiny_archive(tmp_path).read_bytes()
    (root / "sc.tar.gz").write_bytes(payload)
    good = hashlib.sha256(payload).hexdigest()
    dest = tmp_path / "dl" / "sc.tar.gz"
    # a stale partial file from an interrupted run is resumed or restarted, never trusted
    dest.parent.mkdir()
    (dest.parent / "sc.tar.gz.part").write_bytes(b"garbage")
    assert download(f"{base}/sc.tar.gz", dest, good) == dest
    assert dest.read_bytes() == payload
    assert sorted(p.name for p in dest.parent.iterdir()) == ["sc.tar.gz"]


def test_download_checksum_mismatch_leaves_nothing(tmp_path, http_root):
    root, base = http_root
    (root / "sc.tar.gz").write_bytes(b"not the archive you are looking for")
    actual = hashlib.sha256(b"not the archive you are looking for").hexdigest()
    expected = gsc.RELEASES["v0.02"]["sha256"]
    dest = tmp_path / "dl" / "sc.tar.gz"
    with pytest.raises(UserError) as info:
        download(f"{base}/sc.tar.gz", dest, expected)
    assert expected in str(info.value) and actual in str(info.value)
    assert list(dest.parent.iterdir()) == []


def test_download_unreachable_and_404(tmp_path, http_root):
    _, base = http_root
    with pytest.raises(UserError, match="HTTP 404"):
        download(f"{base}/nothing.tar.gz", tmp_path / "x.tar.gz", None)
    with pytest.raises(UserError, match="dataset.gsc.archive"):
        download("http://127.0.0.1:9/x.tar.gz", tmp_path / "x.tar.gz", None, timeout=2)
    assert not list(tmp_path.glob("x.tar.gz*"))


def test_prepare_gsc_from_download(tmp_path, http_root):
    root, base = http_root
    payload = _tiny_archive(tmp_path).read_bytes()
    (root / "speech_commands_v0.02.tar.gz").write_bytes(payload)
    out = tmp_path / "ds"
    out.mkdir()
    cfg = {"version": "v0.02", "archive": None, "url": f"{base}/speech_commands_v0.02.tar.gz",
           "sha256": hashlib.sha256(payload).hexdigest()}
    info = gsc.prepare_gsc(cfg, out, tmp_path / "downloads")
    assert info["sha256"] == cfg["sha256"] and info["url"] == cfg["url"]
    assert len(list_dataset(out)) == len(FILES)
    assert (tmp_path / "downloads" / "speech_commands_v0.02.tar.gz").is_file()
    assert not (tmp_path / "ds.extract").exists()


def test_prepare_gsc_local_archive_checksum(tmp_path):
    archive = _tiny_archive(tmp_path)
    out = tmp_path / "ds"
    out.mkdir()
    with pytest.raises(UserError, match="checksum mismatch"):
        gsc.prepare_gsc({"archive": str(archive), "sha256": "0" * 64}, out, tmp_path / "dl")
    assert list(out.iterdir()) == []
    # an extracted folder is used as it is
    folder = tmp_path / "extracted"
    extract_archive(archive, folder)
    gsc.prepare_gsc({"archive": str(folder)}, out, tmp_path / "dl")
    assert len(list_dataset(out)) == len(FILES)


class _RangeHandler(http.server.BaseHTTPRequestHandler):
    """Serves ``server.files`` with Range support; ``server.drop_after`` bytes, then hangs up."""

    def do_GET(self):
        body = self.server.files.get(self.path.lstrip("/"))
        if body is None:
            self.send_error(404)
            return
        self.server.ranges.append(self.headers.get("Range"))
        start = 0
        if self.headers.get("Range"):
            start = int(self.headers["Range"].split("=")[1].split("-")[0])
            if start >= len(body):
                self.send_error(416)
                return
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        chunk = body[start:]
        if self.server.drop_after is not None:
            chunk = chunk[: self.server.drop_after]
        self.wfile.write(chunk)
        self.wfile.flush()
        self.close_connection = True

    def log_message(self, *args):
        pass


@pytest.fixture
def range_server():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _RangeHandler)
    server.files, server.ranges, server.drop_after = {}, [], None
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


def test_dropped_connection_then_resume(tmp_path, range_server):
    server, base = range_server
    payload = np.random.default_rng(1).bytes(300_000)
    server.files["big.tar.gz"] = payload
    server.drop_after = 120_000
    dest = tmp_path / "dl" / "big.tar.gz"
    good = hashlib.sha256(payload).hexdigest()
    with pytest.raises(UserError, match="interrupted.*rerun to resume"):
        download(f"{base}/big.tar.gz", dest, good, timeout=5)
    part = dest.with_name("big.tar.gz.part")
    assert not dest.exists() and part.stat().st_size == 120_000  # kept for the rerun, not under the final name
    server.drop_after = None
    assert download(f"{base}/big.tar.gz", dest, good, timeout=5) == dest
    assert server.ranges == [None, "bytes=120000-"]  # the rerun asked only for the missing bytes
    assert dest.read_bytes() == payload and not part.exists()


def test_truncated_archive_refused_and_nothing_extracted(tmp_path, range_server):
    server, base = range_server
    truncated = _tiny_archive(tmp_path).read_bytes()[:400]
    server.files["speech_commands_v0.02.tar.gz"] = truncated
    out = tmp_path / "ds"
    out.mkdir()
    cfg = {"version": "v0.02", "url": f"{base}/speech_commands_v0.02.tar.gz",
           "sha256": hashlib.sha256(truncated).hexdigest()}  # a checksum that matches the bad bytes
    with pytest.raises(UserError, match="cannot extract"):
        gsc.prepare_gsc(cfg, out, tmp_path / "downloads")
    assert list(out.iterdir()) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["downloads", "ds", "src", "tiny.tar.gz"]
    # with the published checksum the same bytes are refused before extraction
    server.files["x/speech_commands_v0.02.tar.gz"] = truncated
    with pytest.raises(UserError) as info:
        gsc.prepare_gsc({"version": "v0.02", "url": f"{base}/x/speech_commands_v0.02.tar.gz"}, out, tmp_path / "dl2")
    assert gsc.RELEASES["v0.02"]["sha256"] in str(info.value)
    assert hashlib.sha256(truncated).hexdigest() in str(info.value)
    assert list(out.iterdir()) == [] and list((tmp_path / "dl2").iterdir()) == []


def _official_test_archive(tmp_path, words=("yes", "no")):
    src = tmp_path / "official_src"
    for cls in (*words, "_silence_", "_unknown_"):
        (src / cls).mkdir(parents=True)
        write_wav(src / cls / f"t{cls.strip('_')}_nohash_0.wav", np.full(16000, 3, dtype=np.int16))
    archive = tmp_path / "speech_commands_test_set_v0.02.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(src, arcname=".")
    return archive


def test_official_test_set_replaces_testing_list(tmp_path, range_server):
    server, base = range_server
    main_archive = _tiny_archive(tmp_path)
    test_archive = _official_test_archive(tmp_path)
    server.files["test.tar.gz"] = test_archive.read_bytes()
    out = tmp_path / "ds"
    out.mkdir()
    cfg = {"version": "v0.02", "archive": str(main_archive), "test_set": "official", "test_url": f"{base}/test.tar.gz",
           "test_sha256": hashlib.sha256(test_archive.read_bytes()).hexdigest()}
    info = gsc.prepare_gsc(cfg, out, tmp_path / "dl")
    assert info["test"]["url"] == cfg["test_url"] and info["test_set"] == "official"
    entries = list_dataset(out, required_words=["yes", "no"])
    test = sorted((e.word, e.path) for e in entries if e.split == "test")
    assert [w for w, _ in test] == ["_silence_", "_unknown_", "no", "yes"]
    assert all(p.startswith("_official_test_/") for _, p in test)
    assert "no/cc_nohash_0.wav" not in {e.path for e in entries}  # the testing_list file is used by no split
    with pytest.raises(UserError, match="only fits the 12-class task"):
        list_dataset(out, required_words=["yes"])
    with pytest.raises(UserError, match="test_set: lists"):
        gsc.prepare_gsc({**cfg, "version": "v0.01"}, out, tmp_path / "dl")
