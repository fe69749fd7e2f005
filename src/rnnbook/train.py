"""One small training loop for any PyTorch module: gradient steps, clipping, a history.

The loop knows nothing about recurrent networks. The caller gives

- ``model``: a ``torch.nn.Module`` whose parameters are trained;
- ``loss_fn(model, batch) -> loss``: computes a scalar tensor from one batch;
- ``batches``: where the batches come from, either a callable ``batches(step) -> batch``
  (a fresh batch each step, e.g. drawn from a seeded generator) or a non-empty list of
  batches, used in turn.

Each step is: zero the gradients, compute the loss, backpropagate, clip the gradient's
global norm to ``clip`` (when given), take one optimiser step. The losses and the gradient
norms before clipping are kept in a :class:`History` for plots.

Given the same seeds, the same batches and the same thread count, two runs give the same
numbers. A progress bar (``tqdm``) is off unless ``progress=True``; :func:`progress_range` makes
the same bar for a loop written by hand.

In a notebook the bar is drawn in a display area of the cell's output that is emptied
again when the loop ends, so a stored notebook holds no trace of it: the stored output is
the same on every run, and nbval's strict comparison is not disturbed by timings. Outside
a notebook the bar goes to stderr, as ``tqdm`` does by default.
"""

import html
import math
from dataclasses import dataclass, field

import torch
from tqdm import tqdm

from rnnbook._notebook import in_notebook as _in_notebook

OPTIMIZERS = {"adam": torch.optim.Adam, "sgd": torch.optim.SGD}


@dataclass
class History:
    """What happened during training: one entry per step."""

    loss: list = field(default_factory=list)  # the loss of each step's batch
    grad_norm: list = field(default_factory=list)  # global gradient norm, before clipping

    def smoothed(self, window: int = 20) -> list:
        """Running mean of the loss over the last ``window`` steps (for plots).

        Returns a list as long as ``self.loss``; the first ``window - 1`` entries
        average the steps so far. ``window`` must be an int >= 1, else ValueError.
        """
        if isinstance(window, bool) or not isinstance(window, int) or window < 1:
            raise ValueError(f"window must be an int >= 1, got {window!r}")
        out, total = [], 0.0
        for i, value in enumerate(self.loss):
            total += value
            if i >= window:
                total -= self.loss[i - window]
            out.append(total / min(i + 1, window))
        return out


class _CellDisplay:
    """A file-like target for ``tqdm`` that draws into one display area of a notebook cell.

    The area starts empty and is emptied again when the bar closes (``leave=False`` makes
    ``tqdm`` erase its line), so what a notebook stores is an empty display, whatever the
    timings were. nbval ignores display updates and compares the first, empty, version.
    """

    _EMPTY = {"text/plain": "", "text/html": ""}

    def __init__(self):
        from IPython.display import display

        self._handle = display(self._EMPTY, raw=True, display_id=True)

    def write(self, text):
        line = text.replace("\r", "\n").strip().split("\n")[-1].strip() if text else ""
        if not line:
            self._handle.update(self._EMPTY, raw=True)
        else:
            html_line = f"<pre>{html.escape(line)}</pre>"
            self._handle.update({"text/plain": line, "text/html": html_line}, raw=True)

    def flush(self):
        pass


def progress_range(total: int, *, desc: str | None = None, enabled: bool = True):
    """``range(total)`` with a ``tqdm`` progress bar that leaves nothing in stored output.

    Use it for training loops written by hand: ``for step in progress_range(steps, desc="LSTM")``.
    In a notebook the bar lives in a display area that is emptied when the loop ends; in a
    script it writes to stderr and is erased at the end. ``enabled=False`` shows nothing.
    """
    if isinstance(total, bool) or not isinstance(total, int) or total < 0:
        raise ValueError(f"total must be an int >= 0, got {total!r}")
    if desc is not None and not isinstance(desc, str):
        raise ValueError(f"desc must be a str or None, got {type(desc).__name__}")
    if not isinstance(enabled, bool):
        raise ValueError(f"enabled must be True or False, got {enabled!r}")
    file = _CellDisplay() if enabled and _in_notebook() else None
    return tqdm(
        range(total), desc=desc, disable=not enabled, leave=False, file=file, mininterval=0.5
    )


