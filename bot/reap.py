"""python -m bot.reap PIDFILE -- COMMAND...: start a daemon whose workers outlive a killed master.

nginx's workers keep serving, and keep the ports, after their master was killed with SIGKILL. supervisord starts
each service as the leader of a process group of its own, so the dead master's pid (the first word of its pid file)
is the id of the group its leftovers are in: kill them, then exec the command. Only the standard library is
imported, so that the new master is up within a few hundredths of a second.
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path
from typing import List, Optional


def stat_fields(pid: int) -> Optional[List[str]]:
    """/proc/PID/stat after the command name: state, ppid, pgrp, ... (None when the process is gone)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(") ", 1)[1].split()
    except (OSError, IndexError):
        return None


def running(pid: int) -> bool:
    fields = stat_fields(pid)
    return fields is not None and fields[0] != "Z"


def group_members(pgid: int) -> List[int]:
    """Live processes of a process group (zombies left out)."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = stat_fields(int(entry.name))
            if fields and fields[0] != "Z" and int(fields[2]) == pgid:
                members.append(int(entry.name))
    return members


def reap(pidfile: Path) -> str:
    """Kill what the last master left; what was done, for the log."""
    try:
        old = int(pidfile.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return "no earlier master"
    if old <= 1 or running(old):
        return f"the last master (pid {old}) is running: nothing to clear"
    left = group_members(old)
    for pid in left:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    while group_members(old) and time.monotonic() < deadline:
        time.sleep(0.05)
    return f"killed {len(left)} process(es) left by the last master (pid {old}): {left}"


def main(argv: List[str]) -> None:
    if len(argv) < 3 or argv[1] != "--":
        sys.exit(__doc__)
    print(time.strftime("%Y-%m-%d %H:%M:%S"), reap(Path(argv[0])), file=sys.stderr, flush=True)
    os.execv(argv[2], argv[2:])


if __name__ == "__main__":
    main(sys.argv[1:])
