"""The cases of ``benchmarks/fuzz_inputs.py``: each writes its mutated input under
``cases/NAME/`` of the work folder and says the command, what it expects and what a refusal
must name. Paths in the commands are relative to the work folder (the current directory)."""

from __future__ import annotations

import csv
import io
import os
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import yaml
from PIL import Image

Build = Callable[[Path, Path], None]


@dataclass
class Case:
    name: str
    expect: str  # refuse | accept | any
    args: list[str]
    build: Build = lambda work, cdir: None
    names: tuple[str, ...] = ()  # a refusal must name one of these
    warn: str = ""  # an accepted case must say this (regex)
    timeout: float = 300


CASES: list[Case] = []
Q = "--quiet"


def _rows(path: Path) -> list[list[str]]:
    return list(csv.reader(io.StringIO(path.read_text())))


def _text(rows: list[list[str]], sep: str = ",", end: str = "\n") -> str:
    buf = io.StringIO()
    csv.writer(buf, delimiter=sep, lineterminator=end).writerows(rows)
    return buf.getvalue()


# -- labels CSV of the classification run --------------------------------------------------


def labels(name: str, expect: str, mutate: Callable[[list[list[str]]], str | bytes],
           warn: str = "") -> None:  # fmt: skip
    def build(work: Path, cdir: Path) -> None:
        out = mutate(_rows(work / "cr/labels.csv"))
        target = cdir / "labels.csv"
        target.write_bytes(out if isinstance(out, bytes) else out.encode())

    CASES.append(Case(
        f"labels_{name}", expect,
        ["run", "cls.yaml", "--set", f"data.labels=cases/labels_{name}/labels.csv", Q],
        build, ("labels.csv",), warn,
    ))  # fmt: skip


def _col(rows: list[list[str]], name: str) -> int:
    return rows[0].index(name)


def _set(rows: list[list[str]], col: str, line: int, value: str) -> list[list[str]]:
    rows[line][_col(rows, col)] = value
    return rows


labels("bom", "accept", lambda r: "\ufeff" + _text(r))
labels("crlf", "accept", lambda r: _text(r, end="\r\n"))
labels("quoted_comma_class", "accept",
       lambda r: _text([[*row[:-1], row[-1].replace("_", ", ")] for row in r]))  # fmt: skip
labels("semicolon", "refuse", lambda r: _text(r, sep=";"))
labels("tab", "refuse", lambda r: _text(r, sep="\t"))
labels("latin1", "refuse", lambda r: _text(_set(r, "class_name", 1, "lésion")).encode("latin-1"))
labels("utf16", "refuse", lambda r: _text(r).encode("utf-16"))
labels("empty_file", "refuse", lambda r: "")
labels("header_only", "refuse", lambda r: _text(r[:1]))
labels("binary", "refuse", lambda r: bytes(range(256)) * 4)
labels("nan_label", "refuse", lambda r: _text(_set(r, "label", 2, "NaN")))
labels("inf_label", "refuse", lambda r: _text(_set(r, "label", 2, "inf")))
labels("huge_label", "refuse", lambda r: _text(_set(r, "label", 2, "1e308")))
labels("huge_int_label", "refuse", lambda r: _text(_set(r, "label", 2, "9" * 40)))
labels("negative_label", "refuse", lambda r: _text(_set(r, "label", 2, "-1")))
labels("fraction_label", "refuse", lambda r: _text(_set(r, "label", 2, "0.5")))
# an empty label cell: the series has no label (data.missing_labels: warn leaves it out, said)
labels("empty_label", "any", lambda r: _text(_set(r, "label", 2, "")), warn="have no label")
labels("empty_uid", "refuse", lambda r: _text(_set(r, "series_uid", 2, "")))
labels("mixed_name_index", "refuse", lambda r: _text(_set(r, "label", 2, "lesion")))
labels("two_names_one_index", "refuse",
       lambda r: _text(_set(r, "class_name", 2, "other")))  # fmt: skip
