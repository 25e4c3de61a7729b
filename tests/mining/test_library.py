"""Mining is library code: usable from Python and the command line without the web stack."""

from __future__ import annotations

import subprocess
import sys

from tests.conftest import ROOT


def test_mining_never_imports_the_web_stack():
    code = ("import sys, coach.mining, coach.mining.export, coach.mining.report, coach.mining.miner; "
            "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('fastapi', 'starlette', 'uvicorn', 'server')); "
            "print(bad); sys.exit(1 if bad else 0)")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=False,
                            timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
