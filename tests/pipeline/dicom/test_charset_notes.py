"""A text value its character set cannot decode, or an unknown character set, said in words.

pydicom's warnings name the Python codec or the term in quotes, which radpipe hashes like any
value: ``note: Failed to decode byte string with encoding '#68f77470' - using replacement
characters``, so the user could not tell which character set was at fault. A character set
name is no patient data: it is now shown, as its DICOM term (PS3.3 C.12.1.1.2).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from pydicom.dataelem import DataElement

from pipeline.dicom.reasons import charset_warning
from tests.pipeline.dicom.builders import image_dataset, write_folder
from workflows.convert.batch import ConvertOptions, convert_folder

CT = "1.2.840.10008.5.1.4.1.1.2"


@pytest.mark.filterwarnings("ignore:Unknown encoding")  # pydicom's, as the test writes the file
@pytest.mark.parametrize(
    ("charset", "said"),
    [
        ("ISO_IR 192", "a text value is not valid in its character set (ISO_IR 192, as "
                       "SpecificCharacterSet (0008,0005) says): read with replacement "
                       "characters (U+FFFD) where its bytes do not decode"),
        ("ISO_IR 999", "SpecificCharacterSet (0008,0005) ISO_IR 999 is no character set DICOM "
                       "defines: text values read as Latin-1 (ISO_IR 100), as pydicom does"),
    ],
    ids=["latin-1-bytes-under-utf-8", "unknown-term"],
)  # fmt: skip
def test_convert_names_the_character_set(tmp_path: Path, charset: str, said: str) -> None:
    ds = image_dataset(CT, "CT", 1, 2, bits=16)
    ds.SpecificCharacterSet = charset
    ds.add(DataElement(0x0008103E, "LO", "Schädel".encode("latin-1")))  # SeriesDescription
    ds.PixelData = bytes(4)
    src = write_folder(tmp_path / "src", x=ds)
    convert_folder(src, tmp_path / "out", ConvertOptions(format="npy"), progress=False)
    with (tmp_path / "out" / "manifest.csv").open(newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert said in row["problems"].split("; ")  # the term was a hashed '#...' key


def test_other_words_and_unplain_terms() -> None:
    assert charset_warning("Invalid value") == "Invalid value"
    got = charset_warning("Unknown encoding 'Müller^Hans' - using default encoding instead")
    assert got.startswith("SpecificCharacterSet (0008,0005) a value not shown is no")
    assert (
        charset_warning(
            "Incorrect value for Specific Character Set 'ISO IR 100' - assuming 'ISO_IR 100'"
        )
        == "SpecificCharacterSet (0008,0005) ISO IR 100 is misspelt: read as ISO_IR 100"
    )


def test_a_change_of_decoder_plugin_between_frames_names_the_plugins() -> None:
    """pydicom warns when one frame is decoded by another plugin than the frame before (a
    plugin failed on some frames, pydicom/pixels/decoders/base.py), naming the plugins in
    quotes; they were hashed like values (``The decoding plugin has changed from '#956c84ad'
    to '#b96a8bf7' ... consider passing '#25922b83' instead``, found by fuzzing pydicom's
    test files), so the note said nothing a user could act on."""
    import warnings

    from pipeline.dicom.files import captured_warnings

    with captured_warnings() as caught:
        warnings.warn(  # pydicom 3's words, as it raises them
            "The decoding plugin has changed from 'pylibjpeg' to 'pydicom' during the decoding "
            "process - you may get inconsistent inter-frame results, consider passing "
            "'decoding_plugin=\"pydicom\"' instead",
            UserWarning,
            stacklevel=1,
        )
    assert caught == [
        "frames decoded by more than one plugin (pylibjpeg, then pydicom: one failed on some "
        "frames): decoders may differ in rounding, so frames may be inconsistent"
    ]
