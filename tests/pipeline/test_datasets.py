"""Datasets over hand-built conversion manifests and folders; the train-only fit rule."""

from __future__ import annotations

import csv
import json
import random
from pathlib import Path
from typing import Any

import nibabel as nib
import numpy as np
import pytest
import torch
from PIL import Image
from torch.utils.data import DataLoader

from pipeline.data import FolderDataset, ManifestDataset
from pipeline.data.io import MANIFEST_COLUMNS, load_image
from pipeline.errors import RadpipeError
from pipeline.keys import hash_key
from pipeline.sample import Sample
from pipeline.split import read_split_csv, split_by_ratio, write_split_csv
from pipeline.stage import Pipeline, Stage
from pipeline.stages import FitDepth, RandomAffine, RandomFlip, Resize, ZScore

SLICES = 4
SIZE = 16


def _value(patient: int, series: int, k: int) -> float:
    """Every pixel of slice k of a series holds this value, so order and origin are visible."""
    return 1000.0 * patient + 100.0 * series + k


def _write_csv(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)


def _build(root: Path, patients: int = 3, fmt: str = "npy") -> Path:
    """Per-slice outputs of `patients` x 2 series x SLICES, manifest rows shuffled."""
    rows, labels, masks = [], [], []
    (root / "img").mkdir(parents=True)
    (root / "gt" / "m").mkdir(parents=True)
    for p in range(patients):
        for s in range(2):
            series_uid = f"1.2.{p}.{s}"
            labels.append({"patient_id": f"P{p}", "series_uid": series_uid, "label": (p + s) % 2})
            for k in range(SLICES):
                sop = f"{series_uid}.{k}"
                rel = f"img/{hash_key(sop)}.{fmt}"
                img = np.full((SIZE, SIZE), _value(p, s, k), np.float32)
                if fmt == "npy":
                    np.save(root / rel, img)
                else:
                    Image.fromarray((img % 256).astype(np.uint8)).save(root / rel)
                mask = np.zeros((SIZE, SIZE), np.uint8)
                mask[k : k + 4, 2:6] = 1 + (k % 2)
                Image.fromarray(mask).save(root / "gt" / "m" / f"{sop}.png")
                masks.append({"sop_instance_uid": sop, "frame": 0, "mask": f"m/{sop}.png"})
                rows.append(
                    {
                        "output": rel,
                        "source": f"dicom/{k}.dcm",
                        "patient_key": hash_key(f"P{p}"),
                        "study_key": hash_key(f"st{p}"),
                        "series_key": hash_key(series_uid),
                        "instance_key": hash_key(sop),
                        "frame": 0,
                        "slice_index": k,
                        "num_slices": SLICES,
                        "modality": "CT",
                        "shape": f"{SIZE}x{SIZE}",
                        "spacing": "0.5x0.5",
                        "window": "none",
                        "format": fmt,
                    }
                )
    random.Random(0).shuffle(rows)
    assert list(rows[0]) == list(MANIFEST_COLUMNS)
    _write_csv(root / "manifest.csv", rows)
    _write_csv(root / "labels.csv", labels)
    _write_csv(root / "gt" / "masks.csv", masks)
    return root


@pytest.fixture
def conv(tmp_path: Path) -> Path:
    return _build(tmp_path / "out")


