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


# ---- beyond finite automata: a stack in the digits of one number ----------------------
#
# Siegelmann and Sontag (1995) store a binary stack b_1 b_2 ... b_n (b_1 on top) in the
# base-4 digits of one rational number in [0, 1),
#
#     q = sum_i (2 b_i + 1) / 4^i,        the empty stack is q = 0,
#
# so that its operations are affine maps followed by the saturated-linear function
# sigma(a) = min(max(a, 0), 1):
#
#     top(q)      = sigma(4 q - 2)              (q in [3/4, 1) when b_1 = 1, [1/4, 1/2) when 0)
#     nonempty(q) = sigma(4 q)
#     push b:  q -> q / 4 + (2 b + 1) / 4
#     pop:     q -> 4 q - (2 top(q) + 1)
#
# An SRN with six saturated-linear units runs these operations, one per step, on the
# input one-hot operation x_t: one unit per operation, each computing its candidate next
# q and gated off (sigma of something <= 0) unless its operation is the one read; pop,
# whose result depends on the top bit, takes three units (A + B - C below). The stack
# read from the state is the linear readout q_t = v . h_t, and the new units read only
# q_{t-1} = v . h_{t-1}: U = alpha v^T is rank one.
#
#     unit    pre-activation (q = v . h_{t-1}, x one-hot op, M = 4)   value when its op is read
#     push 0  q/4 + 1/4 + M x_push0 - M                             q/4 + 1/4
#     push 1  q/4 + 3/4 + M x_push1 - M                             q/4 + 3/4
#     no-op   q         + M x_noop  - M                             q
#     pop A   4q - 1    + M x_pop   - M                             4q - 1, or 1 when the top is 1
#     pop B   4q - 3    + M x_pop   - M                             4q - 3 if the top is 1, else 0
#     pop C   4q - 2    + M x_pop   - M                             top(q)
#     v = (1, 1, 1, 1, 1, -1):  after a pop  q' = A + B - C = 4q - 2 top(q) - 1.
#
# Every number is a rational with a power of 4 in the denominator: in exact arithmetic
# (fractions.Fraction) the network runs the stack for any number of operations. In float64
# the limit is the gate, not the 53-bit significand: a push unit adds q/4 to M = 4 before
# the bias brings the sum back below 1, and floats in [4, 8) are 2^-50 apart, so q keeps
# 50 bits, 25 symbols. Beyond that the bottom is lost (all ones: 26 pushes give q = 1.0
# exactly, outside [0, 1)); the first wrong top bit comes at about 25 to 27 symbols,
# depending on the bits.

#: The stack network's operations, by the index of their one-hot input.
STACK_OPS = ("push 0", "push 1", "pop", "no-op")
_STACK_GATE = 4  # M: gates a unit off by 4 >= the largest candidate (4q - 1 < 3) + 1


def _sat(a):
    """The saturated-linear function sigma(a) = min(max(a, 0), 1), exact on Fractions."""
    return min(max(a, 0), 1)


def stack_encode(bits, number=None):
    """The number q = sum_i (2 b_i + 1) / 4^i of a binary stack (``bits[0]`` on top).

    Args:
        bits: a sequence of 0s and 1s, top first; empty for the empty stack (q = 0).
        number: the number type: ``fractions.Fraction`` (default) or ``float``.

    Raises:
        ValueError: for a bit that is not 0 or 1, or another number type.
    """
    from fractions import Fraction

    number = Fraction if number is None else number
    _check_number_type(number)
    bits = list(bits)
    if any(isinstance(b, bool) or b not in (0, 1) for b in bits):
        raise ValueError(f"bits must be 0s and 1s, got {bits!r}"[:200])
    q = number(0)
    for b in reversed(bits):  # push from the bottom up
        q = q / 4 + number(2 * b + 1) / 4
    return q


