"""The proof object every derivation returns, and the exact checks that decide it.

A :class:`Proof` holds an equation of the book (or of a source) as two SymPy
objects, ``lhs`` and ``rhs``, and the verdict of a computation on them. The
verdict is never typed in: :func:`decide` computes it.

How an identity is decided (``Proof.method`` says which step decided it):

1. ``expand``: every entry of ``lhs - rhs`` expands to exactly 0, first with
   each application ``f(a)``, ``f'(a)``, ``l(h)`` replaced by its own symbol
   (fast), else with ``expand`` reaching into the arguments. With the
   activation ``f`` and the loss undefined SymPy functions, this proves the
   identity for every differentiable ``f`` and loss at the stated sizes.
2. ``cancel``: as 1, with each ``exp(a)`` also its own symbol (``exp(-a)`` and
   ``exp(2a)`` its powers); every entry of ``lhs - rhs``, put over one
   denominator, has numerator 0 (used where softmax makes entries rational).
3. ``counterexample``: (tried before a slow ``expand`` that reaches into the
   arguments of ``f``) the undefined functions are replaced by concrete
   polynomials (``f(z) = z + z^2/3``, a quadratic loss), the symbols by random
   rationals, and some entry of ``lhs - rhs`` is an exact nonzero rational.
   This disproves the identity: a formula meant for every ``f`` fails for one.
   Where ``exp`` enters (softmax) the value is not rational; it is evaluated
   to 50 significant digits and must exceed 1e-40 in size (a numerical, not
   an exact, refutation; ``method`` says so). ``method`` names only what was
   substituted: f, a loss, the symbols.

Every check builds its two sides independently: one side is the formula as the
book or a source writes it, the other is computed another way (SymPy's own
derivative of the loss, the step-by-step recurrence, a sum over paths), never a
rearrangement of the first. ``tests/test_symbolic_proofs.py`` shows for each
check that a planted error makes it fail.

If neither a proof nor a counterexample is found, the verdict is ``False`` and
``method`` says ``undecided``: the package never claims what it did not show.
"""

from __future__ import annotations

import functools
import random
from dataclasses import dataclass, field

import sympy as sp

#: The activation, an undefined function: proofs hold for every differentiable f.
f = sp.Function("f")
#: Its derivative, named, so that f'(z_k) appears as one atom in both sides.
fprime = sp.Function("f'")


@dataclass(frozen=True)
class Proof:
    """One equation and the exact check of it.

    Attributes:
        name: short identifier, e.g. ``"bptt.error_recursion"``.
        statement: the equation in LaTeX, as the book displays it.
        lhs, rhs: the two sides as SymPy objects (immutable matrices or scalars).
        holds: the computed verdict.
        method: how the verdict was reached (see the module docstring).
        source: where the equation comes from, e.g. ``"003 (6.18), line 209"``.
        note: anything a reader must know (conditions, what was corrected).
    """

    name: str
    statement: str
    lhs: object = field(repr=False)
    rhs: object = field(repr=False)
    holds: bool
    method: str
    source: str = ""
    note: str = ""

    def latex(self) -> str:
        """The statement with its verdict, for ``IPython.display.Math``."""
        mark = r"\quad\checkmark" if self.holds else r"\quad\text{(does not hold)}"
        return self.statement + mark

    def _repr_latex_(self) -> str:
        return "$$" + self.latex() + "$$"


def cached(fn):
    """``functools.lru_cache`` for proof builders; unhashable arguments raise ``ValueError``."""
    inner = functools.lru_cache(maxsize=32)(fn)

    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        try:
            hash((args, tuple(sorted(kwargs.items()))))
        except TypeError as err:
            raise ValueError(
                f"{fn.__name__}: expected ints and strings as arguments, got {args!r} {kwargs!r}"
            ) from err
        return inner(*args, **kwargs)

    wrapper.cache_clear = inner.cache_clear
    return wrapper


