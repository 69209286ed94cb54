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


class _C1:
    @property
    def p(self):
        __import__("pkg.feat")
        return 1
_v1 = _C1().p
