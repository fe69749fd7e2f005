"""Connectionist temporal classification (CTC) in NumPy: the loss and its gradient.

Graves et al. (2006). A network emits, at every frame t = 1..T, a distribution y_t over
K symbols, symbol ``blank`` among them. A *path* pi (one symbol per frame) is mapped to a
labelling by B: merge repeated symbols, then drop the blanks. The CTC loss of a target l is

    p(l | x) = sum over paths pi with B(pi) = l of  prod_t y_t[pi_t],    loss = -log p(l | x).

The sum is computed by the forward-backward algorithm over the *extended* target
l' = (blank, l_1, blank, l_2, ..., l_U, blank) of length S = 2U + 1, in log space:

    alpha_t(s): log probability of the frames 1..t, over all path prefixes ending in l'_s at t
    beta_t(s):  log probability of the frames t+1..T, given l'_s at frame t (y_t not included)

so that, at every t, logsumexp_s (alpha_t(s) + beta_t(s)) = log p(l | x). This beta follows
Graves (2012, *Supervised sequence labelling with recurrent neural networks*); in Graves et al.
(2006) beta_t(s) includes y_t[l'_s], so that alpha_t(s) beta_t(s) counts frame t twice and the
sum over s is divided by y_t[l'_s], and the gradient carries a factor 1 / (y_t[k] Z_t).

:func:`ctc_loss` takes *logits* u (T, K) (a softmax is applied inside) and returns the loss
and its gradient with respect to the logits,

    d loss / d u_t[k] = y_t[k] - gamma_t[k],
    gamma_t[k] = sum_{s: l'_s = k} exp(alpha_t(s) + beta_t(s) - log p(l | x)),

gamma_t[k] being the posterior probability that frame t emits k. The gradient with respect to
the log-probabilities themselves, treated as free inputs, is -gamma (``wrt="log_probs"``).
``torch.nn.CTCLoss`` returns y - gamma as the gradient with respect to its log-probability
input: the logits gradient, which is what reaches the logits when a log_softmax comes first
(the log_softmax's backward maps -gamma and y - gamma alike to y - gamma).

:func:`brute_force_log_p` sums the paths one by one, sharing no code with the recursion.
"""

import itertools
import math

import numpy as np

from rnnbook._checks import check_array, check_int, check_option


def _logsumexp(a, axis=None):
    """log(sum(exp(a))) without overflow; -inf where every entry is -inf."""
    m = np.max(a, axis=axis, keepdims=True)
    m_safe = np.where(np.isfinite(m), m, 0.0)
    with np.errstate(divide="ignore"):  # log(0) = -inf is the intended value
        out = np.log(np.sum(np.exp(a - m_safe), axis=axis, keepdims=True)) + m_safe
    return out.squeeze(axis) if axis is not None else out.reshape(())


def _shift(a, k):
    """a moved k places to the right (k > 0) or left (k < 0), filled with -inf."""
    out = np.full_like(a, -np.inf)
    if k > 0:
        out[k:] = a[:-k]
    else:
        out[:k] = a[-k:]
    return out


def log_softmax(u):
    """log y = u - logsumexp(u) over the last axis; u (T, K)."""
    return u - _logsumexp(u, axis=-1)[..., None]


def extend(target, blank=0):
    """The extended target l' = (blank, l_1, blank, ..., l_U, blank), length 2U + 1."""
    ext = np.full(2 * len(target) + 1, blank, dtype=np.int64)
    ext[1::2] = target
    return ext


