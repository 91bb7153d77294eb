"""What ``benchmarks/fuzz_inputs.py`` found in the user's inputs other than DICOM bytes, as a
user meets it: ``radpipe run`` in a subprocess, relative paths, exit 2 before anything is
made, one line naming the file and the problem, no traceback.

- a labels CSV with a quote never closed was read as one cell holding the rest of the file
  (its rows gone; refused, if at all, for an unrelated reason), and one with a cell over
  131072 characters stopped with ``_csv.Error`` (a traceback);
- a label of 40 digits (an ID in the label column) ran the machine out of memory: a name
  was made for every class index up to it;
- a config file in a Windows code page was a ``UnicodeDecodeError`` traceback, and a folder
  given as the config an ``IsADirectoryError`` one.
"""

from __future__ import annotations

import csv
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.runner.conftest import base_config, radpipe_in


def _run_with_labels(cr16: Path, tmp_path: Path, text: str) -> subprocess.CompletedProcess[str]:
    """``radpipe run c.yaml`` in ``tmp_path`` with ``labels.csv`` of ``text`` beside it."""
    shutil.copytree(cr16 / "dicom", tmp_path / "dicom")
    (tmp_path / "labels.csv").write_text(text)
    config = base_config(tmp_path, Path("runs"), source="dicom", labels="labels.csv")
    (tmp_path / "c.yaml").write_text(yaml.safe_dump(config))
    return radpipe_in(tmp_path, "run", "c.yaml", "--quiet")


def _labels(cr16: Path) -> list[list[str]]:
    with (cr16 / "labels.csv").open(newline="") as fh:
        rows = [[r["series_uid"], r["label"], r["class_name"]] for r in csv.DictReader(fh)]
    return [["series_uid", "label", "class_name"], *rows]


def _text(rows: list[list[str]]) -> str:
    return "".join(",".join(r) + "\n" for r in rows)


def _refused(proc: subprocess.CompletedProcess[str], tmp_path: Path) -> str:
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "Traceback" not in proc.stderr and str(tmp_path) not in proc.stderr
    assert not (tmp_path / "runs").exists()  # refused before a run directory is made
    return proc.stderr.strip().splitlines()[-1]


def test_a_quote_never_closed_is_refused_at_its_line(cr16: Path, tmp_path: Path) -> None:
    rows = _labels(cr16)
    rows[2][2] = '"' + rows[2][2]  # line 3: "no_lesion (or "round_lesion), never closed
    message = _refused(_run_with_labels(cr16, tmp_path, _text(rows)), tmp_path)
    assert message == (
        'radpipe run: config error: data.labels: labels.csv line 3: a quote (") opens a cell '
        "here that is never closed, so the rest of the file would be one cell: close the "
        'quote, or double a quote inside a quoted value (""), and run again.'
    )


def test_a_cell_over_the_csv_field_limit_is_refused_at_its_line(cr16: Path, tmp_path: Path) -> None:
    rows = _labels(cr16)
    rows[3][2] = "x" * 131073  # one past the csv module's field limit
    message = _refused(_run_with_labels(cr16, tmp_path, _text(rows)), tmp_path)
    assert message.startswith(
        "radpipe run: config error: data.labels: labels.csv line 4: a cell of this row is "
        "over 131072 characters long"
    )


def test_a_label_far_past_any_class_index_is_refused_naming_its_line(
    cr16: Path, tmp_path: Path
) -> None:
    # 10**6 (not 40 digits, which took the machine's memory before the fix): the run made
    # a million class names and refused with a message listing 999,998 skipped indices
    rows = [[u, lab] for u, lab, _ in _labels(cr16)]
    rows[5][1] = "1000000"
    message = _refused(_run_with_labels(cr16, tmp_path, _text(rows)), tmp_path)
    assert message == (
        "radpipe run: config error: labels.csv line 6: column 'label' holds 1000000, not a "
        "class index (at most 9999; class indices count 0, 1, 2, ...): is that column an ID "
        "or a measurement? Correct the value, or name the label column with "
        "data.label_column."
    )


def test_a_label_of_forty_digits_is_shortened_in_the_message() -> None:
    from pipeline.cells import CsvRow
    from pipeline.errors import RadpipeError
    from workflows.run.class_names import check_index_range

    row = CsvRow(label="1234567890" * 4)
    row.line = 7
    try:
        check_index_range("labels.csv", "label", [row])
    except RadpipeError as err:
        assert str(err).startswith(
            "labels.csv line 7: column 'label' holds 12345678...7890 (40 digits), not a class "
            "index (at most 9999;"
        )
    else:
        raise AssertionError("not refused")


