"""Bridges to other libraries (each optional; nothing here is imported by ``reservoir``).

Every submodule imports its library only when one of its functions is called, and raises an
``ImportError`` naming the pip extra to install when the library is missing.
"""

from .jax import from_jax, to_jax
from .neurogym import task_from_neurogym
from .reservoirpy import from_reservoirpy, initial_state_from_reservoirpy
from .torch import from_torch, to_torch

__all__: list[str] = ["from_reservoirpy", "initial_state_from_reservoirpy",
                      "task_from_neurogym",
                      "to_jax", "from_jax", "to_torch", "from_torch"]
