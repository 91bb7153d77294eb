"""The stage protocol and :class:`Pipeline`.

A stage follows scikit-learn's estimator conventions: ``__init__`` takes keyword-only
parameters and stores them unchanged under the same names; ``fit(samples) -> self``; learned
state lives in attributes ending in ``_``. It follows torchvision v2 and TorchIO for random
stages: parameters are drawn first from an explicit generator (:meth:`Stage.draw`), then
applied deterministically (:meth:`Stage.apply`), and recorded in ``sample.meta["applied"]`` so
that they can be replayed.
"""

from __future__ import annotations

import copy
import inspect
import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, ClassVar, Literal, Self, overload

import numpy as np

from pipeline.errors import RadpipeError, StageError, fit_failures_named
from pipeline.io_atomic import atomic_write_bytes, atomic_write_text
from pipeline.registry import STAGES
from pipeline.sample import Sample

StageKind = Literal["intensity", "geometric", "other"]


class Stage:
    """Base class of every stage.

    Subclasses set ``kind`` (``"intensity"`` stages must leave masks untouched,
    ``"geometric"`` stages move image and mask together) and ``random``. A deterministic stage
    overrides :meth:`apply` and ignores ``params``; a random stage also overrides :meth:`draw`.
    A stage that learns overrides :meth:`fit` and stores its state in attributes ending in
    ``_`` (arrays, numbers, strings, or lists of them), which :meth:`state_dict` collects.
    """

    kind: StageKind = "other"  # class attributes; an adapter may set them per instance
    random: bool = False

    # -- parameters ------------------------------------------------------------------------
    @classmethod
    def param_names(cls) -> list[str]:
        """The constructor's keyword-only parameter names, in signature order."""
        sig = inspect.signature(cls.__init__)
        return [p.name for p in sig.parameters.values() if p.kind is p.KEYWORD_ONLY]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """The constructor arguments, read back from the attributes of the same names.

        ``deep`` is accepted for scikit-learn's signature; a stage holds no sub-stages.
        """
        return {name: getattr(self, name) for name in self.param_names()}

    def set_params(self, **params: Any) -> Self:
        """Set parameters by name (scikit-learn's ``set_params``); fitted state is kept.

        The new values are checked by the constructor first, so a bad value changes nothing.

        Raises
        ------
        ValueError
            An unknown parameter name, or a value the constructor refuses.
        """
        valid = self.param_names()
        unknown = sorted(set(params) - set(valid))
        if unknown:
            raise ValueError(
                f"{type(self).__name__} has no parameter {unknown[0]!r}; "
                f"valid: {', '.join(valid) or '-'}."
            )
        type(self)(**(self.get_params() | params))  # validate before changing anything
        for name, value in params.items():
            setattr(self, name, value)
        return self

    def clone(self) -> Self:
        """An unfitted copy with deep copies of the same parameters (scikit-learn's ``clone``).

        Raises
        ------
        RadpipeError
            The constructor did not store a parameter unchanged (the estimator rule).
        """
        params = {k: copy.deepcopy(v) for k, v in self.get_params().items()}
        new = type(self)(**params)
        for name, value in params.items():
            if getattr(new, name) is not value:
                raise RadpipeError(
                    f"{type(self).__name__}.__init__ must store its parameter {name!r} "
                    "unchanged (derive values in fit/apply instead)."
                )
        return new

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def to_config(self) -> dict[str, Any]:
        """``{"type": registered name, **params}``: builds the same stage via the registry."""
        return {"type": STAGES.name_of(self), **_jsonable(self.get_params())}

    @classmethod
    def example(cls) -> Self:
        """An instance for the contract tests; override when parameters are required."""
        return cls()

    # -- fitting ---------------------------------------------------------------------------
    def fit(self, samples: Iterable[Sample]) -> Self:
        """Learn state from the training samples (a no-op for stateless stages)."""
        return self

    needs_fit: ClassVar[bool] = False
    keeps_shape: ClassVar[bool] = False  #: every draw keeps the image shape (radpipe run)

    def state_dict(self) -> dict[str, Any]:
        """Learned state: every attribute whose name ends in a single ``_``."""
        return {k: v for k, v in vars(self).items() if k.endswith("_") and not k.startswith("_")}

    def load_state_dict(self, state: dict[str, Any]) -> Self:
        """Restore learned state (keys end in ``_``), e.g. from :meth:`state_dict`."""
        for key, value in state.items():
            if not key.endswith("_"):
                raise ValueError(f"State keys of {type(self).__name__} end in '_'; got {key!r}.")
            setattr(self, key, value)
        return self

    # -- applying --------------------------------------------------------------------------
    def draw(self, sample: Sample, rng: np.random.Generator) -> dict[str, Any]:
        """Draw this call's random parameters (JSON-friendly values). Deterministic: ``{}``."""
        return {}

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        """Apply the stage with the given parameters; must not mutate ``sample``."""
        raise NotImplementedError

    def __call__(self, sample: Sample, rng: np.random.Generator | None = None) -> Sample:
        """Apply the stage to one sample.

        Random stages draw from ``rng``; without one they draw from a fresh, unseeded
        generator (not reproducible: pass ``np.random.default_rng(seed)`` for that).
        """
        if self.needs_fit and not self.state_dict():
            raise StageError(type(self).__name__, sample.id, "stage is not fitted; call fit().")
        try:
            if not self.random:
                return self.apply(sample, {})
            params = self.draw(sample, rng if rng is not None else np.random.default_rng())
            return self.apply(sample, params).with_applied(type(self).__name__, params)
        except StageError:
            raise
        except Exception as err:
            raise StageError(type(self).__name__, sample.id, str(err)) from err


