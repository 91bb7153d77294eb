"""``radpipe inspect``, ``convert`` and ``synth`` read no config, yet their usage errors were
called config errors (``radpipe inspect: config error: scan.dcm: not a folder.``), sending a
newcomer to look for a config file. They are ``error:`` now, exit 2 as before; ``run`` keeps
``config error:``. Through the command line, from the folder the paths are relative to."""

from __future__ import annotations

from pathlib import Path

from tests.runner.conftest import radpipe_in


def test_commands_without_a_config_say_error_not_config_error(tmp_path: Path) -> None:
    (tmp_path / "scan.dcm").write_bytes(b"")
    said = {}
    for args in (["inspect", "scan.dcm"], ["convert", "scan.dcm", "out"],
                 ["synth", "s", "--size", "8"], ["run", "nope.yaml"]):  # fmt: skip
        proc = radpipe_in(tmp_path, *args)
        assert proc.returncode == 2, proc.stderr
        said[args[0]] = proc.stderr.strip()
    assert said == {
        "inspect": "radpipe inspect: error: scan.dcm: not a folder.",
        "convert": "radpipe convert: error: scan.dcm: not a folder.",
        "synth": "radpipe synth: error: --size must be >= 16; got 8.",
        "run": "radpipe run: config error: nope.yaml: no such config file",
    }
    assert not (tmp_path / "out").exists() and not (tmp_path / "s").exists()
