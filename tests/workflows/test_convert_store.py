"""The collector keeps what it gathers on disk (workflows.convert.store), not in memory: the
results must be exactly those of assembling everything at once, the scratch file must never
outlive the run, and the memory of a conversion must not grow with the number of files."""

from __future__ import annotations

import gc
import operator
import os
import sqlite3
import tempfile
import tracemalloc
from pathlib import Path

import numpy as np
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from pipeline.dicom.index import index_folder
from workflows.convert import batch, place, store, tasks
from workflows.convert.batch import ConvertOptions, convert_folder
from workflows.convert.pool import map_tasks
from workflows.convert.tasks import MANIFEST_COLUMNS


def _ct(path: Path, *, patient: str, series: str, z: float, size: int = 4) -> None:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.PatientID, ds.StudyInstanceUID, ds.SeriesInstanceUID = patient, "1.2.3", series
    ds.SpecificCharacterSet = "ISO_IR 192"
    ds.Modality, ds.Rows, ds.Columns = "CT", size, size
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 0
    ds.ImageOrientationPatient, ds.ImagePositionPatient = [1, 0, 0, 0, 1, 0], [0, 0, z]
    ds.PixelSpacing = [1, 1]
    ds.PixelData = np.full((size, size), int(z) % 7, dtype="<u2").tobytes()
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)


def _study(src: Path) -> None:
    """Three patients whose IDs sort differently by byte and by hash, series with shuffled
    file names, one with a missing slice (a problem the index reports), and one series whose
    slices carry two PatientIDs (the index places it by its first slice's)."""
    rng = np.random.default_rng(0)
    for patient in ("Zoë", "anna", "Ölaf"):
        for s in range(2):
            uid = generate_uid()
            for z in rng.permutation([0, 1, 2, 3, 5] if s else [0, 2, 4, 6]):
                _ct(src / patient / f"{rng.integers(1 << 30):x}.dcm", patient=patient, series=uid,
                    z=float(z))  # fmt: skip
    uid = generate_uid()
    for z in (2, 0, 1):  # slice 0 (first in slice order) says "Bert", the others "zed"
        _ct(src / "mixed" / f"{z}.dcm", patient="Bert" if z == 0 else "zed", series=uid,
            z=float(z))  # fmt: skip


@pytest.mark.parametrize("per", ["instance", "series"])
def test_the_index_of_a_conversion_is_the_index_of_the_folder(tmp_path: Path, per: str) -> None:
    """``convert_folder(index_csv=...)`` assembles one series at a time from the scratch
    store; ``index_folder`` assembles the whole folder in memory. Same bytes."""
    src = tmp_path / "src"
    _study(src)
    options = ConvertOptions(format="npy", per=per)
    result = convert_folder(src, tmp_path / "out", options, progress=False,
                            index_csv=tmp_path / "index.csv")  # fmt: skip
    assert result.index_csv == tmp_path / "index.csv"
    expected = index_folder(src).write_csv(tmp_path / "expected.csv").read_bytes()
    assert (tmp_path / "index.csv").read_bytes() == expected
    assert len(expected.splitlines()) == 1 + 3 * (4 + 5) + 3


