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


try:
    class _B1:
        def __init_subclass__(cls, **kwargs):
            try:
                from pkg import feat
            except ImportError as error:
                raise RuntimeError("need feat") from error
    class _C1(_B1):
        pass
except (ImportError, OSError):
    pass