def _check_positive(name, value, allow_none=False):
    if value is None and allow_none:
        return
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{name} must be a positive number, got {type(value).__name__} {value!r}")
    if not math.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}")


def _batch_source(batches):
    if callable(batches):
        return batches
    if isinstance(batches, (list, tuple)) and len(batches) > 0:
        return lambda step: batches[step % len(batches)]
    raise ValueError(
        "batches must be a callable step -> batch or a non-empty list of batches, "
        f"got {type(batches).__name__}"
    )


def fit(
    model,
    loss_fn,
    batches,
    *,
    steps: int,
    lr: float = 1e-2,
    optimizer: str = "adam",
    clip: float | None = 1.0,
    weight_decay: float = 0.0,
    progress: bool = False,
) -> History:
    """Train ``model`` for ``steps`` gradient steps.

    Args:
        model: a ``torch.nn.Module`` with at least one parameter that requires a gradient.
        loss_fn: ``loss_fn(model, batch)`` returning a scalar (0-dim) floating tensor.
        batches: callable ``step -> batch`` or a non-empty list of batches (cycled).
        steps: number of optimiser steps, an int >= 1.
        lr: learning rate, positive.
        optimizer: ``"adam"`` (default) or ``"sgd"``.
        clip: maximum global norm of the gradient (gradient clipping, 梯度截断), or None.
        weight_decay: L2 penalty passed to the optimiser, >= 0.
        progress: show a ``tqdm`` progress bar (see :func:`progress_range`); off by default.

    Returns:
        A :class:`History` with the loss and the gradient norm of every step.

    Raises:
        ValueError: on bad arguments, or when a loss is not a finite scalar.
    """
    if not isinstance(model, torch.nn.Module):
        raise ValueError(f"model must be a torch.nn.Module, got {type(model).__name__}")
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("model has no parameters that require a gradient")
    if not callable(loss_fn):
        raise ValueError(f"loss_fn must be callable, got {type(loss_fn).__name__}")
    source = _batch_source(batches)
    if isinstance(steps, bool) or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"steps must be an int >= 1, got {steps!r}")
    _check_positive("lr", lr)
    _check_positive("clip", clip, allow_none=True)
    if isinstance(weight_decay, bool) or not isinstance(weight_decay, (int, float)):
        raise ValueError(f"weight_decay must be a number >= 0, got {weight_decay!r}")
    if not math.isfinite(weight_decay) or weight_decay < 0:
        raise ValueError(f"weight_decay must be a finite number >= 0, got {weight_decay!r}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer must be one of {sorted(OPTIMIZERS)}, got {optimizer!r}")
    if not isinstance(progress, bool):
        raise ValueError(f"progress must be True or False, got {progress!r}")

    opt = OPTIMIZERS[optimizer](params, lr=lr, weight_decay=weight_decay)
    history = History()
    model.train()
    for step in progress_range(steps, enabled=progress):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model, source(step))
        if not isinstance(loss, torch.Tensor) or loss.dim() != 0 or not loss.is_floating_point():
            raise ValueError(
                f"loss_fn must return a 0-dim floating tensor, got {type(loss).__name__}"
                + (f" of shape {tuple(loss.shape)}" if isinstance(loss, torch.Tensor) else "")
            )
        if not torch.isfinite(loss):
            raise ValueError(f"the loss is not finite at step {step}: {loss.item()}")
        loss.backward()
        # the global norm ||g|| over all parameters; rescaled to `clip` when larger
        max_norm = math.inf if clip is None else clip
        norm = torch.nn.utils.clip_grad_norm_(params, max_norm)
        opt.step()
        history.loss.append(float(loss.detach()))
        history.grad_norm.append(float(norm))
    model.eval()
    return history
