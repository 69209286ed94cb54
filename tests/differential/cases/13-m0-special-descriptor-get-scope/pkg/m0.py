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


class _D1:
    def __get__(self, obj, owner=None):
        importlib.import_module("pkg.feat")
        return 1
class _H1:
    d = _D1()
_v1 = _H1.d
