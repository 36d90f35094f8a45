"""reservoir: trained recurrent rate networks with readout feedback.

Model (continuous time, forward Euler with ``alpha = dt / tau``)::

    tau dx/dt = -x + J phi(x) + W_in u + W_fb f + b,     z = W_out phi(x)
    x[t+1] = (1 - alpha) x[t] + alpha (J phi(x[t]) + W_in u[t] + W_fb f[t] + b)

with ``f[t] = z[t]`` (closed loop), the target ``y[t]`` (teacher forcing) or 0 (open loop).
"""

from . import tasks
from . import meanfield, plotting
from .analysis import (FixedPoints, ReadoutGeometry, Spectrum, StabilityReport,
                       find_fixed_points, jacobian, lyapunov_exponent, readout_geometry,
                       spectrum, stability_report)
from ._version import __version__
from .compare import Comparison, compare_training
from .errors import SimulationDivergedError
from .io import load, save
from .metrics import mae, mse, nmse
from .network import (Network, dale_network, exact_overlap_network, jarne_network,
                      random_network)
from .nonlinearities import Nonlinearity, get_nonlinearity
from ._simulate import Trajectory, simulate
from ._sweep import SweepResult, sweep
from .tasks import Task
from .theory_check import Prediction, predict
from .train import (BPTTResult, ForceResult, RidgeResult, bptt, fit_ridge, force,
                    ridge_regression)

__all__ = [
    "__version__", "Network", "random_network", "exact_overlap_network", "Nonlinearity", "get_nonlinearity",
    "Trajectory", "simulate", "SimulationDivergedError", "Task", "tasks",
    "fit_ridge", "ridge_regression", "RidgeResult", "bptt", "BPTTResult", "jarne_network", "dale_network", "force", "ForceResult", "save", "load", "nmse", "mse", "mae",
    "jacobian", "spectrum", "Spectrum", "find_fixed_points", "FixedPoints",
    "stability_report", "StabilityReport", "lyapunov_exponent", "readout_geometry",
    "ReadoutGeometry", "plotting", "meanfield", "predict", "Prediction", "compare_training", "Comparison", "sweep", "SweepResult",
]
