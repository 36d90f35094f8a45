"""Deprecated module: now :mod:`reservoir.analysis.linearisation` (Jacobians and spectra).

Kept for one release; every name is looked up in :mod:`reservoir.analysis.linearisation`.
"""

from .._deprecation import forward_module, warn_module_moved

warn_module_moved(__name__, "reservoir.analysis.linearisation")
__getattr__ = forward_module(__name__, "reservoir.analysis.linearisation", {})
