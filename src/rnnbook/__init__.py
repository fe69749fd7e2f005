"""rnnbook: the code every chapter of the book imports.

Subpackages are imported on demand (``import rnnbook.scratch.srn``); importing
``rnnbook`` itself loads nothing heavy and changes no global state.
"""

from rnnbook._seed import seed_everything

__all__ = ["seed_everything"]
__version__ = "0.1.0"
