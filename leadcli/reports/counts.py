"""The counts most reports are made of, read once per report run and shared.

Per raw source spelling, stage and reach (how far a lead got, see ``filters.reached``), the
leads, their value and their total age: over every lead as it is, summed from the cells kept
as leads change (``leads.cells``); filtered or as of a day, one query over ``base``, grouped
in the order of the lead index (``leads_report``) so SQLite streams the groups without
sorting.

The funnel, the pipeline's win rates, the overview and the sources report are sums of these
few rows, made in Python. ``overview`` shows the pipeline and the funnel: both read the one
set of counts, kept on ``base`` for the run.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass

from leadcli.pipeline.stages import STAGES
from leadcli.reports.filters import Base, reached
from leadcli.text import dates

CUSTOMER_RANK = STAGES.index("customer")


@dataclass(frozen=True)
class Cell:
    leads: int
    #: Their value in whole cents (each lead's rounded half to even, ``leads.cells``): cells
    #: add up exactly, and become an amount only when shown.
    cents: int
    #: Of ``leads``: those with a value (an average value is ``value`` over these).
    valued: int
    #: The sum of the leads' ages in days at the report's moment (an average is this over
    #: ``leads``).
    age_days: float

    @property
    def value(self) -> float:
        """The total value as an amount."""
        return self.cents / 100


@dataclass(frozen=True)
class Counts:
    #: (raw source, stage, rank reached) -> leads. The rank is how far they got
    #: (``filters.reached``): 0 = prospect ... 5 = customer; a lost lead's is the furthest
    #: stage it reached before it was lost.
    cells: dict[tuple[str | None, str, int], Cell]
    #: The cells' ``age_days`` were read (else they are 0).
    ages: bool = False

    def by_stage(self) -> dict[str, Cell]:
        """Per stage, every source together (stages without leads: zeros)."""
        out = {stage: EMPTY for stage in STAGES}
        for (_, stage, _), cell in self.cells.items():
            out[stage] = _add(out[stage], cell)
        return out

    def reached(self, *, by_value: bool = False) -> list[float]:
        """Per rank 0 (prospect) ... 5 (customer): the leads whose furthest stage it is (their
        value with ``by_value``); every lead counts once."""
        out = [0] * (CUSTOMER_RANK + 1)
        for (_, _, rank), cell in self.cells.items():
            out[rank] += cell.cents if by_value else cell.leads
        return [n / 100 for n in out] if by_value else [float(n) for n in out]

    def lost_reached(self) -> list[int]:
        """Per rank: the lost leads that got that far and no further."""
        out = [0] * (CUSTOMER_RANK + 1)
        for (_, stage, rank), cell in self.cells.items():
            if stage == "lost":
                out[rank] += cell.leads
        return out


def counts(conn: sqlite3.Connection, base: Base, *, ages: bool = False) -> Counts:
    """The run's counts, read once (``overview`` asks for them three times). The leads'
    ages (a date to read for each lead: a third of the pass) only when ``ages`` asks."""
    if base.counts is None or (ages and not base.counts.ages):
        # Ages add up in whole seconds (integers: exact, however many leads), one date read
        # a lead; a day is 86,400 of them. The kept cells hold them already.
        ages = ages or base.filter.whole
        moment = dates.from_store(base.params["moment"]).timestamp()
        cells: dict[tuple[str | None, str, int], Cell] = {}
        found = base.grouped(
            conn,
            "source, stage, reach, sum(leads), total(cents), sum(valued), "
            + ("sum(created)" if ages else "0"),
            "source, stage, reach",
        )
        for source, stage, reach, n, cents, valued, created_sum in found:
            age_days = (n * moment - created_sum) / 86400 if ages else 0.0
            key = (source, stage, reached(stage, reach))
            # total(): exact below 2**53 cents, and never SQLite's integer overflow error;
            # a filtered set's cents are unrounded (``leads.cells.LEAD_AS_CELL``).
            cell = Cell(n, round(cents), valued, age_days)
            cells[key] = _add(cells.get(key, EMPTY), cell)
        base.counts = Counts(cells, ages)
    return base.counts


EMPTY = Cell(0, 0, 0, 0.0)


def _add(a: Cell, b: Cell) -> Cell:
    return Cell(a.leads + b.leads, a.cents + b.cents, a.valued + b.valued, a.age_days + b.age_days)
