"""Mean-field theory: Gaussian integrals, random-bulk facts, and the static theory of trained
feedback networks (Mastrogiuseppe & Ostojic 2019)."""

from .gaussian import gaussian_average, gaussian_expectation
from .mo2019 import (CLASS_NAMES, MeanFieldParams, MeanFieldSolution, PhaseDiagram,
                     mf_fixed_points, open_loop_variance, phase_diagram, readout_scale,
                     stability_matrix, stationary_variance)
from .predict import Prediction, predict
from .random_bulk import discrete_map_variance, scs_variance

__all__ = ["gaussian_average", "gaussian_expectation", "scs_variance", "discrete_map_variance",
           "MeanFieldParams", "MeanFieldSolution", "mf_fixed_points", "open_loop_variance",
           "readout_scale", "stationary_variance", "stability_matrix", "phase_diagram",
           "PhaseDiagram", "CLASS_NAMES", "predict", "Prediction"]