labels("dup_other_label", "refuse",
       lambda r: _text([*r, [*r[2][:3], str(1 - int(r[2][3])), r[2][4]]]))  # fmt: skip
labels("dup_same", "accept", lambda r: _text([*r, r[2]]), warn="repeat|again")
labels("missing_rows", "any", lambda r: _text(r[:-4]), warn="unlabelled|no label|not labelled")
labels("one_class", "any", lambda r: _text([r[0]] + [x for x in r[1:] if x[3] == r[1][3]]))
labels("unquoted_comma", "refuse", lambda r: _text(r).replace("round_lesion", "round, lesion")
       .replace('"', ""))  # fmt: skip
labels("no_label_column", "refuse",
       lambda r: _text([[c for i, c in enumerate(row) if i != 3] for row in r]))  # fmt: skip
labels("quoted_numbers", "accept", lambda r: _text(r).replace(",0,", ',"0",'))
labels("spaces", "accept", lambda r: _text([[f" {c} " for c in row] for row in r]))
labels("leading_zero", "any", lambda r: _text(_set(r, "label", 2, "01")))
labels("plus_sign", "any", lambda r: _text(_set(r, "label", 2, "+1")))
labels("unknown_uid", "any", lambda r: _text([*r, [r[1][0], r[1][1], "1.2.3.4", "0", r[1][4]]]),
       warn="not in the converted data")  # fmt: skip
labels("long_cell", "any", lambda r: _text(_set(r, "class_name", 1, "x" * 200_000)))
labels("nul_byte", "refuse", lambda r: _text(_set(r, "class_name", 2, "no\0lesion")))
labels("excel_sep", "refuse", lambda r: "sep=,\n" + _text(r))
labels("unclosed_quote", "refuse", lambda r: _text(r).replace(",0,", ',"0,', 1))


def _labels_path(kind: str) -> Build:
    def build(work: Path, cdir: Path) -> None:
        target = cdir / "labels.csv"
        if kind == "dir":
            target.mkdir()
        elif kind == "symlink":
            target.symlink_to((work / "cr/labels.csv").resolve())
        elif kind == "dangling":
            target.symlink_to(cdir / "gone.csv")
        elif kind == "unreadable":
            shutil.copy(work / "cr/labels.csv", target)
            target.chmod(0)

    return build


ROOT_USER = hasattr(os, "geteuid") and os.geteuid() == 0  # root reads a file of mode 000
UNREADABLE = "any" if ROOT_USER else "refuse"
for kind, expect in [("dir", "refuse"), ("symlink", "accept"), ("dangling", "refuse"),
                     ("missing", "refuse"), ("unreadable", UNREADABLE)]:  # fmt: skip
    CASES.append(Case(
        f"labels_path_{kind}", expect,
        ["run", "cls.yaml", "--set", f"data.labels=cases/labels_path_{kind}/labels.csv", Q],
        _labels_path(kind), ("labels.csv", "gone.csv"),
    ))  # fmt: skip


# -- the config file ----------------------------------------------------------------------


def config(name: str, expect: str, mutate: Callable[[str], str | bytes],
           names: tuple[str, ...] = ("config.yaml",), show: bool = True) -> None:  # fmt: skip
    def build(work: Path, cdir: Path) -> None:
        text = (work / "cls.yaml").read_text()
        text = text.replace("cr/", "../../cr/").replace("output: runs", "output: ../../runs")
        out = mutate(text)
        (cdir / "config.yaml").write_bytes(out if isinstance(out, bytes) else out.encode())

    path = f"cases/config_{name}/config.yaml"
    CASES.append(Case(f"config_{name}", expect, ["run", path, Q], build, names))
    if show:
        CASES.append(Case(f"show_{name}", expect, ["config", "show", path], build, names))


def _edit(section: str | None, **values: object) -> Callable[[str], str]:
    def mutate(text: str) -> str:
        cfg = yaml.safe_load(text)
        (cfg[section] if section else cfg).update(values)
        return yaml.safe_dump(cfg, sort_keys=False)

    return mutate


