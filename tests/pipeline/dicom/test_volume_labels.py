"""``volume_labels``: what tells a series' volumes apart, on hand-made frames.

Expected cells are written by hand from the attributes each frame is given.
"""

from __future__ import annotations

from dataclasses import replace

from pipeline.dicom.frame_ref import FrameRef
from pipeline.dicom.stack_keys import STACK_KEYS
from pipeline.dicom.volume_labels import volume_labels

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
SAGITTAL = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)  # normal along x (L)
BASE = FrameRef("a.dcm", 0, "1.2.3", 8, 8, (0.0, 0.0, 0.0), AXIAL, (1.0, 1.0))


def _values(**keys: object) -> tuple[object, ...]:
    return tuple(keys.get(k) for k in STACK_KEYS)


def test_enhanced_echo_key_is_named_effective_echo_time() -> None:
    """An Enhanced MR's frames keep EffectiveEchoTime under the EchoNumbers key (their
    ``group_keys`` say so, one file of several frames or one frame each): 4.5 ms is no echo
    number. Classic files' values are their EchoNumbers; a series of both says both names."""
    frames = [replace(BASE, frame=k, stack_values=_values(EchoNumbers=te),
                      group_keys=("EchoNumbers",))
              for k, te in enumerate((4.5, 4.5, 9.0, 9.0))]  # fmt: skip
    assert volume_labels(frames, [[[0, 1]], [[2, 3]]]) == [
        "EffectiveEchoTime=4.5", "EffectiveEchoTime=9"]  # fmt: skip
    single = [replace(f, source=f"{k}.dcm", frame=0) for k, f in enumerate(frames)]
    assert volume_labels(single, [[[0, 1]], [[2, 3]]])[0] == "EffectiveEchoTime=4.5"
    classic = [replace(f, group_keys=()) for f in single]
    assert volume_labels(classic, [[[0, 1]], [[2, 3]]])[0] == "EchoNumbers=4.5"
    mixed = [*classic[:2], *single[2:]]
    assert volume_labels(mixed, [[[0, 1]], [[2, 3]]])[0] == "EchoNumbers/EffectiveEchoTime=4.5"


def test_planes_by_name_and_cosines_only_when_the_plane_is_shared() -> None:
    frames = [BASE, replace(BASE, orientation=SAGITTAL)]
    assert volume_labels(frames, [[[0]], [[1]]]) == [
        "ImageOrientationPatient=axial", "ImageOrientationPatient=sagittal"]  # fmt: skip
    tilted = (1.0, 0.0, 0.0, 0.0, 0.9998, 0.02)  # still axial: the cosines say it
    frames = [BASE, replace(BASE, orientation=tilted)]
    assert volume_labels(frames, [[[0]], [[1]]]) == [
        "ImageOrientationPatient=1\\0\\0\\0\\1\\0",
        "ImageOrientationPatient=1\\0\\0\\0\\0.9998\\0.02",
    ]  # fmt: skip


def test_values_within_a_volume_are_a_range_and_shared_sets_are_not_said() -> None:
    frames = [replace(BASE, image_kind=kind, stack_values=_values(AcquisitionNumber=a,
                                                                   TemporalPositionIdentifier=t))
              for kind, a, t in [("ORIGINAL\\PRIMARY", 1.0, 1.0), ("ORIGINAL\\PRIMARY", 2.0, 2.0),
                                 ("ORIGINAL\\PRIMARY", 3.0, 3.0), ("DERIVED\\SECONDARY", 4.0, 1.0),
                                 ("DERIVED\\SECONDARY", 4.0, 2.0),
                                 ("DERIVED\\SECONDARY", 4.0, 3.0)]]  # fmt: skip
    # time points 1..3 in both: not said; AcquisitionNumber 1..3 in one, 4 in the other
    assert volume_labels(frames, [[[0], [1], [2]], [[3], [4], [5]]]) == [
        "ImageType=ORIGINAL\\PRIMARY; AcquisitionNumber=1..3 (3 values)",
        "ImageType=DERIVED\\SECONDARY; AcquisitionNumber=4",
    ]  # fmt: skip
    assert volume_labels(frames, [[[0, 1, 2, 3, 4, 5]]]) == [""]
