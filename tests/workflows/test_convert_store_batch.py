"""The scratch store writes the rows and instances added in batches (workflows.convert.store):
what comes back must be exactly what was added, in the order added, whenever it is read."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from pathlib import Path

import pytest

from pipeline.dicom.header import Instance, read_header
from tests.pipeline.dicom.plain_files import ct_dataset, save
from workflows.convert import store
from workflows.convert.batch import ConvertOptions, convert_folder
from workflows.convert.collect import PLACED_COLUMNS, placed
from workflows.convert.tasks import MANIFEST_COLUMNS


def _row(source: str, output: str) -> dict[str, str]:
    return {**dict.fromkeys(MANIFEST_COLUMNS, "x"), "source": source, "output": output}


def _instance(folder: Path, k: int, series: str = "1.2.3.9") -> Instance:
    ds = ct_dataset(SOPInstanceUID=f"1.2.3.4.{k}", SeriesInstanceUID=series,
                    ImagePositionPatient=["0", "0", str(k)])  # fmt: skip
    path = save(ds, folder / f"{k}.dcm")
    found = read_header(str(path), str(folder))
    assert isinstance(found, Instance)
    return found


def test_rows_and_instances_are_written_a_batch_at_a_time_and_read_in_order(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "BATCH", 3)
    made = [_instance(tmp_path, k) for k in range(4)]
    with store.Store(tmp_path) as kept:
        written = "SELECT COUNT(*) FROM rows"
        kept.add_rows([_row("a", "1.npy")])
        kept.add_rows([_row("b", "2.npy"), _row("b", "3.npy")])  # three: a batch
        assert kept._db.execute(written).fetchone() == (3,)
        kept.add_rows([_row("c", "4.npy")])
        assert kept._db.execute(written).fetchone() == (3,)  # waits for its batch
        for inst in made[:2]:
            kept.add_instance(inst.path, inst)
        assert kept._db.execute("SELECT COUNT(*) FROM instances").fetchone() == (0,)
        # a read writes what was added first: nothing is missed, nothing out of order
        assert [r["output"] for r in kept.rows_of("c")] == ["4.npy"]
        assert [r["output"] for r in kept.sorted_rows()] == ["1.npy", "2.npy", "3.npy", "4.npy"]
        kept.add_instance(made[2].path, made[2])
        kept.add_instance(made[0].path, replace(made[0], modality="MR"))  # replaces, keeps place
        kept.add_instance(made[3].path, made[3])
        found = kept.instances_of("1.2.3.9")
        assert [i.path for i in found] == ["0.dcm", "1.dcm", "2.dcm", "3.dcm"]
        assert [i.modality for i in found] == ["MR", "CT", "CT", "CT"]
        assert found[1:] == made[1:] and kept.sop_uid_of("3.dcm") == "1.2.3.4.3"


def test_placing_rows_changes_only_the_placed_columns(tmp_path: Path) -> None:
    with store.Store(tmp_path) as kept:
        kept.add_rows([{**_row("a", "1.npy"), "frame": "0", "problems": "p1"},
                       {**_row("a", "2.npy"), "frame": "1", "problems": ""}])  # fmt: skip
        place = {("a", 0): (0, 7, 9, "2.5")}
        kept.update_rows("a", lambda rows: placed(rows, place, {"a": "p2"}), PLACED_COLUMNS)
        first, second = kept.rows_of("a")
    assert first == {
        **_row("a", "1.npy"),
        "frame": "0",
        "problems": "p1; p2",
        "slice_index": "7",
        "num_slices": "9",
        "volume": "0",
        "slice_spacing": "2.5",
    }
    assert second == {**_row("a", "2.npy"), "frame": "1", "problems": "p2"}  # in no volume


@pytest.mark.parametrize("per", ["instance", "series"])
def test_a_conversion_is_the_same_whatever_the_batch(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, per: str
) -> None:
    src = tmp_path / "src"
    src.mkdir()
    for k in range(7):  # two series, interleaved
        ds = ct_dataset(SOPInstanceUID=f"1.2.3.4.{k}", SeriesInstanceUID=f"1.2.3.{k % 2}",
                        ImagePositionPatient=["0", "0", str(k // 2 * 2)])  # fmt: skip
        save(ds, src / f"{k}.dcm")
    options = ConvertOptions(format="npy", window="none", per=per)

    def digests(out: Path) -> dict[str, str]:
        assert convert_folder(src, out, options, progress=False).failures == []
        return {p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
                for p in sorted(out.rglob("*")) if p.is_file()}  # fmt: skip

    everything = digests(tmp_path / "big")
    monkeypatch.setattr(store, "BATCH", 2)
    assert digests(tmp_path / "small") == everything
    assert "manifest.csv" in everything


class Marked(Instance):
    """Not the class a record rebuilds: pickled whole."""


def _same(a: object, b: object) -> bool:
    """The same class, fields, values and value types (``==`` skips ``header_digest``)."""
    if type(a) is not type(b):
        return False
    if isinstance(a, tuple | list):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b))  # type: ignore[arg-type]
    if hasattr(a, "__dict__"):
        return a.__dict__.keys() == b.__dict__.keys() and all(
            _same(v, b.__dict__[k]) for k, v in a.__dict__.items()
        )
    return a == b or (a != a and b != b)  # NaN


def test_an_instance_comes_back_from_its_record_as_it_went_in(tmp_path: Path) -> None:
    from workflows.convert.instance_record import dump_instance, load_instance

    one = _instance(tmp_path, 1)
    assert one.header_digest and one.frame_refs  # a clean reading, with its digest and frames
    two_frames = replace(one, frames=2, header_digest="", notes=("a note",),
                         frame_refs=(one.frame_refs[0], replace(one.frame_refs[0], frame=1,
                                                                time=float("nan"))))  # fmt: skip
    for inst in (one, two_frames):
        back = load_instance(dump_instance(inst))
        assert _same(back, inst) and back is not inst
        assert back.header_digest == inst.header_digest  # not in ==: compared here
    assert load_instance(dump_instance(one)).frame_refs[0].position == (0.0, 0.0, 1.0)

    marked = Marked(**one.__dict__)
    assert type(load_instance(dump_instance(marked))) is Marked


def test_the_rows_of_many_sources_are_changed_each_source_at_a_time(tmp_path: Path) -> None:
    """``update_rows_of``: one query per 500 sources; each source's rows, in the order added,
    go to ``change`` together, and the rows of sources not named stay as they are."""
    seen: list[list[str]] = []

    def numbered(rows: list[dict[str, str]]) -> list[dict[str, str]]:
        seen.append([r["output"] for r in rows])
        return [{**r, "slice_index": str(k)} for k, r in enumerate(rows)]

    with store.Store(tmp_path) as kept:
        kept.add_rows([{**_row(f"s{k}", f"{k}.npy"), "slice_index": "x"} for k in range(1200)])
        kept.add_rows([_row("s1", "1b.npy"), _row("s700", "700b.npy")])  # a second row each
        named = [f"s{k}" for k in range(1, 1100)] + ["gone"]  # 'gone' has no rows
        kept.update_rows_of(named, numbered, ("output", "slice_index"))
        rows = {r["output"]: r["slice_index"] for r in kept.sorted_rows()}
    assert len(seen) == 1099 and seen[0] == ["1.npy", "1b.npy"] and seen[1] == ["2.npy"]
    assert seen[699] == ["700.npy", "700b.npy"]
    assert rows["1.npy"] == rows["700.npy"] == rows["1099.npy"] == "0"
    assert rows["1b.npy"] == rows["700b.npy"] == "1"
    assert rows["0.npy"] == rows["1100.npy"] == "x"  # not named: unchanged
