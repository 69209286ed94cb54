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


setattr(config, "USE_FEAT", 1)
if config.USE_FEAT:
    from pkg import m0
