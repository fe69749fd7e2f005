"""The linear-chain conditional random field (条件随机场, CRF) in NumPy.

For a sequence of T steps and K tags, emission scores ``E`` (T, K) (from a BiLSTM, say),
a transition matrix ``A`` (K, K) (``A[i, j]`` scores tag i followed by tag j) and start and
end scores ``start``, ``end`` (K,), a tag path y = (y_1, .., y_T) scores

    (10.5.1)  s(y) = start[y_1] + sum_t E[t, y_t] + sum_{t>1} A[y_{t-1}, y_t] + end[y_T]

and has probability p(y) = exp s(y) / Z with Z = sum over all K^T paths of exp s(y').

- :func:`path_score`: s(y);
- :func:`log_partition`: log Z by the forward algorithm, in log space (10.5.2);
- :func:`viterbi`: the best path by dynamic programming with max for sum (10.5.3);
- :func:`marginals` and :func:`nll_grad`: the forward-backward marginals and the gradient
  of the negative log-likelihood -log p(y), expected counts minus observed counts (10.5.4);
- :func:`brute_force`: log Z and the best path by enumerating every path, for tests.

The BIO helpers at the end (:func:`bio_spans`, :func:`entity_f1`, :func:`bio_violations`)
score tag sequences of the named-entity task of section 10.5.
"""

import itertools

import numpy as np

from rnnbook._checks import check_array


def _check(E, A, start, end):
    check_array(E, "E", shape=(None, None), dims="(T, K)", dtypes=("float64", "float32"))
    T, K = E.shape
    if T < 1 or K < 1:
        raise ValueError(f"E must have T >= 1 steps and K >= 1 tags, got shape {E.shape}")
    check_array(A, "A", shape=(K, K), dims="(K, K)", dtypes=("float64", "float32"))
    check_array(start, "start", shape=(K,), dims="(K,)", dtypes=("float64", "float32"))
    check_array(end, "end", shape=(K,), dims="(K,)", dtypes=("float64", "float32"))
    return T, K


def _check_path(y, T, K):
    y = np.asarray(y)
    if y.shape != (T,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"y must be T = {T} integer tags, got {y.dtype} of shape {y.shape}")
    if y.min() < 0 or y.max() >= K:
        raise ValueError(f"y must hold tags in [0, {K}), got {y.min()} .. {y.max()}")
    return y


def _logsumexp(a, axis):
    m = np.max(a, axis=axis, keepdims=True)
    return np.squeeze(m, axis) + np.log(np.sum(np.exp(a - m), axis=axis))


def path_score(E, y, A, start, end):
    """s(y) of eq. (10.5.1). E: (T, K); y: (T,) ints in [0, K); A: (K, K); start, end: (K,)."""
    T, K = _check(E, A, start, end)
    y = _check_path(y, T, K)
    # (10.5.1)  start, emissions, transitions, end
    s = start[y[0]] + E[np.arange(T), y].sum() + A[y[:-1], y[1:]].sum() + end[y[-1]]
    return float(s)


def _alphas(E, A, start):
    # (10.5.2)  alpha_1 = start + E_1;  alpha_t[j] = E_t[j] + logsumexp_i(alpha_{t-1}[i] + A[i, j])
    T, K = E.shape
    alpha = np.empty((T, K))  # (T, K)
    alpha[0] = start + E[0]
    for t in range(1, T):
        alpha[t] = E[t] + _logsumexp(alpha[t - 1][:, None] + A, axis=0)  # (K,)
    return alpha


def _betas(E, A, end):
    # beta_T = end;  beta_t[i] = logsumexp_j(A[i, j] + E_{t+1}[j] + beta_{t+1}[j])
    T, K = E.shape
    beta = np.empty((T, K))  # (T, K)
    beta[T - 1] = end
    for t in range(T - 2, -1, -1):
        beta[t] = _logsumexp(A + (E[t + 1] + beta[t + 1])[None, :], axis=1)  # (K,)
    return beta


def log_partition(E, A, start, end):
    """log Z, the log of the sum of exp s(y) over all K^T paths, by the forward algorithm.

    Args: E (T, K); A (K, K); start, end (K,). Returns a float.
    """
    _check(E, A, start, end)
    alpha = _alphas(E, A, start)
    # (10.5.2)  log Z = logsumexp_j(alpha_T[j] + end[j])
    return float(_logsumexp(alpha[-1] + end, axis=0))


def viterbi(E, A, start, end):
    """The highest-scoring path and its score, by the Viterbi algorithm.

    Args: E (T, K); A (K, K); start, end (K,).
    Returns: (y (T,) int64, s(y) float).
    """
    T, K = _check(E, A, start, end)
    # (10.5.3)  delta_1 = start + E_1;  delta_t[j] = E_t[j] + max_i(delta_{t-1}[i] + A[i, j])
    delta = start + E[0]  # (K,)
    back = np.zeros((T, K), dtype=np.int64)  # (T, K) the best predecessor of each tag
    for t in range(1, T):
        cand = delta[:, None] + A  # (K, K): from i (rows) to j (columns)
        back[t] = np.argmax(cand, axis=0)
        delta = E[t] + cand[back[t], np.arange(K)]
    delta = delta + end
    y = np.empty(T, dtype=np.int64)
    y[-1] = int(np.argmax(delta))
    for t in range(T - 1, 0, -1):
        y[t - 1] = back[t, y[t]]
    return y, float(delta[y[-1]])