@STAGES.register("passthrough")
class Passthrough(Stage):
    """A disabled step, returning the sample unchanged (a new ``Sample``, same arrays).

    What ``"passthrough"`` (or ``None``) becomes in a :class:`Pipeline`, as in scikit-learn.
    """

    def apply(self, sample: Sample, params: dict[str, Any]) -> Sample:
        """Return ``sample`` unchanged, as a new ``Sample``."""
        return sample.replace()


PASSTHROUGH = "passthrough"
StepLike = Stage | Literal["passthrough"] | None


def _as_stage(name: str, step: StepLike) -> Stage:
    if step is None or step == PASSTHROUGH:
        return Passthrough()
    if not isinstance(step, Stage):
        raise TypeError(f"Pipeline step {name!r} must be a Stage or 'passthrough'; got {step!r}.")
    return step


def _checked_steps(steps: Sequence[tuple[str, StepLike]]) -> list[tuple[str, Stage]]:
    names = [name for name, _ in steps]
    if len(set(names)) != len(names):
        raise ValueError(f"Pipeline step names must be unique; got {names}.")
    if any("__" in name for name in names):
        raise ValueError(f"Pipeline step names must not contain '__'; got {names}.")
    return [(name, _as_stage(name, step)) for name, step in steps]


class Pipeline:
    """Named stages applied in order, fitted in order (each on the previous one's output).

    A step may be ``"passthrough"`` (or ``None``) to disable it, as in scikit-learn; it is
    stored as a :class:`Passthrough` stage. :meth:`get_params` / :meth:`set_params` use
    scikit-learn's nested names: ``pipe.set_params(resize__shape=[64, 64])`` sets a step's
    parameter, ``pipe.set_params(resize="passthrough")`` replaces a step.

    Examples
    --------
    >>> from pipeline.stages import ZScore
    >>> pipe = Pipeline([("norm", ZScore())])
    >>> pipe.named_steps["norm"]
    ZScore(...)
    """

    def __init__(self, steps: Sequence[tuple[str, StepLike]]) -> None:
        checked = _checked_steps(steps)
        # A list of (name, Stage) pairs is kept as given, as scikit-learn's Pipeline keeps
        # its ``steps``: sklearn.base.clone checks that the object it passed is the one kept.
        given = isinstance(steps, list) and all(
            isinstance(pair, tuple) and pair[1] is stage for pair, (_, stage) in zip(steps, checked)
        )
        self.steps: list[tuple[str, Stage]] = steps if given else checked  # type: ignore[assignment]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """``{"steps": ...}``; with ``deep``, also ``NAME: stage`` and ``"NAME__PARAM": value``.

        The names are scikit-learn's (``Pipeline.get_params``).
        """
        out: dict[str, Any] = {"steps": self.steps}
        if deep:
            for name, stage in self.steps:
                out[name] = stage
                out |= {f"{name}__{k}": v for k, v in stage.get_params().items()}
        return out

    def set_params(self, **params: Any) -> Self:
        """Replace ``steps``, replace a step by name, or set ``NAME__PARAM`` of a step.

        Raises
        ------
        ValueError
            A name that is not a step, or a parameter the step does not have.
        """
        if "steps" in params:
            self.steps = _checked_steps(params.pop("steps"))
        names = [name for name, _ in self.steps]
        nested: dict[str, dict[str, Any]] = {}
        for key, value in params.items():
            name, _, sub = key.partition("__")
            if name not in names:
                raise ValueError(f"Pipeline has no step {name!r}; steps: {', '.join(names)}.")
            if sub:
                nested.setdefault(name, {})[sub] = value
            else:
                self.steps[names.index(name)] = (name, _as_stage(name, value))
        for name, sub_params in nested.items():
            self.named_steps[name].set_params(**sub_params)
        return self

    @property
    def named_steps(self) -> dict[str, Stage]:
        """The steps by name."""
        return dict(self.steps)

    def __len__(self) -> int:
        return len(self.steps)

    def __iter__(self) -> Iterator[tuple[str, Stage]]:
        return iter(self.steps)

    @overload
    def __getitem__(self, key: int) -> Stage: ...
    @overload
    def __getitem__(self, key: str) -> Stage: ...
    @overload
    def __getitem__(self, key: slice) -> Pipeline: ...
    def __getitem__(self, key: int | str | slice) -> Stage | Pipeline:
        if isinstance(key, slice):
            return Pipeline(self.steps[key])
        if isinstance(key, str):
            return self.named_steps[key]
        return self.steps[key][1]

    def __repr__(self) -> str:
        inner = ", ".join(f"({n!r}, {s!r})" for n, s in self.steps)
        return f"Pipeline([{inner}])"

    def fit(self, samples: Sequence[Sample]) -> Self:
        """Fit each stage on the training samples as transformed by the stages before it.

        A random stage before a fitted one draws from ``numpy.random.default_rng(i)`` for
        the ``i``-th sample, so the same samples give the same fitted state on every call
        (it drew from unseeded generators: two fits differed). A failed fit is a StageError.
        """
        current = list(samples)
        for i, (name, stage) in enumerate(self.steps):
            with fit_failures_named(name, len(current)):
                stage.fit(current)
            if i < len(self.steps) - 1:
                current = [self._call(name, stage, s, np.random.default_rng(k))
                           for k, s in enumerate(current)]  # fmt: skip
        return self

    def __call__(self, sample: Sample, rng: np.random.Generator | None = None) -> Sample:
        """Apply every step in order; random steps draw from ``rng``."""
        for name, stage in self.steps:
            sample = self._call(name, stage, sample, rng)
        return sample

    @staticmethod
    def _call(name: str, stage: Stage, sample: Sample, rng: np.random.Generator | None) -> Sample:
        try:
            return stage(sample, rng)
        except StageError as err:
            if err.stage == name:
                raise
            raise StageError(name, err.source, err.reason) from err

    # -- configs and saved state -------------------------------------------------------------
    def to_config(self) -> list[dict[str, Any]]:
        """``[{"name": ..., "type": ..., **params}, ...]``, as :meth:`from_config` reads."""
        return [{"name": name, **stage.to_config()} for name, stage in self.steps]

    @classmethod
    def from_config(cls, specs: Sequence[dict[str, Any]]) -> Pipeline:
        """Build from ``[{"name": ..., "type": ..., **params}, ...]`` (names default to type)."""
        steps = []
        for i, spec in enumerate(specs):
            spec = dict(spec)
            name = str(spec.pop("name", f"{spec.get('type', 'stage')}_{i}"))
            steps.append((name, STAGES.build(spec)))
        return cls(steps)

    def save(self, folder: str | Path) -> None:
        """Write ``pipeline.json`` (types, parameters) and one ``NAME.npz`` per fitted stage.

        No pickle: arrays go to ``.npz`` (loaded with ``allow_pickle=False``), everything
        else to JSON.
        """
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write_text(folder / "pipeline.json", json.dumps(self.to_config(), indent=2))
        for name, stage in self.steps:
            state = stage.state_dict()
            if state:
                atomic_write_bytes(folder / f"{name}.npz", _state_to_npz(state))

    @classmethod
    def load(cls, folder: str | Path) -> Pipeline:
        """Read what :meth:`save` wrote: the config, then each fitted stage's state."""
        folder = Path(folder)
        specs = json.loads((folder / "pipeline.json").read_text())
        pipe = cls.from_config([_as_saved(spec) for spec in specs])
        for name, stage in pipe.steps:
            path = folder / f"{name}.npz"
            if path.exists():
                stage.load_state_dict(_state_from_npz(path))
        return pipe


