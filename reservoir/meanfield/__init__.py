"""Mean-field theory (Mastrogiuseppe & Ostojic 2019; Rivkind & Barak 2017): parameters in, numbers out.

* :mod:`~reservoir.meanfield.gaussian`: one- and two-dimensional Gaussian averages (the
  nonlinearity and its derivatives come from :mod:`reservoir.nonlinearities`);
* :mod:`~reservoir.meanfield.random_bulk`: chaos in random networks (Sompolinsky, Crisanti
  & Sommers 1988);
* :mod:`~reservoir.meanfield.static`: the static theory of trained feedback networks
  (Mastrogiuseppe & Ostojic 2019);
* :mod:`~reservoir.meanfield.least_squares`: the exact mean field of least-squares trained
  readouts (beyond Mastrogiuseppe & Ostojic 2019);
* :mod:`~reservoir.meanfield.chaotic`: the dynamic mean field of chaotic states with static
  input and feedback (Mastrogiuseppe & Ostojic 2019, section on chaos);
* :mod:`~reservoir.meanfield.output_dynamics`: the output dynamics near trained attractors
  (Rivkind & Barak 2017).

No module here builds, trains, simulates or analyses a finite network; the comparison of a
network with the theory is :func:`reservoir.predict` (:mod:`reservoir.theory_check`).
"""

from .._deprecation import resolve_alias
from .chaotic import (ChaoticClosedLoop, ChaoticSolution, chaos_threshold, chaotic_fixed_points,
                      chaotic_variances, energy_residual, nested_gaussian_average)
from .gaussian import (bivariate_average, bivariate_expectation, gaussian_average,
                       gaussian_expectation)
from .least_squares import (LSFixedPoints, LSTransfer, TargetState, ls_direction,
                            ls_direction_code, ls_fixed_points, ls_overlaps, ls_target_state,
                            ls_transfer, uncorrelated_ls_params)
from .output_dynamics import (Attractor, MultiTarget, SingleTarget, edge_of_chaos,
                              multi_target, single_target)
from .random_bulk import discrete_map_variance, scs_variance
from .static import (CLASS_NAMES, MeanFieldParams, MeanFieldSolution, PhaseDiagram,
                     mf_fixed_points, open_loop_variance, phase_diagram, readout_scale,
                     stability_matrix, stationary_variance)

__all__ = ["gaussian_average", "gaussian_expectation", "scs_variance", "discrete_map_variance",
           "MeanFieldParams", "MeanFieldSolution", "mf_fixed_points", "open_loop_variance",
           "readout_scale", "stationary_variance", "stability_matrix", "phase_diagram",
           "PhaseDiagram", "CLASS_NAMES", "single_target", "multi_target",
           "edge_of_chaos", "SingleTarget", "MultiTarget", "Attractor",
           "LSFixedPoints", "LSTransfer", "TargetState", "bivariate_average",
           "bivariate_expectation", "ls_direction", "ls_direction_code", "ls_fixed_points",
           "ls_overlaps", "ls_target_state", "ls_transfer", "uncorrelated_ls_params",
           "ChaoticSolution", "ChaoticClosedLoop", "chaos_threshold", "chaotic_variances",
           "chaotic_fixed_points", "energy_residual", "nested_gaussian_average"]

#: Names that moved out of the theory package (deprecated here for one release).
_MOVED = {
    "predict": ("reservoir.theory_check", "predict"),
    "Prediction": ("reservoir.theory_check", "Prediction"),
    "network_with_exact_overlaps": ("reservoir.network", "exact_overlap_network"),
    "train_fixed_point_network": ("reservoir.train", "train_fixed_point_network"),
    "network_open_loop": ("reservoir.analysis", "network_open_loop"),
    "network_closed_loop_gain": ("reservoir.analysis", "network_closed_loop_gain"),
    "network_outlier": ("reservoir.analysis", "network_pole"),
}


def __getattr__(name):
    return resolve_alias(__name__, name, _MOVED)
