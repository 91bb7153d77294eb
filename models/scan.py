"""A linear recurrent scan (diagonal linear state-space layer), a drop-in for ``nn.GRU``.

Each hidden unit ``n`` runs the linear recurrence ``h_t = a_n h_(t-1) + g_n u_t`` over the
sequence, with ``u = W x`` (a linear input map), a learned decay ``a_n = exp(-exp(nu_n))`` in
(0, 1) and the normalisation ``g_n = sqrt(1 - a_n^2)`` that keeps the state's variance near
that of the input; the output is ``GELU(h_t)``. Being linear in ``h``, the recurrence has
the closed form ``h_t = sum_(s <= t) a^(t-s) g u_s``: a causal convolution with the kernel
``a^k``, computed here in one batched product with the ``(L, L, N)`` kernel matrix instead of
a loop over time (cheap on CPU for the short rows and columns of a downsampled feature map).
Bidirectional: a second set of parameters scans the reversed sequence.

Sources: the real diagonal recurrence, the ``exp(-exp(nu))`` parametrisation, the ring
initialisation ``a in [r_min, r_max]`` and the ``sqrt(1 - a^2)`` normalisation follow the
Linear Recurrent Unit (Orvieto et al., "Resurrecting Recurrent Neural Networks for Long
Sequences", ICML 2023), here with real rather than complex decays; the convolutional view of
a diagonal linear state-space layer is that of S4/S4D (Gu et al., "Efficiently Modeling Long
Sequences with Structured State Spaces", ICLR 2022; "On the Parameterization and
Initialization of Diagonal State Space Models", NeurIPS 2022).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["LinearScan"]


class _Direction(nn.Module):
    """One direction of one layer: ``(B, L, F) -> (B, L, N)`` states (before the GELU)."""

    def __init__(self, in_size: int, hidden: int, r_min: float, r_max: float) -> None:
        super().__init__()
        self.proj = nn.Linear(in_size, hidden)
        # a uniform in [r_min, r_max] (evenly spaced, deterministic), nu = log(-log a).
        a = torch.linspace(r_min, r_max, hidden)
        self.nu = nn.Parameter(torch.log(-torch.log(a)))

    def decay(self) -> torch.Tensor:
        """The decays ``a`` ``(N,)`` in (0, 1)."""
        return torch.exp(-torch.exp(self.nu))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        length = x.shape[1]
        log_a = -torch.exp(self.nu)  # (N,)
        t = torch.arange(length, device=x.device)
        lag = (t[:, None] - t[None, :]).to(x.dtype)  # (L, L): t - s
        causal = lag >= 0
        kernel = torch.exp(lag.clamp(min=0)[..., None] * log_a)  # (L, L, N): a^(t-s)
        kernel = kernel * causal[..., None]
        gain = torch.sqrt(-torch.expm1(2 * log_a))  # sqrt(1 - a^2)
        u = self.proj(x) * gain  # (B, L, N)
        return torch.einsum("tsn,bsn->btn", kernel, u)


class LinearScan(nn.Module):
    """Stacked (bi)directional linear recurrent scans, called like ``nn.GRU`` (batch first).

    Parameters
    ----------
    input_size, hidden_size
        Features in, state size per direction.
    num_layers
        Scans stacked; layer ``l > 1`` reads the ``GELU`` outputs of layer ``l - 1``.
    bidirectional
        Also scan the reversed sequence (outputs concatenated: ``2 * hidden_size``).
    r_min, r_max
        Range of the initial decays (memory of about ``1 / (1 - a)`` steps).

    Returns
    -------
    ``forward(x)`` with ``x`` ``(B, L, input_size)`` float gives ``(out, h_n)``: ``out``
    ``(B, L, dirs * hidden_size)``, the ``GELU`` of the states, and ``h_n``
    ``(num_layers * dirs, B, hidden_size)``, each layer's and direction's final output (for
    the reversed direction: its value at ``t = 0``), ordered as ``nn.GRU`` orders them.

    Examples
    --------
    >>> out, h_n = LinearScan(3, 4, bidirectional=True)(torch.zeros(2, 5, 3))
    >>> tuple(out.shape), tuple(h_n.shape)
    ((2, 5, 8), (2, 2, 4))
    """

    def __init__(
        self,
        input_size: int,
        hidden_size: int,
        num_layers: int = 1,
        batch_first: bool = True,
        bidirectional: bool = False,
        r_min: float = 0.5,
        r_max: float = 0.95,
    ) -> None:
        super().__init__()
        if not batch_first:
            raise ValueError("LinearScan supports batch_first=True only.")
        if not 0 < r_min <= r_max < 1:
            raise ValueError(f"LinearScan needs 0 < r_min <= r_max < 1; got {r_min}, {r_max}.")
        self.dirs = 2 if bidirectional else 1
        self.layers = nn.ModuleList()
        for layer in range(num_layers):
            width = input_size if layer == 0 else self.dirs * hidden_size
            self.layers.append(
                nn.ModuleList(
                    [_Direction(width, hidden_size, r_min, r_max) for _ in range(self.dirs)]
                )
            )
        self.hidden_size = hidden_size

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """``(B, L, F) -> (out, h_n)`` as described in the class docstring."""
        finals = []
        for directions in self.layers:
            outs = []
            for i, direction in enumerate(directions.children()):
                seq = x if i == 0 else x.flip(1)
                y = F.gelu(direction(seq))
                y = y if i == 0 else y.flip(1)
                outs.append(y)
                finals.append(y[:, -1] if i == 0 else y[:, 0])
            x = torch.cat(outs, dim=-1)
        return x, torch.stack(finals)
