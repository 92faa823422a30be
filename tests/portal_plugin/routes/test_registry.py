from __future__ import annotations

import importlib
import pkgutil

import portal_plugin.routes as routes_package
from portal_plugin.routes import ROUTE_MODULES


def test_every_route_module_is_registered_once() -> None:
    defined = []
    for info in pkgutil.iter_modules(routes_package.__path__):
        module = importlib.import_module(f"portal_plugin.routes.{info.name}")
        if hasattr(module, "routes"):
            defined.append(module)
    assert sorted(m.__name__ for m in defined) == sorted(m.__name__ for m in ROUTE_MODULES)
    assert len(ROUTE_MODULES) == len(set(ROUTE_MODULES))
