"""Finite automata, and simple recurrent networks with hand-set weights that run them exactly.

A deterministic finite automaton (有限状态自动机) has states ``0..n_states-1``, symbols
``0..n_symbols-1``, a transition table ``delta[q, a]`` (the state after reading ``a`` in
state ``q``), a start state ``q0`` and a set of accepting states.

The network (:func:`srn_params`) is an Elman SRN, eq. (6.5), with f = ReLU:

    h_t = relu(U h_{t-1} + W x_t + b),    yhat_t = V h_t + c

with one hidden unit for each pair (q, a), plus one start unit. Input x_t is the one-hot
vector of the symbol a_t. By induction h_t is one-hot on the pair (q_{t-1}, a_t), where
q_{t-1} is the automaton's state before step t:

    U[(q', a'), (q, a)] = 1  when delta[q, a] = q'     (the pair's successor state is q')
    U[(q0, a'), start]  = 1                           (h_0 is the start unit)
    W[(q', a'), a'']    = 1  when a'' = a'             (the symbol read now)
    b                   = -1

so z_t of unit (q', a') is [q_{t-1} = q'] + [a_t = a'] - 1, which is 1 for the one right
unit and 0 or -1 for every other, and relu maps it to exactly 1 or 0. The readout
V[(q, a)] = 1 when delta[q, a] is accepting gives yhat_t = 1 or 0 exactly. Every number
in the computation is -1, 0 or 1, so floating point computes it without rounding, for
inputs of any length. ReLU equals the saturated-linear function min(max(z, 0), 1) of
Siegelmann and Sontag (1995) on these values.
"""

from dataclasses import dataclass

import numpy as np

from rnnbook.scratch import srn


@dataclass(frozen=True)
class DFA:
    """A deterministic finite automaton.

    Attributes:
        delta: transition table, int array (n_states, n_symbols), entries in 0..n_states-1.
        start: the start state q0.
        accepting: the accepting states, a tuple of ints.
    """

    delta: np.ndarray
    start: int
    accepting: tuple

    def __post_init__(self):
        delta = np.asarray(self.delta)
        if delta.ndim != 2 or delta.size == 0:
            raise ValueError(
                f"delta must be a non-empty table (n_states, n_symbols), got shape {delta.shape}"
            )
        if not np.issubdtype(delta.dtype, np.integer):
            raise ValueError(f"delta must hold ints, got dtype {delta.dtype}")
        n = delta.shape[0]
        if delta.min() < 0 or delta.max() >= n:
            raise ValueError(f"delta's entries must be states 0..{n - 1}")
        if isinstance(self.start, bool) or not isinstance(self.start, (int, np.integer)):
            raise ValueError(f"start must be an int state, got {self.start!r}")
        if not 0 <= self.start < n:
            raise ValueError(f"start must be a state 0..{n - 1}, got {self.start}")
        acc = tuple(int(q) for q in self.accepting)
        if any(not 0 <= q < n for q in acc):
            raise ValueError(f"accepting states must be in 0..{n - 1}, got {acc}")
        delta = delta.astype(np.int64)
        delta.setflags(write=False)
        object.__setattr__(self, "delta", delta)
        object.__setattr__(self, "start", int(self.start))
        object.__setattr__(self, "accepting", acc)

    @property
    def n_states(self) -> int:
        return self.delta.shape[0]

    @property
    def n_symbols(self) -> int:
        return self.delta.shape[1]


def divisibility(k: int) -> DFA:
    """Binary numbers read most significant bit first; state = the value so far mod k.

    Reading bit a in state q gives (2 q + a) mod k; the start state 0 is the empty
    prefix's value; the only accepting state is 0 (divisible by k).
    """
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or k < 1:
        raise ValueError(f"k must be an int >= 1, got {k!r}")
    q = np.arange(k)[:, None]
    a = np.arange(2)[None, :]
    return DFA(delta=(2 * q + a) % k, start=0, accepting=(0,))


def parity() -> DFA:
    """Parity of the number of ones in a binary string; accepting = even."""
    return DFA(delta=np.array([[0, 1], [1, 0]]), start=0, accepting=(0,))


def _check_strings(dfa, strings):
    strings = np.asarray(strings)
    if strings.ndim != 2:
        raise ValueError(f"strings must have shape (B, T), got shape {strings.shape}")
    if not np.issubdtype(strings.dtype, np.integer):
        raise ValueError(f"strings must hold int symbols, got dtype {strings.dtype}")
    if strings.size and (strings.min() < 0 or strings.max() >= dfa.n_symbols):
        raise ValueError(f"symbols must be in 0..{dfa.n_symbols - 1}")
    return strings


