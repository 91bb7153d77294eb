"""Co-located frames of an Enhanced MR object told apart by their functional groups.

Multi-echo, diffusion and cardiac frames keep their echo time, b-value or trigger delay in
per-frame groups (MREchoSequence, MRDiffusionSequence, CardiacSynchronizationSequence), not
at the top level, and need not be stored in that order (Philips 4-D data, dcm2niix #372;
horos #467; two echoes assigned at random, MRtrix3 PR #2346; dicomsort #29). They were told
apart by file order only: a slice whose second echo came first put it in the first echo's
volume, silently but for an 'acquisition order' note.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import nibabel as nib
import numpy as np
import pytest
from pydicom.dataset import Dataset
from pydicom.sequence import Sequence

from pipeline.data.io import read_manifest
from tests.pipeline.dicom.builders import image_dataset, item, shared_plane_groups
from workflows.cli import main


def _classic(s: int, value: int, **attrs: object) -> Dataset:
    """A classic MR slice of series 1.2.3.4 at z = 2 s mm holding ``value``, TR 2000 ms."""
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.4", "MR", 4, 4)
    ds.StudyInstanceUID, ds.SeriesInstanceUID, ds.PatientID = "1.2.3", "1.2.3.4", "P"
    ds.ImageOrientationPatient, ds.ImagePositionPatient = [1, 0, 0, 0, 1, 0], [0, 0, 2.0 * s]
    ds.PixelSpacing, ds.RepetitionTime = [1, 1], 2000
    ds.PixelData = np.full((4, 4), value, "<u2").tobytes()
    for key, found in attrs.items():
        setattr(ds, key, found)
    return ds


def _assert_two_volumes(tmp_path: Path, said: str = "") -> None:
    """SRC converts to two 3-D volumes, slice s of volume v holding 100 (v + 1) + s, their
    problems ``said`` (none by default)."""
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "src"), str(out), "--format", "nifti", "--quiet"]) == 0
    rows = sorted(read_manifest(out / "manifest.csv"), key=lambda r: r["output"])
    assert [r["shape"] for r in rows] == ["3x4x4", "3x4x4"]
    assert all(r["problems"] == said for r in rows)  # no order-only note
    for v, row in enumerate(rows):  # _s00 the first echo / magnitude, _s01 the second / phase
        image = nib.load(out / row["output"])
        assert image.shape == (4, 4, 3)
        assert np.asarray(image.dataobj)[0, 0].tolist() == [100 * (v + 1) + s for s in range(3)]


def _frame_group(kind: str, stack: int) -> Dataset:
    if kind == "echo":
        return item(MREchoSequence=Sequence([item(EffectiveEchoTime=10.0 * (stack + 1))]))
    if kind == "diffusion":
        return item(MRDiffusionSequence=Sequence([item(DiffusionBValue=1000.0 * stack)]))
    delay = item(NominalCardiacTriggerDelayTime=100.0 * stack)
    return item(CardiacSynchronizationSequence=Sequence([delay]))


def _enhanced(tmp_path: Path, group: Callable[[int], Dataset], **attrs: object) -> None:
    """One Enhanced MR file in SRC: slice s of stack v holds 100 (v + 1) + s; its frame
    group is ``group(v)`` and slice 1 stores stack 1 before stack 0."""
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.4.1", "MR", 4, 4)
    order = [(0, 0), (0, 1), (1, 1), (1, 0), (2, 0), (2, 1)]
    ds.NumberOfFrames = len(order)
    ds.PixelData = np.stack([np.full((4, 4), 100 * (v + 1) + s, "<u2") for s, v in order]).tobytes()
    frames = []
    for s, v in order:
        frame = group(v)
        frame.PlanePositionSequence = Sequence([item(ImagePositionPatient=[0, 0, 2.0 * s])])
        frames.append(frame)
    ds.PerFrameFunctionalGroupsSequence = Sequence(frames)
    ds.SharedFunctionalGroupsSequence = shared_plane_groups()
    for key, value in attrs.items():
        setattr(ds, key, value)
    ds.save_as(tmp_path / "src" / "e.dcm", enforce_file_format=True)


@pytest.mark.parametrize("kind", ["echo", "diffusion", "cardiac"])
def test_frames_of_one_position_split_by_their_group_values(tmp_path: Path, kind: str) -> None:
    (tmp_path / "src").mkdir()
    _enhanced(tmp_path, lambda v: _frame_group(kind, v))
    # b = 1000 without a direction: a trace image, said now that the split volumes of a DWI
    # get their sidecars
    trace = (
        "diffusion: volume 1 has a b-value but no gradient direction (isotropic trace "
        "images): .bvec holds 0 0 0 for them, leave them out before fitting tensors"
    )
    # an MR without RepetitionTime: not one 4-D volume, and each cell says so (since
    # 2026-12-03; echoes are no time points, so no TR is wanted for them)
    key = {"diffusion": "DiffusionBValue", "cardiac": "TriggerTime"}.get(kind)
    split = _untimed(key) if key else ""
    _assert_two_volumes(tmp_path, f"{split}; {trace}" if kind == "diffusion" else split)


def _untimed(key: str) -> str:
    return (f"split: 2 stacks by {key} written as separate volumes (no RepetitionTime for a "
            "4-D header)")  # fmt: skip


@pytest.mark.parametrize("numbered", [True, False])
def test_echoes_are_separate_volumes_not_time_points(tmp_path: Path, numbered: bool) -> None:
    # classic multi-echo files with a RepetitionTime became one 4-D NIfTI whose 4th zoom said
    # the echoes were 2 s apart in time; dcm2niix writes one volume per echo (_e1, _e2).
    # Without EchoNumbers (Siemens XA classic, dcm2niix #568) only EchoTime tells them apart:
    # they were 'time points by acquisition order', a problem, and 4-D as well
    (tmp_path / "src").mkdir()
    for s in range(3):
        for e in range(2):
            ds = _classic(s, 100 * (e + 1) + s, EchoTime=10.0 * (e + 1))
            if numbered:
                ds.EchoNumbers = e + 1
            ds.save_as(tmp_path / "src" / f"{s}_{e}.dcm", enforce_file_format=True)
    _assert_two_volumes(tmp_path)


_PHASE = {
    "siemens": (["ORIGINAL", "PRIMARY", "M", "ND"], ["ORIGINAL", "PRIMARY", "P", "ND"]),
    "philips": (
        ["ORIGINAL", "PRIMARY", "M_FFE", "M", "FFE"],
        ["ORIGINAL", "PRIMARY", "PHASE MAP", "P", "FFE"],
    ),
}


@pytest.mark.parametrize("vendor", ["siemens", "philips", "enhanced"])
def test_magnitude_and_phase_are_separate_volumes(tmp_path: Path, vendor: str) -> None:
    # magnitude and phase images of one series at the same positions (dcm2niix #194: two
    # volumes in one NIfTI, which is which?) were 'time points by acquisition order': a 4-D
    # NIfTI with the TR as their time step, mixed where a phase image came first
    (tmp_path / "src").mkdir()
    if vendor == "enhanced":

        def group(v: int) -> Dataset:
            component = item(ComplexImageComponent=("MAGNITUDE", "PHASE")[v])
            return item(MRImageFrameTypeSequence=Sequence([component]))

        _enhanced(tmp_path, group, RepetitionTime=2000)
    for s in range(3) if vendor != "enhanced" else ():
        for c, image_type in enumerate(_PHASE[vendor]):
            number = 2 * s + (1 - c if s == 1 else c)  # slice 1: phase numbered first
            ds = _classic(s, 100 * (c + 1) + s, ImageType=image_type, InstanceNumber=number)
            ds.save_as(tmp_path / "src" / f"{s}_{c}.dcm", enforce_file_format=True)
    _assert_two_volumes(tmp_path)


def test_derived_frames_of_an_enhanced_file_are_their_own_volume(tmp_path: Path) -> None:
    # each frame's FrameType (MR Image Frame Type group) tells original from derived frames
    # (a subtraction, a trace image) of one file; the top-level ImageType alone was read, so
    # they were 'time points by acquisition order' of one 4-D NIfTI
    def group(v: int) -> Dataset:
        kind = item(
            FrameType=(
                ["ORIGINAL", "PRIMARY", "M", "NONE"],
                ["DERIVED", "PRIMARY", "M", "SUBTRACTION"],
            )[v]
        )
        return item(MRImageFrameTypeSequence=Sequence([kind]))

    (tmp_path / "src").mkdir()
    _enhanced(tmp_path, group, RepetitionTime=2000, ImageType=["ORIGINAL", "PRIMARY", "M", "MIXED"])
    said = (
        "split: 2 image types in one series (ImageType ORIGINAL\\PRIMARY, DERIVED\\PRIMARY), "
        "one volume each"
    )
    _assert_two_volumes(tmp_path, said)


def test_magnitude_and_phase_of_two_echoes_are_four_volumes(tmp_path: Path) -> None:
    # neither the echo nor the component alone tells the four images of a position apart:
    # they were ranked by acquisition order (mixed where the numbering was not by echo)
    (tmp_path / "src").mkdir()
    for s in range(3):
        for c, image_type in enumerate(_PHASE["siemens"]):
            for e in range(2):
                number = 4 * s + (3 - 2 * e - c if s == 1 else 2 * c + e)  # slice 1 reversed
                ds = _classic(s, 1000 * c + 100 * (e + 1) + s, ImageType=image_type,
                              EchoNumbers=e + 1, InstanceNumber=number)  # fmt: skip
                ds.save_as(tmp_path / "src" / f"{s}_{c}_{e}.dcm", enforce_file_format=True)
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "src"), str(out), "--format", "nifti", "--quiet"]) == 0
    rows = sorted(read_manifest(out / "manifest.csv"), key=lambda r: r["output"])
    assert [r["shape"] for r in rows] == ["3x4x4"] * 4 and all(r["problems"] == "" for r in rows)
    found = [np.asarray(nib.load(out / r["output"]).dataobj)[0, 0].tolist() for r in rows]
    # magnitude echo 1, echo 2, then phase echo 1, echo 2
    assert found == [
        [1000 * c + 100 * (e + 1) + s for s in range(3)] for c in (0, 1) for e in (0, 1)
    ]


def test_multi_echo_time_series_is_one_4d_volume_per_echo(tmp_path: Path) -> None:
    # 2 echoes x 3 time points: neither key alone is unique; ranked by acquisition order they
    # were 6 'time points' of one 4-D NIfTI, echoes interleaved with time
    (tmp_path / "src").mkdir()
    for s in range(3):
        for t in range(3):
            for e in range(2):
                value = 100 * (e + 1) + 10 * t + s
                ds = _classic(s, value, EchoNumbers=e + 1, TemporalPositionIdentifier=t + 1)
                ds.save_as(tmp_path / "src" / f"{s}_{t}_{e}.dcm", enforce_file_format=True)
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "src"), str(out), "--format", "nifti", "--quiet"]) == 0
    rows = sorted(read_manifest(out / "manifest.csv"), key=lambda r: r["output"])
    assert [r["shape"] for r in rows] == ["3x3x4x4"] * 2 and all(r["problems"] == "" for r in rows)
    for e, row in enumerate(rows):  # _s00 echo 1, _s01 echo 2: (x, y, z, t), TR 2 s apart
        image = nib.load(out / row["output"])
        assert image.header.get_zooms()[3] == pytest.approx(2.0)
        found = np.asarray(image.dataobj)[0, 0]
        assert found.tolist() == [[100 * (e + 1) + 10 * t + s for t in range(3)] for s in range(3)]


def _diffusion(v: int) -> Dataset:
    """b = 1000 along x (stack 0) or y (stack 1): the b-value alone tells them apart not."""
    direction = item(DiffusionGradientOrientation=[float(v == 0), float(v == 1), 0.0])
    found = item(DiffusionBValue=1000.0, DiffusionDirectionality="DIRECTIONAL",
                 DiffusionGradientDirectionSequence=Sequence([direction]))  # fmt: skip
    return item(MRDiffusionSequence=Sequence([found]))


@pytest.mark.parametrize("kind", ["kernel", "direction"])
def test_enhanced_frames_told_apart_by_kernel_or_gradient_direction(
    tmp_path: Path, kind: str
) -> None:
    # an Enhanced CT keeps each frame's ConvolutionKernel in its CT Reconstruction group, an
    # Enhanced MR each diffusion direction in its MR Diffusion group, where all directions of
    # a DTI shell share one b-value (dcm2niix #809, #546: Philips frames stored jumbled).
    # Neither was read: 'acquisition order' ranked the frames by their order in the file, so
    # slice 1 (stack 1 stored first) put each stack's slice in the other's volume
    def group(v: int) -> Dataset:
        kernel = item(ConvolutionKernel=("B30f", "B70f")[v], ReconstructionAlgorithm="FBP")
        return item(CTReconstructionSequence=Sequence([kernel]))

    (tmp_path / "src").mkdir()
    _enhanced(tmp_path, group if kind == "kernel" else _diffusion)
    said = "split: 2 ConvolutionKernel values in one series (B30f, B70f), one volume each"
    _assert_two_volumes(
        tmp_path, said if kind == "kernel" else _untimed("DiffusionGradientOrientation")
    )


def test_classic_diffusion_directions_are_volumes_in_acquisition_order(tmp_path: Path) -> None:
    # Philips classic DTI: b = 0 (no direction) and two directions at b = 1000, every file the
    # same AcquisitionNumber, InstanceNumbers jumbled (dcm2niix #546): ranked by acquisition
    # order at each position the volumes mixed directions; now b-value and direction together
    # tell them apart, the volumes in the order their images were first acquired (b = 0 first)
    (tmp_path / "src").mkdir()
    numbers = {0: [1, 6, 2], 1: [9, 4, 5], 2: [3, 8, 7]}  # slice -> InstanceNumber per volume
    for s in range(3):
        for v in range(3):
            ds = _classic(s, 100 * (v + 1) + s, DiffusionBValue=1000.0 * (v > 0),
                          InstanceNumber=numbers[s][v], AcquisitionNumber=1)  # fmt: skip
            if v:
                ds.DiffusionGradientOrientation = [float(v == 1), float(v == 2), 0.0]
            ds.save_as(tmp_path / "src" / f"{s}_{v}.dcm", enforce_file_format=True)
    out = tmp_path / "out"
    code = main(["convert", str(tmp_path / "src"), str(out), "--format", "nifti", "--quiet",
                 "--split-4d"])  # fmt: skip
    assert code == 0
    rows = sorted(read_manifest(out / "manifest.csv"), key=lambda r: r["output"])
    assert [r["problems"] for r in rows] == ["", "", ""]
    found = [np.asarray(nib.load(out / r["output"]).dataobj)[0, 0].tolist() for r in rows]
    # first acquired: b = 0 (InstanceNumber 1), then y (3), then x (4)
    assert found == [[100 * (v + 1) + s for s in range(3)] for v in (0, 2, 1)]


def test_repeated_acquisitions_told_apart_by_frame_acquisition_number(tmp_path: Path) -> None:
    # two acquisitions of the same 3 positions whose frames differ only in the Frame Content
    # group's FrameAcquisitionNumber (0020,9156), slice 1 storing the second first: that
    # number was not read, so they were 'time points by acquisition order ... ordered there
    # by file name, so a volume may mix them', and slice 1 of time point 0 held 201
    def number(v: int) -> Dataset:
        return item(FrameContentSequence=Sequence([item(FrameAcquisitionNumber=v + 1)]))

    (tmp_path / "src").mkdir()
    _enhanced(tmp_path, number, RepetitionTime=2000)
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "src"), str(out), "--format", "nifti", "--quiet"]) == 0
    (row,) = read_manifest(out / "manifest.csv")
    assert (row["shape"], row["problems"]) == ("2x3x4x4", "")
    image = nib.load(out / row["output"])  # (x, y, z, t): acquisition 1, then 2, TR 2 s apart
    assert image.header.get_zooms()[3] == pytest.approx(2.0)
    assert np.asarray(image.dataobj)[0, 0].tolist() == [[100 + s, 200 + s] for s in range(3)]


def test_frames_of_one_file_at_one_shared_position_say_their_frame_order(tmp_path: Path) -> None:
    # an Enhanced MR whose only Plane Position is in the Shared Functional Groups: its three
    # frames are co-located time points with nothing but their order to tell them apart; the
    # note said "ordered there by file name", which tells nothing of frames of one file
    ds = image_dataset("1.2.840.10008.5.1.4.1.1.4.1", "MR", 4, 4)
    ds.NumberOfFrames = 3
    ds.PixelData = np.stack([np.full((4, 4), 10 * (f + 1), "<u2") for f in range(3)]).tobytes()
    ds.PerFrameFunctionalGroupsSequence = Sequence([item() for _ in range(3)])
    ds.SharedFunctionalGroupsSequence = shared_plane_groups()
    position = item(ImagePositionPatient=[0, 0, 0])
    ds.SharedFunctionalGroupsSequence[0].PlanePositionSequence = Sequence([position])
    (tmp_path / "src").mkdir()
    ds.save_as(tmp_path / "src" / "e.dcm", enforce_file_format=True)
    out = tmp_path / "out"
    assert main(["convert", str(tmp_path / "src"), str(out), "--format", "nifti", "--quiet"]) == 0
    rows = sorted(read_manifest(out / "manifest.csv"), key=lambda r: r["output"])
    said = (
        "told apart by acquisition order (AcquisitionTime, InstanceNumber, which tie at 1 "
        "position: ordered there by frame number, the order their file stores them in)"
    )
    assert len(rows) == 3 and all(said in r["problems"] for r in rows)
    assert not any("file name" in r["problems"] or "mix" in r["problems"] for r in rows)
    found = [np.asarray(nib.load(out / r["output"]).dataobj).ravel()[0] for r in rows]
    assert found == [10, 20, 30]  # the frames in stored order
