"""Importing lead files: reading any encoding and layout, mapping columns, validating,
de-duplicating and loading in one transaction, recorded as an undoable batch.

``readers`` turns bytes into header + rows; ``mapping`` decides what each column means;
``rows`` turns cells into lead values (or a reason to reject); ``loader`` writes them.
"""
