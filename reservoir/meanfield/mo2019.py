"""Deprecated module (Mastrogiuseppe & Ostojic 2019): now :mod:`reservoir.meanfield.static`.

Kept for one release; every name is looked up in :mod:`reservoir.meanfield.static`, and
``network_with_exact_overlaps`` is :func:`reservoir.exact_overlap_network`.
"""

from .._deprecation import forward_module, warn_module_moved

warn_module_moved(__name__, "reservoir.meanfield.static")
__getattr__ = forward_module(__name__, "reservoir.meanfield.static", {
    "network_with_exact_overlaps": ("reservoir.network", "exact_overlap_network")})
