"""Save and load networks as ``.npz`` archives with JSON metadata (no pickle)."""

from __future__ import annotations

import json
import os

import numpy as np
import scipy.sparse as sp

from ._version import __version__
from .network import Network

FORMAT = "reservoir.network"
FORMAT_VERSION = 1


def save(net: Network, path, *, metadata: dict | None = None) -> None:
    """Write ``net`` to ``path`` (an ``.npz`` file; the suffix is not added for you).

    The archive holds the arrays (``J`` dense or as CSR ``J_data``/``J_indices``/
    ``J_indptr``) and a JSON string with the nonlinearity name, ``tau``, ``dt``, the
    package version, ``net.meta`` (seed and construction arguments) and ``metadata``.
    Loading gives back a network equal to ``net`` bit for bit.

    Parameters
    ----------
    net : Network
        The network to save.
    path : str or path-like
        File to write (overwritten if it exists).
    metadata : dict, optional
        JSON-serialisable extra information stored with the network.

    Returns
    -------
    None
        The file is written.

    Raises
    ------
    TypeError
        If ``net`` is not a :class:`~reservoir.Network`, ``metadata`` is not a dict, or
        ``net.meta`` or ``metadata`` is not JSON-serialisable.
    OSError
        If the file cannot be written.
    """
    if not isinstance(net, Network):
        raise TypeError(f"net must be a Network, got {type(net).__name__}")
    if metadata is not None and not isinstance(metadata, dict):
        raise TypeError(f"metadata must be a dict, got {type(metadata).__name__}")
    header = {"format": FORMAT, "format_version": FORMAT_VERSION, "version": __version__,
              "phi": net.phi, "tau": net.tau, "dt": net.dt, "sparse": net.is_sparse,
              "N": net.N, "meta": net.meta, "metadata": metadata or {}}
    try:
        text = json.dumps(header)
    except TypeError as exc:
        raise TypeError(f"net.meta and metadata must be JSON-serialisable: {exc}") from exc
    arrays = {"W_in": net.W_in, "W_fb": net.W_fb, "W_out": net.W_out, "b": net.b}
    if net.is_sparse:
        arrays.update(J_data=net.J.data, J_indices=net.J.indices, J_indptr=net.J.indptr)
    else:
        arrays["J"] = net.J
    with open(os.fspath(path), "wb") as fh:
        np.savez(fh, header=np.array(text), **arrays)


def load(path) -> Network:
    """Read a network written by :func:`save`.

    Parameters
    ----------
    path : str or path-like
        The ``.npz`` file.

    Returns
    -------
    Network
        With ``meta`` restored; the file's ``metadata`` and version are available as
        ``net.meta["_saved"]``.

    Raises
    ------
    ValueError
        If the file is not a reservoir network file, or was written by a newer format
        version.
    OSError
        If the file cannot be read.
    """
    with np.load(os.fspath(path), allow_pickle=False) as f:
        if "header" not in f:
            raise ValueError(f"{path} is not a reservoir network file (no header)")
        header = json.loads(str(f["header"]))
        if header.get("format") != FORMAT:
            raise ValueError(f"{path} is not a reservoir network file")
        if header.get("format_version", 0) > FORMAT_VERSION:
            raise ValueError(f"{path} was written by a newer reservoir "
                             f"({header.get('version')}); upgrade to read it")
        N = int(header["N"])
        if header["sparse"]:
            J = sp.csr_matrix((f["J_data"], f["J_indices"], f["J_indptr"]), shape=(N, N))
        else:
            J = f["J"]
        meta = dict(header.get("meta", {}))
        meta["_saved"] = {"version": header.get("version"),
                          "metadata": header.get("metadata", {})}
        return Network(J=J, W_in=f["W_in"], W_fb=f["W_fb"], W_out=f["W_out"], b=f["b"],
                       phi=header["phi"], tau=header["tau"], dt=header["dt"], meta=meta)
