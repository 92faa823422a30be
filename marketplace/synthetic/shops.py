"""Synthetic local shops: Japanese names with katakana readings, contacts, invoice numbers."""

from __future__ import annotations

import numpy as np
import pandas as pd

from marketplace.accounts.registration_number import make_invoice_registration_number
from marketplace.synthetic.affinity import DISTRICT_KEYS, DISTRICT_WEIGHTS
from marketplace.synthetic.text import (
    BRANCH_SUFFIXES,
    FAMILY_NAMES,
    GIVEN_NAMES,
    PLACE_PARTS,
    SHOP_SUFFIXES,
)
from marketplace.vocab import SHOP_CATEGORIES

# Relative number of shops per category in a regional castle town.
SHOP_CATEGORY_WEIGHTS: dict[str, float] = {
    "restaurant": 18,
    "sake-brewery": 5,
    "confectionery": 7,
    "lacquerware": 5,
    "retail": 10,
    "beauty": 9,
    "clinic": 7,
    "childcare": 4,
    "education": 4,
    "real-estate": 5,
    "auto": 6,
    "construction": 7,
    "hotel": 5,
    "services": 5,
    "agriculture": 3,
}
IN_CITY_RATE = 0.85
INVOICE_REGISTERED_RATE = 0.70
APPROVED_RATE = 0.88


def _unique_name(name: tuple[str, str], taken: set[str]) -> tuple[str, str]:
    if name[0] not in taken:
        return name
    for branch in BRANCH_SUFFIXES:
        candidate = (name[0] + branch[0], name[1] + branch[1])
        if candidate[0] not in taken:
            return candidate
    for first in BRANCH_SUFFIXES:
        for second in BRANCH_SUFFIXES:
            candidate = (name[0] + first[0] + second[0], name[1] + first[1] + second[1])
            if candidate[0] not in taken:
                return candidate
    raise RuntimeError(f"ran out of branch names for {name[0]}; add more name parts")


def generate_shops(rng: np.random.Generator, n: int) -> pd.DataFrame:
    keys = list(SHOP_CATEGORIES)
    weights = np.array([SHOP_CATEGORY_WEIGHTS[k] for k in keys], dtype=np.float64)
    category_idx = rng.choice(len(keys), size=n, p=weights / weights.sum())
    district_w = np.array([DISTRICT_WEIGHTS[d] for d in DISTRICT_KEYS], dtype=np.float64)
    district_idx = rng.choice(len(DISTRICT_KEYS), size=n, p=district_w / district_w.sum())
    in_city = rng.random(n) < IN_CITY_RATE
    registered = rng.random(n) < INVOICE_REGISTERED_RATE
    approved = rng.random(n) < APPROVED_RATE
    taken: set[str] = set()
    rows = []
    for i in range(n):
        category = keys[int(category_idx[i])]
        suffix = SHOP_SUFFIXES[category][int(rng.integers(len(SHOP_SUFFIXES[category])))]
        # Half the shops are named after a place, half after the owner's family.
        parts = PLACE_PARTS if rng.random() < 0.5 else FAMILY_NAMES
        head = parts[int(rng.integers(len(parts)))]
        name, kana = _unique_name((head[0] + suffix[0], head[1] + suffix[1]), taken)
        taken.add(name)
        family = FAMILY_NAMES[int(rng.integers(len(FAMILY_NAMES)))][0]
        given = GIVEN_NAMES[int(rng.integers(len(GIVEN_NAMES)))]
        area = "0242" if in_city[i] else "024"
        local = f"{int(rng.integers(20, 99))}-{int(rng.integers(0, 10_000)):04d}"
        if area == "024":
            local = f"{int(rng.integers(200, 999))}-{int(rng.integers(0, 10_000)):04d}"
        invoice = None
        if registered[i]:
            invoice = make_invoice_registration_number(f"{int(rng.integers(0, 10**12)):012d}")
        rows.append(
            {
                "business_name": name,
                "business_name_kana": kana,
                "category": category,
                "district": DISTRICT_KEYS[int(district_idx[i])],
                "in_city": bool(in_city[i]),
                "contact_name": f"{family} {given}",
                "contact_email": f"shop{i + 1:04d}@example.jp",
                "contact_phone": f"{area}-{local}",
                "invoice_registration_number": invoice,
                "status": "approved" if approved[i] else "pending",
            }
        )
    return pd.DataFrame(rows)
