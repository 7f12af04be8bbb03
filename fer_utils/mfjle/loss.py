"""Paper B's joint loss (Eqs. 1-2, corrected): BCE per module, lambda-weighted local terms.

Notebook 05 (MF-JLE ensemble) trains with it through :func:`fer_utils.training.loop.train`::

    L = L_global + sum_i lambda_i * L_local_i                                (Eq. 1)
    L_module = -mean_{n,l} [y_nl log s(z_nl) + (1 - y_nl) log(1 - s(z_nl))]  (Eq. 2)

with ``z`` a module's logits, ``s`` the sigmoid and ``y`` the multi-hot targets. Paper
B prints Eq. 2 garbled; the standard binary cross-entropy on logits is used here
(``docs/replication.md`` D8). ``kind="ce"`` is the multi-class cross-entropy of paper B's
ablation (Fig. 5).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F

#: Losses a multi-label run can use: ``"bce"`` (paper B) or ``"ce"`` (its ablation).
MULTILABEL_LOSSES: tuple[str, ...] = ("bce", "ce")


def mfjle_loss(
    global_logits: torch.Tensor,
    local_logits: torch.Tensor | None,
    targets: torch.Tensor,
    local_weights: torch.Tensor | None = None,
    kind: str = "bce",
) -> tuple[torch.Tensor, dict[str, float]]:
    """Paper B's joint loss ``L_global + sum_i lambda_i L_local_i`` and its parts.

    ``global_logits`` is ``N x L``; ``local_logits`` is
    ``N x 5 x L`` (``None`` for a single ResNet-18, whose loss is then just its own);
    ``targets`` is the 0/1 matrix ``N x L``; ``local_weights`` the five ``lambda_i``.
    ``kind="bce"``: mean binary cross-entropy with logits over samples and labels, per
    module. ``kind="ce"``: the multi-class alternative of paper B's ablation, softmax
    cross-entropy against the label set spread evenly (``targets / row sum``); a sample
    with an empty label set has no such target and is left out of that mean. Returns the
    loss tensor and ``{"loss", "global", "local"}`` floats (``local`` is the weighted sum
    of the local terms, ``nan`` without local modules).
    """
    if kind not in MULTILABEL_LOSSES:
        raise ValueError(f"kind must be one of {MULTILABEL_LOSSES}, got {kind!r}")
    targets = targets.to(global_logits.dtype)

    def module_loss(logits: torch.Tensor) -> torch.Tensor:
        if kind == "bce":
            return F.binary_cross_entropy_with_logits(logits, targets)  # Eq. 2
        counts = targets.sum(dim=1)
        has = counts > 0
        if not bool(has.any()):
            return logits.sum() * 0.0
        soft = targets[has] / counts[has, None]
        return -(soft * F.log_softmax(logits[has], dim=1)).sum(dim=1).mean()

    g = module_loss(global_logits)
    if local_logits is None:
        value = float(g.detach())
        return g, {"loss": value, "global": value, "local": float("nan")}
    if local_weights is None:
        raise ValueError("local_weights are needed with local_logits")
    terms = torch.stack([module_loss(local_logits[:, i]) for i in range(local_logits.shape[1])])
    local = (local_weights.to(terms.dtype) * terms).sum()  # sum_i lambda_i L_local_i
    loss = g + local  # Eq. 1
    parts = {"loss": float(loss.detach()), "global": float(g.detach()),
             "local": float(local.detach())}
    return loss, parts
