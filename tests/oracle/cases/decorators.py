"""Decorators that decide whether a function runs: the configured toggle decorator under an alias,
a local function merely named like it, unittest.skipUnless/skipIf and pytest.mark.skipif with the
condition positional or as `condition=`. The oracle calls each function as pytest would: skip marks
with a true bool condition, and unittest's SkipTest, mean the body did not run."""

from ._make import family

case = family("decorators")
M = "from pkg import feat"
PY = "from pkg.config import USE_FEAT\n"
CALL = ("test_f()",)

CASES = [
    case("toggle-decorator", f"from pkg.testing import requires_feat\n\n@requires_feat\ndef test_f():\n    {M}\n", "silent", calls=CALL),
    case("toggle-decorator-alias", f"from pkg.testing import requires_feat as needs_feat\n\n@needs_feat\ndef test_f():\n    {M}\n",
         "silent", calls=CALL),
    case("toggle-decorator-module-alias", f"import pkg.testing as T\n\n@T.requires_feat\ndef test_f():\n    {M}\n", "silent", calls=CALL),
    case("toggle-decorator-assigned", f"from pkg import testing\nneeds = testing.requires_feat\n\n@needs\ndef test_f():\n    {M}\n",
         "silent", calls=CALL),
    case("local-decorator-same-name", f"def requires_feat(fn):\n    return fn\n\n@requires_feat\ndef test_f():\n    {M}\n",
         "call-breaks", calls=CALL),
    case("unittest-skip-unless", PY + f'import unittest\n\n@unittest.skipUnless(USE_FEAT, "feat is off")\ndef test_f():\n    {M}\n',
         "silent", calls=CALL),
    case("unittest-skip-if-not", PY + f'import unittest\n\n@unittest.skipIf(not USE_FEAT, "feat is off")\ndef test_f():\n    {M}\n',
         "silent", calls=CALL),
    case("unittest-skip-if-inverted", PY + f'import unittest\n\n@unittest.skipIf(USE_FEAT, "feat is on")\ndef test_f():\n    {M}\n',
         "call-breaks", calls=CALL),
    case("unittest-skip-unless-assigned", PY + f'import unittest\nneeds_feat = unittest.skipUnless(USE_FEAT, "off")\n\n'
         f"@needs_feat\ndef test_f():\n    {M}\n", "silent", calls=CALL),
    case("skipif-positional", PY + f'import pytest\n\n@pytest.mark.skipif(not USE_FEAT, reason="off")\ndef test_f():\n    {M}\n',
         "silent", calls=CALL),
    case("skipif-condition-keyword", PY + f'import pytest\n\n@pytest.mark.skipif(condition=not USE_FEAT, reason="off")\n'
         f"def test_f():\n    {M}\n", "silent", calls=CALL),
    case("skipif-condition-keyword-inverted", PY + f'import pytest\n\n@pytest.mark.skipif(condition=USE_FEAT, reason="on")\n'
         f"def test_f():\n    {M}\n", "call-breaks", calls=CALL),
    case("skipif-env-is-none", f'import os\nimport pytest\n\n@pytest.mark.skipif(os.environ.get("PKG_USE_FEAT") is None, reason="")\n'
         f"def test_f():\n    {M}\n", "call-breaks", calls=CALL, note='"0" is not None: not skipped'),
    case("undecorated", f"def test_f():\n    {M}\n", "call-breaks", calls=CALL),
    # further semantics (guarda)
    case("skip-unless-env-truthy", f'import os\nimport unittest\n\n@unittest.skipUnless(os.environ.get("PKG_USE_FEAT"), "off")\n'
         f"def test_f():\n    {M}\n", "call-breaks", calls=CALL, note='"0" is true'),
    case("skipif-env-eq-0", f'import os\nimport pytest\n\n@pytest.mark.skipif(os.environ.get("PKG_USE_FEAT", "0") == "0", reason="")\n'
         f"def test_f():\n    {M}\n", "call-breaks", calls=CALL, note='"OFF" is not "0"'),
    case("skip-if-is-none", PY + f'import unittest\n\n@unittest.skipIf(USE_FEAT is None, "off")\ndef test_f():\n    {M}\n',
         "call-breaks", calls=CALL),
    case("skip-unless-from-import-as", PY + f'from unittest import skipUnless as needs\n\n@needs(USE_FEAT, "off")\ndef test_f():\n    {M}\n',
         "silent", calls=CALL),
    case("skipif-mark-assigned", PY + f'import pytest\nskip_feat = pytest.mark.skipif(not USE_FEAT, reason="off")\n\n'
         f"@skip_feat\ndef test_f():\n    {M}\n", "silent", calls=CALL),
    case("skip-unless-env-eq-1", f'import os\nimport unittest\n\n@unittest.skipUnless(os.environ.get("PKG_USE_FEAT") == "1", "off")\n'
         f"def test_f():\n    {M}\n", "silent", calls=CALL),
    case("local-skip-unless", PY + f'def skipUnless(cond, reason):\n    return lambda fn: fn\n\n@skipUnless(USE_FEAT, "off")\n'
         f"def test_f():\n    {M}\n", "call-breaks", calls=CALL),
]
