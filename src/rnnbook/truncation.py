"""Chapter 3's experiment: a simple recurrent network learns the delayed echo from full,
truncated or randomly truncated gradients.

The task (``rnnbook.data.delayed_echo``): at each step one of S symbols arrives (one-hot),
and the label at step t is the symbol of step t - d. The first d labels, which have
nothing to echo, are set to 0 and trained on like the others (:func:`accuracy` with
``steps="first"`` measures how well a trained network predicts them). The model is an SRN
with H units and an output layer (V, c); its gradient comes from ``rnnbook.scratch.bptt``:

- ``gradient="full"``: :func:`bptt.full`;
- ``"truncated"``: :func:`bptt.truncated` with ``k1`` and ``k2``;
- ``"randomized"``: :func:`bptt.randomized` with the cut probability ``c`` and ``reweight``.

Training is gradient descent with momentum on the gradient divided by T, one fresh batch
per update from a generator seeded with ``seed`` (which also draws the initial weights).
With ``clip`` set, the gradient of the batch's loss L (summed over the T steps) is first
clipped by its global norm: all arrays together are rescaled to norm ``clip`` when their joint
norm exceeds it (the default, None, never clips); the division by T comes after.
Test accuracy is measured on one fixed batch of ``TEST_SIZE`` sequences, drawn from its
own seed, on the T - d steps that have a symbol to echo.
"""

import numpy as np

from rnnbook import data
from rnnbook._checks import check_int, check_option
from rnnbook.scratch import bptt, srn

GRADIENTS = ("full", "truncated", "randomized")
#: sequences in the test batch, and the seed it is drawn from
TEST_SIZE, TEST_SEED = 256, 99


def echo_batch(gen, *, B, T, S, d):
    """One batch of the delayed echo: x one-hot (T, B, S) float64, y (T, B) int64."""
    tokens, labels = data.delayed_echo(B, T, S, d, gen)
    return np.eye(S)[tokens].transpose(1, 0, 2), np.where(labels < 0, 0, labels).T


def accuracy(p, *, T, S, d, steps="echo"):
    """Fraction of correct predictions on the test batch: on the steps with a symbol to echo
    (``steps="echo"``, t >= d) or on the first d steps, whose label is 0 (``steps="first"``)."""
    check_option("steps", steps, ("echo", "first"))
    xb, yb = echo_batch(np.random.default_rng(TEST_SEED), B=TEST_SIZE, T=T, S=S, d=d)
    hs, _ = srn.forward(xb, None, {k: p[k] for k in ("W", "U", "b")})  # (T, B, H)
    predicted = (hs @ p["V"].T + p["c"]).argmax(axis=-1)  # (T, B)
    part = slice(d, None) if steps == "echo" else slice(0, d)
    return float((predicted[part] == yb[part]).mean())


def clip_global_norm(g, clip):
    """The arrays of dict ``g`` rescaled together to global norm ``clip`` if theirs exceeds it.

    Returns (the clipped dict, the global norm before clipping)."""
    norm = float(np.sqrt(sum(np.sum(v * v) for v in g.values())))
    scale = min(1.0, clip / norm) if norm > 0 else 1.0
    return {k: scale * v for k, v in g.items()}, norm


def train_echo(
    d,
    *,
    gradient="full",
    k1=1,
    k2=None,
    c=None,
    reweight=True,
    seed=0,
    steps=200,
    evaluate=(),
    T=20,
    B=32,
    H=24,
    S=4,
    lr=0.3,
    momentum=0.9,
    clip=None,
    norms=None,
):
    """Train on the delayed echo with lag ``d``; see the module docstring.

    Args:
        d: the lag (>= 1).
        gradient: "full", "truncated" (needs ``k2``; ``k1`` default 1) or "randomized"
            (needs ``c``; ``reweight`` as in :func:`bptt.randomized`).
        seed: the seed of the initial weights and of the training batches.
        steps: the number of updates.
        evaluate: the update counts after which to measure test accuracy.
        T, B, H, S: sequence length, batch size, hidden units, symbols.
        lr, momentum: of gradient descent with momentum.
        clip: None (no clipping) or a number > 0: the global norm to which dL/d(params),
            L summed over the T steps, is clipped before each update.
        norms: None, or a list to which the global norm of each update's dL/d(params),
            before clipping, is appended.

    Returns:
        (params, losses, accuracies): the trained parameters, the loss per step of each
        update's batch (before the update), and {update count: test accuracy} for each
        count in ``evaluate`` and for ``steps``.
    """
    check_option("gradient", gradient, GRADIENTS)
    check_int("d", d)
    steps = check_int("steps", steps)
    if gradient == "truncated" and k2 is None:
        raise ValueError("gradient='truncated' needs k2")
    if gradient == "randomized" and c is None:
        raise ValueError("gradient='randomized' needs c")
    if clip is not None and (
        isinstance(clip, bool) or not isinstance(clip, (int, float)) or not clip > 0
    ):
        raise ValueError(f"clip must be None or a number > 0, got {clip!r}")
    gen = np.random.default_rng(seed)
    p = srn.init_params(S, H, gen)
    p["V"] = gen.uniform(-0.3, 0.3, (S, H))  # (O, H)
    p["c"] = np.zeros(S)  # (O,)
    m = {k: np.zeros_like(v) for k, v in p.items()}
    losses, accuracies = [], {}
    for step in range(1, steps + 1):
        xb, yb = echo_batch(gen, B=B, T=T, S=S, d=d)
        if gradient == "full":
            L, g = bptt.full("srn", xb, yb, p)
        elif gradient == "truncated":
            L, g = bptt.truncated("srn", xb, yb, p, k1=k1, k2=k2)
        else:
            L, g = bptt.randomized("srn", xb, yb, p, p_cut=c, rng=gen, reweight=reweight)
        losses.append(L / T)
        if clip is not None or norms is not None:
            # the global norm of dL/d(params), L summed over the T steps, clipped to clip
            # (clip=None: every array is multiplied by exactly 1, only the norm is recorded)
            g, norm = clip_global_norm(g, np.inf if clip is None else clip)
            if norms is not None:
                norms.append(norm)
        for k in p:
            m[k] = momentum * m[k] + g[k] / T
            p[k] -= lr * m[k]
        if step in evaluate or step == steps:
            accuracies[step] = accuracy(p, T=T, S=S, d=d)
    return p, losses, accuracies
