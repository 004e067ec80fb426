"""Running a trained model: where (CPU or CUDA), its logits in batches, loss and accuracy."""

from __future__ import annotations

import torch
from torch import nn

from sparsekws.core.errors import UserError

EVAL_BATCH_SIZE = 1024


def resolve_device(name: str) -> torch.device:
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cuda" and not torch.cuda.is_available():
        raise UserError("--device cuda was asked for, but torch sees no CUDA device")
    return torch.device(name)


@torch.no_grad()
def predict(model: nn.Module, x: torch.Tensor, device: torch.device) -> torch.Tensor:
    """Logits of ``model`` in eval mode on ``x`` (on the CPU), in batches."""
    model.eval()
    parts = [model(x[start:start + EVAL_BATCH_SIZE].to(device)).float().cpu()
             for start in range(0, len(x), EVAL_BATCH_SIZE)]
    return torch.cat(parts) if parts else torch.zeros(0)


@torch.no_grad()
def loss_and_accuracy(model: nn.Module, x: torch.Tensor, y: torch.Tensor, device: torch.device) -> tuple[float, float]:
    """Mean cross-entropy loss and accuracy of ``model`` in eval mode."""
    if len(x) == 0:
        return float("nan"), float("nan")
    logits = predict(model, x, device)
    loss = float(nn.functional.cross_entropy(logits, y, reduction="sum")) / len(x)
    return loss, int((logits.argmax(dim=1) == y).sum()) / len(x)