def marginals(E, A, start, end):
    """Forward-backward marginals p(y_t = k) (T, K) and p(y_{t-1} = i, y_t = j) (T-1, K, K)."""
    _check(E, A, start, end)
    alpha, beta = _alphas(E, A, start), _betas(E, A, end)
    logZ = _logsumexp(alpha[-1] + end, axis=0)
    node = np.exp(alpha + beta - logZ)  # (T, K)
    # pair[t-1, i, j] = exp(alpha_{t-1}[i] + A[i, j] + E_t[j] + beta_t[j] - log Z)
    pair = np.exp(alpha[:-1, :, None] + A[None] + (E[1:] + beta[1:])[:, None, :] - logZ)
    return node, pair


def nll_grad(E, y, A, start, end):
    """-log p(y) and its gradient with respect to E, A, start and end.

    (10.5.4)  d(-log p(y)) / d theta = E_p[counts of theta] - counts of theta in y

    Returns: (nll float, {"E": (T, K), "A": (K, K), "start": (K,), "end": (K,)}).
    """
    T, K = _check(E, A, start, end)
    y = _check_path(y, T, K)
    nll = log_partition(E, A, start, end) - path_score(E, y, A, start, end)
    node, pair = marginals(E, A, start, end)
    onehot = np.eye(K)[y]  # (T, K)
    dA = pair.sum(axis=0)  # (K, K) expected transition counts
    np.add.at(dA, (y[:-1], y[1:]), -1.0)
    grads = {
        "E": node - onehot,
        "A": dA,
        "start": node[0] - onehot[0],
        "end": node[-1] - onehot[-1],
    }
    return nll, grads


def brute_force(E, A, start, end):
    """log Z, the best path and its score by enumerating all K^T paths (small T and K only).

    Returns: (log Z float, y (T,) int64, s(y) float). Refuses K^T > 10^6.
    """
    T, K = _check(E, A, start, end)
    if K**T > 10**6:
        raise ValueError(f"brute force enumerates K^T paths; K^T = {K}^{T} is over 10^6")
    paths = np.array(list(itertools.product(range(K), repeat=T)), dtype=np.int64)  # (K^T, T)
    scores = np.array([path_score(E, p, A, start, end) for p in paths])
    best = int(np.argmax(scores))
    return float(_logsumexp(scores, axis=0)), paths[best], float(scores[best])


# BIO tags: "O" outside, "B-X" the first word of an entity of type X, "I-X" the others.


def _check_tags(tags, name="tags"):
    if isinstance(tags, str) or not isinstance(tags, (list, tuple)):
        raise ValueError(f"{name} must be a list of tag strings, got {type(tags).__name__}")
    for t in tags:
        if t != "O" and not (isinstance(t, str) and t[:2] in ("B-", "I-") and len(t) > 2):
            raise ValueError(f"{name} must hold 'O', 'B-X' or 'I-X' tags, got {t!r}")


def bio_violations(tags):
    """The number of steps whose tag is I-X without B-X or I-X just before it."""
    _check_tags(tags)
    bad, prev = 0, "O"
    for t in tags:
        if t.startswith("I-") and prev[2:] != t[2:]:
            bad += 1
        prev = t
    return bad


def bio_spans(tags):
    """The entities of a BIO sequence as a set of (type, first, last) spans.

    Read as the CoNLL evaluation reads it: an I-X that does not continue an entity of
    type X starts a new one.
    """
    _check_tags(tags)
    spans, kind, first = set(), None, 0
    for i, t in enumerate([*tags, "O"]):
        if kind is not None and not (t.startswith("I-") and t[2:] == kind):
            spans.add((kind, first, i - 1))
            kind = None
        if t != "O" and kind is None:
            kind, first = t[2:], i
    return spans


def entity_f1(predicted, gold):
    """Precision, recall and F1 of exact span matches over a list of tag sequences.

    Args:
        predicted, gold: lists of BIO tag sequences, pairwise of equal length.

    Returns:
        ``{"precision": p, "recall": r, "f1": f}``, each in [0, 1] (0 when undefined).
    """
    if not isinstance(predicted, (list, tuple)) or not isinstance(gold, (list, tuple)):
        raise ValueError("predicted and gold must be lists of tag sequences")
    if len(predicted) != len(gold):
        raise ValueError(f"predicted has {len(predicted)} sequences, gold {len(gold)}")
    tp = n_pred = n_gold = 0
    for i, (p, g) in enumerate(zip(predicted, gold, strict=True)):
        if len(p) != len(g):
            raise ValueError(f"sequence {i}: {len(p)} predicted tags, {len(g)} gold tags")
        sp, sg = bio_spans(p), bio_spans(g)
        tp, n_pred, n_gold = tp + len(sp & sg), n_pred + len(sp), n_gold + len(sg)
    precision = tp / n_pred if n_pred else 0.0
    recall = tp / n_gold if n_gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}
