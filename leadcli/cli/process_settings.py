"""Process-wide settings an import wants, set by the application and given back after.

The library changes nothing that belongs to the whole process (another program embedding it
may rely on its own values); the command line owns its process, so it sets them here, for
the length of the work, and restores them whatever happens.
"""

from __future__ import annotations

import contextlib
import csv
import sys
from collections.abc import Iterator

#: How long (seconds) a thread may keep the GIL while another waits. An import converts rows
#: on one thread while SQLite inserts the previous ones on another (it releases the GIL as it
#: runs a statement); with Python's default of 5 ms the converting thread keeps the GIL up to
#: 5 ms after each insert finished, leaving the inserting thread idle.
IMPORT_SWITCH_INTERVAL = 0.0005


@contextlib.contextmanager
def import_settings() -> Iterator[None]:
    """The CSV field-size limit raised (long notes are normal) and a short GIL switch
    interval, while the block runs; both back to what they were after it."""
    from leadcli.importing.readers import FIELD_SIZE_LIMIT

    field_limit = csv.field_size_limit()
    interval = sys.getswitchinterval()
    csv.field_size_limit(max(field_limit, FIELD_SIZE_LIMIT))
    sys.setswitchinterval(IMPORT_SWITCH_INTERVAL)
    try:
        yield
    finally:
        csv.field_size_limit(field_limit)
        sys.setswitchinterval(interval)
