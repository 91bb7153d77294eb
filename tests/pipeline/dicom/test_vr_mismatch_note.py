"""A data set encoded with implicit VR under a transfer syntax that says explicit VR: pydicom
reads it as implicit and warns ``Expected explicit VR, but found implicit VR - using implicit
VR for reading``, which ``inspect`` and ``convert`` passed on in pydicom's words (and the
convert summary counted notes under that whole sentence). It is said in radpipe's words now,
on the file (named relative to SRC)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from pydicom.filebase import DicomBytesIO
from pydicom.filewriter import write_dataset, write_file_meta_info
from pydicom.uid import ExplicitVRLittleEndian

from tests.pipeline.dicom.builders import image_dataset
from workflows.cli import main

CT = "1.2.840.10008.5.1.4.1.1.2"


def _implicit_under_explicit(path: Path) -> None:
    """A CT whose File Meta says Explicit VR Little Endian, its data set implicit VR."""
    ds = image_dataset(CT, "CT", 2, 3, signed=True)
    ds.RescaleSlope, ds.RescaleIntercept = 1, -1024
    ds.PixelData = np.zeros(6, "<i2").tobytes()
    meta = ds.file_meta
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    head = DicomBytesIO()
    head.is_little_endian, head.is_implicit_VR = True, False
    head.write(b"\0" * 128 + b"DICM")
    write_file_meta_info(head, meta, enforce_standard=True)
    body = DicomBytesIO()
    body.is_little_endian, body.is_implicit_VR = True, True
    del ds.file_meta
    write_dataset(body, ds)
    path.parent.mkdir(parents=True)
    path.write_bytes(head.getvalue() + body.getvalue())


def test_implicit_vr_under_an_explicit_syntax_is_said_in_radpipe_words(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _implicit_under_explicit(tmp_path / "src" / "sub" / "ct.dcm")
    main(["inspect", str(tmp_path / "src"), "--json"])
    problems = json.loads(capsys.readouterr().out)["problems"]
    assert problems == [{"where": "sub/ct.dcm", "kind": "note", "reason": (
        "note: implicit VR: the data set is encoded with implicit VR though its transfer "
        "syntax says explicit VR (read as implicit VR, as pydicom reads it)")}]  # fmt: skip
    assert "Expected explicit VR" not in json.dumps(problems)
