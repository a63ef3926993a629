"""Data quality (数据质量): how complete each customer is, how long since anyone looked at it,
and which stored values the customers' own cleaners would refuse today.

- `models.py`     the settings row, the per-customer row, verifications, daily snapshots
- `scoring.py`    the weights and the completeness score, set-based in SQL
- `checking.py`   re-validation of stored values with `customers.cleaning`
- `services.py`   writes: settings, "信息已核实", refreshing a few or all customers
- `selectors.py`  reads for the page, the card and the API, always within the viewer's gate
- `conditions.py` `quality.*` fields of the one filter definition
- `triggers.py`   re-scoring after a customer's writes, debounced
- `jobs.py`       the nightly run (score, re-validate, snapshot) and the debounced refresh

See docs/architecture.md, "Data quality".
"""
