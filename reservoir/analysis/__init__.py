"""Analysis of (trained) networks: linearisation and spectra (fixed points: in progress)."""

from .stability import Spectrum, jacobian, spectrum

__all__ = ["Spectrum", "jacobian", "spectrum"]
