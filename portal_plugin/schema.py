"""Every table of every package, gathered on one MetaData for Alembic and for tests.

Each package that owns tables adds its models import here.
"""

from __future__ import annotations

import analytics.models  # noqa: F401
import billing.models  # noqa: F401
import marketplace.delivery.models
import marketplace.models  # noqa: F401
import portal_plugin.worker.models  # noqa: F401
from marketplace.db import Base

metadata = Base.metadata
