"""Processes and the machine, read from /proc (psutil is not a dependency)."""

import os
import platform
from pathlib import Path

MIB = 1024


def memory(pid: int | str = "self") -> dict[str, float]:
    """Resident set size now and at its peak (VmRSS, VmHWM) in MiB; empty when the process is gone."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return {}
    found = {}
    for line in lines:
        key, _, value = line.partition(":")
        if key in {"VmRSS", "VmHWM"}:
            found["rss_mib" if key == "VmRSS" else "peak_rss_mib"] = round(int(value.split()[0]) / MIB, 1)
    return found


def children(pid: int) -> list[int]:
    """The direct children of a process (gunicorn's workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # "pid (comm) state ppid …": comm may hold spaces and parentheses, so split after the last ")".
        fields = stat.rpartition(")")[2].split()
        if len(fields) > 1 and int(fields[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def machine() -> dict[str, object]:
    info: dict[str, object] = {
        "cpu_count": os.cpu_count(),
        "platform": platform.platform(),
        "load_average": [round(value, 2) for value in os.getloadavg()],
    }
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                info["memory_mib"] = round(int(line.split()[1]) / MIB)
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                info["cpu_model"] = line.partition(":")[2].strip()
                break
    except OSError:
        pass
    return info


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float | None:
    """User plus system CPU time a process has used so far, or None once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = stat.rpartition(")")[2].split()
    # After the command: state is field 3, utime and stime are fields 14 and 15 (1-based, as in proc(5)).
    return (int(fields[11]) + int(fields[12])) / _TICKS


def cpu_snapshot(pids: list[int]) -> dict[int, float]:
    found = {}
    for pid in pids:
        seconds = cpu_seconds(pid)
        if seconds is not None:
            found[pid] = seconds
    return found


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two snapshots (processes that appeared in between count from their start)."""
    return sum(seconds - before.get(pid, 0.0) for pid, seconds in after.items())


def machine_cpu_seconds() -> dict[str, float]:
    """CPU seconds the whole machine has spent busy and in all since boot, summed over its cores (/proc/stat)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle and iowait
    return {"busy": (sum(fields) - idle) / _TICKS, "all": sum(fields) / _TICKS}
