"""Whether the code runs inside a Jupyter kernel (JupyterLab, nbval, nbclient) or a script."""


def in_notebook() -> bool:
    """True inside a Jupyter kernel, False in a plain Python process (a script, a test)."""
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")
