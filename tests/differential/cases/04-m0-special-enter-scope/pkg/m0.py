import atexit
import contextlib
import enum
import functools
import importlib
import os
import sys
import warnings

from pkg import config
from pkg.config import USE_FEAT
from pkg.support import libinfo


def _fail():
    raise RuntimeError("feat is required")


class _W1:
    def __enter__(self):
        from pkg import feat
        return self
    def __exit__(self, *exc):
        return False
with _W1():
    pass
