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
    with contextlib.suppress(ImportError):
        class _D1:
            def __set_name__(self, owner, name):
                from pkg import feat
        class _C1:
            d = _D1()
    return args[0] if args else None
def _g2(x=_f2()):
    return x
