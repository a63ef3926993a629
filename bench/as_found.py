"""Leave a bench's data directory as found: what a run rolled back in the database it must
also take back on disk.

A run that writes in a transaction it rolls back may still leave files next to the
database: a sheet an import stored under files/, and the development key file `keys`
(core.crypto writes one the first time a value must be sealed and no key is configured;
nothing sealed with it survives the rollback). `files_as_found()` removes whichever of them
the run created.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def files_as_found() -> Iterator[None]:
    """Around a rolled-back run (Django set up): afterwards, remove the key file if it was
    not there before, and what was added under MEDIA_ROOT (the folder itself if it was new)."""
    from django.conf import settings

    keys, media = Path(settings.KEHU_KEY_FILE), Path(settings.MEDIA_ROOT)
    had_keys, had_media = keys.exists(), media.exists()
    before = set(media.rglob("*")) if had_media else set()
    try:
        yield
    finally:
        if not had_keys and keys.exists():
            keys.unlink()
        if not had_media:
            shutil.rmtree(media, ignore_errors=True)
        else:
            for path in sorted(set(media.rglob("*")) - before, reverse=True):
                if path.is_dir():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
