"""The marketplace's tables. Importing this package registers them on `Base.metadata`."""

from marketplace.models.articles import Article
from marketplace.models.events import InteractionEvent
from marketplace.models.residents import Resident
from marketplace.models.shops import Shop
from marketplace.models.staff import StaffUser

__all__ = ["Article", "InteractionEvent", "Resident", "Shop", "StaffUser"]
