"""Docs, benchmarks and results show commands as a user types them, never a path of one machine."""

import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MACHINE_PATH = re.compile(r"/work/|/root/|/home/[a-z]|venv/bin/|/tmp/(?!pytest-of-)[A-Za-z]")


def test_no_machine_paths_in_docs_benchmarks_or_readme():
    files = [REPO / "README.md", *REPO.glob("docs/*.md"), *REPO.glob("benchmarks/*.py"),
             *REPO.glob("benchmarks/results/*.json")]
    assert len(files) > 10
    offenders = [f"{f.relative_to(REPO)}:{i}: {line.strip()[:80]}"
                 for f in files for i, line in enumerate(f.read_text(encoding="utf-8").splitlines(), 1)
                 if MACHINE_PATH.search(line)]
    assert not offenders, offenders