def _check(log_probs, target, blank, name, check_frames=True):
    check_array(log_probs, name, shape=(None, None), dims="(T, K)", dtypes=("float64",))
    T, K = log_probs.shape
    blank = check_int("blank", blank, minimum=0)
    if blank >= K:
        raise ValueError(f"blank must be in [0, K) = [0, {K}), got {blank}")
    target = np.asarray(target)
    if target.ndim != 1 or (target.size and not np.issubdtype(target.dtype, np.integer)):
        raise ValueError(f"target must be a 1-D sequence of ints, got {target!r}")
    target = target.astype(np.int64)
    if np.any(target < 0) or np.any(target >= K) or np.any(target == blank):
        raise ValueError(
            f"target symbols must be in [0, {K}) and differ from blank={blank}, "
            f"got {target.tolist()}"
        )
    repeats = int(np.sum(target[1:] == target[:-1])) if target.size else 0
    if check_frames and T < len(target) + repeats:
        raise ValueError(
            f"T = {T} frames cannot hold a target of length {len(target)} with {repeats} "
            f"repeat(s): at least {len(target) + repeats} frames are needed"
        )
    return target, blank


def _skip_allowed(ext, blank, repeat_rule=True):
    """skip[s]: may a path jump from l'_{s-2} to l'_s? Only onto a label that differs from l'_{s-2}.

    ``repeat_rule=False`` drops the second condition (a wrong CTC, kept for the tests).
    """
    skip = np.zeros(len(ext), dtype=bool)
    skip[2:] = ext[2:] != blank
    if repeat_rule:
        skip[2:] &= ext[2:] != ext[:-2]
    return skip


def forward_backward(log_probs, target, blank=0, *, _repeat_rule=True, _check_frames=True):
    """The log-space forward and backward variables of CTC.

    Args:
        log_probs: (T, K) float64 log-probabilities log y_t[k] (each row a log-distribution).
        target: the labelling l, a 1-D sequence of U ints in [0, K), none equal to ``blank``.
        blank: the index of the blank symbol.
        _repeat_rule: ``False`` lets a path skip the blank between two equal labels (a wrong
            CTC, a planted error for the checks).
        _check_frames: ``False`` skips the refusal of T < U + r (r: the number of equal
            neighbours in l), so that the recursion itself can be seen to give p = 0 there.

    Returns:
        ``(log_alpha, log_beta, log_p)``: (T, S) and (T, S) arrays, S = 2U + 1, and the scalar
        log p(l | x). ``log_beta`` does not include frame t's own emission.
    """
    target, blank = _check(log_probs, target, blank, "log_probs", _check_frames)
    ext = extend(target, blank)  # (S,)
    T, S = len(log_probs), len(ext)
    skip = _skip_allowed(ext, blank, _repeat_rule)
    emit = log_probs[:, ext]  # (T, S): log y_t[l'_s]
    log_alpha = np.full((T, S), -np.inf)
    # alpha_1(1) = y_1[blank], alpha_1(2) = y_1[l_1]; every other start is impossible
    log_alpha[0, 0] = emit[0, 0]
    if S > 1:
        log_alpha[0, 1] = emit[0, 1]
    for t in range(1, T):
        prev = log_alpha[t - 1]
        stay = prev  # from s
        step = _shift(prev, 1)  # from s - 1
        jump = np.where(skip, _shift(prev, 2), -np.inf)  # from s - 2
        # alpha_t(s) = y_t[l'_s] * (alpha_{t-1}(s) + alpha_{t-1}(s-1) [+ alpha_{t-1}(s-2)])
        log_alpha[t] = emit[t] + _logsumexp(np.stack([stay, step, jump]), axis=0)
    log_beta = np.full((T, S), -np.inf)
    # beta_T(S) = beta_T(S-1) = 1: a path may end on the last blank or on the last label
    log_beta[T - 1, S - 1] = 0.0
    if S > 1:
        log_beta[T - 1, S - 2] = 0.0
    skip_next = np.zeros(S, dtype=bool)  # may s jump to s + 2?
    skip_next[: S - 2] = skip[2:]
    for t in range(T - 2, -1, -1):
        nxt = log_beta[t + 1] + emit[t + 1]  # (S,)
        stay = nxt
        step = _shift(nxt, -1)  # to s + 1
        jump = np.where(skip_next, _shift(nxt, -2), -np.inf)  # to s + 2
        # beta_t(s) = sum over the states s' reachable at t + 1 of y_{t+1}[l'_{s'}] beta_{t+1}(s')
        log_beta[t] = _logsumexp(np.stack([stay, step, jump]), axis=0)
    log_p = _logsumexp(log_alpha[T - 1, S - 2 :]) if S > 1 else log_alpha[T - 1, 0]
    return log_alpha, log_beta, float(log_p)


