"""A DICOM file gzipped (``.dcm.gz``, as some archives export) or zipped in the folder was
listed as "not a DICOM file", which sends the user looking for a broken file: the message now
says it is a compressed file or archive that radpipe does not read inside."""

from __future__ import annotations

import gzip
import zipfile
from pathlib import Path

import numpy as np
import pytest

from pipeline.dicom import index_folder
from tests.pipeline.dicom.builders import image_dataset


def _dicom_bytes(tmp_path: Path) -> bytes:
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.7", "OT", 2, 2, bits=8, patient="P")
    ds.PixelData = np.arange(4, dtype=np.uint8).tobytes()
    path = tmp_path / "plain.dcm"
    ds.save_as(path, enforce_file_format=True)
    return path.read_bytes()


def test_gzipped_and_zipped_dicom_are_named_as_archives(tmp_path: Path) -> None:
    data = _dicom_bytes(tmp_path)
    src = tmp_path / "src"
    src.mkdir()
    (src / "a.dcm.gz").write_bytes(gzip.compress(data))
    with zipfile.ZipFile(src / "b.zip", "w") as z:
        z.writestr("b.dcm", data)
    (src / "c.txt").write_text("hello\n")
    problems = {p.where: p.reason for p in index_folder(src).problems}
    assert problems["a.dcm.gz"].endswith(
        ": a gzip archive or compressed file, not read inside; unpack it first"
    )
    assert "a ZIP archive" in problems["b.zip"]
    assert problems["c.txt"] == "not a DICOM file (no DICM prefix, no DICOM header)"


def test_images_among_dicom_are_named_with_how_radpipe_reads_them(tmp_path: Path) -> None:
    """A folder of PNG/NPY/NIfTI images given as DICOM (``radpipe inspect``/``convert``, or
    a run without ``data.kind: images``) said "not a DICOM file" for each, and a ``.nii.gz``
    was "a gzip archive ...; unpack it first", which leads nowhere: each now says what it is
    and how radpipe reads it (JPEG and TIFF: saved as PNG first)."""
    import nibabel as nib
    from PIL import Image

    src = tmp_path / "src"
    src.mkdir()
    pixels = np.zeros((4, 4), np.uint8)
    Image.fromarray(pixels).save(src / "a.png")
    Image.fromarray(pixels).save(src / "b.jpg")
    Image.fromarray(pixels).save(src / "c.tif")
    np.save(src / "d.npy", pixels)
    nib.save(nib.Nifti1Image(pixels, np.eye(4)), src / "e.nii.gz")
    nib.save(nib.Nifti1Image(pixels, np.eye(4)), src / "f.nii")
    problems = {p.where: p.reason for p in index_folder(src).problems}
    head = "not a DICOM file (no DICM prefix, no DICOM header): "
    advice = "; radpipe run trains on PNG, NPY and NIfTI files with data.kind: images"
    assert problems == {
        "a.png": f"{head}a PNG image{advice}",
        "b.jpg": f"{head}a JPEG image; save it as PNG (lossless) to train on it with "
        "data.kind: images",
        "c.tif": f"{head}a TIFF image; save it as PNG (lossless) to train on it with "
        "data.kind: images",
        "d.npy": f"{head}a NumPy array{advice}",
        "e.nii.gz": f"{head}a NIfTI image{advice}",
        "f.nii": f"{head}a NIfTI image{advice}",
    }


def test_a_run_on_a_folder_of_pngs_says_to_use_data_kind_images(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``radpipe run`` on a folder of PNGs without ``data.kind: images`` said only "No image
    in SRC could be converted; see errors.csv". Its list CSV (``image,label``) is now refused
    before anything is converted, saying the same."""
    from PIL import Image

    from workflows.cli import main

    (tmp_path / "pngs").mkdir()
    for i in range(3):
        Image.fromarray(np.full((4, 4), i, np.uint8)).save(tmp_path / "pngs" / f"im{i}.png")
    (tmp_path / "pngs" / "list.csv").write_text("image,label\nim0.png,0\nim1.png,1\nim2.png,0\n")
    config = tmp_path / "run.yaml"  # paths from the config's folder
    config.write_text(
        "task: classification\noutput: out\nconvert: {workers: 1}\n"
        "data: {source: pngs, labels: pngs/list.csv}\nmodel: {type: mlp_classifier}\n"
    )
    # its list CSV has no DICOM key column: said before anything is converted (exit 2)
    assert main(["run", str(config), "--quiet"]) == 2
    err = capsys.readouterr().err
    assert (
        "data.labels: list.csv has no 'series_uid' or 'series_key' or 'file' column (columns: "
        "image, label); its 'image' column lists image files: radpipe run trains on PNG, NPY "
        "and NIfTI files with data.kind: images"
    ) in err
    assert not (tmp_path / "out").exists()
