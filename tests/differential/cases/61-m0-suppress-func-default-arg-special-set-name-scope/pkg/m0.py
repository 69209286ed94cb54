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


with contextlib.suppress(ImportError):
    def _f2(*args, **kwargs):
        class _D1:
            def __set_name__(self, owner, name):
                from pkg import feat
        class _C1:
            d = _D1()
        return args[0] if args else None
    def _g2(x=_f2()):
        return x
