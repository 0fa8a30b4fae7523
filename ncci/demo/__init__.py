"""Example NCCI data for benchmarks and tests; not used by the product.

``cms_files`` writes a made-up PTP quarter and MUE table in the exact CMS file layout
(``python -m ncci.demo.cms_files``), because the real files sit behind the AMA licence
click-through and cannot be downloaded by a benchmark.
"""
