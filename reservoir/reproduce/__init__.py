"""Reproductions of the papers' results: figures (PNG + PDF) and JSON, theory beside simulation.

One module per paper or study; each has the same small interface:

* ``run(out, quick=False, **options) -> dict`` computes everything, writes the figures and a
  JSON file into the folder ``out`` and returns what it wrote to the JSON file (each
  compared quantity as a ``{"theory": ..., "simulation": ...}`` pair with its sizes and
  numbers of realisations). ``quick=True`` is the small run (minutes on two cores).
  The papers' claims are entries of ``claims`` blocks: ``claim``, the ``rule`` that
  decides it, what was ``measured`` and ``agrees``: ``True`` or ``False``, or ``None``
  when the data cannot decide (too few networks, an interval that holds both answers),
  then with ``"decided": False`` and a ``note`` saying why. A claim that does not hold is
  a finding, reported, not hidden.
* ``main(argv=None)`` is its command line (``--out DIR --quick`` and the options of
  ``run``); ``build_parser()`` returns that parser.

Modules (:data:`MODULES`):

``mo2019``
    Mastrogiuseppe & Ostojic (2019), *A geometrical analysis of global stability in trained
    feedback networks*: fixed points, outliers, bulk radius and solution classes against
    the target, training success of least-squares and RLS networks, bulk chaos.
    Script: ``scripts/reproduce_mo2019.py``.
``rb2017``
    Rivkind & Barak (2017), *Local dynamics in trained recurrent neural networks*: the
    output ODE, closed-loop poles (alternation rule, ReLU's zero), frequency selectivity,
    the edge of chaos, finite-size convergence, robustness.
    Script: ``scripts/reproduce_rb2017.py``.
``jarne``
    Jarne (2023, J. Comput. Neurosci. 51:407-431) and her lecture on BPTT-trained RNNs:
    spectra of the recurrent matrix before and after training (disk for random-normal,
    ring for orthogonal initialisation; against N and the excitatory fraction of Dale
    networks), the dominant eigenvalues and the dynamics they imply, network by network.
    Script: ``scripts/reproduce_jarne.py``.
``training_comparison``
    Jarne's gate tasks: readout-only training (ridge, FORCE) against BPTT from orthogonal
    and random-normal initial connectivity (:func:`reservoir.compare_training`).
    Script: ``scripts/compare_training.py``.

matplotlib is imported only when a figure is drawn: importing this package does not import
it, and ``run`` raises an ``ImportError`` naming what to install before computing anything
if it is missing. Figures are not registered with pyplot and no backend is changed. The
modules never print: progress and summaries go to their ``logging`` loggers
(``reservoir.reproduce.<module>``, level INFO); the scripts show INFO on stderr.

Example::

    from reservoir.reproduce import mo2019
    data = mo2019.run("out/mo2019", quick=True)
    data["summary"]
"""

from . import jarne, mo2019, rb2017, training_comparison

#: The reproduction modules, by the name a command line would use.
MODULES = ("mo2019", "rb2017", "training_comparison", "jarne")

__all__ = ["MODULES", "jarne", "mo2019", "rb2017", "training_comparison"]