def stack_decode(q, max_depth: int = 10_000) -> list:
    """The bits of the stack stored in ``q`` (top first); inverse of :func:`stack_encode`.

    Raises:
        ValueError: when ``q`` is not in [0, 1) or a digit is not 1 or 3 (q encodes no stack).
    """
    if not 0 <= q < 1:
        raise ValueError(f"a stack's number q must be in [0, 1), got {q!r}")
    bits = []
    while q != 0:
        digit = int(4 * q)  # the leading base-4 digit: 1 (bit 0) or 3 (bit 1)
        if digit not in (1, 3) or len(bits) >= max_depth:
            raise ValueError(f"q = {q!r} is not the number of a stack (digit {digit})")
        bits.append((digit - 1) // 2)
        q = 4 * q - digit
    return bits


def _check_number_type(number):
    from fractions import Fraction

    if number not in (Fraction, float):
        raise ValueError(f"number must be fractions.Fraction or float, got {number!r}")


def stack_srn_params(number=None) -> dict:
    """The weights of the six-unit stack network (see the table above), exact.

    Returns:
        dict with "U" (6, 6), "W" (6, 4), "b" (6,) and the readout "v" (6,) of q_t = v . h_t,
        as nested lists of ``number`` (``fractions.Fraction`` by default, or ``float``).
    """
    from fractions import Fraction

    number = Fraction if number is None else number
    _check_number_type(number)
    M = number(_STACK_GATE)
    v = [number(k) for k in (1, 1, 1, 1, 1, -1)]
    # (unit: scale alpha of q, offset, the op that opens it)
    units = [
        (number(1) / 4, number(1) / 4, 0),  # push 0
        (number(1) / 4, number(3) / 4, 1),  # push 1
        (number(1), number(0), 3),  # no-op
        (number(4), number(-1), 2),  # pop A
        (number(4), number(-3), 2),  # pop B
        (number(4), number(-2), 2),  # pop C = top(q)
    ]
    U = [[alpha * vj for vj in v] for alpha, _, _ in units]  # rank one: alpha v^T
    W = [[M if op == k else number(0) for k in range(len(STACK_OPS))] for _, _, op in units]
    b = [offset - M for _, offset, _ in units]
    return {"U": U, "W": W, "b": b, "v": v}


def stack_srn_run(ops, bits0=(), number=None):
    """Run the stack network on a list of operations; return q_t and the top after each.

    Args:
        ops: a sequence of operation indices into :data:`STACK_OPS` (0 push 0, 1 push 1,
            2 pop, 3 no-op).
        bits0: the stack at the start, top first.
        number: ``fractions.Fraction`` (default, exact) or ``float`` (binary floating point).

    Returns:
        (qs, tops): lists of length len(ops); qs[t] = v . h_t is the stack's number after
        operation t, tops[t] = sigma(4 q_t - 2) its top bit (0 for an empty stack).

    Raises:
        ValueError: for an unknown operation, a pop of the empty stack, bad bits0 or number.
    """
    from fractions import Fraction

    number = Fraction if number is None else number
    p = stack_srn_params(number)
    ops = list(ops)
    bad = [o for o in ops if isinstance(o, bool) or o not in range(len(STACK_OPS))]
    if bad:
        raise ValueError(f"ops must be indices 0..3 into {STACK_OPS}, got {bad[:5]!r}")
    # h_0: the starting number sits in the no-op unit, whose readout weight is 1
    h = [number(0)] * 6
    h[2] = stack_encode(bits0, number)
    # the depth is counted from the operations, not read from the network's q, so that
    # a run in float64 that has lost its stack goes on and shows what it reads
    depth = len(list(bits0))
    for t, op in enumerate(ops):
        depth += 1 if op < 2 else -1 if op == 2 else 0
        if depth < 0:
            raise ValueError(f"operation {t} pops the empty stack")
    qs, tops = [], []
    for op in ops:
        x = [number(int(k == op)) for k in range(len(STACK_OPS))]  # one-hot op
        # h_t = sigma(U h_{t-1} + W x_t + b)
        h = [
            _sat(
                sum(u * hj for u, hj in zip(U_row, h, strict=True))
                + sum(w * xk for w, xk in zip(W_row, x, strict=True))
                + b_i
            )
            for U_row, W_row, b_i in zip(p["U"], p["W"], p["b"], strict=True)
        ]
        q = sum(vj * hj for vj, hj in zip(p["v"], h, strict=True))  # q_t = v . h_t
        qs.append(q)
        tops.append(_sat(4 * q - 2))
    return qs, tops


def stack_emptiness_run(ops, bits0=(), number=None):
    """The stack network with a seventh unit, the emptiness test, run as part of it.

    The seventh unit reads the stack's number through the recurrence, as the other units
    do: its row of U is 4 v^T (so its pre-activation is 4 q_{t-1}), its row of W and its
    bias are 0, and no unit reads it back (its column of U is 0, its readout weight 0).
    Its value at step t is sigma(4 q_{t-1}): 1 when the stack held a symbol *before*
    operation t (q >= 1/4), 0 when it was empty (q = 0), which is what a finite control
    needs to know before it pops.

    Args:
        ops, bits0, number: as for :func:`stack_srn_run`.

    Returns:
        (qs, tops, nonempty): lists of length len(ops); qs and tops as for
        :func:`stack_srn_run` (read from the first six units, which the seventh does not
        change), nonempty[t] the seventh unit's value h_t[6] = sigma(4 q_{t-1}).

    Raises:
        ValueError: as for :func:`stack_srn_run`.
    """
    from fractions import Fraction

    number = Fraction if number is None else number
    qs, tops = stack_srn_run(ops, bits0, number)  # checks the arguments
    p = stack_srn_params(number)
    zero = number(0)
    U = [row + [zero] for row in p["U"]] + [[4 * vj for vj in p["v"]] + [zero]]  # (7, 7)
    W = p["W"] + [[zero] * len(STACK_OPS)]  # (7, 4)
    b = p["b"] + [zero]  # (7,)
    v = p["v"] + [zero]  # (7,)
    h = [zero] * 7
    h[2] = stack_encode(bits0, number)  # h_0 as in stack_srn_run
    own_qs, own_tops, nonempty = [], [], []
    for op in ops:
        x = [number(int(k == op)) for k in range(len(STACK_OPS))]  # one-hot op
        h = [
            _sat(
                sum(u * hj for u, hj in zip(U_row, h, strict=True))
                + sum(w * xk for w, xk in zip(W_row, x, strict=True))
                + b_i
            )
            for U_row, W_row, b_i in zip(U, W, b, strict=True)
        ]
        q = sum(vj * hj for vj, hj in zip(v, h, strict=True))  # q_t = v . h_t
        own_qs.append(q)
        own_tops.append(_sat(4 * q - 2))
        nonempty.append(h[6])
    if own_qs != qs or own_tops != tops:  # the seventh unit must leave the stack alone
        raise AssertionError("the emptiness unit changed the stack")  # pragma: no cover
    return own_qs, own_tops, nonempty
