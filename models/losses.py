"""Training losses: cross-entropy (class weights), soft Dice, and Dice + cross-entropy."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def soft_dice_loss(
    logits: torch.Tensor,
    target: torch.Tensor,
    *,
    include_background: bool = False,
    eps: float = 1e-5,
    batch: bool = True,
) -> torch.Tensor:
    """One minus the mean soft Dice over classes, pooled over the batch or per image.

    Parameters
    ----------
    logits
        ``(B, K, *spatial)`` unnormalised scores.
    target
        ``(B, *spatial)`` integer class indices.
    include_background
        Whether class 0 counts in the mean.
    eps
        Smoothing in numerator and denominator, so an absent class that is not predicted
        scores 1 rather than 0/0.
    batch
        ``True``: one Dice per class from the sums over the whole batch (large objects weigh
        more); ``False``: one per image and class, then the mean over both (every image
        counts the same, as a per-image mean Dice scores a test set; MONAI's ``DiceLoss``
        default, ``batch=False``).

    Notes
    -----
    ``D_k = (2 sum p_k t_k + eps) / (sum p_k + sum t_k + eps)`` with ``p`` the softmax
    probabilities and ``t`` the one-hot target (Milletari et al., "V-Net", 3DV 2016, eq. 1,
    with the squares dropped as in Sudre et al. 2017).
    """
    k = logits.shape[1]
    probs = logits.float().softmax(dim=1)
    onehot = F.one_hot(target.long(), k).movedim(-1, 1).to(probs.dtype)  # (B, K, ...)
    dims = (0, *range(2, probs.ndim)) if batch else tuple(range(2, probs.ndim))
    inter = (probs * onehot).sum(dims)
    denom = probs.sum(dims) + onehot.sum(dims)
    dice = (2 * inter + eps) / (denom + eps)  # (K,) pooled, (B, K) per image
    if not include_background:
        dice = dice[..., 1:]
    return 1 - dice.mean()


def boundary_band(target: torch.Tensor, num_classes: int, width: int) -> torch.Tensor:
    """``(B, *spatial)`` bool: the pixels near an outline of ``target``.

    ``target``: class indices ``(B, H, W)`` or ``(B, D, H, W)``. A pixel is in the band when
    a pixel of another class lies at most ``width`` pixels away along every axis (in its
    ``2 * width + 1`` box): a band ``2 * width`` pixels wide along each class boundary, on
    both sides; the image's own edge is no boundary.

    Examples
    --------
    >>> boundary_band(torch.tensor([[0, 0, 0, 1, 1, 1]])[None], 2, 1).int().tolist()
    [[[0, 0, 1, 1, 0, 0]]]
    """
    onehot = F.one_hot(target.long(), num_classes).movedim(-1, 1).float()  # (B, K, ...)
    pool = F.max_pool2d if target.ndim == 3 else F.max_pool3d
    near = pool(onehot, 2 * width + 1, stride=1, padding=width)  # class k within the box
    return near.sum(1) > 1


class TrainingLoss(nn.Module):
    """``ce``, ``dice`` or ``dice_ce`` (their sum); class weights, label smoothing for the CE.

    ``dice_batch`` pools the Dice over the batch (``True``) or takes it per image (``False``).

    Label smoothing: Szegedy et al., "Rethinking the Inception architecture", CVPR 2016.

    ``boundary_weight`` ``b > 0`` (segmentation): each pixel's cross-entropy counts
    ``1 + b`` times in the weighted mean where it lies in :func:`boundary_band` of width
    ``boundary_width`` (pixels near an outline of the target), once elsewhere; the U-Net's
    pixel weights (Ronneberger et al., MICCAI 2015) without their distance decay. ``0``: the
    plain mean.

    ``ce`` serves classification (logits ``(B, K)``, labels ``(B,)``) as well as
    segmentation (logits ``(B, K, *spatial)``, masks ``(B, *spatial)``); the Dice terms need
    the latter.
    """

    def __init__(
        self,
        kind: str,
        weight: torch.Tensor | None = None,
        *,
        label_smoothing: float = 0.0,
        dice_batch: bool = True,
        boundary_weight: float = 0.0,
        boundary_width: int = 2,
    ) -> None:
        super().__init__()
        self.kind = kind
        self.boundary_weight = boundary_weight
        self.boundary_width = boundary_width
        self.label_smoothing = label_smoothing
        self.dice_batch = dice_batch
        self.weight: torch.Tensor | None
        self.register_buffer("weight", weight)

    def forward(self, logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Scalar float32 loss of logits ``(B, K, ...)`` against int class indices ``(B, ...)``."""
        terms = [mean for mean, _ in self._terms(logits, target, weigh=False)]
        if not terms:
            return logits.new_zeros((), dtype=torch.float32)
        loss = terms[0] if len(terms) == 1 else terms[0] + terms[1]  # no zero to start from
        return loss.float()

    def terms(self, logits: torch.Tensor, target: torch.Tensor) -> list[tuple[float, float]]:
        """Each term of the loss (cross-entropy, Dice) as ``(mean, weight)``.

        Its value on this batch and what that mean divides by, so that means over many
        batches combine into the term's mean over all their items,
        ``sum(mean * weight) / sum(weight)``.

        The cross-entropy's weight is PyTorch's divisor: the sum of the class weights of the
        targets (``sum_i w[y_i]``), their number without class weights, the sum of the pixel
        weights with ``boundary_weight``; the Dice's is the batch size (its mean over images
        with ``dice_batch=False``; pooled per batch otherwise).
        """
        return [(float(mean), float(weight)) for mean, weight in self._terms(logits, target)]

    def _terms(
        self, logits: torch.Tensor, target: torch.Tensor, weigh: bool = True
    ) -> list[tuple[torch.Tensor, torch.Tensor | int]]:
        """``(mean, weight)`` per term (:meth:`terms`); ``weigh=False`` skips the weights (0)."""
        terms: list[tuple[torch.Tensor, torch.Tensor | int]] = []
        if self.kind in ("ce", "dice_ce") and self.boundary_weight and logits.ndim > 2:
            terms.append(self._boundary_ce(logits, target))
        elif self.kind in ("ce", "dice_ce"):
            mean = F.cross_entropy(logits.float(), target.long(), weight=self.weight,
                                   label_smoothing=self.label_smoothing)  # fmt: skip
            weight: torch.Tensor | int = 0
            if weigh:  # torch's mean divides by sum_i w[y_i] (label smoothing or not)
                weight = target.numel() if self.weight is None else self.weight[target.long()].sum()
            terms.append((mean, weight))
        if self.kind in ("dice", "dice_ce"):
            terms.append((soft_dice_loss(logits, target, batch=self.dice_batch), len(logits)))
        return terms

    def _boundary_ce(
        self, logits: torch.Tensor, target: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """The cross-entropy's mean with pixel weights ``1 + boundary_weight`` near outlines.

        Returned with the sum of the weights it divides by. Times the class weight where there
        is one, as PyTorch weighs its mean.
        """
        per = F.cross_entropy(logits.float(), target.long(), weight=self.weight,
                              label_smoothing=self.label_smoothing, reduction="none")  # fmt: skip
        band = boundary_band(target, logits.shape[1], self.boundary_width)
        pixel = 1.0 + self.boundary_weight * band.float()
        if self.weight is not None:
            pixel_total = (pixel * self.weight[target.long()]).sum()
        else:
            pixel_total = pixel.sum()
        return (per * pixel).sum() / pixel_total, pixel_total
