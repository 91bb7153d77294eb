"""No note the index gathers holds "; ", the problems cell's separator, over many odd files.

The byte mutants (:mod:`pipeline.synth.mutants`) and the legal header mutants
(:mod:`pipeline.synth.legal_mutants`) give a few hundred files with most of the notes radpipe
writes (an unusable window, NumberOfFrames 0, bits past BitsStored...); several of those
notes held "; " before they were gathered through ``note_text``, so split from a manifest
cell each became two.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np

from pipeline.dicom.index import index_folder
from pipeline.dicom.notes import SEPARATOR
from pipeline.synth.legal_mutants import legal_mutant
from pipeline.synth.mutants import seed_files, write_mutants


def test_no_gathered_note_holds_the_separator(tmp_path: Path) -> None:
    write_mutants(tmp_path / "bytes", 150, seed=1)
    rng, seeds = np.random.default_rng(2), seed_files(2)
    (tmp_path / "legal").mkdir()
    for k in range(150):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                _, _, data = legal_mutant(seeds[sorted(seeds)[k % len(seeds)]], rng)
        except ValueError:  # a mutant pydicom will not write (an endianness change)
            continue
        (tmp_path / "legal" / f"{k}.dcm").write_bytes(data)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        index = index_folder(tmp_path)
    notes = [n for s in index.series for i in s.instances for n in i.notes]
    notes += [p for s in index.series for p in s.problems]
    assert len(notes) > 100  # the mutants do give notes
    assert [n for n in notes if SEPARATOR in n] == []
