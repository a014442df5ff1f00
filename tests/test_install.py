"""A non-editable install (a built wheel): the default corpus (the seeds) travels inside it."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
pytestmark = pytest.mark.slow


def test_a_built_wheel_answers_over_its_packaged_seeds(tmp_path):
    dist, target = tmp_path / "dist", tmp_path / "site"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--no-build-isolation",
                    "-w", str(dist), str(REPO)], check=True, capture_output=True, timeout=300)
    wheel = next(dist.glob("qa-*.whl"))
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(target),
                    str(wheel)], check=True, capture_output=True, timeout=300)
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(PYTHONPATH=str(target), XDG_CACHE_HOME=str(tmp_path / "cache"), NO_COLOR="1",
               HF_HUB_OFFLINE="1", QA_ANSWERER="rules")
    away = tmp_path / "elsewhere"
    away.mkdir()
    run = subprocess.run([sys.executable, "-c", "import qa.config as c; print(c.__file__, c.SEEDS_DIR)"],
                         cwd=away, env=env, capture_output=True, text=True, timeout=60)
    module, seeds = run.stdout.split()
    assert module.startswith(str(target)) and seeds.startswith(str(target)), run.stdout  # not the checkout
    run = subprocess.run([sys.executable, "-m", "qa", "ask", "Who did Shoigu meet in Pyongyang?"],
                         cwd=away, env=env, capture_output=True, text=True, timeout=300)
    assert run.returncode == 0, run.stderr
    assert "Kang Sun-nam" in run.stdout
    assert list((tmp_path / "cache" / "qa" / "stores").glob("seeds-*/CURRENT"))  # its store in the cache
    assert not (target / "embeddings").exists()
