"""Reconstructions and passes filed in one series: never one volume mixing them.

- Two kernels (soft tissue and bone) over partly the same slices: the co-located ones were
  told apart by acquisition order only, so volume 0 took two soft-tissue slices and then the
  bone slices (values 100, 101, 1002, ... by hand).
- A multi-pass CT (vtk-dicom #220): two AcquisitionNumbers over overlapping ranges, 1.5 mm
  apart: stacked as one, the volume alternated between the passes (109, 510, 112, 513, ...)
  and was resampled for "missing slices" that were never missing.
Expected volumes are by hand: each slice's value says which kernel or pass and which z.
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
from pydicom.uid import generate_uid

from pipeline.dicom import index_folder
from tests.pipeline.dicom.geometry_cases import CT, image, save
from workflows.convert.batch import ConvertOptions, convert_folder


def _slice(series: str, z: float, value: int, number: int, **attrs: Any):  # type: ignore[no-untyped-def]
    ds = image(np.full((4, 4), value, np.uint16), CT, series, ImagePositionPatient=[0.0, 0.0, z],
               ImageOrientationPatient=[1, 0, 0, 0, 1, 0], PixelSpacing=[1.0, 1.0],
               InstanceNumber=number, SeriesNumber=2, ImageType=["ORIGINAL", "PRIMARY", "AXIAL"],
               **{"SliceThickness": 3.0, **attrs})  # fmt: skip
    ds.Modality = "CT"
    return ds


def _convert(src: Path, out: Path) -> list[tuple[list[float], tuple[float, ...], str]]:
    """(z-profile of pixel (0, 0), zooms, problems) of each NIfTI, in output-name order."""
    convert_folder(src, out, ConvertOptions(format="nifti", workers=1), progress=False)
    with (out / "manifest.csv").open() as fh:
        rows = sorted(csv.DictReader(fh), key=lambda r: r["output"])
    found = []
    for row in rows:
        img = nib.load(out / row["output"])
        profile = np.asarray(img.get_fdata())[0, 0].tolist()
        found.append((profile, tuple(float(z) for z in img.header.get_zooms()), row["problems"]))
    return found


def test_two_kernels_over_the_same_slices_are_two_volumes(tmp_path: Path) -> None:
    series, n = generate_uid(), iter(range(1, 100))
    bone = [_slice(series, 3.0 * z, 1000 + z, next(n), ConvolutionKernel="BONE",
                   AcquisitionNumber=1) for z in range(2, 6)]  # fmt: skip
    soft = [_slice(series, 3.0 * z, 100 + z, next(n), ConvolutionKernel="STANDARD",
                   AcquisitionNumber=1) for z in range(6)]  # fmt: skip
    found = _convert(save(tmp_path / "src", bone + soft), tmp_path / "out")
    assert [f[0] for f in found] == [[1002, 1003, 1004, 1005], [100, 101, 102, 103, 104, 105]]
    said = "split: 2 ConvolutionKernel values in one series (BONE, STANDARD), one volume each"
    assert all(said in f[2] for f in found)
    (series_found,) = index_folder(tmp_path / "src").series  # inspect says the same
    assert said in "; ".join(series_found.problems)


def test_multi_pass_ct_interleaved_passes_are_two_volumes(tmp_path: Path) -> None:
    series, n = generate_uid(), iter(range(1, 100))
    first = [_slice(series, z, 100 + int(z), next(n), AcquisitionNumber=1)
             for z in (0.0, 3.0, 6.0, 9.0, 12.0, 15.0)]  # fmt: skip
    second = [_slice(series, z, 500 + int(z), next(n), AcquisitionNumber=2)
              for z in (10.5, 13.5, 16.5, 19.5, 22.5)]  # fmt: skip
    found = _convert(save(tmp_path / "src", first + second), tmp_path / "out")
    assert [f[0] for f in found] == [[100, 103, 106, 109, 112, 115], [510, 513, 516, 519, 522]]
    assert [f[1][2] for f in found] == [3.0, 3.0]  # each pass evenly spaced, nothing resampled
    said = "split: 2 passes by AcquisitionNumber whose slices interleave, one volume each"
    assert all(said in f[2] and "resampled" not in f[2] for f in found)


def test_thick_and_thin_reconstructions_in_one_series_are_two_volumes(tmp_path: Path) -> None:
    """5 mm slices over 0-20 mm and 1 mm slices over 6-13 mm in one series (one acquisition,
    one kernel): stacked as one, the thin slices were interpolated with the thick ones onto
    a 1 mm grid."""
    series, n = generate_uid(), iter(range(1, 100))
    thick = [_slice(series, float(z), 100 + z, next(n), AcquisitionNumber=1, SliceThickness=5.0)
             for z in (0, 5, 10, 15, 20)]  # fmt: skip
    thin = [_slice(series, float(z), 500 + z, next(n), AcquisitionNumber=1, SliceThickness=1.0)
            for z in range(6, 14)]  # fmt: skip
    found = _convert(save(tmp_path / "src", thick + thin), tmp_path / "out")
    assert [f[0] for f in found] == [list(range(506, 514)), [100, 105, 110, 115, 120]]
    assert [f[1][2] for f in found] == [1.0, 5.0]
    said = "split: 2 reconstructions by SliceThickness over overlapping ranges, one volume each"
    assert all(said in f[2] and "resampled" not in f[2] for f in found)


def test_one_slice_of_another_thickness_in_an_even_series_stays_in_the_volume(
    tmp_path: Path,
) -> None:
    """Slices 3 mm apart, 3 mm thick, the middle one written 5 mm thick: it was split out as
    a one-slice "reconstruction" and the volume resampled over the hole it left (slice 103
    interpolated from 102 and 104). dcm2niix stacks by position; the positions are even."""
    series, n = generate_uid(), iter(range(1, 100))
    slices = [_slice(series, 3.0 * z, 100 + z, next(n), AcquisitionNumber=1,
                     SliceThickness=5.0 if z == 3 else 3.0) for z in range(7)]  # fmt: skip
    names = [f"s{z}" for z in range(7)]
    ((profile, zooms, problems),) = _convert(
        save(tmp_path / "src", slices, names), tmp_path / "out"
    )
    assert profile == [100, 101, 102, 103, 104, 105, 106] and zooms[2] == 3.0
    assert problems == (
        "slice thickness differs (SpacingBetweenSlices, else SliceThickness): 5 mm on 1 slice "
        "(s3.dcm), 3 mm on the other 6, kept in one volume (their positions are evenly spaced)"
    )


def test_thin_slices_interleaved_evenly_between_thick_ones_are_still_two_volumes(
    tmp_path: Path,
) -> None:
    # 5 mm slices every 5 mm and 1 mm slices half-way between: one even 2.5 mm stack
    # together, at a step the thick reconstruction never had: two volumes
    series, n = generate_uid(), iter(range(1, 100))
    thick = [_slice(series, z, 100 + int(z), next(n), AcquisitionNumber=1, SliceThickness=5.0)
             for z in (0.0, 5.0, 10.0, 15.0)]  # fmt: skip
    thin = [_slice(series, z, 500 + int(z), next(n), AcquisitionNumber=1, SliceThickness=1.0)
            for z in (2.5, 7.5, 12.5)]  # fmt: skip
    found = _convert(save(tmp_path / "src", thick + thin), tmp_path / "out")
    assert [f[0] for f in found] == [[502, 507, 512], [100, 105, 110, 115]]
    said = "split: 2 reconstructions by SliceThickness over overlapping ranges, one volume each"
    assert all(said in f[2] for f in found)


def test_thicknesses_that_differ_by_rounding_are_one_volume(tmp_path: Path) -> None:
    # SliceThickness written 3 on most slices and 3.0001 (or 2.99999999, computed per slice)
    # on others: compared exactly, they were two reconstructions over overlapping ranges, a
    # volume with a resampled gap beside single-slice volumes 3.0001 mm thick
    series, n = generate_uid(), iter(range(1, 100))
    thickness = {2: 3.0001, 4: 2.99999999}
    slices = [_slice(series, 3.0 * z, 100 + z, next(n), AcquisitionNumber=1,
                     SliceThickness=thickness.get(z, 3.0)) for z in range(6)]  # fmt: skip
    ((profile, zooms, problems),) = _convert(save(tmp_path / "src", slices), tmp_path / "out")
    assert profile == [100, 101, 102, 103, 104, 105] and zooms[2] == 3.0 and problems == ""


def test_step_and_shoot_rotations_and_time_points_stay_as_they_were(tmp_path: Path) -> None:
    # axial CT numbers each rotation: disjoint ranges are one volume
    series, n = generate_uid(), iter(range(1, 100))
    rotations = [_slice(series, 3.0 * z, 100 + z, next(n), AcquisitionNumber=1 + z // 3)
                 for z in range(6)]  # fmt: skip
    ((profile, zooms, problems),) = _convert(save(tmp_path / "a", rotations), tmp_path / "oa")
    assert profile == [100, 101, 102, 103, 104, 105] and zooms[2] == 3.0 and problems == ""
    # two acquisitions interleaved into one evenly spaced stack (GE MR: odd and even slices,
    # dcm2niix PR #48 stacks them too) are one volume
    series, n = generate_uid(), iter(range(1, 100))
    halves = [_slice(series, 3.0 * z, 100 + z, next(n), AcquisitionNumber=1 + z % 2)
              for z in range(6)]  # fmt: skip
    ((profile, zooms, problems),) = _convert(save(tmp_path / "c", halves), tmp_path / "oc")
    assert profile == [100, 101, 102, 103, 104, 105] and zooms[2] == 3.0 and problems == ""
    # the same with one slice missing: still one volume, resampled over the gap (not two
    # half volumes of every other slice)
    del halves[2]
    ((profile, zooms, problems),) = _convert(save(tmp_path / "d", halves), tmp_path / "od")
    assert profile[:2] == [100, 101] and profile[3:] == [103, 104, 105] and zooms[2] == 3.0
    assert problems.startswith("resampled: missing slices: 1 gap ")
    # time points with the same positions (one AcquisitionNumber each) stay one 4-D volume
    series, n = generate_uid(), iter(range(1, 100))
    times = [_slice(series, 3.0 * z, 100 * (t + 1) + z, next(n), AcquisitionNumber=t + 1,
                    RepetitionTime=2000.0) for t in range(2) for z in range(3)]  # fmt: skip
    convert_folder(save(tmp_path / "b", times), tmp_path / "ob", ConvertOptions(format="nifti"),
                   progress=False)  # fmt: skip
    (volume,) = sorted((tmp_path / "ob").rglob("*.nii.gz"))
    assert nib.load(volume).shape == (4, 4, 3, 2)


def test_a_screen_capture_without_geometry_is_its_own_picture(tmp_path: Path) -> None:
    """A dose page or screen save (DERIVED/SECONDARY, no ImagePositionPatient) filed in the
    series of the axial slices refused the whole series ("slice geometry missing on 1 of 6
    images"), naming the series' first slice as the file at fault."""
    series, n = generate_uid(), iter(range(1, 100))
    slices = [_slice(series, 3.0 * z, 100 + z, next(n)) for z in range(5)]
    page = image(np.full((4, 4), 7, np.uint16), CT, series, InstanceNumber=99, SeriesNumber=2,
                 ImageType=["DERIVED", "SECONDARY", "SCREEN SAVE"])  # fmt: skip
    page.Modality = "CT"
    found = _convert(save(tmp_path / "src", [*slices, page]), tmp_path / "out")
    assert [f[0] for f in found] == [[100, 101, 102, 103, 104], [7]]
    assert "split: 2 image types in one series" in found[0][2]
    assert "no pixel spacing" in found[1][2]  # the page: no geometry, said


def test_a_slice_without_geometry_among_placed_ones_refuses_naming_it(tmp_path: Path) -> None:
    series, n = generate_uid(), iter(range(1, 100))
    slices = [_slice(series, 3.0 * z, 100 + z, next(n)) for z in range(5)]
    del slices[3].ImagePositionPatient  # a damaged header: which slice is it? not guessed
    src = save(tmp_path / "src", slices, names=[f"s{k}" for k in range(5)])
    result = convert_folder(src, tmp_path / "out", ConvertOptions(format="nifti"), progress=False)
    reasons = dict(result.failures)
    assert reasons["s3.dcm"].endswith("refused: slice geometry (ImagePositionPatient/"
                                      "ImageOrientationPatient/PixelSpacing) missing on 1 of 5 "
                                      "images")  # fmt: skip
    assert reasons["s0.dcm"] == "not converted: its series failed on s3.dcm"


def _enhanced_ct(src: Path, kernels: dict[str, int], shared: str = "") -> Path:
    """One Enhanced CT file: per kernel (name: value base) three frames at z = 0, 3, 6 mm,
    holding base + z; the kernels' frames interleave (z 0 of each, then z 3 of each in the
    other order, ...). Each frame names its kernel in its CT Reconstruction group, or the
    Shared group names ``shared``."""
    from pydicom.sequence import Sequence

    from tests.pipeline.dicom.builders import image_dataset, item, shared_plane_groups

    ds = image_dataset("1.2.840.10008.5.1.4.1.1.2.1", "CT", 4, 4)
    ds.SeriesNumber, ds.ImageType = 2, ["ORIGINAL", "PRIMARY", "AXIAL"]
    order = [(z, k) for z in (0, 3, 6) for k in (reversed(kernels) if z == 3 else kernels)]
    ds.NumberOfFrames = len(order)
    ds.PixelData = np.stack([np.full((4, 4), kernels[k] + z, "<u2") for z, k in order]).tobytes()
    frames = []
    for z, k in order:
        frame = item(PlanePositionSequence=Sequence([item(ImagePositionPatient=[0, 0, z])]))
        if not shared:
            frame.CTReconstructionSequence = Sequence([item(ConvolutionKernel=k)])
        frames.append(frame)
    ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
    ds.SharedFunctionalGroupsSequence = shared_plane_groups(thickness=3.0)
    if shared:
        recon = Sequence([item(ConvolutionKernel=shared)])
        ds.SharedFunctionalGroupsSequence[0].CTReconstructionSequence = recon
    src.mkdir(parents=True)
    ds.save_as(src / "e.dcm", enforce_file_format=True)
    return src


def test_enhanced_ct_frames_of_two_kernels_are_two_volumes(tmp_path: Path) -> None:
    """Each frame's ConvolutionKernel is in its CT Reconstruction functional group (PS3.3
    C.8.15.3.6), which radpipe did not read: the kernels were split by frame order only."""
    src = _enhanced_ct(tmp_path / "src", {"BONE": 1000, "STANDARD": 100})
    found = _convert(src, tmp_path / "out")
    assert [f[0] for f in found] == [[1000, 1003, 1006], [100, 103, 106]]
    said = "split: 2 ConvolutionKernel values in one series (BONE, STANDARD), one volume each"
    assert all(said in f[2] for f in found)
    (series_found,) = index_folder(src).series  # inspect says the same
    assert said in "; ".join(series_found.problems)


def test_enhanced_ct_kernel_in_the_shared_group_is_one_volume(tmp_path: Path) -> None:
    src = _enhanced_ct(tmp_path / "src", {"B30f": 100}, shared="B30f")
    found = _convert(src, tmp_path / "out")
    assert [f[0] for f in found] == [[100, 103, 106]]
    assert "ConvolutionKernel" not in found[0][2]
