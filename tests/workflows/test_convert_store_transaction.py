"""The scratch store holds one transaction for the whole run (workflows.convert.store).

``sqlite3``'s ``executescript`` COMMITs a pending transaction before it runs: the stat facts'
tables (and, resuming per series, the last run's) were created that way right after the
store's ``BEGIN``, so every later row was a transaction of its own, a lock taken and released
and its pages written each time (about 0.2 ms a file, a quarter of a 64x64 NPY conversion).
The store is scratch (deleted when the run ends; resume reads the partial manifests), so
nothing is lost by committing only at the end.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.pipeline.dicom.plain_files import ct_dataset, save
from workflows.convert import store
from workflows.convert.batch import ConvertOptions, convert_folder


def _series(folder: Path, count: int = 3) -> Path:
    folder.mkdir()
    for k in range(count):
        save(ct_dataset(SOPInstanceUID=f"1.2.3.4.5.{20 + k}", InstanceNumber=str(k + 1),
                        ImagePositionPatient=["-125.5", "-130", str(k * 1.25)]),
             folder / f"{k}.dcm")  # fmt: skip
    return folder


def test_a_new_store_is_in_its_transaction(tmp_path: Path) -> None:
    with store.Store(tmp_path) as scratch:
        assert scratch.db.in_transaction


@pytest.mark.parametrize("per", ["instance", "series"])
def test_every_row_is_added_in_the_one_transaction(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, per: str
) -> None:
    seen: list[bool] = []
    add_rows = store.Store.add_rows

    def recording(self: store.Store, rows: object, table: str = "rows") -> None:
        seen.append(self.db.in_transaction)
        add_rows(self, rows, table)  # type: ignore[arg-type]

    monkeypatch.setattr(store.Store, "add_rows", recording)
    src = _series(tmp_path / "src")
    options = ConvertOptions(format="npy", window="none", per=per)
    for _ in range(2):  # the second run resumes: the last run's tables are made too
        result = convert_folder(src, tmp_path / "out", options, progress=False)
        assert result.failures == []
    assert seen and all(seen)
    expected = np.arange(30, dtype="<u2") * 97 % 4096 - 1024.0  # ct_dataset's pixels, rescaled
    first = np.load(sorted((tmp_path / "out").rglob("*.npy"))[0])
    assert np.array_equal(first.reshape(-1, 30)[0], expected.astype(np.float32))
