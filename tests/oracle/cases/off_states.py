"""The toggle's OFF states: string toggles read from the environment or build info, and Python-name
toggles compared with literals. `breaks`: some OFF state runs the import; `silent`: none does."""

from ._make import family

case = family("off-states")
ENV = "import os\n"
INFO = "from pkg.support import libinfo\n"
PY = "from pkg.config import USE_FEAT\n"

CASES = [
    case("env-get-truthy", ENV + 'if os.environ.get("PKG_USE_FEAT"):\n    from pkg import feat\n', "breaks",
         note='"0" and "OFF" are truthy'),
    case("getenv-default-off", ENV + 'if os.getenv("PKG_USE_FEAT", "OFF"):\n    from pkg import feat\n', "breaks"),
    case("env-get-default-0", ENV + 'if os.environ.get("PKG_USE_FEAT", "0"):\n    from pkg import feat\n', "breaks"),
    case("env-ne-0-default-0", ENV + 'if os.environ.get("PKG_USE_FEAT", "0") != "0":\n    from pkg import feat\n', "breaks",
         note='"OFF", "false", "no" differ from "0"'),
    case("env-not-in-0-off-unset", ENV + 'if os.environ.get("PKG_USE_FEAT") not in ("0", "OFF"):\n    from pkg import feat\n', "breaks"),
    case("env-not-in-0-off-default", ENV + 'if os.environ.get("PKG_USE_FEAT", "0") not in ("0", "OFF"):\n    from pkg import feat\n', "breaks"),
    case("env-is-not-none", ENV + 'if os.environ.get("PKG_USE_FEAT") is not None:\n    from pkg import feat\n', "breaks"),
    case("env-in-environ", ENV + 'if "PKG_USE_FEAT" in os.environ:\n    from pkg import feat\n', "breaks"),
    case("env-bool-getenv", ENV + 'if bool(os.getenv("PKG_USE_FEAT")):\n    from pkg import feat\n', "breaks"),
    case("env-not-else", ENV + 'if not os.environ.get("PKG_USE_FEAT"):\n    pass\nelse:\n    from pkg import feat\n', "breaks"),
    case("env-variable-ne-0", ENV + 'FLAG = os.getenv("PKG_USE_FEAT", "0")\nif FLAG != "0":\n    from pkg import feat\n', "breaks"),
    case("env-eq-1", ENV + 'if os.environ.get("PKG_USE_FEAT") == "1":\n    from pkg import feat\n', "silent"),
    case("env-default-0-eq-1", ENV + 'if os.environ.get("PKG_USE_FEAT", "0") == "1":\n    from pkg import feat\n', "silent"),
    case("env-lower-in-on", ENV + 'if os.environ.get("PKG_USE_FEAT", "").lower() in ("1", "on", "true", "yes"):\n    from pkg import feat\n', "silent"),
    case("env-lower-not-in-off", ENV + 'if os.environ.get("PKG_USE_FEAT", "").lower() not in ("", "0", "off", "false", "no"):\n    from pkg import feat\n', "silent"),
    case("env-lower-eq-true", ENV + 'if os.environ.get("PKG_USE_FEAT", "false").lower() == "true":\n    from pkg import feat\n', "silent"),
    case("info-ne-0", INFO + 'if libinfo().get("USE_FEAT", "OFF") != "0":\n    from pkg import feat\n', "breaks"),
    case("info-get-truthy", INFO + 'if libinfo().get("USE_FEAT"):\n    from pkg import feat\n', "breaks"),
    case("info-ne-off", INFO + 'if libinfo().get("USE_FEAT", "OFF") != "OFF":\n    from pkg import feat\n', "breaks",
         note='"0" and "" differ from "OFF"'),
    case("info-not-in-off-0", INFO + 'if libinfo().get("USE_FEAT", "OFF") not in ("OFF", "0"):\n    from pkg import feat\n', "breaks",
         note='"" is neither'),
    case("info-eq-on", INFO + 'if libinfo().get("USE_FEAT", "OFF") == "ON":\n    from pkg import feat\n', "silent"),
    case("info-upper-in-on", INFO + 'if libinfo().get("USE_FEAT", "OFF").upper() in ("ON", "1", "TRUE"):\n    from pkg import feat\n', "silent"),
    case("py-is-not-none", PY + "if USE_FEAT is not None:\n    from pkg import feat\n", "breaks"),
    case("py-ne-off-string", PY + 'if USE_FEAT != "OFF":\n    from pkg import feat\n', "breaks"),
    case("py-is-not-false", PY + "if USE_FEAT is not False:\n    from pkg import feat\n", "breaks", note="None, 0 and \"\" are not False"),
    case("py-ne-0", PY + "if USE_FEAT != 0:\n    from pkg import feat\n", "breaks", note='None and "" differ from 0'),
    case("py-str-truthy", PY + "if str(USE_FEAT):\n    from pkg import feat\n", "breaks"),
    case("py-not-in-false", PY + "if USE_FEAT not in (False,):\n    from pkg import feat\n", "breaks"),
    case("py-eq-false", PY + "if USE_FEAT == False:  # noqa: E712\n    from pkg import feat\n", "breaks"),
    case("py-is-true", PY + "if USE_FEAT is True:\n    from pkg import feat\n", "silent"),
    case("py-in-on-values", PY + 'if USE_FEAT in (True, "ON", 1):\n    from pkg import feat\n', "silent"),
    case("py-double-negation", PY + "if not (not USE_FEAT):\n    from pkg import feat\n", "silent"),
    case("py-truthy", PY + "if USE_FEAT:\n    from pkg import feat\n", "silent"),
]
