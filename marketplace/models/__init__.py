"""The marketplace's tables. Importing this package registers them on `Base.metadata`."""

from marketplace.models.ad_choices import ResidentAdChoice, ResidentHiddenShop
from marketplace.models.articles import Article
from marketplace.models.audit import AuditEntry, PortalSettings
from marketplace.models.bookings import Booking, MarketplaceEvent
from marketplace.models.creatives import Creative, CreativeVersion, FlyerPage
from marketplace.models.events import InteractionEvent
from marketplace.models.house_ads import HouseAd, HouseAdCount
from marketplace.models.inventory import InventoryHold, InventoryWeek, Placement
from marketplace.models.login_failures import LoginFailure
from marketplace.models.residents import Resident
from marketplace.models.shop_accounts import ShopApiToken, ShopUser
from marketplace.models.shops import Shop
from marketplace.models.staff import StaffUser

__all__ = [
    "Article",
    "AuditEntry",
    "Booking",
    "Creative",
    "CreativeVersion",
    "FlyerPage",
    "HouseAd",
    "HouseAdCount",
    "InteractionEvent",
    "InventoryHold",
    "InventoryWeek",
    "LoginFailure",
    "MarketplaceEvent",
    "Placement",
    "PortalSettings",
    "Resident",
    "ResidentAdChoice",
    "ResidentHiddenShop",
    "Shop",
    "ShopApiToken",
    "ShopUser",
    "StaffUser",
]
