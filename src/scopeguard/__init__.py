"""scopeguard: checks that S0 scoped modules stay isolated, toggleable and deletable."""

__version__ = "0.1.0"
