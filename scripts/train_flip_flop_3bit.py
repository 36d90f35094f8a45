"""Train the 3-bit flip-flop test fixture by BPTT and save it (a thin wrapper).

    python scripts/train_flip_flop_3bit.py [--out tests/data/flip_flop_3bit.npz] [--seed 0]

The recipe (task, network, optimiser settings) lives in ``tests/test_flip_flop.py``, beside
the checks the trained network must pass (8 stable memories, 12 saddles connecting
neighbouring memories); this script runs it, prints those checks and writes the network
with :func:`reservoir.save`. About 30 s on 2 cores.
"""

from __future__ import annotations

import argparse
import importlib.util
import time
from pathlib import Path

import reservoir as rs

ROOT = Path(__file__).resolve().parents[1]


def _recipe():
    spec = importlib.util.spec_from_file_location("flip_flop_recipe",
                                                  ROOT / "tests" / "test_flip_flop.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "tests" / "data" / "flip_flop_3bit.npz"))
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rec = _recipe()
    t0 = time.perf_counter()
    net, res = rec.train_flip_flop(seed=args.seed)
    print(f"trained in {time.perf_counter() - t0:.1f} s, final loss "
          f"{res.loss_history[-1]:.3g} after {res.n_epochs} epochs")
    summary = rec.check_flip_flop(net)
    for key, value in summary.items():
        print(f"{key}: {value}")
    rs.save(net, args.out, metadata={"recipe": {**rec.RECIPE, "seed": args.seed},
                                     "final_loss": float(res.loss_history[-1]),
                                     "script": "scripts/train_flip_flop_3bit.py"})
    print(f"saved to {args.out}")


if __name__ == "__main__":
    main()
