#!/usr/bin/env python3
"""Set up the project's virtual environment and run the main job or the test suite.

    python3 dev.py run    # install, then start Doorstroom on the embedded defaults
    python3 dev.py test   # install, then ruff, mypy and the whole pytest suite

Needs only Python 3.11+; everything else comes from PyPI into ./.venv.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".doorstroom-install-stamp"


def sh(*args: str | Path) -> None:
    print("+", " ".join(str(a) for a in args), flush=True)
    subprocess.run([str(a) for a in args], cwd=ROOT, check=True)


def ensure_venv() -> None:
    if not (BIN / "python").exists():
        print(f"creating {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True, clear=False).create(VENV)
    digest = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if STAMP.exists() and STAMP.read_text() == digest:
        return
    sh(BIN / "python", "-m", "pip", "install", "--quiet", "--upgrade", "pip")
    sh(BIN / "python", "-m", "pip", "install", "--quiet", "-e", ".[dev]")
    STAMP.write_text(digest)


def main() -> int:
    if sys.version_info < (3, 11):  # noqa: UP036 - this script must explain, not crash
        sys.exit(f"Python 3.11+ is needed, this is {sys.version.split()[0]}")
    job = sys.argv[1] if len(sys.argv) > 1 else ""
    if job not in {"run", "test"}:
        print(__doc__)
        return 2
    ensure_venv()
    extra = sys.argv[2:]
    try:
        if job == "run":
            sh(BIN / "doorstroom", "run", *extra)
        else:
            sh(BIN / "ruff", "check", ".")
            sh(BIN / "ruff", "format", "--check", ".")
            sh(BIN / "mypy", ".")
            sh(BIN / "pytest", *extra)
    except subprocess.CalledProcessError as exc:
        return exc.returncode or 1
    except KeyboardInterrupt:
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
