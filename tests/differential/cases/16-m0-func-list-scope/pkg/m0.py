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


def _f1(*args, **kwargs):
    import pkg.feat
    return args[0] if args else None
_l1 = [_f1]
for _h1 in _l1:
    _h1()
