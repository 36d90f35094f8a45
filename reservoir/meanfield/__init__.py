"""Mean-field theory: Gaussian integrals, random-bulk facts, the static theory of trained
feedback networks (Mastrogiuseppe & Ostojic 2019) and the local output dynamics near trained
attractors (Rivkind & Barak 2017)."""

from .chaotic import (ChaoticClosedLoop, ChaoticSolution, chaos_threshold, chaotic_fixed_points,
                      chaotic_variances, energy_residual, nested_gaussian_average)
from .gaussian import gaussian_average, gaussian_expectation
from .mo2019 import (CLASS_NAMES, MeanFieldParams, MeanFieldSolution, PhaseDiagram,
                     mf_fixed_points, network_with_exact_overlaps, open_loop_variance,
                     phase_diagram, readout_scale,
                     stability_matrix, stationary_variance)
from .least_squares import (LSFixedPoints, LSTransfer, TargetState, bivariate_average,
                            bivariate_expectation, ls_direction, ls_direction_code,
                            ls_fixed_points, ls_overlaps, ls_target_state, ls_transfer,
                            uncorrelated_ls_params)
from .predict import Prediction, predict
from .rb2017 import (Attractor, MultiTarget, SingleTarget, edge_of_chaos, multi_target,
                     network_closed_loop_gain, network_open_loop, network_outlier,
                     single_target, train_fixed_point_network)
from .random_bulk import discrete_map_variance, scs_variance

__all__ = ["gaussian_average", "gaussian_expectation", "scs_variance", "discrete_map_variance",
           "MeanFieldParams", "MeanFieldSolution", "mf_fixed_points", "open_loop_variance",
           "readout_scale", "stationary_variance", "stability_matrix", "phase_diagram",
           "PhaseDiagram", "CLASS_NAMES", "predict", "Prediction", "single_target", "multi_target",
           "edge_of_chaos", "SingleTarget", "MultiTarget", "Attractor",
           "network_with_exact_overlaps", "train_fixed_point_network",
           "network_open_loop", "network_closed_loop_gain", "network_outlier",
           "LSFixedPoints", "LSTransfer", "TargetState", "bivariate_average",
           "bivariate_expectation", "ls_direction", "ls_direction_code", "ls_fixed_points",
           "ls_overlaps", "ls_target_state", "ls_transfer", "uncorrelated_ls_params",
           "ChaoticSolution", "ChaoticClosedLoop", "chaos_threshold", "chaotic_variances",
           "chaotic_fixed_points", "energy_residual", "nested_gaussian_average"]
