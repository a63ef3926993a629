"""The REST API under /api/v1/, assembled: one NinjaAPI, a router per app.

Every operation requires a bearer token or a signed-in session (`accounts.auth`); the
API's shape — errors, input rules, documentation — is `kehu.api.site`. Only the
project's configuration imports every app's router; no app imports this module.
"""

from __future__ import annotations

from kehu.accounts.api import router as accounts_router
from kehu.accounts.auth import AUTH, docs_gate
from kehu.api.site import make_api
from kehu.classification.api import router as classification_router
from kehu.classification.settings_api import router as classification_settings_router
from kehu.customers.api import contacts_router, customers_router
from kehu.customers.merge_api import merges_router
from kehu.customers.quality.api import quality_router
from kehu.customers.segments_api import segments_router
from kehu.followup.api import router as followup_router
from kehu.history.api import router as history_router
from kehu.pool.api import router as pool_router
from kehu.privacy.api import router as privacy_router

api = make_api(auth=AUTH, docs_decorator=docs_gate)
api.add_router("/", accounts_router)
api.add_router("/", customers_router)
api.add_router("/", contacts_router)
api.add_router("/", merges_router)
api.add_router("/", segments_router)
api.add_router("/", quality_router)
api.add_router("/", history_router)
api.add_router("/", classification_router)
api.add_router("/", classification_settings_router)
api.add_router("/", followup_router)
api.add_router("/", pool_router)
api.add_router("/", privacy_router)
