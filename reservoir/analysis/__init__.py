"""Analysis of (trained) networks: linearisation and spectra (fixed points: in progress)."""

from .fixed_points import FixedPoints, find_fixed_points
from .stability import Spectrum, jacobian, spectrum

__all__ = ["FixedPoints", "find_fixed_points", "Spectrum", "jacobian", "spectrum"]
