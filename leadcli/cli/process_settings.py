"""Process-wide settings an import wants, set by the application and given back after.

The library changes nothing that belongs to the whole process (another program embedding it
may rely on its own values); the command line owns its process, so it sets them here, for
the length of the work, and restores them whatever happens.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import sys
from collections.abc import Iterator

#: How long (seconds) a thread may keep the GIL while another waits. An import converts rows
#: on one thread while SQLite inserts the previous ones on another (it releases the GIL as it
#: runs a statement); with Python's default of 5 ms the converting thread keeps the GIL up to
#: 5 ms after each insert finished, leaving the inserting thread idle.
IMPORT_SWITCH_INTERVAL = 0.0005


@contextlib.contextmanager
def import_settings() -> Iterator[None]:
    """The CSV field-size limit raised (long notes are normal), a short GIL switch interval
    and the cyclic garbage collector paused, while the block runs; all back to what they
    were after it.

    The collector: a load creates millions of objects (each chunk's values, received from
    the worker), none of them in a reference cycle, and every few thousand allocations the
    collector walked the young ones, and now and then every object alive: about a second of
    a million-row import, on the thread that feeds the inserts. Reference counting still
    frees everything the load lets go of."""
    from leadcli.importing.readers import FIELD_SIZE_LIMIT

    field_limit = csv.field_size_limit()
    interval = sys.getswitchinterval()
    collecting = gc.isenabled()
    csv.field_size_limit(max(field_limit, FIELD_SIZE_LIMIT))
    sys.setswitchinterval(IMPORT_SWITCH_INTERVAL)
    gc.disable()
    try:
        yield
    finally:
        if collecting:
            gc.enable()
        csv.field_size_limit(field_limit)
        sys.setswitchinterval(interval)
