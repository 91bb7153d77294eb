"""A ``data.kind: images`` list naming files that are not there is refused before the run
starts, every missing file listed with its CSV line (it was a FileNotFoundError traceback
for an image, and a failure after training for a mask)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from tests.runner.conftest import base_config, read_rows, write_rows

ROOT = Path(__file__).resolve().parents[2]


def _segmentation_list(root: Path) -> Path:
    """Six 8x8 PNGs with masks; line 3 names a missing image, line 5 a missing mask."""
    (root / "img").mkdir()
    rows = []
    for i in range(6):
        image, mask = f"img/{i}.png", f"img/{i}_mask.png"
        Image.fromarray(np.full((8, 8), 10 * i, np.uint8)).save(root / image)
        truth = np.zeros((8, 8), np.uint8)
        truth[2:5, 2:5] = 255
        Image.fromarray(truth).save(root / mask)
        rows.append({"image": image, "mask": mask, "patient_id": f"p{i}"})
    rows[1]["image"] = "img/gone.png"  # file line 3 (header on line 1)
    rows[3]["mask"] = "img/3_gone.png"  # file line 5
    return write_rows(root / "list.csv", rows)


def _refused(tmp_path: Path, image_list: Path) -> str:
    """``radpipe run`` (subprocess) of a segmentation over ``image_list``: must exit 2 before
    any run directory is made; returns its stderr."""
    raw = base_config(tmp_path, tmp_path / "runs", kind="images")
    raw["data"].update(source=str(tmp_path), labels=str(image_list))
    raw |= {"task": "segmentation", "model": {"type": "mlp_segmenter", "hidden": [8]}}
    return _exit_2(tmp_path, raw)


def test_missing_images_and_masks_are_listed_before_the_run(tmp_path: Path) -> None:
    err = _refused(tmp_path, _segmentation_list(tmp_path))
    folder = tmp_path.name
    assert (
        f"data.labels: 1 image file named in list.csv is not a file under data.source "
        f"({folder}/): img/gone.png (line 3)"
    ) in err
    assert (
        f"data.labels: 1 mask file named in list.csv is not a file under data.source "
        f"({folder}/): img/3_gone.png (line 5)"
    ) in err


def test_an_image_listed_again_with_another_mask_is_refused(tmp_path: Path) -> None:
    """It trained and was scored on the mask of its last row, without a word."""
    image_list = _segmentation_list(tmp_path)
    rows = read_rows(image_list)
    rows[1]["image"], rows[3]["mask"] = "img/1.png", "img/3_mask.png"  # all files there
    rows.append({"image": "img/2.png", "mask": "img/4_mask.png", "patient_id": "p2"})  # line 8
    rows.append(dict(rows[0]))  # line 9: row 2 again as it is, mask included: no conflict
    write_rows(image_list, rows)
    err = _refused(tmp_path, image_list)
    assert (
        "data.labels: 1 image of list.csv listed again with another mask (only one can be "
        "its truth): img/2.png (line 4 img/2_mask.png, line 8 img/4_mask.png)"
    ) in err
    assert "img/0.png" not in err and "not files" not in err


def test_an_image_spelt_two_ways_is_one_image_and_a_mask_too(tmp_path: Path) -> None:
    """``./img/3.png`` is ``img/3.png``: listed again with another mask it was found only
    once the run directory had been made (exit 1); ``./img/0_mask.png`` is ``img/0_mask.png``,
    no conflict, but it was refused up front as one."""
    image_list = _segmentation_list(tmp_path)
    rows = read_rows(image_list)
    rows[1]["image"], rows[3]["mask"] = "img/1.png", "img/3_mask.png"  # all files there
    rows.append({"image": "./img/3.png", "mask": "img/5_mask.png", "patient_id": "p3"})  # 8
    rows.append({**rows[0], "mask": "./img/0_mask.png"})  # line 9: the same mask
    write_rows(image_list, rows)
    err = _refused(tmp_path, image_list)
    assert (
        "data.labels: 1 image of list.csv listed again with another mask (only one can be "
        "its truth): img/3.png (line 5 img/3_mask.png, line 8 img/5_mask.png)"
    ) in err
    assert "img/0.png" not in err


def test_masks_of_another_size_are_listed_before_the_run(tmp_path: Path) -> None:
    """Such a mask was refused once the run directory was made (the advice to fix it and
    resume could not work: the corrected mask changed the run's files), naming no line."""
    image_list = _segmentation_list(tmp_path)
    rows = read_rows(image_list)
    rows[1]["image"], rows[3]["mask"] = "img/1.png", "img/3_mask.png"  # all there
    Image.fromarray(np.zeros((4, 6), np.uint8)).save(tmp_path / "img/2_mask.png")  # line 4
    np.save(tmp_path / "img/4_mask.npy", np.zeros((8, 5), np.uint8))
    rows[4]["mask"] = "img/4_mask.npy"  # line 6
    err = _refused(tmp_path, write_rows(image_list, rows))
    assert (
        "data.labels: 2 of 6 masks named in list.csv are not the size of their images (rows x "
        "columns; a mask is drawn on its image's own pixels: not resized, not cropped, not for "
        "another image): img/2_mask.png is 4x6, its image img/2.png 8x8 (line 4); "
        "img/4_mask.npy is 8x5, its image img/4.png 8x8 (line 6)"
    ) in err


def test_a_dicom_masks_csv_giving_an_image_two_masks_is_refused_before_the_run(
    tmp_path: Path,
) -> None:
    """``data.masks`` of a DICOM run listing one SOP instance and frame again with another
    mask: refused with the other pre-run checks (exit 2, no run directory), naming the CSV's
    lines and masks and no UID; it was refused only once the run directory was made (exit 1).
    A ``file``-keyed masks CSV likewise, naming the file as written, and with the file spelt
    two ways (``./a/1.dcm``)."""
    from pipeline.synth import StudySpec, write_study

    write_study(tmp_path, StudySpec(patients=2, modality="MR", task="segmentation", size=16,
                                    slices=2))  # fmt: skip
    import shutil

    rows = read_rows(tmp_path / "masks.csv")
    (tmp_path / "m").mkdir()
    for i, r in enumerate(rows):  # the synthetic masks are named by UID: renamed here
        shutil.copyfile(tmp_path / r["mask"], tmp_path / f"m/{i}.png")
        r["mask"] = f"m/{i}.png"
    other = next(r["mask"] for r in rows if r["mask"] != rows[0]["mask"])
    # line 2 (the first row) and, again, the last line with another mask
    masks = write_rows(tmp_path / "masks2.csv", [*rows, {**rows[0], "mask": other}])
    err = _refused_dicom(tmp_path, masks)
    assert (
        f"data.masks: 1 image of masks2.csv listed again with another mask (only one can be "
        f"its truth): the sop_instance_uid of line 2, frame 0 (line 2 {rows[0]['mask']}, "
        f"line {len(rows) + 2} {other})"
    ) in err
    assert rows[0]["sop_instance_uid"] not in err
    # keyed by file: the file as the CSV gives it
    import pydicom

    files = {str(pydicom.dcmread(f, stop_before_pixels=True).SOPInstanceUID):
             f.relative_to(tmp_path / "dicom").as_posix()
             for f in (tmp_path / "dicom").rglob("*.dcm")}  # fmt: skip
    by_file = [{"file": files[r["sop_instance_uid"]], "frame": r["frame"], "mask": r["mask"]}
               for r in rows]  # fmt: skip
    keyed = write_rows(tmp_path / "by_file.csv", [*by_file, {**by_file[0], "mask": other}])
    err = _refused_dicom(tmp_path, keyed, in_process=True)  # the CLI's path: above
    assert (
        f"(only one can be its truth): {by_file[0]['file']}, frame 0 (line 2 "
        f"{rows[0]['mask']}, line {len(rows) + 2} {other})"
    ) in err
    # the file spelt another way is the same image: refused up front too (it was found only
    # once the run directory had been made, exit 1)
    spelt = {**by_file[0], "file": "./" + by_file[0]["file"], "mask": other}
    err = _refused_dicom(tmp_path, write_rows(tmp_path / "spelt.csv", [*by_file, spelt]),
                         in_process=True)  # fmt: skip
    assert (
        f"(only one can be its truth): {by_file[0]['file']}, frame 0 (line 2 "
        f"{rows[0]['mask']}, line {len(rows) + 2} {other})"
    ) in err


def _refused_dicom(tmp_path: Path, masks: Path, in_process: bool = False) -> str:
    """``radpipe run`` (subprocess) of a DICOM segmentation with ``masks``: must exit 2 before
    any run directory is made; returns its stderr."""
    raw = base_config(tmp_path, tmp_path / "runs", masks=str(masks))
    raw |= {"task": "segmentation", "model": {"type": "mlp_segmenter", "hidden": [8]}}
    return _exit_2(tmp_path, raw, in_process)


def _exit_2(tmp_path: Path, raw: dict[str, object], in_process: bool = False) -> str:
    """``radpipe run`` (subprocess; ``in_process``: its ``main``, the same code without the
    interpreter's start) of ``raw``: must exit 2 before any run directory is made under
    ``tmp_path/runs``; returns its stderr."""
    config = tmp_path / "config.yaml"
    config.write_text(json.dumps(raw))
    if in_process:
        import contextlib
        import io

        from workflows.cli import main

        err = io.StringIO()
        with contextlib.redirect_stderr(err):
            code = main(["run", str(config), "--quiet"])
        proc = subprocess.CompletedProcess([], code, "", err.getvalue())
    else:
        proc = subprocess.run([sys.executable, "-m", "workflows.cli", "run", str(config),
                               "--quiet"], cwd=ROOT, capture_output=True, text=True,
                              timeout=300)  # fmt: skip
    assert proc.returncode == 2, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr and str(tmp_path) not in proc.stderr
    assert not (tmp_path / "runs").exists()  # no run directory left behind
    return proc.stderr
