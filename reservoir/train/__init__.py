"""Readout training: offline ridge regression and online FORCE (recursive least squares)."""

from .force import ForceResult, force
from .ridge import RidgeResult, fit_ridge, ridge_readout, ridge_regression

__all__ = ["ForceResult", "force", "RidgeResult", "fit_ridge", "ridge_readout", "ridge_regression"]