config("empty", "refuse", lambda t: "")
config("list", "refuse", lambda t: "- a\n- b\n")
config("scalar", "refuse", lambda t: "hello\n")
config("tab_indent", "refuse", lambda t: t.replace("  epochs", "\tepochs"))
config("bad_yaml", "refuse", lambda t: t + "\n  : : [\n")
config("bom", "accept", lambda t: "\ufeff" + t, show=True)
config("latin1", "refuse", lambda t: (t + "# lésion\n").encode("latin-1"))
config("duplicate_key", "refuse", lambda t: t.replace("train:\n", "train:\n  epochs: 5\n", 1))
config("unknown_key", "refuse", _edit("train", epoch=3), names=("epoch",))
config("epochs_text", "refuse", _edit("train", epochs="ten"), names=("epochs",))
config("epochs_zero", "refuse", _edit("train", epochs=0), names=("epochs",))
config("epochs_negative", "refuse", _edit("train", epochs=-1), names=("epochs",))
config("epochs_float", "refuse", _edit("train", epochs=1.5), names=("epochs",))
config("epochs_bool", "refuse", _edit("train", epochs=True), names=("epochs",))
config("batch_zero", "refuse", _edit("train", batch_size=0), names=("batch_size",))
config("lr_negative", "refuse", _edit("train", lr=-0.1), names=("lr",))
config("lr_nan", "refuse", lambda t: t.replace("lr: 0.001", "lr: .nan"), names=("lr",))
config("lr_inf", "refuse", lambda t: t.replace("lr: 0.001", "lr: .inf"), names=("lr",))
config("split_over_one", "refuse", _edit("split", test=0.8, val=0.5), names=("split",))
config("split_negative", "refuse", _edit("split", test=-0.1), names=("split",))
config("split_all_test", "refuse", _edit("split", test=1.0, val=0.0), names=("split",))
config("folds_over_patients", "refuse", _edit("split", folds=50, test=0.0),
       names=("fold", "split"), show=False)  # fmt: skip
config("folds_one", "refuse", _edit("split", folds=1), names=("fold",))
config("seed_huge", "any", _edit(None, seed=2**80), names=("seed",))
config("seed_negative", "any", _edit(None, seed=-5), names=("seed",))
config("name_slash", "refuse", _edit(None, name="../../escape"), names=("name",))
config("name_empty", "refuse", _edit(None, name=""), names=("name",))
config("workers_zero", "refuse", _edit("convert", workers=0), names=("workers",))
config("workers_negative", "refuse", _edit("convert", workers=-3), names=("workers",))
config("workers_huge", "any", _edit("convert", workers=10**6), names=("workers",), show=False)
config("num_workers_negative", "refuse", _edit("train", num_workers=-1), names=("num_workers",))
config("threads_zero", "refuse", lambda t: t + "compute: {threads: 0}\n", names=("threads",))
RESIZE = ("shape", "resize")
config("resize_zero", "refuse", _edit(None, preprocess=[{"type": "resize", "shape": [0, 0]}]),
       names=RESIZE)  # fmt: skip
config("resize_negative", "refuse", _edit(None, preprocess=[{"type": "resize", "shape": [-4, 8]}]),
       names=RESIZE)  # fmt: skip
config("stage_unknown", "refuse", _edit(None, preprocess=[{"type": "rezise"}]), names=("rezise",))
config("stage_no_type", "refuse", _edit(None, preprocess=[{"shape": [8, 8]}]), names=("type",))
config("stage_not_mapping", "refuse", _edit(None, preprocess=["resize"]), names=("preprocess",))
config("model_unknown", "refuse", _edit("model", type="gpt"), names=("gpt",))
config("hidden_zero", "refuse", _edit("model", hidden=[0]), names=("hidden",))
config("dropout_over_one", "refuse", _edit("model", dropout=1.5), names=("dropout",))
config("task_unknown", "refuse", _edit(None, task="regression"), names=("task",))
# `config show` checks the config, not the files it names: these go to `run` alone
config("source_missing", "refuse", _edit("data", source="nowhere"), names=("nowhere",),
       show=False)  # fmt: skip
