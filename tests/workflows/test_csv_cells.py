"""Labels and masks CSVs as users really save them: UIDs with spaces around them (a
spreadsheet cell, a copy from a viewer, DICOM's NUL padding), frames written ``0.0`` by
pandas. Such a UID hashed to a key no image had, so its label or mask silently matched
nothing (the series was left out as unlabelled); a frame of ``0.0`` was a ValueError
traceback."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from pipeline.cells import csv_frame, csv_key, csv_uid
from pipeline.data.io import read_labels_csv, read_masks_csv
from pipeline.errors import RadpipeError
from pipeline.keys import hash_key
from pipeline.synth import StudySpec, write_study
from workflows.cli import main

CONFIGS = Path(__file__).parents[2] / "configs"


def _rewrite(src: Path, dst: Path, edit: dict[str, object]) -> None:
    """``src`` with each column of ``edit`` changed by its function (or set to its value)."""
    with src.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    for i, r in enumerate(rows):
        for column, how in edit.items():
            r[column] = how(i, r[column]) if callable(how) else str(how)
    with dst.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)


def _spreadsheet(path: Path) -> None:
    """As a spreadsheet saves it: spaces around the column names ("label " was no column
    'label'), and rows it once used, now cleared, as empty cells (",,,": read as a row naming
    no file or series; a masks CSV then took its own folder for a mask, "seg: file not
    found")."""
    header, rest = path.read_text().split("\n", 1)
    header = ", ".join(f" {name} " for name in header.split(","))
    width = header.count(",")
    path.write_text(header + "\n" + rest + ("," * width + "\n") * 2 + " " + "," * width + "\n")


def _padded(i: int, uid: str) -> str:
    return (" " + uid, uid + " ", uid + "\x00", "\t" + uid + " ")[i % 4]


def _run(config: str, tmp_path: Path, settings: list[str]) -> int:
    sets = [*settings, f"output={tmp_path / 'runs'}", "train.epochs=1", "compute.threads=1"]
    return main(["run", str(CONFIGS / config), "--quiet", *[a for s in sets for a in ("--set", s)]])


def test_labels_with_spaces_around_their_uids_label_every_series(tmp_path: Path) -> None:
    write_study(tmp_path / "s", StudySpec(patients=12, modality="CR", size=16,
                                          series_per_patient=1))  # fmt: skip
    labels = tmp_path / "labels.csv"
    _rewrite(tmp_path / "s" / "labels.csv", labels,
             {"series_uid": _padded, "label": lambda i, v: f"{v}.0"})  # fmt: skip
    _spreadsheet(labels)
    code = _run("xray_classify.yaml", tmp_path, [f"data.source={tmp_path / 's' / 'dicom'}",
                                                 f"data.labels={labels}"])  # fmt: skip
    assert code == 0
    (run,) = (tmp_path / "runs").glob("xray_classify-*")
    counted = json.loads((run / "provenance.json").read_text())["labels"]
    assert (counted["series"], counted["labelled"], counted["without_label"]) == (12, 12, 0)
    assert counted["label_rows_not_in_data"] == 0
    # "0.0"/"1.0" are the indices 0/1, named by the class_name column (they were the names)
    assert json.loads((run / "classes.json").read_text())["class_names"] == [
        "no_lesion", "round_lesion"]  # fmt: skip


def test_labels_written_as_floats_are_the_users_class_indices(tmp_path: Path) -> None:
    """With 12 classes as "0.0" ... "11.0", text order put "10.0" at index 2."""
    from workflows.run.labels import read_label_table

    labels = tmp_path / "labels.csv"
    labels.write_text("series_uid,label\n" + "".join(f"1.2.{i},{i}.0\n" for i in range(12)))
    table = read_label_table(labels)
    assert table.class_names == [str(i) for i in range(12)]
    assert table.by_key == {hash_key(f"1.2.{i}"): i for i in range(12)}
    labels.write_text("series_uid,label\n1.2.1, 1.0\n1.2.2,2.5\n")  # 2.5 is no index
    # it was "mixes class indices (1) with class names", no line
    with pytest.raises(RadpipeError, match=r"labels.csv line 3: column 'label' holds '2.5'"):
        read_label_table(labels)


def test_masks_with_spaced_uids_and_float_frames_are_read(tmp_path: Path) -> None:
    write_study(tmp_path / "s", StudySpec(patients=4, modality="MR", task="segmentation",
                                          size=16, slices=3))  # fmt: skip
    masks = tmp_path / "s" / "masks_edited.csv"  # beside the original: mask paths are relative
    _rewrite(tmp_path / "s" / "masks.csv", masks, {"sop_instance_uid": _padded, "frame": "0.0"})
    _spreadsheet(masks)
    settings = [f"data.source={tmp_path / 's' / 'dicom'}", f"data.masks={masks}",
                "data.labels=null", "preprocess.0.shape=[16,16]"]  # fmt: skip
    assert _run("mr_segment_mlp.yaml", tmp_path, settings) == 0
    (run,) = (tmp_path / "runs").glob("mr_segment_mlp-*")
    counted = json.loads((run / "provenance.json").read_text())["masks"]
    assert counted["mask_rows"] == 4 * 2 * 3 and counted["mask_rows_not_in_data"] == 0


def test_a_frame_that_is_no_frame_number_names_the_file_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    masks = tmp_path / "masks.csv"
    masks.write_text("sop_instance_uid,frame,mask\n1.2.3,0,a.png\n1.2.4,1.5,b.png\n")
    with pytest.raises(RadpipeError, match=r"masks.csv line 3: frame '1.5' is not a frame"):
        read_masks_csv(masks)
    (tmp_path / "d").mkdir()
    for name in ("a.png", "b.png"):  # a mask file that is not there is refused first
        (tmp_path / name).write_bytes(b"")
    code = main(["run", str(CONFIGS / "mr_segment_mlp.yaml"), "--quiet",
                 "--set", f"data.source={tmp_path / 'd'}", "--set", f"data.masks={masks}",
                 "--set", "data.labels=null", "--set", f"output={tmp_path / 'runs'}"])  # fmt: skip
    err = capsys.readouterr().err
    assert code in (1, 2) and "Traceback" not in err
    assert "masks.csv line 3: frame '1.5' is not a frame number" in err


def test_reader_functions_strip_identifiers_and_read_float_frames(tmp_path: Path) -> None:
    labels = tmp_path / "labels.csv"
    labels.write_text("series_uid,label\n 1.2.3 ,1.0\n1.2.4\x00,0\n")
    assert read_labels_csv(labels) == {hash_key("1.2.3"): 1, hash_key("1.2.4"): 0}
    labels.write_text("series_uid,label\n1.2.3,\n")
    with pytest.raises(RadpipeError, match=r"labels.csv line 2: label '' is not a class index"):
        read_labels_csv(labels)
    masks = tmp_path / "masks.csv"
    masks.write_text("instance_key,frame,mask\n abc ,2.0,m.png\n")
    assert read_masks_csv(masks) == {("abc", 2): tmp_path / "m.png"}


@pytest.mark.parametrize(
    ("cell", "frame"), [("", 0), (None, 0), ("0", 0), ("7", 7), (" 3.0 ", 3), ("12.00", 12)]
)
def test_csv_frame_reads_whole_numbers(cell: str | None, frame: int) -> None:
    assert csv_frame(cell) == frame


@pytest.mark.parametrize("cell", ["1.5", "a", "-1", "1e3", "0x1"])
def test_csv_frame_refuses_what_is_no_frame_number(cell: str) -> None:
    with pytest.raises(ValueError, match=f"frame {cell!r} is not a frame number"):
        csv_frame(cell)


def test_csv_key_keeps_the_identifier_itself() -> None:
    assert csv_key("\t1.2.840.113619.2.55 \x00") == "1.2.840.113619.2.55"
    assert csv_key("1.2.3") == "1.2.3" and csv_key(None) == ""


def test_a_row_without_its_identifier_names_its_line(tmp_path: Path) -> None:
    """A row with a label but an empty series_uid was 'series_uid listed again with another
    label ('' then '1')' (every such row hashed the empty text to one key)."""
    from workflows.run.labels import read_label_table

    labels = tmp_path / "labels.csv"
    labels.write_text("series_uid,label\n1.2.3,0\n, \n ,1\n,\n,,\n")  # 3 trailing: ignored
    with pytest.raises(RadpipeError, match=r"labels.csv line 3: the series_uid cell is empty"):
        read_label_table(labels)
    with pytest.raises(RadpipeError, match=r"labels.csv line 3: the series_uid cell is empty"):
        read_labels_csv(labels)
    masks = tmp_path / "masks.csv"
    masks.write_text("sop_instance_uid,frame,mask\n1.2.3,0,a.png\n1.2.4,0,\n")
    with pytest.raises(RadpipeError, match=r"masks.csv line 3: the mask cell is empty"):
        read_masks_csv(masks)
    masks.write_text("sop_instance_uid,frame,mask\n,0,a.png\n")
    with pytest.raises(RadpipeError, match=r"masks.csv line 2: the sop_instance_uid cell is"):
        read_masks_csv(masks)


def test_no_label_matching_says_what_the_keys_may_be(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Keys written under another project secret, or StudyInstanceUIDs in series_uid, matched
    no series: the error said only that no series had a label."""
    from workflows.run.labels import apply_missing_policy, read_label_table

    labels = tmp_path / "labels.csv"
    labels.write_text("series_uid,label\n1.2.3,0\n1.2.4,1\n")
    with pytest.raises(RadpipeError, match=r"these files' SeriesInstanceUID \(not their "):
        apply_missing_policy(read_label_table(labels), [hash_key("9.9")], "warn")
    other = tmp_path / "other-secret"
    other.write_text("another-projects-secret-0123456789\n")
    monkeypatch.setenv("RADPIPE_SECRET_FILE", str(other))
    keys = [hash_key("1.2.3"), hash_key("1.2.4")]  # as written by another project
    monkeypatch.undo()
    labels.write_text(f"series_key,label\n{keys[0]},0\n{keys[1]},1\n")
    with pytest.raises(RadpipeError, match=r"keys written with another secret"):
        apply_missing_policy(read_label_table(labels), [hash_key("1.2.3")], "warn")


@pytest.mark.parametrize("key", ["8e32019382960996", "0123456789e01234", "1e1"])
def test_hashed_keys_of_digits_and_one_e_are_keys_not_scientific_numbers(key: str) -> None:
    # about 1 key in 1,300 is digits with one 'e': read as scientific notation, a masks CSV
    # naming such an instance_key was refused (a run failed on a valid key, by chance)
    assert csv_uid(key, "instance_key") == key
    with pytest.raises(ValueError, match="scientific notation"):
        csv_uid("8.32E+15", "instance_key")  # what a spreadsheet writes: a signed exponent
