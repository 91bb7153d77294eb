"""UTF-8 text in a file that declares Latin-1 (ISO_IR 100) or no character set: said.

pydicom decodes it as declared, Latin-1, so 'Schädel' shows as 'SchÃ¤del' in ``inspect``
and ``index.json``; it was unsaid. The value is kept as declared and the manifest and
``inspect`` now say what was found. Expected: the UTF-8 bytes of the text, decoded as
Latin-1 by Python (what pydicom shows), and no note where the bytes are Latin-1 text or
the declared set is UTF-8 or another one.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from pydicom.dataelem import DataElement

from pipeline.dicom.index import index_folder
from tests.pipeline.dicom.builders import image_dataset, write_folder
from workflows.convert.batch import ConvertOptions, convert_folder

CT = "1.2.840.10008.5.1.4.1.1.2"
SAID = "SeriesDescription (0008,103E) looks like UTF-8 text read as Latin-1"


@pytest.mark.parametrize(
    ("charset", "raw", "declared"),
    [
        ("ISO_IR 100", "Schädel Kopf".encode(), "is ISO_IR 100,"),
        (None, "Schädel Kopf".encode(), "is absent (the default repertoire),"),
        ("ISO_IR 100", "Schädel Kopf".encode("latin-1"), ""),  # Latin-1 as declared
        ("ISO_IR 192", "Schädel Kopf".encode(), ""),  # UTF-8 as declared
        ("ISO_IR 100", b"HEAD", ""),  # ASCII
        ("ISO_IR 101", "Głowa".encode(), ""),  # Latin-2: not read as Latin-1
    ],
    ids=["utf8-as-latin1", "utf8-undeclared", "latin1", "utf8-declared", "ascii", "latin2"],
)
def test_utf8_under_latin1_is_said_and_left_as_read(
    tmp_path: Path, charset: str | None, raw: bytes, declared: str
) -> None:
    ds = image_dataset(CT, "CT", 1, 2, bits=16)
    if charset:
        ds.SpecificCharacterSet = charset
    ds.add(DataElement(0x0008103E, "LO", raw))
    ds.PixelData = bytes(4)
    src = write_folder(tmp_path / "src", x=ds)
    index = index_folder(src)
    notes = [p.reason for p in index.all_problems() if SAID in p.reason]
    convert_folder(src, tmp_path / "out", ConvertOptions(format="npy"), progress=False)
    with (tmp_path / "out" / "manifest.csv").open(newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    said = [p for p in row["problems"].split("; ") if p.startswith(SAID)]
    if not declared:
        assert notes == said == []
        return
    (series,) = index.series
    assert series.first.description == raw.decode("latin-1") == "SchÃ¤del Kopf"  # as declared
    assert len(notes) == len(said) == 1 and declared in said[0] and "ISO_IR 192" in said[0]