config("source_file", "refuse", _edit("data", source="../../cls.yaml"), names=("cls.yaml",),
       show=False)  # fmt: skip
config("source_empty_dir", "refuse", _edit("data", source="."), names=("data.source", "DICOM"),
       show=False)  # fmt: skip
config("output_file", "refuse", _edit(None, output="../../cls.yaml"), names=("cls.yaml",),
       show=False)  # fmt: skip
config("output_in_source", "any", _edit(None, output="../../cr/dicom/runs"), show=False)
config("labels_null", "refuse", _edit("data", labels=None), names=("labels",), show=False)
config("class_names_dup", "refuse", _edit("data", class_names=["a", "a"]),
       names=("class_names",))  # fmt: skip
config("class_names_short", "refuse", _edit("data", class_names=["a"]), names=("class",),
       show=False)  # fmt: skip
config("max_classes_huge", "refuse", _edit("data", max_classes=10**9), names=("max_classes",))


# -- command-line flags -------------------------------------------------------------------


def flags(name: str, expect: str, args: list[str], names: tuple[str, ...],
          build: Build = lambda work, cdir: None) -> None:  # fmt: skip
    CASES.append(Case(f"flag_{name}", expect, args, build, names=names))


def _copy_source(work: Path, cdir: Path) -> None:
    """A copy of the CR study's DICOM folder, for cases that write into their source."""
    shutil.copytree(work / "cr/dicom", cdir / "dicom")


flags("threads_zero", "refuse", ["run", "cls.yaml", "--threads", "0", Q], ("threads",))
flags("threads_negative", "refuse", ["run", "cls.yaml", "--threads", "-2", Q], ("threads",))
flags("threads_huge", "refuse", ["run", "cls.yaml", "--threads", "99999999", Q], ("threads",))
flags("threads_text", "refuse", ["run", "cls.yaml", "--threads", "two", Q], ("threads",))
flags("nproc_zero", "refuse", ["run", "cls.yaml", "--nproc", "0", Q], ("nproc",))
flags("set_no_equals", "refuse", ["run", "cls.yaml", "--set", "train.epochs", Q], ("train.epochs",))
flags("set_unknown", "refuse", ["run", "cls.yaml", "--set", "train.epoch=2", Q], ("epoch",))
flags("set_bad_value", "refuse", ["run", "cls.yaml", "--set", "train.epochs=x", Q], ("epochs",))
flags("set_empty_key", "refuse", ["run", "cls.yaml", "--set", "=3", Q], ("set",))
flags("set_section", "refuse", ["run", "cls.yaml", "--set", "train=3", Q], ("train",))
flags("set_deep", "refuse", ["run", "cls.yaml", "--set", "train.lr.x=3", Q], ("lr",))
flags("config_missing", "refuse", ["run", "nope.yaml", Q], ("nope.yaml",))
flags("config_dir", "refuse", ["run", "cr", Q], ("cr",))
flags("resume_not_run", "refuse", ["run", "--resume", "cr", Q], ("cr",))
flags("resume_missing", "refuse", ["run", "--resume", "gone", Q], ("gone",))
flags("resume_and_config", "refuse", ["run", "cls.yaml", "--resume", "cls_run", Q],
      ("resume",))  # fmt: skip
flags("synth_zero_patients", "refuse", ["synth", "cases/s0", "--patients", "0"], ("patients",))
flags("synth_negative_size", "refuse", ["synth", "cases/s1", "--size", "-3"], ("size",))
flags("synth_huge_size", "refuse", ["synth", "cases/s2", "--size", "99999999"], ("size",))
flags("synth_out_file", "refuse", ["synth", "cls.yaml"], ("cls.yaml",))
flags("convert_workers_zero", "refuse", ["convert", "cr/dicom", "cases/c0", "--workers", "0"],
      ("workers",))  # fmt: skip
