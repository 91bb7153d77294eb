"""A damaged Value Representation said with its bytes and its tag, in inspect and convert.

Two VR bytes of CT_small.dcm (explicit VR little endian) are overwritten. Bytes outside
``AA``-``ZZ`` made pydicom read the element as implicit VR, its length running past the end
of the file: the file was called truncated. Two capitals that are no VR raised pydicom's
``Unknown Value Representation`` when used, and the VR was hashed as if it were a value.
The expected tag, keyword and bytes are the ones written.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydicom.data import get_testdata_file

from tests.pipeline.dicom.geometry_cases import convert_nifti

_SWALLOWED = ("which is no DICOM VR; read as an implicit-VR element, its length ({:,} bytes) "
              "runs past the end of the file, so the elements after it (the pixel data too) "
              "are lost")  # fmt: skip


def _damaged(folder: Path, element: bytes, vr: bytes) -> tuple[Path, int]:
    """CT_small.dcm with the VR bytes of ``element`` (group, element, old VR) replaced;
    the 4-byte length that VR and 2-byte length make read together."""
    data = bytearray(Path(get_testdata_file("CT_small.dcm")).read_bytes())
    at = data.index(element)
    data[at + 4 : at + 6] = vr
    folder.mkdir(exist_ok=True)
    (folder / "x.dcm").write_bytes(bytes(data))
    return folder, int.from_bytes(data[at + 4 : at + 8], "little")


@pytest.mark.parametrize(
    ("element", "vr", "where"),
    [(b"\x10\x00\x10\x00PN", b"\x07Z", "(0010,0010) PatientName"),
     (b"\x28\x00\x10\x00US", b"\x07Z", "(0028,0010) Rows"),
     (b"\x08\x00\x60\x00CS", b"zz", "(0008,0060) Modality")],
    ids=["patient-name", "rows", "lower-case"],
)  # fmt: skip
def test_vr_bytes_outside_the_capitals_are_said_not_truncation(
    tmp_path: Path, element: bytes, vr: bytes, where: str, capsys: pytest.CaptureFixture[str]
) -> None:
    src, length = _damaged(tmp_path / "src", element, vr)
    said = f"damaged header: {where} has Value Representation {vr!r}, " + _SWALLOWED.format(length)
    _, errors, code = convert_nifti(src, tmp_path / "out", format="npy", per="instance")
    assert code == 1 and errors == {"x.dcm": said}
    _inspect_says(src, said, capsys)


def test_an_unknown_vr_of_capitals_is_shown_not_hashed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, _ = _damaged(tmp_path / "src", b"\x28\x00\x10\x00US", b"QQ")
    said = ("unreadable DICOM header: damaged header: (0028,0010) Rows has Value "
            "Representation b'QQ', which is no DICOM VR")  # fmt: skip
    _, errors, code = convert_nifti(src, tmp_path / "out", format="npy", per="instance")
    assert code == 1 and errors == {"x.dcm": said}
    _inspect_says(src, said, capsys)


def _inspect_says(src: Path, said: str, capsys: pytest.CaptureFixture[str]) -> None:
    from workflows.cli import main

    capsys.readouterr()
    assert main(["inspect", str(src)]) == 1
    assert f"1 unusable file:\n  x.dcm: {said}\n" in capsys.readouterr().out
