"""The pure cores import nothing from Django (shared/STYLE.md, "pure cores").

Each module is imported in a fresh interpreter where importing ``django`` (or anything under
it) raises, so an indirect import through another module counts too, not only the module's
own import lines.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

PURE_CORES = [
    "ncci.ptp",
    "denials.triage",
    "ncci.scrubber",
    "ncci.files",
    "denials.x12.reader",
    # Example data, not product code, but load_demo, the benchmarks and the reader tests rely on it
    # staying importable without Django.
    "denials.demo.remittances",
    "ncci.demo.cms_files",
]

_IMPORT_WITH_DJANGO_BLOCKED = """
import importlib, importlib.abc, sys

class BlockDjango(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name == "django" or name.startswith("django."):
            raise ImportError(f"{name} imported by a pure core")
        return None

sys.meta_path.insert(0, BlockDjango())
importlib.import_module(sys.argv[1])
loaded = sorted(m for m in sys.modules if m == "django" or m.startswith("django."))
assert not loaded, loaded
print("pure")
"""


@pytest.mark.parametrize("module", PURE_CORES)
def test_a_pure_core_imports_nothing_from_django(module):
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_WITH_DJANGO_BLOCKED, module],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "pure"


def test_the_blocker_does_catch_a_django_import():
    # Without this, a blocker that never fires would let every core "pass".
    result = subprocess.run(
        [sys.executable, "-c", _IMPORT_WITH_DJANGO_BLOCKED, "django.db"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )

    assert result.returncode != 0
    assert "imported by a pure core" in result.stderr
