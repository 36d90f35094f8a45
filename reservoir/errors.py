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
