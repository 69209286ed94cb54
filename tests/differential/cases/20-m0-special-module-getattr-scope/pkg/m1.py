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


def __getattr__(name):
    if name == "_dyn1":
        from pkg import feat
        return 1
    raise AttributeError(name)
_v1 = getattr(sys.modules[__name__], "_dyn1")
