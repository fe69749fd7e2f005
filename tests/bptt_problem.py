"""A random problem for the gradient tests of bptt, rtrl and hybrid: a cell, an output
layer, inputs and targets."""


def make_problem(rng, module, opts, T, B, D, H, O, loss, on):
    """(x (T, B, D), targets, params): the cell's parameters doubled (so that units leave
    the linear range), V (O, H) and c (O,) standard normal, targets for ``loss`` and ``on``.
    ``opts`` may hold ``activation``, which the forward pass takes but init does not need."""
    init_opts = {k: v for k, v in opts.items() if k != "activation"}
    p = {k: 2 * v for k, v in module.init_params(D, H, rng, **init_opts).items()}
    p["V"] = rng.standard_normal((O, H))
    p["c"] = rng.standard_normal(O)
    x = rng.standard_normal((T, B, D))
    shape = (T, B) if on == "every" else (B,)
    y = rng.integers(0, O, shape) if loss == "cross_entropy" else rng.standard_normal(shape + (O,))
    return x, y, p
