"""The transfer app's job kinds, found by jobs' autodiscovery of `<app>.jobs`.

The export's kinds live in its own package; importing it here registers them.
"""

from kehu.transfer.export import jobs as export_jobs  # noqa: F401  (registers transfer.export)
