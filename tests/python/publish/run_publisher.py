"""`schemahub ...` in a subprocess with a test hook on the first data commit (used by the publish tests).

PUBLISH_TEST_HOOK=barrier:<dir>:<n>  wait before committing until <n> processes reached this point, so their
                                     commits race on the same base metadata (one of them must retry)
PUBLISH_TEST_HOOK=kill               SIGKILL this process right before its commit (a run that dies mid-way)
"""

from __future__ import annotations

import os
import signal
import sys
import time
from pathlib import Path

from pyiceberg.table import Transaction

_commit = Transaction.commit_transaction
_fired = False


def _hooked(self: Transaction) -> object:
    global _fired
    if not _fired and type(self) is Transaction:  # not the CreateTableTransaction of a new table
        _fired = True
        mode = os.environ.get("PUBLISH_TEST_HOOK", "")
        if mode == "kill":
            os.kill(os.getpid(), signal.SIGKILL)
        if mode.startswith("barrier:"):
            _, folder, n = mode.split(":")
            Path(folder, str(os.getpid())).touch()
            deadline = time.monotonic() + 150
            while len(list(Path(folder).iterdir())) < int(n):
                if time.monotonic() > deadline:
                    raise SystemExit(f"barrier timeout: only {sorted(p.name for p in Path(folder).iterdir())} reached the commit")
                time.sleep(0.02)
    return _commit(self)


Transaction.commit_transaction = _hooked  # type: ignore[method-assign]

if __name__ == "__main__":
    from schemahub.cli import main

    sys.exit(main(sys.argv[1:]))