def check_size(name: str, value, minimum: int = 1) -> int:
    """Return ``value`` if it is an int >= ``minimum``, else raise ``ValueError``."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(
            f"{name}: expected an int >= {minimum}, got {type(value).__name__} {value!r}"
        )
    if value < minimum:
        raise ValueError(f"{name}: expected an int >= {minimum}, got {value}")
    return value


def check_choice(name: str, value, choices: tuple[str, ...]) -> str:
    """Return ``value`` if it is one of ``choices``, else raise ``ValueError``."""
    if value not in choices:
        raise ValueError(f"{name}: expected one of {choices}, got {value!r}")
    return value


def vector(name: str, size: int) -> sp.ImmutableMatrix:
    """A column of symbols ``name_1 .. name_size``, shape (size, 1)."""
    return sp.ImmutableMatrix(sp.symbols(f"{name}_1:{size + 1}"))


def matrix(name: str, rows: int, cols: int) -> sp.ImmutableMatrix:
    """A (rows, cols) matrix of symbols ``name_{ij}`` (1-based)."""
    return sp.ImmutableMatrix(rows, cols, lambda i, j: sp.Symbol(f"{name}_{i + 1}{j + 1}"))


def unit(size: int, i: int, value) -> sp.ImmutableMatrix:
    """``I_i(value)`` of (6.15): the (size, 1) column with ``value`` in row i (0-based), else 0."""
    return sp.ImmutableMatrix(size, 1, lambda r, _: value if r == i else 0)


def apply(fn, v: sp.MatrixBase) -> sp.ImmutableMatrix:
    """``fn`` applied entrywise to ``v``."""
    return sp.ImmutableMatrix(v.applyfunc(fn))


def diag_of(v: sp.MatrixBase) -> sp.ImmutableMatrix:
    """``diag(v)`` for a column ``v`` of shape (n, 1): shape (n, n)."""
    return sp.ImmutableMatrix(sp.diag(*list(v)))


def gradient(scalar, params: sp.MatrixBase) -> sp.ImmutableMatrix:
    """SymPy's derivative of ``scalar`` with respect to each entry of ``params`` (same shape)."""
    return sp.ImmutableMatrix(
        params.shape[0],
        params.shape[1],
        lambda i, j: name_derivatives(sp.diff(scalar, params[i, j])),
    )


# --- naming derivatives of undefined functions --------------------------------------------------

_DERIVATIVE_NAMES: dict[tuple[str, int], sp.FunctionClass] = {}


def derivative_function(fn: sp.FunctionClass, index: int, nargs: int) -> sp.FunctionClass:
    """The undefined function standing for the partial of ``fn`` in argument ``index``."""
    if fn == f:
        return fprime
    key = (fn.__name__, index)
    if key not in _DERIVATIVE_NAMES:
        _DERIVATIVE_NAMES[key] = sp.Function(rf"\partial_{{{index + 1}}}{fn.__name__}")
    return _DERIVATIVE_NAMES[key]


def _partial(fn_call, wrt):
    """``d fn_call / d wrt`` as a named function when ``wrt`` is one argument of ``fn_call``."""
    args = fn_call.args
    if not isinstance(fn_call.func, sp.core.function.UndefinedFunction) or args.count(wrt) != 1:
        return None
    return derivative_function(fn_call.func, args.index(wrt), len(args))(*args)


def name_derivatives(expr):
    """Replace SymPy's ``Subs(Derivative(f(xi), xi), xi, a)`` by ``f'(a)`` (and the like).

    After this, a derivative of an undefined function is one atom whose
    arguments are ordinary expressions, so that ``expand`` can compare sides.
    """
    if not isinstance(expr, sp.Basic) or expr.is_Atom:
        return expr
    if isinstance(expr, sp.Subs) and isinstance(expr.expr, sp.Derivative):
        d = expr.expr
        if len(d.variable_count) == 1 and d.variable_count[0][1] == 1:
            named = _partial(d.expr, d.variable_count[0][0])
            if named is not None:
                points = [name_derivatives(p) for p in expr.point]
                mapping = dict(zip(expr.variables, points, strict=True))
                return named.xreplace(mapping)
    if isinstance(expr, sp.Derivative):
        if len(expr.variable_count) == 1 and expr.variable_count[0][1] == 1:
            named = _partial(expr.expr, expr.variable_count[0][0])
            if named is not None:
                return named.func(*[name_derivatives(a) for a in named.args])
    return expr.func(*[name_derivatives(a) for a in expr.args])


