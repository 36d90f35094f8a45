"""Analysis of (trained) networks: fixed points, linearisation, spectra, global stability
and readout geometry."""

from .fixed_points import FixedPoints, find_fixed_points
from .geometry import ReadoutGeometry, classify_solution, readout_geometry
from .global_stability import StabilityReport, lyapunov_exponent, stability_report
from .stability import Spectrum, jacobian, spectrum

__all__ = ["FixedPoints", "find_fixed_points", "ReadoutGeometry", "classify_solution",
           "readout_geometry", "StabilityReport", "lyapunov_exponent", "stability_report",
           "Spectrum", "jacobian", "spectrum"]
