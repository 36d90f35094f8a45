"""Deprecated module (Rivkind & Barak 2017): now :mod:`reservoir.meanfield.output_dynamics`.

Kept for one release; every name is looked up in
:mod:`reservoir.meanfield.output_dynamics`, and the finite-network functions that lived
here are in :mod:`reservoir.train` and :mod:`reservoir.analysis`.
"""

from .._deprecation import forward_module, warn_module_moved

warn_module_moved(__name__, "reservoir.meanfield.output_dynamics")
__getattr__ = forward_module(__name__, "reservoir.meanfield.output_dynamics", {
    "train_fixed_point_network": ("reservoir.train", "train_fixed_point_network"),
    "network_open_loop": ("reservoir.analysis", "network_open_loop"),
    "network_closed_loop_gain": ("reservoir.analysis", "network_closed_loop_gain"),
    "network_outlier": ("reservoir.analysis", "network_pole")})