def run(dfa: DFA, strings) -> np.ndarray:
    """The automaton's state after every prefix.

    Args:
        dfa: the automaton.
        strings: int array (B, T) of symbols.

    Returns:
        int array (B, T): entry [i, t] is the state after reading strings[i, :t+1].
    """
    if not isinstance(dfa, DFA):
        raise ValueError(f"dfa must be a DFA, got {type(dfa).__name__}")
    strings = _check_strings(dfa, strings)
    B, T = strings.shape
    states = np.empty((B, T), dtype=np.int64)
    q = np.full(B, dfa.start)  # (B,)
    for t in range(T):
        q = dfa.delta[q, strings[:, t]]
        states[:, t] = q
    return states


def accepts(dfa: DFA, strings) -> np.ndarray:
    """Whether each prefix is accepted: bool array (B, T)."""
    return np.isin(run(dfa, strings), dfa.accepting)


def one_hot(strings, n_symbols: int, dtype=np.float64) -> np.ndarray:
    """Symbols (B, T) to the SRN's input layout (T, B, n_symbols)."""
    strings = np.asarray(strings)
    if strings.ndim != 2 or not np.issubdtype(strings.dtype, np.integer):
        raise ValueError(
            f"strings must be an int array (B, T), got {strings.dtype} {strings.shape}"
        )
    if strings.size and (strings.min() < 0 or strings.max() >= n_symbols):
        raise ValueError(f"symbols must be in 0..{n_symbols - 1}")
    return np.eye(n_symbols, dtype=dtype)[strings.T]  # (T, B, n_symbols)


def pair_index(q: int, a: int, n_symbols: int) -> int:
    """The hidden unit of the pair (q, a); the start unit comes after all pairs."""
    return q * n_symbols + a


def srn_params(dfa: DFA) -> tuple[dict, np.ndarray]:
    """Hand-set SRN weights that run ``dfa`` exactly (see the module docstring).

    Returns:
        (params, h0): params with "W" (H, S), "U" (H, H), "b" (H,), "V" (1, H), "c" (1,),
        where S = n_symbols and H = n_states * n_symbols + 1; h0 (H,) is the start unit.
        "V" and "c" are the linear readout, used by :func:`srn_accepts`.
    """
    if not isinstance(dfa, DFA):
        raise ValueError(f"dfa must be a DFA, got {type(dfa).__name__}")
    Q, S = dfa.n_states, dfa.n_symbols
    H = Q * S + 1
    start = H - 1
    W = np.zeros((H, S))
    U = np.zeros((H, H))
    V = np.zeros((1, H))
    for q_next in range(Q):
        for a_next in range(S):
            row = pair_index(q_next, a_next, S)
            W[row, a_next] = 1.0
            for q in range(Q):
                for a in range(S):
                    if dfa.delta[q, a] == q_next:
                        U[row, pair_index(q, a, S)] = 1.0
            if q_next == dfa.start:
                U[row, start] = 1.0
    for q in range(Q):
        for a in range(S):
            V[0, pair_index(q, a, S)] = float(dfa.delta[q, a] in dfa.accepting)
    h0 = np.zeros(H)
    h0[start] = 1.0
    params = {"W": W, "U": U, "b": -np.ones(H), "V": V, "c": np.zeros(1)}
    return params, h0


def srn_accepts(dfa: DFA, strings, params: dict | None = None, h0=None) -> np.ndarray:
    """Run the hand-set SRN (with ``rnnbook.scratch.srn``) and read out acceptance.

    Args:
        dfa: the automaton; its :func:`srn_params` are used unless ``params`` is given.
        strings: int array (B, T).
        params, h0: weights and start state as returned by :func:`srn_params`.

    Returns:
        float array (B, T): the readout yhat_t, 1.0 where the prefix is accepted, else 0.0.
    """
    if params is None:
        params, h0 = srn_params(dfa)
    strings = _check_strings(dfa, strings)
    B = strings.shape[0]
    x = one_hot(strings, dfa.n_symbols)  # (T, B, S)
    cell = {k: params[k] for k in ("W", "U", "b")}
    h0_batch = np.tile(h0, (B, 1))  # (B, H)
    # (6.5)  h_t = relu(U h_{t-1} + W x_t + b)
    hs, _ = srn.forward(x, h0_batch, cell, activation="relu")  # (T, B, H)
    # yhat_t = V h_t + c
    yhat = hs @ params["V"].T + params["c"]  # (T, B, 1)
    return yhat[..., 0].T  # (B, T)
