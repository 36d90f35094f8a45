"""Exceptions raised by ``reservoir``."""


class SimulationDivergedError(RuntimeError):
    """A simulation produced a non-finite state.

    Parameters
    ----------
    step : int
        Index of the time step whose update produced the first non-finite value.
    trial : int
        Index of the trial (row of the batch) that diverged first.
    what : str
        What diverged (the start of the message, e.g. ``"simulation"``).

    Attributes
    ----------
    step : int
        Index of the time step whose update produced the first non-finite value
        (the state ``x[step + 1]`` is the first non-finite one).
    trial : int
        Index of the trial (row of the batch) that diverged first.
    """

    def __init__(self, step: int, trial: int = 0, what: str = "simulation"):
        self.step = int(step)
        self.trial = int(trial)
        super().__init__(
            f"{what} diverged: the state became non-finite at time step {self.step} "
            f"(trial {self.trial}); reduce dt/tau, the gain g, the feedback or the "
            "readout weights"
        )


class NetworkFileError(ValueError):
    """A network file is malformed: the one error :func:`~reservoir.load` raises for a bad file.

    A network file is untrusted input. Every defect of one (empty, truncated or corrupted,
    not a zip archive, a missing, unknown or duplicated member, an array of the wrong shape
    or dtype, an object array, a broken CSR structure, a bad header) raises this error,
    which names the file and the problem. It is a ``ValueError``, so ``except ValueError``
    catches it too. A file that cannot be opened at all (missing, no permission) raises
    ``OSError`` instead.

    Parameters
    ----------
    path : str
        The file (as given to :func:`~reservoir.load`).
    problem : str
        What is wrong with it.

    Attributes
    ----------
    path : str
        The file.
    problem : str
        What is wrong with it.
    """

    def __init__(self, path, problem: str):
        self.path = str(path)
        self.problem = str(problem)
        super().__init__(f"{self.path}: not a valid reservoir network file: {self.problem}")

    def __reduce__(self):
        # picklable across processes (the default would call __init__ with the message only)
        return (type(self), (self.path, self.problem))


class CheckpointError(ValueError):
    """A BPTT checkpoint cannot be resumed: the one error :func:`~reservoir.bptt` raises for
    a bad checkpoint file.

    A checkpoint is untrusted input. Every defect of one (empty, truncated or corrupted,
    not a zip archive, a missing, unknown or duplicated member, an array of the wrong
    shape or dtype or with NaN or infinite values, an object array, a bad or inconsistent
    header, a state the run cannot have reached) raises this error, as does a checkpoint
    written by a run that differs from the call resuming it (another initial network or
    task, an option such as ``lr`` or ``batch_size``, the seed, the split of the
    mini-batches over threads). The message names the file and the problem. It is a
    ``ValueError``, so ``except ValueError`` catches it too. A file that cannot be opened
    at all (no permission) raises ``OSError`` instead.

    Parameters
    ----------
    path : str
        The checkpoint file.
    problem : str
        What is wrong with it.
    option : str, optional
        The argument of :func:`~reservoir.bptt` whose value differs from the checkpoint's
        run (``"net"``, ``"task"``, ``"rng"``, ``"threads"``, ``"epochs"``, ``"lr"``,
        ...); ``None`` for a malformed file.

    Attributes
    ----------
    path : str
        The checkpoint file.
    problem : str
        What is wrong with it.
    option : str or None
        The mismatched argument, or ``None`` for a malformed file.
    """

    def __init__(self, path, problem: str, option: str | None = None):
        self.path = str(path)
        self.problem = str(problem)
        self.option = None if option is None else str(option)
        what = ("not a valid reservoir BPTT checkpoint" if self.option is None else
                f"cannot resume from this BPTT checkpoint ({self.option!r} differs)")
        super().__init__(f"{self.path}: {what}: {self.problem}")

    def __reduce__(self):
        # picklable across processes (the default would call __init__ with the message only)
        return (type(self), (self.path, self.problem, self.option))