# Saved before 2026-12-02 (no ``channel_wise``), these stages pooled the channels: a run
# trained then is applied as it was trained, not with the per-channel statistics of today.
_POOLED_BEFORE = frozenset(
    {"z_score", "center_intensity", "scale_percentiles", "rescale_intensity"}
)


def _as_saved(spec: dict[str, Any]) -> dict[str, Any]:
    if spec.get("type") in _POOLED_BEFORE and "channel_wise" not in spec:
        return {**spec, "channel_wise": False}
    return spec


def _jsonable(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    return value


def _state_to_npz(state: dict[str, Any]) -> bytes:
    import io

    arrays: dict[str, np.ndarray] = {}
    for key, value in state.items():
        arr = np.asarray(value)
        if arr.dtype == object:
            raise RadpipeError(f"State {key!r} is not an array, number or string; cannot save.")
        arrays[key] = arr
    buf = io.BytesIO()
    np.savez(buf, **arrays)  # type: ignore[arg-type]
    return buf.getvalue()


def _state_from_npz(path: Path) -> dict[str, Any]:
    with np.load(path, allow_pickle=False) as data:
        out: dict[str, Any] = {}
        for key in data.files:
            arr = data[key]
            out[key] = arr.item() if arr.ndim == 0 else arr
        return out
