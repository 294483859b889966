"""The law and its enforcement (issue #12): laws, enforcement outcomes and programs by jurisdiction,
read from the statement store, and the questions they answer.

What other parts of cruce (the CLI, the API, the pages, the public portal) use:

- ``records.LegalData.load(store, imports=None)``: the records of the finished imports (or of the
  imports a user may see); ``LegalData(records)`` for records made in memory;
- ``questions``: ``laws``, ``in_force``, ``in_force_by_year`` (the map over time), ``timeline``,
  ``outcomes``, ``before_after``, ``funding``, ``beside`` — pure functions of a ``LegalData`` that
  return JSON-ready rows, each naming its records and their sources;
- ``flows.counts(store, jurisdiction, imports)``: yearly counts of the flows to set beside a
  jurisdiction's legal timeline;
- ``claims.load_claims()`` and ``claims.check(data, claims)``: published figures beside what the
  records compute;
- ``seed.load_seed(store)``: the shipped public laws and figures; ``edit.write_record``: a record
  entered or corrected by hand, written through its import mapping.
"""
