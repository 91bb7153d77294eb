"""Pseudonymous keys are HMACs with a per-project secret created on first use ("Also"):
stable for the same secret, different for another, not recomputable from the IDs alone."""

from __future__ import annotations

import hashlib
import hmac
import stat
from pathlib import Path

import pytest

from pipeline import keys
from tests.runner.conftest import base_config
from workflows.run.config import validate_config
from workflows.run.study import prepare_study


@pytest.fixture
def secret_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    path = tmp_path / "project" / "secret"
    monkeypatch.setenv(keys.SECRET_ENV, str(path))
    monkeypatch.setattr(keys, "_cache", {})
    return path


def test_keys_are_hmacs_with_a_secret_made_on_first_use(secret_file: Path) -> None:
    assert not secret_file.exists()
    key = keys.hash_key("SYNCR0001")
    assert secret_file.is_file() and stat.S_IMODE(secret_file.stat().st_mode) == 0o600
    secret = secret_file.read_text().strip().encode()
    assert len(secret) == 64
    expected = hmac.new(secret, b"SYNCR0001", hashlib.sha256).hexdigest()[:16]
    assert key == expected
    assert key != hashlib.sha256(b"SYNCR0001").hexdigest()[:16]  # not the unsalted hash
    assert keys.hash_key("SYNCR0001") == key  # stable
    assert keys.hash_key("SYNCR0001", length=8) == expected[:8]  # (recent keys are kept:
    salted = hmac.new(b"pepper", b"SYNCR0001", hashlib.sha256).hexdigest()[:16]  # by length
    assert keys.hash_key("SYNCR0001", salt="pepper") == salted  # and by secret too)


def test_keys_of_a_file_made_together_are_the_hmacs_of_the_secret_of_the_moment(
    secret_file: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``hash_keys`` (a converted file's patient, study, series and instance keys) looks the
    secret up once per call: the same keys as one at a time, and a new secret set between
    calls is taken at the next."""
    secret_file.parent.mkdir(parents=True)
    secret_file.write_text("c" * 64)
    found = keys.hash_keys(["P1", "1.2.3", "1.2.3.4", ""], length=12)
    assert found == [hmac.new(b"c" * 64, v.encode(), hashlib.sha256).hexdigest()[:12]
                     for v in ("P1", "1.2.3", "1.2.3.4", "")]  # fmt: skip
    other = secret_file.with_name("other")
    other.write_text("d" * 64)
    monkeypatch.setenv(keys.SECRET_ENV, str(other))
    assert keys.hash_keys(["P1"]) == [hmac.new(b"d" * 64, b"P1", hashlib.sha256).hexdigest()[:16]]


def test_another_secret_gives_other_keys_and_another_conversion(
    cr16: Path, secret_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret_file.parent.mkdir(parents=True)
    secret_file.write_text("a" * 64)
    first = keys.hash_key("1.2.3")
    (tmp_path / "r1").mkdir()
    raw = base_config(cr16, tmp_path / "out")
    a = prepare_study(validate_config(raw), tmp_path / "r1", progress=False)
    other = tmp_path / "other" / "secret"
    other.parent.mkdir()
    other.write_text("b" * 64)
    monkeypatch.setenv(keys.SECRET_ENV, str(other))
    assert keys.hash_key("1.2.3") != first
    (tmp_path / "r2").mkdir()
    b = prepare_study(validate_config(raw), tmp_path / "r2", progress=False)
    assert a.root != b.root and not b.reused_conversion
    assert {r["series_key"] for r in a.split}.isdisjoint({r["series_key"] for r in b.split})


@pytest.mark.parametrize("command", ["inspect", "convert", "run"])
def test_a_bad_secret_is_a_one_line_config_error_before_any_work(
    tmp_path: Path, command: str
) -> None:
    import os
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[2]
    short = tmp_path / "short_secret"
    short.write_text("short\n")
    folder = tmp_path / "dicom"
    folder.mkdir()
    args = {"inspect": [str(folder)], "convert": [str(folder), str(tmp_path / "out")],
            "run": [str(root / "configs/xray_classify.yaml"), "--set", f"data.source={folder}",
                    "--set", f"output={tmp_path / 'runs'}"]}[command]  # fmt: skip
    for secret, reason in ((short, "the radpipe secret is too short"),
                           (tmp_path, "cannot read the radpipe secret")):  # fmt: skip
        env = {**os.environ, keys.SECRET_ENV: str(secret)}
        done = subprocess.run([sys.executable, "-m", "workflows.cli", command, *args],
                              capture_output=True, text=True, env=env, timeout=120)  # fmt: skip
        assert done.returncode == 2, done.stderr
        assert "Traceback" not in done.stderr and len(done.stderr.strip().splitlines()) == 1
        kind = "config error" if command == "run" else "error"  # inspect, convert: no config
        assert f"radpipe {command}: {kind}: {secret.name}: {reason}" in done.stderr
    assert not (tmp_path / "out").exists() and not (tmp_path / "runs").exists()
