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
    from pkg import feat
    return args[0] if args else None
if USE_FEAT:
    _f1()
