"""Readout training: offline ridge regression and online FORCE (recursive least squares)."""

from .bptt import BPTTResult, bptt, jarne_network, loss_and_gradients
from .force import ForceResult, force
from .ridge import RidgeResult, fit_ridge, ridge_readout, ridge_regression

__all__ = ["BPTTResult", "bptt", "jarne_network", "loss_and_gradients", "ForceResult", "force", "RidgeResult", "fit_ridge", "ridge_readout", "ridge_regression"]
