"""Saliency maps for any radpipe model (fully connected, recurrent, convolutional), via Captum.

Two methods, both from Captum (Kokhlikyan et al. 2020), no attribution math of our own:

- occlusion sensitivity (``captum.attr.Occlusion``; Zeiler & Fergus, ECCV 2014): the drop of
  the target's score when a patch (an 8 x 8 grid of the image; in a volume, columns through
  all its slices) is set to 0;
- integrated gradients (``captum.attr.IntegratedGradients``; Sundararajan et al., ICML 2017)
  from a zero (mean-intensity after normalisation) baseline.

For a segmentation model the target is the summed score of one class over the pixels the
model assigns to it (Captum's segmentation recipe). The sanity check of Adebayo et al.
(NeurIPS 2018, "Sanity checks for saliency maps") re-initialises the model's weights and
measures how much the maps change (Spearman rank correlation of ``|attribution|``): a method
whose maps survive randomisation explains the image, not the model.
"""

from __future__ import annotations

import copy
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

Method = Literal["occlusion", "integrated_gradients"]
METHODS: tuple[Method, ...] = ("occlusion", "integrated_gradients")


class _Target(nn.Module):
    """Scores ``(B, K)`` of a classifier, or per-class sums over a fixed region of a segmenter."""

    def __init__(self, model: nn.Module, region: torch.Tensor | None) -> None:
        super().__init__()
        self.model = model
        self.region = region  # (K, *spatial) one-hot of the predicted labels, or None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.model(x)
        if self.region is None:
            return out
        return (out * self.region).flatten(2).sum(dim=2)  # (B, K)


def attribute(
    model: nn.Module,
    image: np.ndarray | torch.Tensor,
    target: int,
    *,
    method: Method,
    segmentation: bool = False,
    batch_size: int = 32,
) -> np.ndarray:
    """Attribution of ``target`` to every element of one image.

    Parameters
    ----------
    model
        A network mapping ``(B, C, ...)`` to logits ``(B, K)`` or ``(B, K, *spatial)``.
    image
        ``(C, H, W)`` or ``(C, D, H, W)`` float image, as the model sees it (preprocessed).
    target
        Class index.
    method
        ``"occlusion"`` or ``"integrated_gradients"``.
    segmentation
        The model is a segmenter: the target is the class's summed score over the pixels the
        model predicts as that class.
    batch_size
        The most images in one forward pass (occluded copies; integrated-gradient steps, with
        their gradients): 32 copies of a volume need not fit in memory. A run passes
        ``workflows.run.explain.explain_batch``'s. The maps do not depend on it (beyond float
        rounding).

    Returns
    -------
    numpy.ndarray
        float32 attribution of the image's shape, summed over channels: ``(H, W)`` or
        ``(D, H, W)``.

    Raises
    ------
    ValueError
        ``method`` is not one of :data:`METHODS`, or ``batch_size`` < 1.
    """
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1; got {batch_size}.")
    from captum.attr import IntegratedGradients, Occlusion

    model = model.eval()
    x = torch.as_tensor(np.asarray(image), dtype=torch.float32)[None]  # (1, C, ...)
    region = None
    if segmentation:
        with torch.no_grad():
            labels = model(x).argmax(dim=1)[0]  # (*spatial)
        k = int(model(x).shape[1])
        region = nn.functional.one_hot(labels, k).movedim(-1, 0).float()  # (K, *spatial)
    forward = _Target(model, region)
    with torch.backends.cudnn.flags(enabled=False):  # RNN backward in eval mode
        if method == "integrated_gradients":
            attr = IntegratedGradients(forward).attribute(
                x, baselines=torch.zeros_like(x), target=target, n_steps=24,
                internal_batch_size=min(24, batch_size),
            )  # fmt: skip
        elif method == "occlusion":
            spatial = x.shape[2:]
            window = tuple(max(1, s // 8) for s in spatial)
            if len(spatial) == 3:  # volumes: columns through every slice (bounded cost)
                window = (spatial[0], *window[1:])
            attr = Occlusion(forward).attribute(
                x, sliding_window_shapes=(x.shape[1], *window), strides=(x.shape[1], *window),
                baselines=0.0, target=target, perturbations_per_eval=min(32, batch_size),
            )  # fmt: skip
        else:
            raise ValueError(f"The 'method' parameter must be one of {METHODS}; got {method!r}.")
    return attr[0].detach().sum(dim=0).numpy().astype(np.float32)


def randomized_copy(model: nn.Module, seed: int = 0) -> nn.Module:
    """A copy of ``model`` with every layer's weights re-initialised (``reset_parameters``).

    The cascading randomisation of Adebayo et al. 2018, taken to the last layer.
    """
    torch.manual_seed(seed)
    clone = copy.deepcopy(model)
    for module in clone.modules():
        reset = getattr(module, "reset_parameters", None)
        if callable(reset):
            reset()
    return clone.eval()


def randomization_check(
    model: nn.Module,
    image: np.ndarray,
    target: int,
    *,
    method: Method,
    segmentation: bool = False,
    seed: int = 0,
    batch_size: int = 32,
    trained: np.ndarray | None = None,
) -> dict[str, Any]:
    """Adebayo et al.'s model-parameter randomisation test for one image.

    Arguments as :func:`attribute`; ``seed`` seeds the re-initialisation; ``trained``: the
    trained model's map of this image and target when already made (not made again).

    Returns
    -------
    dict
        ``spearman``: rank correlation of ``|attribution|`` of the trained and the randomised
        model (near 1: the map does not depend on what the model learned), ``method``;
        NaN with a ``note`` when either map is constant (a rank correlation is undefined).
    """
    from pipeline.metrics._arrays import average_ranks

    kwargs: dict[str, Any] = {"method": method, "segmentation": segmentation,
                              "batch_size": batch_size}  # fmt: skip
    if trained is None:
        trained = attribute(model, image, target, **kwargs)
    random = attribute(randomized_copy(model, seed), image, target, **kwargs)
    a, b = np.abs(trained).ravel(), np.abs(random).ravel()
    if a.size < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:  # ranks of a constant map: undefined
        which = "trained" if a.size < 2 or np.ptp(a) == 0 else "randomised"
        note = f"the {which} model's attribution map is constant: no rank correlation"
        return {"method": method, "spearman": float("nan"), "note": note}
    rho = np.corrcoef(average_ranks(a), average_ranks(b))[0, 1]  # Spearman: Pearson of ranks
    return {"method": method, "spearman": float(rho) if np.isfinite(rho) else float("nan")}
