"""``radpipe convert``/``inspect`` on geometry problems, as a user sees them: the manifest's
``problems``, ``volume`` and ``slice_spacing`` columns, one stderr warning per series, the
summary counts, refusals in errors.csv with exit 1, and inspect agreeing with convert."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from pydicom.uid import generate_uid

from pipeline.keys import hash_key
from tests.pipeline.dicom import geometry_cases as G
from workflows.cli import main
from workflows.convert.batch import ConvertOptions, convert_folder

C15, S15 = np.cos(np.radians(15)), np.sin(np.radians(15))


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture
def mixed(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """One folder: a clean series, a tilted one, one with a gap, a localizer, a duplicate
    file, and a mosaic without CSA header (refused). Returns the folder and series UIDs."""
    uids = {name: generate_uid() for name in ("clean", "tilt", "gap", "loc", "dup", "mosaic")}
    files = [G.plane((0.0, 0.0, 2.0 * k), series=uids["clean"]) for k in range(3)]
    files += [G.plane((0.0, 0.0, 5.0 * k), (1, 0, 0, 0, C15, -S15), series=uids["tilt"])
              for k in range(3)]  # fmt: skip
    files += [G.plane((0.0, 0.0, z), series=uids["gap"]) for z in (0.0, 1.0, 3.0)]
    files += [G.plane((0.0, 0.0, 3.0 * k), series=uids["loc"]) for k in range(2)]
    files += [G.plane((0.0, 3.0 * k, 0.0), (1, 0, 0, 0, 0, -1), series=uids["loc"])
              for k in range(2)]  # fmt: skip
    dup = [G.plane((0.0, 0.0, 2.0 * k), series=uids["dup"]) for k in range(3)]
    files += [*dup, dup[1]]
    mosaic = G.mosaic(4, 4, series=uids["mosaic"])
    del mosaic[0x00291010]
    files.append(mosaic)
    return G.save(tmp_path / "scans", files), uids


def test_convert_tells_each_series_and_refuses_with_exit_1(
    mixed: tuple[Path, dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, uids = mixed
    out = tmp_path / "nii"
    assert main(["convert", str(src), str(out), "--format", "nifti", "--quiet"]) == 1
    captured = capsys.readouterr()
    key = {name: hash_key(uid) for name, uid in uids.items()}
    warnings = [line for line in captured.err.splitlines() if line.startswith("warning: series")]
    assert sorted(w.split()[2].rstrip(":") for w in warnings) == sorted(
        key[n] for n in ("tilt", "gap", "loc", "dup")
    )  # one line per affected series, named by hashed key
    assert f"warning: series {key['tilt']}: tilt corrected: 15.0 degrees" in captured.err
    assert (
        "geometry: 4 series with problems handled (duplicates dropped 1, resampled 1, split 1, "
        "tilt corrected 1); 1 series refused" in captured.out
    )
    for uid in uids.values():
        assert uid not in captured.out + captured.err
    rows = _rows(out / "manifest.csv")
    by_series: dict[str, list[dict[str, str]]] = {}
    for r in rows:
        by_series.setdefault(r["series_key"], []).append(r)
    assert by_series[key["clean"]][0]["problems"] == ""
    assert len(by_series[key["loc"]]) == 2 and key["mosaic"] not in by_series
    assert by_series[key["gap"]][0]["shape"] == "4x8x8"  # resampled onto 1 mm steps
    error, skipped = sorted(_rows(out / "errors.csv"), key=lambda r: r["kind"])
    assert error["reason"].startswith(f"series {key['mosaic']} refused: mosaic not supported")
    # the second copy of the duplicate (files 14 and 16, named IM00789 and IM06620) is
    # listed as skipped, not lost; its twin is in sources.csv
    assert (skipped["source"], skipped["kind"]) == ("IM06620.dcm", "skipped")
    assert skipped["reason"].startswith("duplicate: ")
    files = _rows(out / "sources.csv")
    assert "IM00789.dcm" in {r["source"] for r in files if r["series_key"] == key["dup"]}
    listed = [r["source"] for r in files] + [error["source"], skipped["source"]]
    assert sorted(listed) == sorted(p.name for p in src.iterdir())  # each file once


def test_inspect_reports_what_convert_does(
    mixed: tuple[Path, dict[str, str]], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    src, _ = mixed
    assert main(["inspect", str(src), "--json"]) == 1
    summary = json.loads(capsys.readouterr().out)
    seen = {s["series_key"]: s["problems"] for p in summary["patients"] for st in p["studies"]
            for s in st["series"]}  # fmt: skip
    main(["convert", str(src), str(tmp_path / "nii"), "--format", "nifti", "--quiet"])
    capsys.readouterr()
    done: dict[str, set[str]] = {}
    for r in _rows(tmp_path / "nii" / "manifest.csv"):
        done.setdefault(r["series_key"], set()).update(p for p in r["problems"].split("; ") if p)
    errors = " ".join(r["reason"] for r in _rows(tmp_path / "nii" / "errors.csv"))
    for key, problems in seen.items():
        refused = [p for p in problems if p.startswith("refused: ")]
        if refused:
            assert refused[0].removeprefix("refused: ") in errors and key not in done
        else:
            assert set(problems) == done[key], key


def test_per_instance_rows_unique_and_placed_in_their_volume(
    mixed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    src, uids = mixed
    out = tmp_path / "png"
    assert main(["convert", str(src), str(out), "--quiet"]) == 0  # per instance: no refusal
    rows = _rows(out / "manifest.csv")
    assert len({r["output"] for r in rows}) == len(rows)  # a file present twice: one row
    dup = [r for r in rows if r["series_key"] == hash_key(uids["dup"])]
    assert sorted(int(r["slice_index"]) for r in dup) == [0, 1, 2]
    assert {r["num_slices"] for r in dup} == {"3"} and {r["slice_spacing"] for r in dup} == {"2"}
    loc = [r for r in rows if r["series_key"] == hash_key(uids["loc"])]
    placed = sorted((r["volume"], r["slice_index"]) for r in loc)
    assert placed == [("0", "0"), ("0", "1"), ("1", "0"), ("1", "1")]
    assert all(r["problems"].startswith("split: 2 orientations") for r in loc)
    gap = [r for r in rows if r["series_key"] == hash_key(uids["gap"])]
    assert {r["slice_spacing"] for r in gap} == {""}  # uneven: no single step to give


def test_series_datasets_carry_true_spacing_and_keep_volumes_apart(
    mixed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """What ``radpipe run`` with ``unit: series`` reads: per-instance NPY outputs stacked by
    ManifestDataset; spacing (z, y, x) comes from the manifest's ``slice_spacing``."""
    from pipeline.data import ManifestDataset
    from workflows.convert.batch import ConvertOptions, convert_folder

    src, uids = mixed
    convert_folder(src, tmp_path / "npy", ConvertOptions(format="npy"), progress=False)
    keys = {hash_key(uids[n]): n for n in ("clean", "loc", "gap")}
    ds = ManifestDataset(tmp_path / "npy", mode="series", series_keys=set(keys))
    found = {}
    for i in range(len(ds)):
        sample = ds.sample(i)
        found[sample.meta["id"]] = (sample.image.shape, sample.meta["spacing"])
    loc = hash_key(uids["loc"])
    assert found[hash_key(uids["clean"])] == ((1, 3, 8, 8), (2.0, 1.0, 1.0))
    assert found[loc] == ((1, 2, 8, 8), (3.0, 1.0, 1.0))  # axial plane
    assert found[f"{loc}:v1"] == ((1, 2, 8, 8), (3.0, 1.0, 1.0))  # coronal plane, apart
    shape, spacing = found[hash_key(uids["gap"])]
    assert shape == (1, 3, 8, 8) and np.isnan(spacing[0])  # uneven: no single z step


