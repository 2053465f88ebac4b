"""``python -m rdpipe`` with plain back-off at the relay's concurrency gate, for the gate bench.

Usage: ``python bench/_plain_backoff.py run FILE [options]``, the arguments of ``rdpipe``.

The command is rdpipe's own, unchanged but for one thing: the scheduler options the session
builds for a run (:func:`rdpipe.session.running.scheduler_options`) get
``adaptive_gate=False``, so every request a gate answers with 429 only waits its own back-off
and the bound on requests in flight stays at the run's task concurrency. There is no
command-line option for that on purpose (plain back-off is the baseline the adaptive gate is
measured against, not a mode anyone should run), so this wrapper replaces that function in its
module, which the session looks up at each run, before rdpipe's entry point starts.
"""

from __future__ import annotations

import runpy
import sys
from dataclasses import replace
from typing import Any

from rdpipe.scheduler.options import SchedulerOptions
from rdpipe.session import running


def main() -> None:
    chosen = running.scheduler_options

    def plain_backoff(*args: Any, **kwargs: Any) -> SchedulerOptions:
        return replace(chosen(*args, **kwargs), adaptive_gate=False)

    running.scheduler_options = plain_backoff
    sys.argv = ["rdpipe", *sys.argv[1:]]
    runpy.run_module("rdpipe", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
