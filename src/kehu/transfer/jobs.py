"""The transfer app's job kinds, found by jobs' autodiscovery of `<app>.jobs`.

Importing the modules that define them registers them: the export's, and the import's
(dry run and import share `transfer.import`; undo is `transfer.undo`).
"""

from kehu.transfer import importing  # noqa: F401  (registers transfer.import, transfer.undo)
from kehu.transfer.export import jobs as export_jobs  # noqa: F401  (registers transfer.export)
