#!/bin/sh
# The FinOps Foundation's FOCUS validator (PyPI `focus-validator`), in its own venv
# (.venv-focus): it pins duckdb, sqlglot and pandas versions of its own, which must not
# touch the project's. Used by tests/billing/test_focus.py.
#
# focus-validator 2.x declares Python >= 3.12 for one f-string (a backslash inside an
# f-string expression, `config_objects/focus_to_duckdb_converter.py`); our machines have
# CPython 3.11, so it is installed with --ignore-requires-python and that one expression is
# rewritten to its 3.11 equivalent. It pins numpy < 2 and takes the newest pyarrow, which
# needs numpy 2: pyarrow is pinned to 19.0.1, which works with numpy 1.26. Idempotent; the
# stamp records what was installed.
set -eu
VERSION=2.2.1
PYARROW=19.0.1
VENV=.venv-focus
STAMP="$VENV/.installed-$VERSION-pyarrow-$PYARROW"
[ -f "$STAMP" ] && exit 0
PY=${PY:-python3}
rm -rf "$VENV"
$PY -m venv "$VENV"
"$VENV/bin/python" -m pip install -q --disable-pip-version-check --ignore-requires-python \
    "focus-validator==$VERSION" "pyarrow==$PYARROW"
"$VENV/bin/python" - <<'PYEOF'
import pathlib, sys
import importlib.util
spec = importlib.util.find_spec("focus_validator")
path = pathlib.Path(spec.submodule_search_locations[0]) / "config_objects" / "focus_to_duckdb_converter.py"
text = path.read_text(encoding="utf-8")
old = """f"'{k.replace('\\"', '\\"\\"')}'\""""
new = """("'" + k.replace('"', '""') + "'")"""
if old in text:
    path.write_text(text.replace(old, new), encoding="utf-8")
compile(path.read_text(encoding="utf-8"), str(path), "exec")
PYEOF
# from inside the venv: the validator writes focus_validator_detailed.log to its working
# directory (the tests run it in its site-packages), never the repository's root
(cd "$VENV" && bin/focus-validator --help >/dev/null)
touch "$STAMP"
