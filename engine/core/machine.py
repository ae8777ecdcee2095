"""Where a figure was measured: the machine's facts, recorded with every saved result, and them in words."""

from __future__ import annotations

import os
import platform
from typing import Any


def machine_facts() -> dict[str, Any]:
    """Where figures are being measured: cores, RAM (GB), CPU model, library versions."""
    import faiss
    import numpy as np

    mem_kb, cpu = 0, platform.processor()
    try:
        with open("/proc/meminfo") as fh:
            mem_kb = next(int(line.split()[1]) for line in fh if line.startswith("MemTotal"))
        with open("/proc/cpuinfo") as fh:
            cpu = next(line.split(":", 1)[1].strip() for line in fh if line.startswith("model name"))
    except (OSError, StopIteration, ValueError):
        pass
    return {"cpus": os.cpu_count(), "ram_gb": round(mem_kb / 2**20, 1), "cpu": cpu, "platform": platform.platform(),
            "faiss": faiss.__version__, "numpy": np.__version__, "python": platform.python_version()}


def where_measured(machine: dict[str, Any], date: str | None = None) -> str:
    """'2 cores, 23.6 GB RAM, <cpu>, 2026-11-26': where a saved result was measured, in words."""
    parts = []
    if machine.get("cpus"):
        parts.append(f"{machine['cpus']} cores")
    if machine.get("ram_gb"):
        parts.append(f"{machine['ram_gb']} GB RAM")
    if machine.get("cpu"):
        parts.append(str(machine["cpu"]))
    if date:
        parts.append(str(date)[:10])
    return ", ".join(parts) or "unknown machine"
