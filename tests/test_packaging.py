"""Built-in playbooks and prompts are found after a non-editable install, not only in a checkout."""

from __future__ import annotations

import subprocess
import sys
import zipfile

from conftest import ROOT


def test_wheel_carries_playbooks_and_prompts(tmp_path):
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, timeout=300,
    )
    wheel = next(tmp_path.glob("coach-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    assert "coach/_data/playbooks/en-US-collections.yaml" in names
    assert "coach/_data/playbooks/zh-CN-bank-collections.yaml" in names
    assert "coach/_data/prompts/intent-hypotheses.yaml" in names

    target = tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target), str(wheel)], check=True, timeout=300)
    probe = "from coach.playbook import builtin_playbooks; import coach; print(coach.__file__); print(sorted(builtin_playbooks()))"
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=tmp_path, env={"PYTHONPATH": str(target), "PATH": "/usr/bin:/bin"}, check=True).stdout
    assert str(target) in out and "zh-CN-bank-collections" in out
