"""How much one run does at once, each default and bound stated once.

The pipeline file's ``concurrency:`` (:class:`rdpipe.model.Concurrency`), the scheduler's own
defaults (:class:`rdpipe.scheduler.SchedulerOptions`) and ``rdpipe run --concurrency`` read
these. A module of plain numbers, so that the command line and the scheduler read them without
loading the pipeline model (pydantic).
"""

from __future__ import annotations

#: Generation tasks in flight at once (submitted, not yet finished) unless the file or
#: ``--concurrency`` says otherwise.
DEFAULT_TASKS = 4
#: The most tasks in flight the file or ``--concurrency`` may ask for.
MAX_TASKS = 256
#: Clip downloads at once unless the file says otherwise.
DEFAULT_DOWNLOADS = 4
#: The most clip downloads at once the file may ask for.
MAX_DOWNLOADS = 64
