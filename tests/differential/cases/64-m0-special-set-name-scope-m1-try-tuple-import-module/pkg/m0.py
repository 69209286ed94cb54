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
    def __set_name__(self, owner, name):
        from pkg import feat
class _C1:
    d = _D1()
