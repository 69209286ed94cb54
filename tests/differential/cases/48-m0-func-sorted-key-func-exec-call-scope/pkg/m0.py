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
    def _f1(*args, **kwargs):
        from pkg import feat
        return args[0] if args else None
    exec("_f1()")
    return args[0] if args else None
_r2 = sorted([2, 1], key=_f2)
