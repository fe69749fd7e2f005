"""The checks of ``rnnbook.nn`` that only make sense for PyTorch tensors.

Shapes, dtypes and finiteness are checked by ``rnnbook._checks.check_array``;
this module adds what a module's call also needs: the argument is a
``torch.Tensor`` and lives on the parameters' device in the parameters' dtype.
"""

import torch

from rnnbook._checks import check_array, describe, dtype_name


def check_tensor(t, name, *, shape, dims, like):
    """Check one tensor handed to a module against the module's parameters.

    Args:
        t: the tensor to check.
        name: its name in messages, e.g. ``"input"`` or ``"h_0"``.
        shape: the expected shape, ints with None for any size (its length is the rank).
        dims: the shape in symbols for messages, e.g. ``"(T, B, D)"``.
        like: a parameter of the module; ``t`` must share its dtype and device.

    Raises:
        ValueError: naming what was expected and what came.
    """
    if not isinstance(t, torch.Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {describe(t)}")
    if t.dtype != like.dtype:
        raise ValueError(
            f"{name} must have the parameters' dtype {dtype_name(like)}, got {dtype_name(t)}"
        )
    if t.device != like.device:
        raise ValueError(f"{name} must be on the parameters' device {like.device}, got {t.device}")
    check_array(t, name, shape=shape, dims=dims, dtype=dtype_name(like))


def check_float_dtype(dtype, name="dtype"):
    """Raise unless ``dtype`` is None or a floating-point ``torch.dtype``."""
    if dtype is not None and not (isinstance(dtype, torch.dtype) and dtype.is_floating_point):
        raise ValueError(f"{name} must be None or a floating torch.dtype, got {dtype!r}")