# --- deciding an identity ---------------------------------------------------------------------


def _entries(obj) -> list:
    if isinstance(obj, sp.MatrixBase):
        return list(obj)
    return [obj]


def _concrete(expr):
    """``expr`` with every undefined function replaced by a concrete polynomial.

    ``f(z) = z + z^2/3`` and ``f'(z) = 1 + 2z/3``; a loss ``l(h_1..h_n)`` becomes
    ``sum_i (i h_i + h_i^2/2)`` with partials ``i + h_i`` (consistent with each other).
    """
    z = sp.Dummy("z")
    expr = expr.replace(fprime, sp.Lambda(z, 1 + 2 * z / 3))
    expr = expr.replace(f, sp.Lambda(z, z + z**2 / 3))
    for fn in {a.func for a in expr.atoms(sp.core.function.AppliedUndef)}:
        name = fn.__name__
        if name.startswith(r"\partial_{"):
            index = int(name[len(r"\partial_{") : name.index("}")])
            expr = expr.replace(fn, lambda *args, i=index: i + args[i - 1])
        else:
            expr = expr.replace(
                fn, lambda *args: sum((k + 1) * a + a**2 / 2 for k, a in enumerate(args))
            )
    return expr


def _counterexample(diffs: list, seed: int = 0, tries: int = 3):
    """A nonzero value of some entry at random rational points, or ``None``.

    Returns ``(value, exact)``: ``exact`` is False when the entry contains
    ``exp`` or ``log`` and the value was evaluated to 50 significant digits.
    """
    rng = random.Random(seed)
    concrete = [_concrete(d) for d in diffs]
    symbols = sorted(set().union(*[c.free_symbols for c in concrete]), key=str)
    for _ in range(tries):
        point = {s: sp.Rational(rng.randint(-9, 9), rng.randint(1, 7)) for s in symbols}
        for c in concrete:
            value = c.xreplace(point)
            if value.is_Rational:
                if value != 0:
                    return value, True
            else:
                approx = value.evalf(50)
                if abs(approx) > sp.Float("1e-40", 50):
                    return approx.evalf(8), False
    return None


def _collect(exprs: list, cls) -> set:
    """Every subexpression of type ``cls`` in ``exprs``, visiting each distinct subtree once.

    (``Basic.atoms`` walks repeated subtrees again each time they occur.)
    """
    found, seen = set(), set()
    stack = [sp.sympify(e) for e in exprs]
    while stack:
        e = stack.pop()
        if e in seen:
            continue
        seen.add(e)
        if isinstance(e, cls):
            found.add(e)
        stack.extend(a for a in e.args if isinstance(a, sp.Basic))
    return found


def _function_symbols(exprs: list) -> dict:
    """Map each application of an undefined function (``f(a)``, ``f'(a)``, ...) to a symbol.

    Outer applications are replaced whole (``xreplace`` works top-down), so
    equal applications on both sides become the same symbol. An identity in
    these free symbols stays true when each is given back its value.
    """
    atoms = _collect(exprs, sp.core.function.AppliedUndef)
    # the order of the symbols does not matter; sorting large arguments would be slow
    return {a: sp.Dummy(f"A{i}") for i, a in enumerate(atoms)}


def _exp_symbols(exprs: list) -> dict:
    """Map each ``exp(a)`` in ``exprs`` to a positive symbol ``E`` (and ``exp(-a)`` to ``1/E``).

    An identity between rational functions of these symbols stays true when
    each symbol is given back its value ``exp(a)``, so a zero numerator after
    this substitution proves the identity.
    """
    atoms = _collect(exprs, sp.exp)
    keys: dict = {}
    mapping = {}
    for atom in atoms:
        arg = sp.expand(atom.args[0])
        # exp(n a) = E_a^n for an integer n (the sign included)
        n, key = arg.primitive() if arg.is_Add else arg.as_coeff_Mul()
        if key.could_extract_minus_sign():
            n, key = -n, -key
        if not n.is_Integer:
            n, key = 1, arg
        if key not in keys:
            keys[key] = sp.Symbol(f"E_{len(keys) + 1}", positive=True)
        mapping[atom] = keys[key] ** n
    return mapping


