import os
import sys

# `python -m scopeguard` puts the working directory first on sys.path, so a project file named like
# a module scopeguard imports (json.py, ast.py) would run when imported. scopeguard reads the code
# it analyses and never runs it: drop that entry before importing anything (Python 3.11's -P does
# the same). The package itself is already imported, so its own modules are still found.
if sys.path and sys.path[0] in ("", os.getcwd()):
    del sys.path[0]

from .cli import main

sys.exit(main())
