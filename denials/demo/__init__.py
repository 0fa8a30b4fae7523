"""Example data for ``load_demo``, the benchmarks and the tests; not used by the product.

Every payer, practice, physician, patient and identifier here is invented:

- ``parties``: the demo payers and practices, and the NPI / routing-number check digits;
- ``scenarios``: the chargemaster, code sets, ``NCCI_PAIRS``, the clinical scenarios and
  the denial weights;
- ``remittances``: the balanced X12 835 generator (``generate_835``, ``generate_demo_files``)
  and its command line, ``python -m denials.demo.remittances``.

Nothing here imports Django; the NCCI side of the demo lives in ``ncci.demo``.
"""
