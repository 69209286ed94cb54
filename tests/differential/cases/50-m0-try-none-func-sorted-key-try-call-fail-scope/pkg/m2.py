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
    def _f1(*args, **kwargs):
        try:
            from pkg import feat
        except ImportError:
            _fail()
        return args[0] if args else None
    _r1 = sorted([2, 1], key=_f1)
except ImportError:
    _missing = None