def test_the_scratch_store_never_outlives_the_run(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    src, out = tmp_path / "src", tmp_path / "out"
    _study(src)
    convert_folder(src, out, ConvertOptions(format="npy"), progress=False)
    assert not (out / store.NAME).exists()
    real = tasks.run_task
    seen: list[bool] = []

    def killed(task: tasks.ConvertTask, options: ConvertOptions) -> tasks.TaskResult:
        seen.append((out / store.NAME).exists())  # it is there while the run goes on
        raise KeyboardInterrupt

    monkeypatch.setattr(batch, "run_task", killed)
    with pytest.raises(KeyboardInterrupt):
        convert_folder(src, out, ConvertOptions(format="png"), progress=False)
    assert seen == [True] and not (out / store.NAME).exists()
    # a run killed so hard that nothing was cleaned up: the next run starts from an empty one
    (out / store.NAME).write_bytes(b"left by a killed run")
    monkeypatch.setattr(batch, "run_task", real)
    result = convert_folder(src, out, ConvertOptions(format="npy"), progress=False)
    assert result.exit_code == 0 and result.outputs == 30
    assert not (out / store.NAME).exists()


def test_where_sqlite_cannot_work_in_out_the_scratch_file_goes_to_the_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    src = tmp_path / "src"
    _study(src)
    expected = convert_folder(src, tmp_path / "a", ConvertOptions(format="npy"), progress=False)
    real, opened = store._open, []

    def no_locks_in_out(path: Path, exists: bool = False) -> object:
        opened.append(path)
        if path.parent == tmp_path / "b":
            raise sqlite3.OperationalError("database is locked")
        return real(path, exists)

    monkeypatch.setattr(store, "_open", no_locks_in_out)
    monkeypatch.setenv("TMPDIR", str(tmp_path / "tmp"))
    (tmp_path / "tmp").mkdir()
    monkeypatch.setattr(tempfile, "tempdir", None)  # TMPDIR read again
    result = convert_folder(src, tmp_path / "b", ConvertOptions(format="npy"), progress=False)
    assert result.outputs == expected.outputs == 30
    assert (tmp_path / "b" / "manifest.csv").read_bytes() == (
        tmp_path / "a" / "manifest.csv"
    ).read_bytes()
    assert [p.parent for p in opened] == [tmp_path / "b", tmp_path / "tmp"]
    assert not any((tmp_path / "tmp").iterdir())  # removed at the end
    assert "system's temporary folder" in caplog.text and str(tmp_path) not in caplog.text


def test_map_tasks_reads_a_generator_only_a_few_chunks_ahead() -> None:
    pulled: list[int] = []

    def tasks_() -> object:
        for k in range(400):
            pulled.append(k)
            yield k

    results = map_tasks(operator.neg, tasks_(), workers=2, total=400)
    first = next(results)
    # chunks of 400 // (2 * 8) -> 16 tasks, a window of 2 * workers chunks in flight
    assert first == 0 and len(pulled) <= 4 * 16
    assert [first, *results] == [-k for k in range(400)]


@pytest.mark.parametrize("per", ["instance", "series"])
def test_the_collector_memory_does_not_grow_with_the_number_of_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, per: str
) -> None:
    """What radpipe's own code holds (tracemalloc, allocations made in ``pipeline/`` and
    ``workflows/``) while the series are assembled at the end of a conversion of 100 and of
    300 files. Rows and header facts kept in lists cost about 4 KB per file (0.8 MB more
    here); kept in the scratch store, only the series being assembled is in memory."""
    ours = [tracemalloc.Filter(True, f"*{os.sep}{d}{os.sep}*") for d in ("pipeline", "workflows")]
    real = batch.sort_series
    held: list[int] = []

    def measured(*args: object, **kwargs: object) -> object:
        gc.collect()  # what is alive, not what waits for the cycle collector
        snapshot = tracemalloc.take_snapshot().filter_traces(ours)
        held.append(sum(s.size for s in snapshot.statistics("filename")))
        return real(*args, **kwargs)

    monkeypatch.setattr(batch, "sort_series", measured)
    monkeypatch.setattr(place, "sort_series", measured)  # per instance, series placed there

    def peak(n: int) -> int:
        src = tmp_path / f"src{n}"
        for k in range(n):
            series = f"1.2.826.0.1.{k // 100}"
            _ct(src / f"s{k // 100:03d}" / f"{k:05d}.dcm", patient=f"P{k // 400}",
                series=series, z=float(k % 100))  # fmt: skip
        held.clear()
        tracemalloc.start()
        result = convert_folder(src, tmp_path / f"out{n}", ConvertOptions(format="npy", per=per),
                                progress=False)  # fmt: skip
        tracemalloc.stop()
        assert result.outputs == (n if per == "instance" else n // 100)
        assert len(held) == n // 100  # each series assembled once
        return max(held)

    small, large = peak(100), peak(300)
    assert large - small < 200_000, (small, large)


def test_store_rows_keep_their_place_and_collisions_are_grouped(tmp_path: Path) -> None:
    def row(source: str, output: str, **extra: str) -> dict[str, str]:
        return {**dict.fromkeys(MANIFEST_COLUMNS, ""), "source": source, "output": output,
                **extra}  # fmt: skip

    with store.Store(tmp_path) as kept:
        kept.add_rows(
            [
                row("b", "2.npy", patient_key="p1"),
                row("a", "1.npy", patient_key="p2"),
                row("c", "1.npy", patient_key="p2"),
                row("b", "3.npy", patient_key="p1"),
            ]
        )
        kept.update_rows("b", lambda rows: [{**r, "slice_index": str(len(rows) - k)}
                                            for k, r in enumerate(rows)])  # fmt: skip
        assert [(r["output"], r["slice_index"]) for r in kept.rows_of("b")] == [
            ("2.npy", "2"), ("3.npy", "1")]  # fmt: skip
        assert [r["output"] for r in kept.sorted_rows()] == ["2.npy", "3.npy", "1.npy", "1.npy"]
        assert kept.shared_outputs() == [("a", "c")]
        assert kept.output_count() == 3
        kept.add_listed(["1.npy", "gone.npy", "old/x.png"])
        assert list(kept.unlisted_now()) == ["gone.npy", "old/x.png"]
        kept.add_previous([row("a", "1.npy"), row("a", "1.npy"), row("a", "9.npy")])
        assert [r["output"] for r in kept.previous_of("a")] == ["1.npy", "9.npy"]
    assert not (tmp_path / store.NAME).exists()


def test_store_keys_sort_as_python_sorts_strings() -> None:
    """Series are ordered in SQL by their encoded IDs; that must be Python's string order,
    also for IDs with characters outside the BMP and undecodable bytes (surrogates)."""
    ids = ["b", "a", "Ä", "z", "\U0001f600", "\ud800x", "\udcff", "\uffff", "\ue000", "", "a\x00"]
    assert sorted(ids, key=store._blob) == sorted(ids)
    assert [store._text(store._blob(i)) for i in ids] == ids
