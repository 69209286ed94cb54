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
    class _D2:
        def __get__(self, obj, owner=None):
            class _D1:
                def __set_name__(self, owner, name):
                    from pkg import feat
            class _C1:
                d = _D1()
            return 1
    class _H2:
        d = _D2()
    _v2 = _H2.d
except ImportError:
    pass