flags("convert_workers_negative", "refuse",
      ["convert", "cr/dicom", "cases/c1", "--workers", "-1"], ("workers",))  # fmt: skip
SRC = "cases/flag_convert_out_in_src/dicom"
flags("convert_out_in_src", "any", ["convert", SRC, f"{SRC}/out"], ("out",), _copy_source)
SRC = "cases/flag_convert_out_is_src/dicom"
flags("convert_out_is_src", "refuse", ["convert", SRC, SRC], ("dicom",), _copy_source)
flags("convert_src_empty", "refuse", ["convert", "cases", "cases/c2"], ("cases",))
flags("predict_src_missing", "refuse", ["predict", "cls_run", "gone", Q], ("gone",))
flags("predict_src_file", "refuse", ["predict", "cls_run", "cls.yaml", Q], ("cls.yaml",))
flags("predict_src_empty", "refuse", ["predict", "cls_run", "cases/flag_predict_src_empty", Q],
      ("flag_predict_src_empty",))  # fmt: skip
flags("predict_run_missing", "refuse", ["predict", "gone", "cr/dicom", Q], ("gone",))
flags("predict_run_not_run", "refuse", ["predict", "cr", "cr/dicom", Q], ("cr",))
flags("predict_out_file", "refuse", ["predict", "cls_run", "cr/dicom", "--out", "cls.yaml", Q],
      ("cls.yaml",))  # fmt: skip
SRC = "cases/flag_predict_out_is_src/dicom"
flags("predict_out_is_src", "refuse", ["predict", "cls_run", SRC, "--out", SRC, Q], ("dicom",),
      _copy_source)  # fmt: skip
flags("evaluate_no_labels", "refuse", ["evaluate", "cls_run", "cr/dicom", Q], ("labels",))
flags("evaluate_labels_missing", "refuse",
      ["evaluate", "cls_run", "cr/dicom", "--labels", "gone.csv", Q], ("gone.csv",))  # fmt: skip
flags("evaluate_labels_dir", "refuse",
      ["evaluate", "cls_run", "cr/dicom", "--labels", "cr", Q], ("cr",))  # fmt: skip
flags("evaluate_labels_config", "refuse",
      ["evaluate", "cls_run", "cr/dicom", "--labels", "cls.yaml", Q], ("cls.yaml",))  # fmt: skip
flags("evaluate_masks_on_cls", "refuse",
      ["evaluate", "cls_run", "cr/dicom", "--labels", "cr/labels.csv", "--masks",
       "seg/masks.csv", Q], ("masks",))  # fmt: skip
flags("evaluate_seg_masks_missing", "refuse",
      ["evaluate", "seg_run", "seg/dicom", "--masks", "gone.csv", Q], ("gone.csv",))  # fmt: skip
flags("evaluate_seg_labels_csv_as_masks", "refuse",
      ["evaluate", "seg_run", "seg/dicom", "--masks", "seg/labels.csv", Q],
      ("labels.csv",))  # fmt: skip


# -- masks CSV of the segmentation run ----------------------------------------------------


def masks(name: str, expect: str, mutate: Callable[[Path, list[list[str]]], str | bytes],
          names: tuple[str, ...] = ("masks.csv",), evaluate: bool = False) -> None:  # fmt: skip
    def build(work: Path, cdir: Path) -> None:
        shutil.copytree(work / "seg/masks", cdir / "masks")
        out = mutate(cdir, _rows(work / "seg/masks.csv"))
        (cdir / "masks.csv").write_bytes(out if isinstance(out, bytes) else out.encode())

    path = f"cases/masks_{name}/masks.csv"
    run = ["run", "seg.yaml", "--set", f"data.masks={path}", Q]
    CASES.append(Case(f"masks_{name}", expect, run, build, names))
    if evaluate:
        evaluate_args = ["evaluate", "seg_run", "seg/dicom", "--masks", path, Q]
        CASES.append(Case(f"evmasks_{name}", expect, evaluate_args, build, names))