def test_per_instance_notes_say_what_the_outputs_are(
    mixed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    """Per instance nothing is resampled or de-sheared: the rows of a gapped and of a tilted
    series say so (and have no slice_spacing), instead of claiming what --per series does."""
    src, uids = mixed
    out = tmp_path / "out"
    convert_folder(src, out, ConvertOptions(format="npy"), progress=False)
    key = {name: hash_key(uid) for name, uid in uids.items()}
    rows = _rows(out / "manifest.csv")
    gap = [r for r in rows if r["series_key"] == key["gap"]]
    tilt = [r for r in rows if r["series_key"] == key["tilt"]]
    assert len(gap) == 3 and all(
        r["problems"].startswith("uneven spacing: not resampled per instance") for r in gap
    )
    assert all(r["problems"].startswith("gantry tilt: not corrected per instance") for r in tilt)
    assert {r["slice_spacing"] for r in gap + tilt} == {""}


@pytest.mark.parametrize(
    ("attrs", "thickness"),
    [
        ({}, None),
        ({"SliceThickness": 2.5}, 2.5),
        ({"SliceThickness": -5.0}, 5.0),  # a size: a negative one mirrored the volume
        ({"SpacingBetweenSlices": -4.0, "SliceThickness": 5.0}, 4.0),
        ({"SliceThickness": 0.0}, None),
    ],
    ids=["none", "thickness", "negative-thickness", "negative-spacing", "zero"],
)
def test_one_slice_thickness_is_from_the_header_or_said(
    attrs: dict[str, float], thickness: float | None, tmp_path: Path
) -> None:
    """A positioned single slice: the NIfTI third zoom is its SpacingBetweenSlices, else
    SliceThickness, by size; without one it is 1 mm, and the manifest says so instead of
    claiming it silently. The third axis is the slice normal (row x column cosines) whatever
    the sign written: a right-handed affine, +z for an axial slice (LPS z = RAS z)."""
    import nibabel as nib

    src = G.save(tmp_path / "one", [G.plane((10.0, -5.0, 40.0), series=generate_uid(), **attrs)])
    out = tmp_path / "nii"
    convert_folder(src, out, ConvertOptions(format="nifti", per="series", workers=1))
    (row,) = _rows(out / "manifest.csv")
    img = nib.load(out / row["output"])
    assert img.header.get_zooms() == pytest.approx((1.0, 1.0, thickness or 1.0))
    assert img.affine[:3, 2] == pytest.approx([0.0, 0.0, thickness or 1.0])
    said = "one slice without SpacingBetweenSlices or SliceThickness: its thickness is written"
    assert (said in row["problems"]) == (thickness is None), row["problems"]
