"""Bridges to other libraries (each optional; nothing here is imported by ``reservoir``).

Every submodule imports its library only when one of its functions is called, and raises an
``ImportError`` naming the pip extra to install when the library is missing.
"""

__all__: list[str] = []