def test_a_config_in_a_windows_code_page_is_named_with_its_line(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_bytes("name: x\n# l\u00e9sion\n".encode("latin-1"))
    for args in (["run", "c.yaml"], ["config", "show", "c.yaml"]):
        proc = radpipe_in(tmp_path, *args)
        assert proc.returncode == 2, proc.stderr[-3000:]
        assert proc.stderr.strip() == (
            f"radpipe {args[0]}: config error: c.yaml: not UTF-8 text (byte 0xE9 at line 2, "
            "column 4, e.g. an accented letter saved in a Windows code page); save it as "
            "UTF-8 and run again"
        )


def test_a_folder_given_as_the_config_is_named(tmp_path: Path) -> None:
    (tmp_path / "configs").mkdir()
    proc = radpipe_in(tmp_path, "run", "configs")
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert proc.stderr.strip() == (
        "radpipe run: config error: configs: is a folder, not a YAML config file"
    )


@pytest.mark.parametrize("key", ["lr", "weight_decay", "gamma"])
def test_an_infinite_training_setting_is_refused_with_the_config(tmp_path: Path, key: str) -> None:
    # `lr: .inf` passed `> 0`: the run stopped in its first batch (NaN weights), exit 1,
    # its directory kept with advice to resume it
    (tmp_path / "c.yaml").write_text(f"name: x\ntrain:\n  {key}: .inf\n")
    proc = radpipe_in(tmp_path, "config", "show", "c.yaml")
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert f"c.yaml: train.{key}: must be a finite number; got inf" in proc.stderr


def test_a_set_below_a_number_is_refused_naming_the_key(tmp_path: Path) -> None:
    # `--set train.lr.x=3` was a TypeError traceback ('float' object does not support item
    # assignment)
    (tmp_path / "c.yaml").write_text("name: x\ntrain:\n  lr: 0.01\n")
    proc = radpipe_in(tmp_path, "config", "show", "c.yaml", "--set", "train.lr.x=3")
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert proc.stderr.strip() == (
        "radpipe config: config error: --set train.lr.x: train.lr is not a mapping"
    )


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (["run", "c.yaml", "--threads", "99999999"],  # a segmentation fault, exit -11
         "radpipe run: error: argument --threads: expected at most 1024; got 99999999"),
        (["synth", "s", "--patients", "1", "--series-per-patient", "1", "--slices", "1",
          "--size", "99999999"],  # a numpy _ArrayMemoryError traceback
         "radpipe synth: error: argument --size: expected at most 4096; got 99999999"),
        (["synth", "s", "--slices", "2049"],
         "radpipe synth: error: argument --slices: expected at most 2048; got 2049"),
    ],
)  # fmt: skip
def test_a_count_past_its_bound_is_a_usage_error(
    tmp_path: Path, args: list[str], said: str
) -> None:
    proc = radpipe_in(tmp_path, *args)
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert proc.stderr.strip().startswith(said)
    assert not (tmp_path / "s").exists()


def test_compute_threads_past_its_bound_is_refused_with_the_config(tmp_path: Path) -> None:
    (tmp_path / "c.yaml").write_text("name: x\ncompute:\n  threads: 1025\n")
    proc = radpipe_in(tmp_path, "config", "show", "c.yaml")
    assert proc.returncode == 2, proc.stderr[-3000:]
    assert "c.yaml: compute.threads: Input should be less than or equal to 1024" in proc.stderr


def test_evaluate_names_an_unreadable_mask_by_its_csv_path_and_line(tmp_path: Path) -> None:
    # `radpipe evaluate --masks` said `1.2.826...png: cannot be read as png (...)`: the base
    # name alone, neither the CSV nor its line (`radpipe run` names both)
    from types import SimpleNamespace

    import numpy as np
    from PIL import Image

    from pipeline.errors import RadpipeError
    from workflows.run.config import DataConfig
    from workflows.run.external_classes import external_mask_classes

    fold = tmp_path / "run"
    (fold / "stages").mkdir(parents=True)
    (fold / "stages" / "data.json").write_text('{"num_classes": 3}')
    (tmp_path / "m").mkdir()
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "m" / "a.png")
    (tmp_path / "m" / "b.png").write_bytes(b"")  # empty: no PNG
    (tmp_path / "masks.csv").write_text("file,mask\nx/1.dcm,m/a.png\nx/2.dcm,m/b.png\n")
    config = SimpleNamespace(data=DataConfig(source=tmp_path, kind="images"))
    with pytest.raises(RadpipeError) as info:
        external_mask_classes(config, tmp_path / "masks.csv", [fold], "--masks masks.csv")
    assert str(info.value).startswith(
        "--masks masks.csv: 1 of 2 mask files cannot be read as class indices (nothing was "
        "scored):\n  m/b.png (line 3): cannot be read as png ("
    )