def ctc_loss(logits, target, blank=0, *, wrt="logits", _repeat_rule=True):
    """The CTC loss -log p(l | x) of one sequence and its gradient.

    Args:
        logits: (T, K) float64. With ``wrt="logits"`` these are unnormalised scores u and a
            softmax is applied inside; with ``wrt="log_probs"`` they must already be
            log-probabilities (rows of exp summing to 1) and are used as they are.
        target: the labelling, 1-D ints in [0, K) other than ``blank``.
        blank: index of the blank symbol.
        wrt: ``"logits"``: the gradient is y - gamma, w.r.t. u; ``"log_probs"``: it is -gamma,
            w.r.t. the log-probabilities as free inputs.

    Returns:
        ``(loss, grad)``: a float and a (T, K) array.
    """
    check_option("wrt", wrt, ("logits", "log_probs"))
    check_array(logits, "logits", shape=(None, None), dims="(T, K)", dtypes=("float64",))
    if wrt == "logits":
        log_probs = log_softmax(logits)
    else:
        row_sums = np.exp(logits).sum(axis=1)
        if not np.allclose(row_sums, 1.0, atol=1e-6):
            raise ValueError(
                "with wrt='log_probs', logits must be log-probabilities (exp of each row sums "
                f"to 1); row sums range from {row_sums.min():.4g} to {row_sums.max():.4g}"
            )
        log_probs = logits
    log_alpha, log_beta, log_p = forward_backward(
        log_probs, target, blank, _repeat_rule=_repeat_rule
    )
    if not np.isfinite(log_p):
        raise ValueError("p(l | x) = 0: no path of these frames collapses to the target")
    ext = extend(np.asarray(target, dtype=np.int64), blank)
    occupancy = np.exp(log_alpha + log_beta - log_p)  # (T, S): P(state s at frame t | l, x)
    gamma = np.zeros_like(log_probs)  # (T, K)
    np.add.at(gamma.T, ext, occupancy.T)  # gamma_t[k] = sum_{s: l'_s = k} occupancy_t(s)
    grad = np.exp(log_probs) - gamma if wrt == "logits" else -gamma
    return -log_p, grad


def brute_force_log_p(log_probs, target, blank=0):
    """log p(l | x) by enumerating all K^T paths: for checks on small T and K only.

    Independent of the recursion: its own B (``itertools.groupby``), a plain sum of the
    path probabilities (``math.fsum``), no refusal of short T. Returns -inf when no path
    collapses to the target (p = 0).
    """
    check_array(log_probs, "log_probs", shape=(None, None), dims="(T, K)", dtypes=("float64",))
    T, K = log_probs.shape
    if K**T > 2_000_000:
        raise ValueError(f"K^T = {K}^{T} paths are too many to enumerate (at most 2,000,000)")
    y = np.exp(log_probs).tolist()  # (T, K) probabilities, as Python floats
    wanted = tuple(int(k) for k in target)
    p = math.fsum(
        math.prod(y[t][k] for t, k in enumerate(path))
        for path in itertools.product(range(K), repeat=T)
        # B(pi): one symbol per run of equal symbols, blanks left out
        if tuple(k for k, _ in itertools.groupby(path) if k != blank) == wanted
    )
    return math.log(p) if p > 0 else -math.inf


def collapse(path, blank=0):
    """B(pi): merge repeated symbols, then drop blanks; returns a tuple of ints."""
    out, last = [], None
    for k in path:
        k = int(k)
        if k != last and k != blank:
            out.append(k)
        last = k
    return tuple(out)
