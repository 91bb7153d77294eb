"""``convert --format nifti --per series`` works out each file's frames once (issue 15).

The index reads every header to group the series; the worker then reads the pixels. The
frames the index found (:class:`~pipeline.dicom.frames.FrameRef`: the geometry) are handed
to the worker with a digest of the header bytes they came from, and taken only when the
worker's reading has the same digest: a header changed in between is worked out again.
Per instance (NPY), the checks of the header facts serve the decoding of the same reading.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydicom.uid import generate_uid

from pipeline.dicom import plain
from pipeline.dicom.frames import frame_refs
from pipeline.dicom.volume import load_series
from tests.pipeline.dicom import geometry_cases as G
from workflows.convert.batch import ConvertOptions, convert_folder

NIFTI = ConvertOptions(resume=False, format="nifti", per="series", gzip=False)


def _series(folder: Path, depth: int = 4, step: float = 2.0) -> Path:
    series = generate_uid()
    slices = [
        G.image(np.full((6, 5), 10 * k, np.int16), G.CT, series,
                ImagePositionPatient=[0.0, 0.0, step * k], InstanceNumber=k + 1,
                ImageOrientationPatient=list(G.AXIAL), PixelSpacing=[0.5, 0.5])
        for k in range(depth)
    ]  # fmt: skip
    return G.save(folder, slices)


def _counted(monkeypatch: pytest.MonkeyPatch) -> tuple[list[str], list[int]]:
    """Patch every user of ``frame_refs`` to record the files it works on, and every user of
    ``check_image_header`` to count its calls."""
    import pipeline.dicom.header as header
    import pipeline.dicom.read as read
    import pipeline.dicom.volume as volume
    from pipeline.dicom.frames import classic_refs
    from pipeline.dicom.header_checks import check_image_header

    seen: list[str] = []
    checks: list[int] = []
    plain_shared = header._plain_shared

    def counting(ds: Any, source: str) -> Any:
        seen.append(source)
        return frame_refs(ds, source)

    def counting_classic(ds: Any, own: dict[str, Any], *args: Any) -> Any:
        seen.append(own["source"])  # a clean classic file's frames, its series' facts kept
        return classic_refs(ds, own, *args)

    def checking(ds: Any) -> Any:
        checks.append(1)
        return check_image_header(ds)

    def checking_shared(ds: Any, max_pixels: int) -> Any:
        checks.append(1)  # the checks of a series' clean classic plain files, made once
        return plain_shared(ds, max_pixels)

    monkeypatch.setattr(header, "frame_refs", counting)
    monkeypatch.setattr(header, "classic_refs", counting_classic)
    monkeypatch.setattr(volume, "frame_refs", counting)
    monkeypatch.setattr(header, "check_image_header", checking)
    monkeypatch.setattr(header, "_plain_shared", checking_shared)
    monkeypatch.setattr(read, "check_image_header", checking)
    return seen, checks


def _outputs(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*.nii"))}


def test_each_file_frames_worked_out_once_same_bytes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src = _series(tmp_path / "src")
    seen, checks = _counted(monkeypatch)
    convert_folder(src, tmp_path / "once", NIFTI, progress=False)
    assert sorted(seen) == sorted(p.name for p in src.iterdir())  # each once (was twice)
    assert len(checks) == 1  # the header checks too: once for the series' clean files
    seen.clear()
    checks.clear()
    monkeypatch.setattr(plain, "ENABLED", False)  # pydicom readings: no digest, no reuse
    convert_folder(src, tmp_path / "twice", NIFTI, progress=False)
    assert len(seen) == len(checks) == 2 * 4
    once, twice = _outputs(tmp_path / "once"), _outputs(tmp_path / "twice")
    assert len(once) == 1 and once == twice


def test_frames_taken_only_for_the_same_header(tmp_path: Path) -> None:
    """A stale digest (the header changed since the index read it) is not trusted."""
    src = _series(tmp_path / "src")
    names = sorted(p.name for p in src.iterdir())
    digests = {n: plain.read_plain(src / n).header_digest for n in names}  # type: ignore[union-attr]
    assert len(set(digests.values())) == len(names) and all(digests.values())
    fresh, _, _ = load_series(src, names)
    marked = {n: (digests[n], [replace(r, note="from the index") for r in fresh if r.source == n])
              for n in names}  # fmt: skip
    taken, _, _ = load_series(src, names, known=marked)
    assert [r.note for r in taken] == ["from the index"] * len(names)
    stale = {n: (digests[names[0]] if n != names[0] else digests[names[1]], refs)
             for n, (_, refs) in marked.items()}  # fmt: skip
    again, _, _ = load_series(src, names, known=stale)
    assert again == fresh


def test_npy_per_instance_checks_each_header_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``convert --format npy``: the header facts' checks serve the decoding too, and are made
    once for a series' clean files (the pixels held by the reading no longer hide the pixel
    data's length from the kept checks)."""
    src = _series(tmp_path / "src", depth=3)
    _, checks = _counted(monkeypatch)
    npy = ConvertOptions(resume=False, format="npy", window="none")
    convert_folder(src, tmp_path / "once", npy, progress=False)
    assert len(checks) == 1  # was 6, then 3 (once per file)
    checks.clear()
    monkeypatch.setattr(plain, "ENABLED", False)
    convert_folder(src, tmp_path / "twice", npy, progress=False)
    assert len(checks) == 2 * 3
    once, twice = tmp_path / "once", tmp_path / "twice"
    files = sorted(p.relative_to(once) for p in once.rglob("*.npy"))
    assert len(files) == 3 and files == sorted(p.relative_to(twice) for p in twice.rglob("*.npy"))
    assert all((once / f).read_bytes() == (twice / f).read_bytes() for f in files)