def _substitutions(diffs: list) -> str:
    """What a counterexample put in place of the undefined functions and the symbols."""
    applied = {a for d in diffs for a in _collect([d], sp.core.function.AppliedUndef)}
    functions = {a.func for a in applied}
    parts = []
    if functions & {f, fprime}:
        parts.append("f(z) = z + z^2/3")
    # what _concrete puts in place of the other functions: one of one argument (a gate's or
    # an activation's function) becomes z + z^2/2, one of several (a loss) a quadratic
    others = {a for a in applied if a.func not in (f, fprime)}
    others = {a for a in others if not a.func.__name__.startswith(r"\partial_{")}
    for name in sorted({a.func.__name__ for a in others if len(a.args) == 1}):
        parts.append(f"{name}(z) = z + z^2/2")
    if any(len(a.args) != 1 for a in others) or (functions - {f, fprime} and not others):
        parts.append("a quadratic loss")
    if any(d.free_symbols for d in diffs):
        parts.append("random rationals for the symbols")
    if not parts:
        return "at the stated exact values"
    return "with " + (", ".join(parts[:-1]) + " and " + parts[-1] if len(parts) > 1 else parts[0])


def decide(lhs, rhs, *, rational: bool = False) -> tuple[bool, str]:
    """Decide ``lhs == rhs`` exactly, entry by entry. Returns ``(holds, method)``.

    Args:
        lhs, rhs: SymPy scalars or matrices of the same shape.
        rational: put each difference over one denominator first (softmax).
    """
    if isinstance(lhs, sp.MatrixBase) != isinstance(rhs, sp.MatrixBase):
        raise ValueError(
            f"lhs and rhs: expected both matrices or both scalars, got {type(lhs)} and {type(rhs)}"
        )
    if isinstance(lhs, sp.MatrixBase) and lhs.shape != rhs.shape:
        return False, f"shapes differ: {lhs.shape} vs {rhs.shape}"
    diffs = [a - b for a, b in zip(_entries(lhs), _entries(rhs), strict=True)]
    # Fast path: every application of an undefined function becomes its own symbol.
    atoms = _function_symbols(diffs)
    fast = [d.xreplace(atoms) for d in diffs]
    if all(sp.expand(d) == 0 for d in fast):
        return True, (
            f"expand: with each f(.) as its own symbol, all {len(diffs)} entries of lhs - rhs "
            "expand to 0"
        )
    if rational:
        exps = _exp_symbols(fast)
        nums = [sp.expand(sp.fraction(sp.together(d.xreplace(exps)))[0]) for d in fast]
        if all(n == 0 for n in nums):
            return True, (
                f"cancel: with each exp(.) and each f(.) as its own symbol, all {len(diffs)} "
                "entries of lhs - rhs have numerator 0"
            )
    # Look for a counterexample among the entries the fast path did not cancel.
    found = _counterexample([d for d, e in zip(diffs, fast, strict=True) if sp.expand(e) != 0])
    if found is not None:
        value, exact = found
        where, value = _substitutions(diffs), sp.N(value, 6)
        if exact:
            return (
                False,
                f"counterexample: {where}, an entry of lhs - rhs is the nonzero rational {value}",
            )
        return False, (
            f"counterexample, numerical (50 digits, not exact): {where}, an entry of "
            f"lhs - rhs evaluates to {value}"
        )
    # Slow path: expand reaching into the arguments of f (equal arguments written differently).
    if all(sp.expand(d) == 0 for d in diffs):
        return True, f"expand: all {len(diffs)} entries of lhs - rhs expand to 0"
    return False, "undecided: lhs - rhs does not expand to 0 and no counterexample was found"


def prove(
    name: str, statement: str, lhs, rhs, *, source: str = "", note: str = "", rational: bool = False
) -> Proof:
    """Build a :class:`Proof` of ``lhs == rhs`` with a computed verdict."""
    if isinstance(lhs, sp.MatrixBase):
        lhs, rhs = sp.ImmutableMatrix(lhs), sp.ImmutableMatrix(rhs)
    holds, method = decide(lhs, rhs, rational=rational)
    return Proof(name, statement, lhs, rhs, holds, method, source, note)
