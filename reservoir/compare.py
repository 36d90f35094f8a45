"""The same task solved by readout-only training (ridge, FORCE) and by BPTT, side by side.

For each method an ensemble of networks is trained on the task's trials and measured on
held-out trials:

* solved: the task's accuracy (:func:`reservoir.tasks.response_accuracy`: the
  response-window rule of the gate tasks, the hold-window rule of
  :func:`reservoir.tasks.flip_flop_accuracy` for the flip-flops) is at least
  ``success_threshold``; the test mean squared error;
* the spectrum of the effective connectivity (``J + W_fb W_out`` for the feedback networks
  trained by ridge or FORCE, ``J`` for BPTT): bulk radius (the 7th largest modulus, as in
  Jarne's analyses), the eigenvalues outside the unit circle, and Henrici's departure from
  normality ``sqrt(||W||_F^2 - sum |lambda|^2) / ||W||_F``;
* fixed points at zero input and their stability (:func:`find_fixed_points`);
* robustness: accuracy with input noise, and after removing the weakest fraction of the
  recurrent connections (Jarne's pruning).

Readout-only networks are feedback networks run in closed loop (teacher forcing during
training); FORCE sees the training trials as one continuous stream. BPTT networks are
open-loop networks (:func:`reservoir.jarne_network`). Each method can be run from random
normal (variance g^2/N) and random orthogonal initial connectivity (``inits``), the
contrast of Jarne's spectra.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable
from dataclasses import dataclass, field

import numpy as np

from ._checks import as_int, as_positive_float, as_real, as_rng, check_memory
from ._checks import RngLike
from ._deprecation import renamed_fields, renamed_kwargs
from ._results import ResultMixin
from .analysis.fixed_points import find_fixed_points
from .network import Network, jarne_network, random_network
from ._simulate import simulate
from .tasks import FLIP_FLOP_TASKS, Task, response_accuracy
from .train._bptt import bptt
from .train._force import force
from .train._ridge import fit_ridge

METHODS = ("ridge", "force", "bptt")
INITS = ("orthogonal", "normal")


@renamed_fields(success="solved", success_rate="solved_rate")
@dataclass(frozen=True, eq=False, repr=False)
class MethodSummary(ResultMixin):
    """Per-network measurements of one training method (arrays of length n_networks).

    Plain container: nothing here can fail. A network that does not solve the task is a
    measurement (``solved`` False), not a failure of the comparison; so this class has no
    ``success`` flag of the result contract, and its former per-network ``success`` array is
    now ``solved`` (the old name is a deprecated alias for one release).

    ``accuracy_teacher`` is the accuracy with the target fed back (teacher forcing): for
    the readout-trained networks, the gap to ``accuracy`` (closed loop) measures how much of
    the failure is the loop not holding the trained trajectory as an attractor.

    Parameters
    ----------
    method : str
        ``"ridge"``, ``"force"`` or ``"bptt"``.
    accuracy : ndarray, shape (n_networks,)
        Closed-loop (BPTT: open-loop) accuracy on the test trials
        (:func:`reservoir.tasks.response_accuracy`: trials for gate tasks, hold windows for
        flip-flops), in [0, 1].
    solved : ndarray of bool, shape (n_networks,)
        ``accuracy >= success_threshold``: the network solved the task.
    test_mse : ndarray, shape (n_networks,)
        Mean squared error on the test trials (readout units squared).
    bulk_radius : ndarray, shape (n_networks,)
        The 7th largest eigenvalue modulus of the effective connectivity (dimensionless).
    n_outliers : ndarray of int, shape (n_networks,)
        Eigenvalues of the effective connectivity outside the unit circle.
    leading_eigenvalue : ndarray of complex, shape (n_networks,)
        Eigenvalue of the effective connectivity of largest modulus.
    n_fixed_points : ndarray of int, shape (n_networks,)
        Fixed points at zero input.
    n_stable_fixed_points : ndarray of int, shape (n_networks,)
        Stable fixed points at zero input.
    accuracy_noisy : ndarray, shape (n_networks,)
        Accuracy with noise added to the test inputs.
    accuracy_pruned : ndarray, shape (n_networks,)
        Accuracy after removing the weakest recurrent weights.
    accuracy_teacher : ndarray, shape (n_networks,)
        Accuracy with the target fed back (teacher forcing).
    henrici : ndarray, shape (n_networks,)
        Henrici's departure from normality of the effective connectivity.
    init : str
        Initial recurrent connectivity, ``"orthogonal"`` or ``"normal"``.
    networks : list of Network
        The trained networks.
    """

    method: str
    accuracy: np.ndarray
    solved: np.ndarray
    test_mse: np.ndarray
    bulk_radius: np.ndarray
    n_outliers: np.ndarray
    leading_eigenvalue: np.ndarray
    n_fixed_points: np.ndarray
    n_stable_fixed_points: np.ndarray
    accuracy_noisy: np.ndarray
    accuracy_pruned: np.ndarray
    accuracy_teacher: np.ndarray
    henrici: np.ndarray = field(default=None)
    init: str = "orthogonal"
    networks: list = field(default_factory=list, repr=False)

    def _headline(self) -> str:
        # the mixin's headline reports a ``success`` attribute, which here is deprecated
        return (f"MethodSummary(method={self.method!r}, init={self.init!r}, "
                f"{len(self.accuracy)} networks, solved_rate={self.solved_rate:.3g})")

    @property
    def solved_rate(self) -> float:
        """Fraction of the networks that solved the task.

        Returns
        -------
        float
            The mean of ``solved``, in [0, 1].
        """
        return float(np.mean(self.solved))


@dataclass(frozen=True, eq=False, repr=False)
class Comparison(ResultMixin):
    """Result of :func:`compare_training`: one :class:`MethodSummary` per method.

    Plain container: nothing here can fail.

    Parameters
    ----------
    task_name : str
        Name of the training task.
    summaries : dict
        ``label -> MethodSummary``; the label is the method, or ``"method/init"`` when
        several initialisations were compared.
    settings : dict
        The arguments of :func:`compare_training` (for the record).
    """

    task_name: str
    summaries: dict
    settings: dict

    def table(self) -> str:
        """Plain-text summary (means over the ensemble).

        Returns
        -------
        str
            A header and one line per method: fraction solved, teacher-forced accuracy,
            test MSE, bulk radius, outliers, Henrici's departure, fixed points and the
            robustness accuracies.
        """
        head = (f"{'method':17s} {'solved':>8s} {'teacher':>8s} {'test mse':>9s} {'bulk r':>7s} "
                f"{'outliers':>8s} {'henrici':>7s} {'fixed pts':>9s} {'acc noisy':>9s} "
                f"{'acc pruned':>10s}")
        lines = [head]
        for name, s in self.summaries.items():
            lines.append(f"{name:17s} {s.solved_rate:8.2f} {np.mean(s.accuracy_teacher):8.2f} "
                         f"{np.mean(s.test_mse):9.4f} "
                         f"{np.mean(s.bulk_radius):7.3f} {np.mean(s.n_outliers):8.2f} "
                         f"{np.mean(s.henrici):7.3f} "
                         f"{np.mean(s.n_fixed_points):9.2f} {np.mean(s.accuracy_noisy):9.2f} "
                         f"{np.mean(s.accuracy_pruned):10.2f}")
        return "\n".join(lines)


def _effective(net: Network, method: str) -> np.ndarray:
    J = np.array(net.dense_J())
    return J + net.W_fb @ net.W_out if method != "bptt" else J


def _run(net: Network, method: str, inputs):
    mode = "open" if method == "bptt" else "closed"
    return simulate(net, inputs, mode=mode, record=("z",)).z


def _prune(net: Network, fraction: float) -> Network:
    """``net`` with its weakest ``fraction`` of recurrent weights set to 0; everything
    else kept (Dale signs stay valid: zeroing never flips a sign)."""
    J = np.array(net.dense_J())
    cut = np.quantile(np.abs(J), fraction)
    return dataclasses.replace(net, J=np.where(np.abs(J) <= cut, 0.0, J))


def henrici_departure(W) -> float:
    """Henrici's departure from normality of a square matrix.

    ``sqrt(||W||_F^2 - sum_i |lambda_i|^2) / ||W||_F``: 0 for normal matrices, about
    ``1/sqrt(2)`` for large Gaussian ones.

    Parameters
    ----------
    W : array_like, shape (n, n)
        The matrix.

    Returns
    -------
    float
        The departure, in [0, 1] (0 for the zero matrix).

    Raises
    ------
    numpy.linalg.LinAlgError
        If ``W`` is not square.
    """
    W = np.asarray(W, dtype=float)
    lam = np.linalg.eigvals(W)
    fro2 = float(np.sum(W * W))
    return float(np.sqrt(max(fro2 - float(np.sum(np.abs(lam) ** 2)), 0.0) / fro2)) \
        if fro2 > 0 else 0.0


def _train(method, task, N, gen, g_readout, reg, force_reg, bptt_kwargs, readout_tau,
           train_noise, init="orthogonal"):
    M, K = task.inputs.shape[2], task.targets.shape[2]
    if method == "bptt":
        net = jarne_network(N, M, K, init=init, rng=gen)
        net = dataclasses.replace(net, tau=task.dt, dt=task.dt)
        return bptt(net, task, rng=gen, **bptt_kwargs).network   # keeps its Dale signs
    net = random_network(N, g_readout, M, K, tau=max(readout_tau, task.dt), dt=task.dt,
                         input_dist="uniform", init=init, rng=gen)
    if method == "ridge":
        return fit_ridge(net, task.inputs, task.targets, reg=reg, mask=task.mask,
                         noise_std=train_noise, rng=gen).network
    U = task.inputs.reshape(-1, M)
    Y = task.targets.reshape(-1, K)
    return force(net, U, Y, reg=force_reg, update_every=1, x0=np.zeros(N)).network


@renamed_kwargs(force_alpha="force_reg")
def compare_training(task: Task, test: Task, *, methods: Iterable[str] = METHODS,
                     n_networks: int = 20,
                     N: int = 50, g_readout: float = 0.9, readout_tau: float = 10.0,
                     reg: float = 1e-2, train_noise: float = 0.05, force_reg: float = 1.0,
                     bptt_kwargs: dict | None = None,
                     success_threshold: float = 0.95, noise_std: float = 0.2,
                     prune_fraction: float = 0.1, inits: Iterable[str] = ("orthogonal",),
                     rng: RngLike = None) -> Comparison:
    """Train ``n_networks`` networks per method on ``task`` and measure them on ``test``.

    Parameters
    ----------
    task : Task
        Batched training trials.
    test : Task
        Batched held-out trials: a gate task (with a ``response_window``) or a flip-flop
        (:func:`reservoir.tasks.flip_flop`, :func:`reservoir.tasks.flip_flop_3bit`),
        scored by :func:`reservoir.tasks.response_accuracy`.
    methods : iterable of {"ridge", "force", "bptt"}
        Training methods to compare.
    n_networks : int
        Networks trained per method (and initialisation).
    N : int
        Network size.
    g_readout : float
        Gain of the readout-trained feedback networks.
    readout_tau : float
        Time constant (task time units) of the readout-trained feedback networks; a leak
        slower than the step (``tau > dt``) helps them hold a response.
    reg : float
        Ridge penalty of :func:`reservoir.fit_ridge`.
    train_noise : float
        State noise during the teacher-forced ridge run (stabilises the closed loop, a
        standard reservoir-computing device).
    force_reg : float
        FORCE's regulariser ``reg`` (``P(0) = I / reg``, :func:`reservoir.force`).
        Formerly ``force_alpha`` (deprecated alias).
    bptt_kwargs : dict, optional
        Passed to :func:`reservoir.bptt` (default: 10 epochs, lr 1e-3, clip 1). With
        Dale's law (e.g. ``{"dale": 0.8}``; the initial ``J`` is then projected onto the
        signs, Jarne's protocol) the trained networks, and their pruned copies, keep
        their ``dale_signs``.
    success_threshold : float
        Accuracy at or above which a network counts as having solved the task.
    noise_std : float
        Std of the input noise added to the test inputs for ``accuracy_noisy``.
    prune_fraction : float
        Fraction of the weakest recurrent weights removed for ``accuracy_pruned``.
    inits : iterable of {"orthogonal", "normal"}
        Initial recurrent connectivity: Haar-orthogonal or random normal (variance
        ``g^2/N``; ``g = 1`` for BPTT, ``g_readout`` for the feedback networks). With one
        init the summaries are keyed by method; with several, by ``"method/init"``.
    rng : None, int, SeedSequence or Generator
        Seed of everything (each network gets its own child seed).

    Returns
    -------
    Comparison
        One :class:`MethodSummary` per method (and initialisation), and the settings.

    Raises
    ------
    TypeError
        If ``task`` or ``test`` is not a :class:`~reservoir.tasks.Task`, or a count has the
        wrong type.
    ValueError
        If ``test`` is neither a gate task (no response window) nor a flip-flop, ``task``
        or ``test`` is not batched or they differ in their numbers of inputs or readouts,
        ``methods`` or ``inits`` are not valid, or a count or noise level is out of range.
    """
    if not isinstance(task, Task) or not isinstance(test, Task):
        raise TypeError("task and test must be Task objects")
    if "response_window" not in test.info and test.name not in FLIP_FLOP_TASKS:
        raise ValueError(f"test must define a response window (a gate task) or be a "
                         f"flip-flop {FLIP_FLOP_TASKS}, got task {test.name!r}")
    if not task.is_batched or not test.is_batched:
        raise ValueError("task and test must be batched (B, T, ...) tasks")
    if task.inputs.shape[2] != test.inputs.shape[2] or \
            task.targets.shape[2] != test.targets.shape[2]:
        raise ValueError(
            f"task and test must have the same numbers of inputs and readouts: task "
            f"(M, K) = {task.inputs.shape[2], task.targets.shape[2]}, test "
            f"{test.inputs.shape[2], test.targets.shape[2]}")
    if abs(task.dt - test.dt) > 1e-9 * max(task.dt, test.dt):
        raise ValueError(f"task and test must share the time step: task.dt = {task.dt}, "
                         f"test.dt = {test.dt} (the networks run on task.dt)")
    try:
        methods = tuple(methods)
        inits = tuple(inits)
    except TypeError as exc:
        raise TypeError(f"methods and inits must be sequences of names: {exc}") from None
    bad = [m for m in methods if not isinstance(m, str) or m not in METHODS]
    if bad or not methods:
        raise ValueError(f"methods must be a non-empty subset of {METHODS}, got {methods}")
    if not inits or any(not isinstance(i, str) or i not in INITS for i in inits) or len(set(inits)) < len(inits):
        raise ValueError(f"inits must be distinct values from {INITS}, got {inits}")
    n_networks = as_int(n_networks, "n_networks", minimum=1)
    N = as_int(N, "N", minimum=1)
    noise_std = as_positive_float(noise_std, "noise_std", allow_zero=True)
    prune_fraction = as_positive_float(prune_fraction, "prune_fraction", allow_zero=True)
    g_readout = as_positive_float(g_readout, "g_readout", allow_zero=True)
    readout_tau = as_positive_float(readout_tau, "readout_tau")
    reg = as_positive_float(reg, "reg", allow_zero=True)
    train_noise = as_positive_float(train_noise, "train_noise", allow_zero=True)
    force_reg = as_positive_float(force_reg, "force_reg")
    success_threshold = as_real(success_threshold, "success_threshold", low=0.0, high=1.0)
    if prune_fraction > 1.0:
        raise ValueError(f"prune_fraction must be in [0, 1], got {prune_fraction}")
    if bptt_kwargs is not None and not isinstance(bptt_kwargs, dict):
        raise TypeError(f"bptt_kwargs must be a dict or None, got {type(bptt_kwargs).__name__}")
    check_memory(float(n_networks) * len(methods) * len(inits) * (8.0 * N * (N + 8) + 2048),
                 "n_networks", n_networks, what=f"the trained networks of N={N} units")
    kw = {"epochs": 10, "lr": 1e-3, "clip_norm": 1.0}
    kw.update(bptt_kwargs or {})
    root = np.random.SeedSequence(as_rng(rng).integers(2**63))
    runs = [(m, i) for m in methods for i in inits]
    seeds = root.spawn(len(runs) * n_networks)
    noisy_inputs = test.inputs + noise_std * np.random.default_rng(seeds[0]).standard_normal(
        test.inputs.shape)
    summaries = {}
    for mi, (method, init) in enumerate(runs):
        cols = {k: [] for k in ("acc", "mse", "bulk", "nout", "lead", "nfp", "nst", "accn",
                                "accp", "acct", "henrici")}
        nets = []
        for k in range(n_networks):
            gen = np.random.default_rng(seeds[mi * n_networks + k])
            net = _train(method, task, N, gen, g_readout, reg, force_reg, kw, readout_tau,
                         train_noise, init)
            nets.append(net)
            z = _run(net, method, test.inputs)
            cols["acc"].append(response_accuracy(test, z))
            cols["mse"].append(float(np.mean((z - test.targets) ** 2)))
            if method == "bptt":
                cols["acct"].append(cols["acc"][-1])
            else:
                zt = simulate(net, test.inputs, mode="teacher", targets=test.targets,
                              record=("z",)).z
                cols["acct"].append(response_accuracy(test, zt))
            W_eff = _effective(net, method)
            lam = np.linalg.eigvals(W_eff)
            cols["henrici"].append(henrici_departure(W_eff))
            mods = np.sort(np.abs(lam))[::-1]
            cols["bulk"].append(float(mods[min(6, mods.size - 1)]))
            cols["nout"].append(int(np.sum(mods > 1.0)))
            cols["lead"].append(complex(lam[np.argmax(np.abs(lam))]))
            fp_net = net if method != "bptt" else net.with_readout(np.zeros_like(net.W_out))
            fps = find_fixed_points(fp_net, np.zeros(net.n_inputs), rng=gen, n_seeds=8,
                                    compute_eigenvalues=True)
            cols["nfp"].append(int(np.sum(fps.is_fixed)))
            cols["nst"].append(int(np.sum(fps.stable & fps.is_fixed)))
            cols["accn"].append(response_accuracy(test, _run(net, method, noisy_inputs)))
            cols["accp"].append(response_accuracy(test, _run(_prune(net, prune_fraction),
                                                             method, test.inputs)))
        acc = np.array(cols["acc"])
        label = method if len(inits) == 1 else f"{method}/{init}"
        summaries[label] = MethodSummary(
            method=method, accuracy=acc, solved=acc >= success_threshold,
            test_mse=np.array(cols["mse"]), bulk_radius=np.array(cols["bulk"]),
            n_outliers=np.array(cols["nout"]), leading_eigenvalue=np.array(cols["lead"]),
            n_fixed_points=np.array(cols["nfp"]), n_stable_fixed_points=np.array(cols["nst"]),
            accuracy_noisy=np.array(cols["accn"]), accuracy_pruned=np.array(cols["accp"]),
            accuracy_teacher=np.array(cols["acct"]), henrici=np.array(cols["henrici"]),
            init=init, networks=nets)
    return Comparison(task_name=task.name, summaries=summaries,
                      settings={"N": N, "n_networks": n_networks, "g_readout": g_readout,
                                "readout_tau": readout_tau, "train_noise": train_noise,
                                "reg": reg, "force_reg": force_reg, "bptt": kw,
                                "noise_std": noise_std, "prune_fraction": prune_fraction,
                                "inits": list(inits)})
