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


if USE_FEAT:
    from pkg import feat
