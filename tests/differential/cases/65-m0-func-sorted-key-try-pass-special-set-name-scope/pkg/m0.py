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


def _f2(*args, **kwargs):
    try:
        class _D1:
            def __set_name__(self, owner, name):
                from pkg import feat
        class _C1:
            d = _D1()
    except ImportError:
        pass
    return args[0] if args else None
_r2 = sorted([2, 1], key=_f2)
