"""The torch ``Dataset`` base: stages per sample, worker-independent seeds, optional cache."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset, default_collate, get_worker_info

from pipeline.data.cache import PackedSamples, SampleCache, files_digest, pipeline_fingerprint
from pipeline.errors import BatchError
from pipeline.sample import Sample
from pipeline.stage import Pipeline

__all__ = [
    "ItemBatch",
    "SampleDataset",
    "collate_items",
    "item_name",
    "sample_to_item",
    "split_deterministic",
]


def split_deterministic(pipeline: Pipeline | None) -> tuple[Pipeline | None, Pipeline | None]:
    """``(prefix, rest)``: the leading non-random stages (cacheable) and everything after."""
    if pipeline is None:
        return None, None
    n = 0
    for _, stage in pipeline:
        if stage.random:
            break
        n += 1
    prefix = pipeline[:n] if n else None
    rest = pipeline[n:] if n < len(pipeline) else None
    return prefix, rest


def sample_to_item(sample: Sample) -> dict[str, Any]:
    """The batch item of the team contract: float32 image, int64 label and mask, str id."""
    item: dict[str, Any] = {
        "image": torch.from_numpy(np.array(sample.image, dtype=np.float32)),
        "id": sample.id,
    }
    if sample.label is not None:
        item["label"] = torch.tensor(int(sample.label), dtype=torch.int64)
    if sample.mask is not None:
        item["mask"] = torch.from_numpy(np.array(sample.mask, dtype=np.int64))
    return item


class ItemBatch:
    """Items fetched together by :meth:`SampleDataset.__getitems__`, already stacked.

    ``columns`` is the collated batch: ``image`` ``(B, C, ...)`` float32, ``label`` ``(B,)``
    int64 and ``mask`` ``(B, ...)`` int64 when the items have them, ``id`` a list of str.
    :func:`collate_items` hands it over as it is; any other collate function (torch's
    ``default_collate``) sees a sequence of per-item dicts and builds the same batch.
    """

    def __init__(self, columns: dict[str, Any]) -> None:
        self.columns = columns

    def __len__(self) -> int:
        return len(self.columns["id"])

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        return {key: value[index] for key, value in self.columns.items()}

    def __iter__(self) -> Iterator[dict[str, Any]]:
        return (self[i] for i in range(len(self)))

    @classmethod
    def of_samples(cls, samples: Sequence[Sample]) -> ItemBatch:
        """Stack samples into the columns of :func:`sample_to_item` + ``default_collate``.

        Raises
        ------
        BatchError
            (a ``ValueError``) When the samples differ in image shape, or some have a mask or
            label and others not; an item of each kind is named.
        """
        _check_one_shape([(tuple(s.image.shape), item_name(s)) for s in samples])
        columns: dict[str, Any] = {
            "image": _stack([s.image for s in samples], torch.float32),
            "id": [s.id for s in samples],
        }
        for key in ("label", "mask"):
            values = [getattr(s, key) for s in samples]
            present = sum(v is not None for v in values)
            if present and present < len(values):
                lacking = next(s for s, v in zip(samples, values) if v is None)
                raise BatchError(
                    f"Some items of one batch have a {key} and others not ({item_name(lacking)} "
                    "has none)."
                )
            if present and key == "label":
                columns[key] = torch.tensor([int(v) for v in values], dtype=torch.int64)
            elif present:
                columns[key] = _stack(values, torch.int64)
        return cls(columns)


def collate_items(batch: Any) -> Any:
    """``collate_fn`` for DataLoaders over :class:`SampleDataset`.

    A batch that the dataset fetched at once (:class:`ItemBatch`) passes through; anything
    else goes to torch's ``default_collate``, dict items whose images differ in shape
    refused first as :meth:`ItemBatch.of_samples` refuses them (``BatchError``).
    """
    if isinstance(batch, ItemBatch):
        return batch.columns
    if isinstance(batch, Sequence) and all(isinstance(b, dict) and "image" in b for b in batch):
        _check_one_shape([(tuple(np.shape(b["image"])), str(b.get("id", f"item {i}")))
                          for i, b in enumerate(batch)])  # fmt: skip
    return default_collate(batch)


def _check_one_shape(shapes: Sequence[tuple[tuple[int, ...], str]]) -> None:
    """Refuse items (``(image shape, name)``) of one batch whose images differ in shape.

    An item of each shape is named (torch's ``stack expects each tensor to be equal size``
    named none).
    """
    first: dict[tuple[int, ...], str] = {}
    for shape, name in shapes:
        first.setdefault(shape, name)
    if len(first) > 1:
        shown = ", ".join(f"{shape} ({name})" for shape, name in sorted(first.items()))
        raise BatchError(
            f"Items of one batch differ in image shape: {shown}; give them one shape (a "
            "Resize or FitDepth stage for sizes; colour and grey images are 3 and 1 "
            "channels) or use batch_size=1."
        )


def _new_tensor(shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    """An empty tensor (in a DataLoader worker: in shared memory).

    As torch's default_collate does, so that the batch travels to the main process without
    a copy.
    """
    if get_worker_info() is None:
        return torch.empty(shape, dtype=dtype)
    numel = int(np.prod(shape, dtype=np.int64))
    proto = torch.empty(0, dtype=dtype)
    storage = proto._typed_storage()._new_shared(numel, device=proto.device)
    return proto.new(storage).resize_(*shape)


def _stack(arrays: Sequence[np.ndarray], dtype: torch.dtype) -> torch.Tensor:
    out = _new_tensor((len(arrays), *arrays[0].shape), dtype)
    np.stack(arrays, out=out.numpy(), casting="unsafe")
    return out


def _take(source: np.ndarray, index: np.ndarray, dtype: torch.dtype) -> torch.Tensor:
    """``source[index]`` (a gather along axis 0, indices already in range) as a new tensor."""
    out = _new_tensor((len(index), *source.shape[1:]), dtype)
    if out.numpy().dtype == source.dtype:
        # mode="clip": numpy buffers `out` under the default mode="raise" (2x slower).
        np.take(source, index, axis=0, out=out.numpy(), mode="clip")
    else:
        out.numpy()[...] = np.take(source, index, axis=0, mode="clip")
    return out


class SampleDataset(Dataset[dict[str, Any]]):
    """Base class: subclasses say how many items there are and how to load one.

    Parameters
    ----------
    pipeline
        Stages applied to every sample. Its leading deterministic stages (everything before
        the first random one) are what ``cache_dir`` stores; fit it on the TRAINING dataset
        (``pipeline.fit(list(train.raw_samples()))``) before building other datasets with it.
    seed
        Random stages get ``numpy.random.default_rng([seed, epoch, index])``: the same item
        in the same epoch is augmented identically whichever worker loads it.
    cache_dir
        Folder for memory-mapped NPY copies of the preprocessed samples; ``None``: no cache.

    Notes
    -----
    ``loads`` counts the samples decoded from disk by this process (cache hits do not).
    With ``cache_dir``, the first access packs the whole dataset into the cache (see
    :mod:`pipeline.data.cache`; one process builds it, the others wait and map it), so an
    unreadable file is reported then, whichever item was asked for. The cache fingerprint
    (stages, fitted state, inputs) is computed on first use, and again when a stage has been
    refitted, given other parameters or replaced since (:meth:`refresh_cache_key` forces it).

    DataLoaders fetch whole batches through :meth:`__getitems__`; with
    ``collate_fn=collate_items`` a batch costs one gather from the cache.
    """

    def __init__(
        self,
        *,
        pipeline: Pipeline | None = None,
        seed: int = 0,
        cache_dir: str | Path | None = None,
    ) -> None:
        self.pipeline = pipeline
        self.seed = int(seed)
        self.epoch = 0
        self.cache_dir = None if cache_dir is None else Path(cache_dir)
        self.loads = 0
        self._packed_samples: PackedSamples | None = None
        self._packed_token: tuple[tuple[int, ...], ...] = ()

    # -- for subclasses ----------------------------------------------------------------------
    def __len__(self) -> int:
        raise NotImplementedError

    def _load(self, index: int) -> Sample:
        """Read item ``index`` from disk as a :class:`Sample` (no stages applied)."""
        raise NotImplementedError

    def item_key(self, index: int) -> str:
        """A stable, opaque key of item ``index`` (its cache file name)."""
        raise NotImplementedError

    def source_id(self) -> str:
        """What identifies the dataset's inputs (part of the cache fingerprint)."""
        raise NotImplementedError

    def input_files(self) -> Iterable[Path]:
        """The files the items are read from (none by default).

        Their stat facts are part of the cache fingerprint, so a file rewritten in place is
        read again.
        """
        return ()

    # -- public ------------------------------------------------------------------------------
    def set_epoch(self, epoch: int) -> None:
        """Select the epoch whose random parameters items get (call before each epoch)."""
        self.epoch = int(epoch)

    def raw_sample(self, index: int) -> Sample:
        """Item ``index`` as loaded, before any stage."""
        if not 0 <= index < len(self):
            raise IndexError(f"index {index} out of range for {len(self)} items.")
        self.loads += 1
        return self._load(index)

    def raw_samples(self) -> Iterator[Sample]:
        """Every item as loaded, for :meth:`Pipeline.fit` on a training dataset."""
        for i in range(len(self)):
            yield self.raw_sample(i)

    def preprocessed(self, index: int) -> Sample:
        """Item ``index`` after the deterministic leading stages (from the cache if set)."""
        prefix, _ = split_deterministic(self.pipeline)
        packed = self._packed(prefix)
        if packed is not None:
            return packed.sample(index)
        return self._prefixed(index, prefix)

    def sample(self, index: int, epoch: int | None = None) -> Sample:
        """Item ``index`` through the whole pipeline, seeded by ``(seed, epoch, index)``."""
        prefix, rest = split_deterministic(self.pipeline)
        return self._through(index, prefix, rest, self._packed(prefix), epoch)

    def __getitem__(self, index: int) -> dict[str, Any]:
        return sample_to_item(self.sample(index))

    def __getitems__(self, indices: Sequence[int]) -> ItemBatch | list[dict[str, Any]]:
        """A whole batch at once (torch's DataLoader calls this with a batch's indices).

        With the cache on, no random stage and one shape for every item, the batch is one
        gather from the memory-mapped cache; otherwise the items are made one by one and
        stacked. Pass ``collate_fn=collate_items`` to the DataLoader to skip the per-item
        dicts of ``default_collate`` (which still works, and gives the same batch).
        """
        if type(self).__getitem__ is not SampleDataset.__getitem__:
            return [self[i] for i in indices]  # a subclass's own items, collated as usual
        prefix, rest = split_deterministic(self.pipeline)
        packed = self._packed(prefix)
        hooks = type(self).sample is SampleDataset.sample  # a subclass's sample() is honoured
        if packed is not None and rest is None and packed.batchable and hooks:
            return _gather(packed, indices)
        return ItemBatch.of_samples([self.sample(i) for i in indices])

    def __getstate__(self) -> dict[str, Any]:
        # Workers started by spawn re-map the cache instead of receiving a pickled copy.
        return {**self.__dict__, "_packed_samples": None}

    def refresh_cache_key(self) -> None:
        """Recompute the cache fingerprint (after refitting or changing the pipeline)."""
        self._packed_samples = None

    # -- internals ---------------------------------------------------------------------------
    def _prefixed(self, index: int, prefix: Pipeline | None) -> Sample:
        sample = self.raw_sample(index)
        return sample if prefix is None else prefix(sample, None)

    def _through(
        self,
        index: int,
        prefix: Pipeline | None,
        rest: Pipeline | None,
        packed: PackedSamples | None,
        epoch: int | None,
    ) -> Sample:
        if packed is not None:
            if not 0 <= index < len(packed):
                raise IndexError(f"index {index} out of range for {len(packed)} items.")
            sample = packed.sample(index)
        else:
            sample = self._prefixed(index, prefix)
        if rest is None:
            return sample
        ep = self.epoch if epoch is None else int(epoch)
        return rest(sample, np.random.default_rng([self.seed, ep, index]))

    def _packed(self, prefix: Pipeline | None) -> PackedSamples | None:
        """The mapped cache (built on first use), or ``None`` without ``cache_dir``."""
        if self.cache_dir is None:
            return None
        token = self._stages_token()
        if self._packed_samples is None or token != self._packed_token:
            # The items (in order) are part of the key: train and validation subsets of one
            # manifest share the cache folder but not a packed file.
            items = hashlib.sha256("\n".join(map(self.item_key, range(len(self)))).encode())
            files = files_digest(self.input_files())
            source = f"{self.source_id()}|{items.hexdigest()}|{files}"
            cache = SampleCache(self.cache_dir, pipeline_fingerprint(prefix, source))
            self._packed_samples = cache.open_or_build(
                len(self), lambda i: self._prefixed(i, prefix)
            )
            self._packed_token = token
        return self._packed_samples

    def _stages_token(self) -> tuple[tuple[int, ...], ...]:
        """What changes when a stage is refitted, given other parameters or replaced.

        The identity of every stage and of each of its public attributes (parameters and
        fitted state, which ``fit`` and ``set_params`` rebind). A change recomputes the cache
        key, so a pipeline refitted after the first item was read is not served stale items
        (it was, until :meth:`refresh_cache_key`: the earlier fit's normalisation, unsaid).
        """
        if self.pipeline is None:
            return ()
        return tuple(
            (id(stage), *(id(v) for k, v in vars(stage).items() if not k.startswith("_")))
            for _, stage in self.pipeline
        )


def _gather(packed: PackedSamples, indices: Sequence[int]) -> ItemBatch:
    """One batch straight from the packed arrays: a gather per column, no per-item work."""
    assert packed.images is not None and packed.batchable
    index = np.asarray(indices, dtype=np.intp)
    if index.size and (index.min() < -len(packed) or index.max() >= len(packed)):
        raise IndexError(f"indices out of range for {len(packed)} items.")
    index = np.where(index < 0, index + len(packed), index)
    columns: dict[str, Any] = {
        "image": _take(packed.images, index, torch.float32),
        "id": [packed.ids[i] for i in index.tolist()],
    }
    if packed.labels is not None:
        columns["label"] = torch.from_numpy(packed.labels[index])
    if packed.masks is not None:
        columns["mask"] = _take(packed.masks, index, torch.int64)
    return ItemBatch(columns)


def item_name(sample: Sample) -> str:
    """How a message names an item: its relative path (a folder's image) or its key."""
    return str(sample.meta.get("source") or sample.meta.get("id") or "an item")
