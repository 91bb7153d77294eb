"""Legal header mutants (``benchmarks/fuzz_oracle.py``): each kind changes what it says and
the file still parses; the duplicate kind writes one element twice."""

from __future__ import annotations

import io
import warnings

import numpy as np
import pydicom
import pytest

from pipeline.synth import legal_mutants
from pipeline.synth.mutants import seed_files


@pytest.fixture(scope="module")
def ct16() -> bytes:
    return seed_files(0)["ct16"]


@pytest.mark.parametrize("kind", sorted(legal_mutants.KINDS))
def test_each_kind_changes_the_header_and_parses(
    ct16: bytes, kind: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(legal_mutants, "KINDS", {kind: legal_mutants.KINDS[kind]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # invalid values are written on purpose
        name, said, data = legal_mutants.legal_mutant(ct16, np.random.default_rng(3))
        ds = pydicom.dcmread(io.BytesIO(data), force=True)
    assert name.split("+")[0] == kind and said
    assert ds.SOPInstanceUID != pydicom.dcmread(io.BytesIO(ct16)).SOPInstanceUID


def test_series_mutants_share_their_series_and_step_along_z(ct16: bytes) -> None:
    rng = np.random.default_rng(0)
    files = [legal_mutants.legal_mutant(ct16, rng, ("1.2.3", "1.2.3.4", k), p=0)[2]
             for k in range(3)]  # fmt: skip
    read = [pydicom.dcmread(io.BytesIO(f)) for f in files]
    assert {ds.SeriesInstanceUID for ds in read} == {"1.2.3.4"}
    assert [float(ds.ImagePositionPatient[2]) for ds in read] == [0.0, 2.0, 4.0]
    assert len({ds.SOPInstanceUID for ds in read}) == 3


def test_duplicate_writes_the_element_twice(ct16: bytes, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(legal_mutants, "KINDS", {"duplicate": legal_mutants.KINDS["duplicate"]})
    _, said, data = legal_mutants.legal_mutant(ct16, np.random.default_rng(1))
    keyword = said.split()[0]
    element = legal_mutants._DUPLICABLE[keyword][0]
    assert data.count(b"\x28\x00" + element.to_bytes(2, "little") + b"DS") == 2