def _mask_file(cdir: Path, rows: list[list[str]], line: int) -> Path:
    return cdir / rows[line][_col(rows, "mask")]


def _write_mask(array: np.ndarray) -> Callable[[Path, list[list[str]]], str]:
    def mutate(cdir: Path, rows: list[list[str]]) -> str:
        Image.fromarray(array).save(_mask_file(cdir, rows, 3))
        return _text(rows)

    return mutate


def _replace(kind: str) -> Callable[[Path, list[list[str]]], str]:
    def mutate(cdir: Path, rows: list[list[str]]) -> str:
        target = _mask_file(cdir, rows, 3)
        target.unlink()
        if kind == "dir":
            target.mkdir()
        elif kind == "symlink":
            shutil.copy(_mask_file(cdir, rows, 4), cdir / "real.png")
            target.symlink_to(cdir / "real.png")
        elif kind == "outside_symlink":
            target.symlink_to(_mask_file(cdir, rows, 4).resolve().parents[3] / "seg/masks.csv")
        elif kind == "empty":
            target.write_bytes(b"")
        elif kind == "text":
            target.write_text("not a png\n")
        return _text(rows)

    return mutate


masks("missing_file", "refuse", _replace("missing"), evaluate=True)
masks("dir", "refuse", _replace("dir"), evaluate=True)
masks("symlink", "accept", _replace("symlink"))
masks("outside_symlink", "refuse", _replace("outside_symlink"))
masks("empty_file", "refuse", _replace("empty"), evaluate=True)
masks("text_as_png", "refuse", _replace("text"))
masks("wrong_size", "refuse", _write_mask(np.zeros((16, 16), np.uint8)), evaluate=True)
masks("grey_levels", "refuse", _write_mask((np.arange(1024) % 7 * 37).astype(np.uint8)
      .reshape(32, 32)), evaluate=True)  # fmt: skip
masks("colour", "refuse", _write_mask(np.stack([np.eye(32, dtype=np.uint8) * k
      for k in (1, 2, 0)], -1)))  # fmt: skip
masks("sixteen_bit", "refuse", _write_mask((np.eye(32) * 1000).astype(np.uint16)))
masks("frame_negative", "refuse", lambda c, r: _text(_set(r, "frame", 2, "-1")))
masks("frame_text", "refuse", lambda c, r: _text(_set(r, "frame", 2, "first")))
masks("frame_nan", "refuse", lambda c, r: _text(_set(r, "frame", 2, "nan")))
masks("frame_huge", "refuse", lambda c, r: _text(_set(r, "frame", 2, "9" * 30)))
masks("mask_empty_cell", "refuse", lambda c, r: _text(_set(r, "mask", 2, "")))
masks("mask_absolute", "any",
      lambda c, r: _text(_set(r, "mask", 2, str((c / r[2][-1]).resolve()))))  # fmt: skip
masks("mask_dotdot", "refuse", lambda c, r: _text(_set(r, "mask", 2, "../x/../" + r[2][-1])))
masks("missing_row", "refuse", lambda c, r: _text(r[:2] + r[3:]), evaluate=True)
masks("dup_other_mask", "refuse", lambda c, r: _text([*r, [*r[2][:-1], r[3][-1]]]))
masks("semicolon", "refuse", lambda c, r: _text(r, sep=";"), evaluate=True)
masks("bom_crlf", "accept", lambda c, r: "\ufeff" + _text(r, end="\r\n"))
masks("latin1", "refuse", lambda c, r: (_text(r) + "é\n").encode("latin-1"))
masks("header_only", "refuse", lambda c, r: _text(r[:1]), evaluate=True)
masks("no_mask_column", "refuse", lambda c, r: _text([row[:-1] for row in r]), evaluate=True)
