import re

from sparsekws.core.provenance import config_hash, git_revision, package_versions, stamp, utc_now


def test_config_hash_ignores_key_order_but_not_values():
    assert config_hash({"a": 1, "b": [1, 2]}) == config_hash({"b": [1, 2], "a": 1})
    assert config_hash({"a": 1}) != config_hash({"a": 2})
    assert re.fullmatch(r"[0-9a-f]{12}", config_hash({}))


def test_git_revision_outside_a_repository(tmp_path):
    assert git_revision(tmp_path) == "unknown"


def test_git_revision_in_this_checkout():
    assert re.fullmatch(r"[0-9a-f]{12}(-dirty)?|unknown", git_revision())


def test_versions_and_stamp():
    versions = package_versions(("torch", "no-such-package-xyz"))
    assert versions["torch"].startswith("2.13.0")
    assert versions["no-such-package-xyz"] == "not installed"
    assert set(stamp({"a": 1})) == {"config_hash", "git_revision"}
    assert utc_now().endswith("+00:00")