def test_image_mode_items_follow_the_batch_contract(conv: Path) -> None:
    ds = ManifestDataset(conv, labels=conv / "labels.csv", masks=conv / "gt" / "masks.csv")
    assert len(ds) == 3 * 2 * SLICES
    for i in range(len(ds)):
        item = ds[i]
        image, mask, label = item["image"], item["mask"], item["label"]
        assert image.dtype == torch.float32 and image.shape == (1, SIZE, SIZE)
        assert mask.dtype == torch.int64 and mask.shape == (SIZE, SIZE)
        assert label.dtype == torch.int64 and label.ndim == 0
        v = float(image[0, 0, 0])
        p, s, k = int(v // 1000), int(v % 1000 // 100), int(v % 100)
        assert int(label) == (p + s) % 2  # label joined through hash_key(series_uid)
        assert item["id"] == hash_key(f"1.2.{p}.{s}.{k}")
        assert int(mask[k, 2]) == 1 + k % 2 and int(mask.sum()) == 16 * (1 + k % 2)


def test_series_mode_stacks_slices_in_order(conv: Path) -> None:
    ds = ManifestDataset(
        conv, mode="series", labels=conv / "labels.csv", masks=conv / "gt" / "masks.csv"
    )
    assert len(ds) == 6
    for i in range(len(ds)):
        item = ds[i]
        assert item["image"].shape == (1, SLICES, SIZE, SIZE)
        assert item["mask"].shape == (SLICES, SIZE, SIZE)
        values = item["image"][0, :, 0, 0].tolist()
        assert values == sorted(values) and values[1] - values[0] == 1  # slice_index order
        assert [int(item["mask"][k, k, 2]) for k in range(SLICES)] == [1, 2, 1, 2]
    sample = ds.sample(0)
    assert sample.meta["spacing"][1:] == (0.5, 0.5) and np.isnan(sample.meta["spacing"][0])


def test_series_of_different_lengths_batch_after_fit_depth(conv: Path) -> None:
    rows = list(csv.DictReader((conv / "manifest.csv").open()))
    drop = rows[0]["series_key"]
    kept = [r for r in rows if not (r["series_key"] == drop and r["slice_index"] == "3")]
    _write_csv(conv / "short.csv", kept)
    pipe = Pipeline([("depth", FitDepth(depth=6))])
    ds = ManifestDataset(conv, "short.csv", mode="series", pipeline=pipe)
    batch = next(iter(DataLoader(ds, batch_size=6)))
    assert batch["image"].shape == (6, 1, 6, SIZE, SIZE)


def _augmenting() -> Pipeline:
    return Pipeline(
        [
            ("norm", ZScore()),
            ("flip", RandomFlip(p=0.5, axes=[-1, -2])),
            ("affine", RandomAffine(p=1.0, rotation=30.0)),
        ]
    )


def test_same_seed_same_items_in_any_worker(conv: Path) -> None:
    masks = conv / "gt" / "masks.csv"
    ds = ManifestDataset(conv, masks=masks, pipeline=_augmenting(), seed=11)
    ds.set_epoch(2)
    one = list(DataLoader(ds, batch_size=4, num_workers=0))
    two = list(DataLoader(ds, batch_size=4, num_workers=2))
    for a, b in zip(one, two):
        assert torch.equal(a["image"], b["image"]) and torch.equal(a["mask"], b["mask"])
    ds.set_epoch(3)
    assert not torch.equal(ds[0]["mask"], one[0]["mask"][0]) or not torch.equal(
        ds[1]["mask"], one[0]["mask"][1]
    )
    ds.set_epoch(2)
    assert torch.equal(ds[5]["image"], one[1]["image"][1])


def test_cache_skips_decoding_after_first_epoch(conv: Path, tmp_path: Path) -> None:
    masks = conv / "gt" / "masks.csv"
    pipe = Pipeline([("resize", Resize(shape=[8, 8])), *_augmenting().steps])
    cached = ManifestDataset(conv, masks=masks, pipeline=pipe, cache_dir=tmp_path / "c")
    plain = ManifestDataset(conv, masks=masks, pipeline=pipe)
    first = [cached[i] for i in range(len(cached))]
    assert cached.loads == len(cached)
    second = [cached[i] for i in range(len(cached))]
    assert cached.loads == len(cached)  # no decoding in the second epoch
    for a, b, c in zip(first, second, (plain[i] for i in range(len(plain)))):
        assert torch.equal(a["image"], b["image"]) and torch.equal(a["image"], c["image"])
        assert torch.equal(a["mask"], c["mask"]) and a["image"].shape == (1, 8, 8)
    (index,) = (tmp_path / "c").rglob("index.json")  # one packed cache for the dataset
    assert len(json.loads(index.read_text())["items"]) == len(cached)
    assert isinstance(cached.preprocessed(0).image, np.memmap)
    # Workers fill and read the same cache; the items are decoded once, by one process.
    log = tmp_path / "decoded.txt"
    fresh = _Logged(conv, masks=masks, pipeline=pipe, cache_dir=tmp_path / "w", log=log)
    got = list(DataLoader(fresh, batch_size=8, num_workers=2))
    assert torch.equal(got[0]["image"][3], first[3]["image"])
    assert sorted(log.read_text().split()) == sorted(str(i) for i in range(len(fresh)))


class _Logged(ManifestDataset):
    """Appends the index of every decoded item to a file (shared by all processes)."""

    def __init__(self, *args: Any, log: Path, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.log = log

    def _load(self, index: int) -> Sample:
        with self.log.open("a") as fh:
            fh.write(f"{index}\n")
        return super()._load(index)


def test_cache_is_keyed_by_fitted_state(conv: Path, tmp_path: Path) -> None:
    def ds_with(mean_shift: float) -> ManifestDataset:
        stage = ZScore(mode="dataset")
        stage.mean_, stage.std_ = 0.0 + mean_shift, 1.0
        return ManifestDataset(conv, pipeline=Pipeline([("z", stage)]), cache_dir=tmp_path)

    a, b = ds_with(0.0)[0]["image"], ds_with(5.0)[0]["image"]
    assert torch.allclose(a - 5.0, b)


class _Recorder(Stage):
    """Remembers which series it was fitted on."""

    needs_fit = True

    def __init__(self) -> None:
        pass

    def fit(self, samples: Any) -> _Recorder:
        self.seen_ = sorted({s.meta["series_key"] for s in samples})
        return self

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        return sample.replace()


def test_fitted_stages_never_see_validation_or_test_data(tmp_path: Path) -> None:
    conv = _build(tmp_path / "out", patients=8)
    rows = [
        {"patient_key": hash_key(f"P{p}"), "series_key": hash_key(f"1.2.{p}.{s}"), "label": 0}
        for p in range(8)
        for s in range(2)
    ]
    write_split_csv(split_by_ratio(rows, (0.5, 0.25, 0.25), seed=0), tmp_path / "split.csv")
    split = read_split_csv(tmp_path / "split.csv")
    train_keys = {r["series_key"] for r in split if r["split"] == "train"}
    train = ManifestDataset(conv, series_keys=train_keys)
    pipe = Pipeline([("z", ZScore(mode="dataset")), ("rec", _Recorder())])
    pipe.fit(list(train.raw_samples()))
    # Pixel values encode the patient, so the fitted mean tells which patients were seen.
    train_values = [
        _value(p, s, k)
        for p in range(8)
        for s in range(2)
        for k in range(SLICES)
        if hash_key(f"1.2.{p}.{s}") in train_keys
    ]
    all_values = [_value(p, s, k) for p in range(8) for s in range(2) for k in range(SLICES)]
    z = pipe.named_steps["z"]
    assert z.mean_ == pytest.approx(np.mean(train_values))
    assert abs(np.mean(all_values) - np.mean(train_values)) > 100  # a leak would show
    assert set(pipe.named_steps["rec"].seen_) == train_keys
    assert len(train_keys) == 8
    held_out = ManifestDataset(conv, series_keys={r["series_key"] for r in split} - train_keys)
    assert {held_out.sample(i).meta["series_key"] for i in range(len(held_out))}.isdisjoint(
        train_keys
    )


def test_png_manifest_and_errors(tmp_path: Path) -> None:
    conv = _build(tmp_path / "out", patients=1, fmt="png")
    ds = ManifestDataset(conv, labels=conv / "labels.csv")
    assert ds[0]["image"].shape == (1, SIZE, SIZE)
    with pytest.raises(RadpipeError, match="no row in the labels CSV"):
        _write_csv(conv / "few.csv", [{"series_uid": "9.9", "label": 1}])
        ManifestDataset(conv, labels=conv / "few.csv")[0]
    (conv / "bad.csv").write_text("output,source\nx.npy,y\n")
    with pytest.raises(RadpipeError, match=r"bad.csv: missing columns"):
        ManifestDataset(conv, "bad.csv")


def test_folder_dataset_png_npy_nifti(tmp_path: Path) -> None:
    Image.fromarray(np.full((8, 10), 7, np.uint8)).save(tmp_path / "a.png")
    rgb = np.zeros((8, 10, 3), np.uint8)
    rgb[..., 2] = 9
    Image.fromarray(rgb).save(tmp_path / "b.png")
    np.save(tmp_path / "c.npy", np.arange(80, dtype=np.float32).reshape(8, 10))
    vol = np.zeros((10, 8, 3), np.int16)  # NIfTI (i=column, j=row, k=slice)
    vol[:, :, 2] = 5
    nib.save(nib.Nifti1Image(vol, np.eye(4)), tmp_path / "d.nii.gz")
    Image.fromarray(np.eye(8, 10, dtype=np.uint8)).save(tmp_path / "m.png")
    _write_csv(
        tmp_path / "labels.csv",
        [
            {"image": "a.png", "label": 0, "mask": "m.png"},
            {"image": "b.png", "label": 1, "mask": ""},
            {"image": "c.npy", "label": 1, "mask": ""},
            {"image": "d.nii.gz", "label": 0, "mask": ""},
        ],
    )
    ds = FolderDataset(tmp_path, "labels.csv")
    a, b, c, d = (ds[i] for i in range(4))
    assert a["image"].shape == (1, 8, 10) and float(a["image"].max()) == 7
    assert int(a["mask"].sum()) == 8 and int(a["label"]) == 0
    assert b["image"].shape == (3, 8, 10) and b["image"][2].eq(9).all() and "mask" not in b
    assert c["image"][0, 1, 0] == 10  # row-major (H, W)
    assert d["image"].shape == (1, 3, 8, 10) and d["image"][0, 2].eq(5).all()
    assert d["image"][0, :2].eq(0).all()
    assert a["id"] == hash_key("a.png")
    unlabelled = FolderDataset(tmp_path)
    assert len(unlabelled) == 5 and "label" not in unlabelled[0]


def test_an_image_with_nan_or_inf_is_refused_naming_the_file(tmp_path: Path) -> None:
    """Float pixel data can hold NaN (a parametric map's "no value"): fed to a model it made
    every output NaN and training stopped with TrainingDiverged, naming no file."""
    arr = np.arange(16, dtype=np.float32).reshape(4, 4)
    arr[0, :2], arr[3, 3] = np.nan, -np.inf
    np.save(tmp_path / "ab12.npy", arr)
    with pytest.raises(RadpipeError, match=r"^ab12.npy: 3 of 16 values are NaN or infinite"):
        load_image(tmp_path / "ab12.npy")
    np.save(tmp_path / "ok.npy", np.nan_to_num(arr, nan=0.0, neginf=0.0))
    assert load_image(tmp_path / "ok.npy").shape == (1, 4, 4)


@pytest.mark.parametrize(("units", "expected"), [
    ("mm", (2.0, 0.7, 0.5)), ("micron", (0.002, 0.0007, 0.0005)), ("unknown", None),
])  # fmt: skip
def test_a_nifti_folder_item_carries_its_voxel_size_in_mm(
    tmp_path: Path, units: str, expected: tuple[float, ...] | None
) -> None:
    """Surface distances on a folder of NIfTI images were in voxels though the header gives
    the voxel size: the zooms (x 0.5, y 0.7, z 2.0 mm) now reach ``meta["spacing"]`` in the
    loader's (z, y, x) order; unknown units are not taken for mm."""
    image = nib.Nifti1Image(np.zeros((8, 6, 4), np.float32), np.diag([0.5, 0.7, 2.0, 1.0]))
    image.header.set_xyzt_units(units)
    nib.save(image, tmp_path / "a.nii.gz")
    write_csv = tmp_path / "labels.csv"
    write_csv.write_text("image,label\na.nii.gz,0\n")
    sample = FolderDataset(tmp_path, "labels.csv").sample(0)
    assert sample.image.shape == (1, 4, 6, 8)
    if expected is None:
        assert sample.meta["spacing"] is None
    else:
        assert sample.meta["spacing"] == pytest.approx(expected)


def test_a_damaged_file_is_named_not_a_traceback(tmp_path: Path) -> None:
    """A truncated PNG mask crashed ``radpipe run`` with PIL's "image file is truncated" and
    no file named; NPY and NIfTI files cut short raised numpy's and zlib's errors alike."""
    from pipeline.data.io import load_array

    Image.fromarray(np.zeros((16, 16), np.uint8)).save(tmp_path / "m.png")
    np.save(tmp_path / "a.npy", np.zeros((16, 16), np.float32))
    nib.save(nib.Nifti1Image(np.zeros((16, 16, 4), np.float32), np.eye(4)), tmp_path / "v.nii.gz")
    for name, kind in (("m.png", "png"), ("a.npy", "npy"), ("v.nii.gz", "nii.gz")):
        data = (tmp_path / name).read_bytes()
        (tmp_path / name).write_bytes(data[: len(data) // 2])
        with pytest.raises(RadpipeError, match=rf"^{name}: cannot be read as {kind} \("):
            load_array(tmp_path / name)
    with pytest.raises(RadpipeError, match=r"^gone.png: file not found\.$"):
        load_array(tmp_path / "gone.png")
    (tmp_path / "x.png").write_bytes(b"not a picture")  # PIL names the file by its full path
    with pytest.raises(RadpipeError) as err:
        load_array(tmp_path / "x.png")
    assert str(err.value) == "x.png: cannot be read as png (cannot identify image file 'x.png')."


def test_a_users_csv_is_utf8_with_or_without_bom_or_refused_by_name(tmp_path: Path) -> None:
    """A latin-1 labels CSV crashed ``radpipe run`` with UnicodeDecodeError; a BOM (Excel's
    "CSV UTF-8") made the first column ``\\ufeffimage`` in the readers that opened the file
    in the locale's encoding, so ``image`` was "missing"."""
    from pipeline.data.io import csv_text, delimiter_hint

    (tmp_path / "bom.csv").write_bytes("image,label\nl\u00e9sion.png,1\n".encode("utf-8-sig"))
    rows = list(csv.DictReader(csv_text(tmp_path / "bom.csv")))
    assert rows == [{"image": "l\u00e9sion.png", "label": "1"}]
    (tmp_path / "latin.csv").write_bytes("image,label\nl\u00e9sion.png,1\n".encode("latin-1"))
    with pytest.raises(RadpipeError, match=r"^latin.csv: not UTF-8 text \(byte 0xE9 at offset 13"):
        csv_text(tmp_path / "latin.csv")
    (tmp_path / "twice.csv").write_text("image,label,label\na.png,0,1\n")
    with pytest.raises(RadpipeError, match=r"^twice.csv: column 'label' appears more than"):
        csv_text(tmp_path / "twice.csv")
    assert delimiter_hint(["image;label"]) == (
        " (the file seems to separate its values with ';': radpipe reads commas)"
    )
    assert delimiter_hint(["image", "label"]) == delimiter_hint(["image"]) == ""


def test_windows_paths_in_a_masks_csv_find_their_files(tmp_path: Path) -> None:
    """``masks\\a.png`` (a CSV written on Windows) named no file here: every mask was "not
    found"; the forward-slash path is taken when only it exists."""
    from pipeline.data.io import csv_path, read_masks_csv

    (tmp_path / "masks").mkdir()
    Image.fromarray(np.zeros((4, 4), np.uint8)).save(tmp_path / "masks" / "a.png")
    (tmp_path / "m.csv").write_text("sop_instance_uid,frame,mask\n1.2.3,0,masks\\a.png\n")
    assert read_masks_csv(tmp_path / "m.csv") == {(hash_key("1.2.3"), 0): tmp_path / "masks/a.png"}
    assert csv_path(tmp_path, "masks\\b.png") == tmp_path / "masks\\b.png"  # neither exists
    assert csv_path(tmp_path, "masks/a.png") == tmp_path / "masks" / "a.png"
