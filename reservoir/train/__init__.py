"""Training: the readout offline (ridge regression, clamped minimum-norm) or online (FORCE,
recursive least squares), and the whole network by backpropagation through time."""

from .._deprecation import resolve_alias
from ._bptt import BPTTResult, bptt, loss_and_gradients, project_dale
from ._clamped import train_fixed_point_network
from ._force import ForceResult, force
from ._ridge import RidgeResult, fit_ridge, ridge_readout, ridge_regression

__all__ = ["BPTTResult", "bptt", "loss_and_gradients", "project_dale", "train_fixed_point_network", "ForceResult", "force", "RidgeResult", "fit_ridge", "ridge_readout", "ridge_regression"]

#: Names that moved out of the training package (deprecated here for one release).
_MOVED = {"jarne_network": ("reservoir.network", "jarne_network")}


def __getattr__(name):
    return resolve_alias(__name__, name, _MOVED)
