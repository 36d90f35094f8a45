"""``python -m reservoir``: the ``reservoir`` command (:func:`reservoir.cli.main`)."""

import sys

from reservoir.cli import main

if __name__ == "__main__":
    sys.exit(main(prog="python -m reservoir"))
