"""Analysis of (trained) networks: fixed points, linearisation, spectra, global stability
readout geometry and the exact linear response of finite networks."""

from .._deprecation import resolve_alias
from .fixed_points import FixedPoints, find_fixed_points
from .certify import Certificate, certify_fixed_points
from .connections import SaddleConnections, saddle_connections
from .geometry import ReadoutGeometry, classify_solution, readout_geometry
from .global_stability import StabilityReport, lyapunov_exponent, stability_report
from .linearisation import Spectrum, jacobian, spectrum
from .transfer import network_closed_loop_gain, network_open_loop, network_pole

__all__ = ["FixedPoints", "find_fixed_points", "ReadoutGeometry", "classify_solution",
           "readout_geometry", "StabilityReport", "lyapunov_exponent", "stability_report",
           "Spectrum", "jacobian", "spectrum", "network_open_loop",
           "network_closed_loop_gain", "network_pole", "SaddleConnections",
           "saddle_connections", "Certificate", "certify_fixed_points"]

#: Deprecated names (one release): old name -> (module, new name).
_ALIASES = {"network_outlier": ("reservoir.analysis.transfer", "network_pole")}


def __getattr__(name):
    return resolve_alias(__name__, name, _ALIASES)
