"""Fictitious people and organisations for the demo: names, addresses, INSZ and KBO numbers.

Everything here is invented; the numbers only satisfy the check digits.
"""

from __future__ import annotations

import random
from datetime import date, timedelta
from typing import Any, Final

FAMILY_NAMES: Final = (
    "Peeters",
    "Janssens",
    "Maes",
    "Jacobs",
    "Mertens",
    "Willems",
    "Claes",
    "Goossens",
    "Wouters",
    "De Smet",
    "Dubois",
    "Hermans",
    "Vermeulen",
    "Declercq",
    "Vandenberghe",
    "Lambrecht",
    "Desmet",
    "Vanneste",
    "Verhaeghe",
    "De Vos",
    "Van Damme",
    "Michiels",
)
NEWCOMER_FAMILY_NAMES: Final = (
    "Kovalenko",
    "Shevchenko",
    "Bondarenko",
    "Al-Hassan",
    "Ahmadi",
    "El Amrani",
    "Haddad",
    "Nowak",
    "Popescu",
    "Diallo",
    "Mensah",
    "Yilmaz",
)
GIVEN_NAMES: Final = (
    "An",
    "Lies",
    "Sofie",
    "Els",
    "Kevin",
    "Tom",
    "Jan",
    "Pieter",
    "Lotte",
    "Jens",
    "Nina",
    "Bram",
    "Sarah",
    "Dirk",
    "Ilse",
    "Wout",
    "Marie",
    "Lucas",
    "Emma",
    "Noah",
)
NEWCOMER_GIVEN_NAMES: Final = (
    "Olena",
    "Oksana",
    "Dmytro",
    "Andrii",
    "Fatima",
    "Ahmad",
    "Youssef",
    "Amina",
    "Mariam",
    "Ibrahim",
    "Agnieszka",
    "Ion",
)


def insz(rng: random.Random, birth: date) -> str:
    """A national register number (INSZ) for ``birth`` with valid check digits."""
    serial = rng.randint(1, 997)
    body = f"{birth:%y%m%d}{serial:03d}"
    base = int(("2" if birth.year >= 2000 else "") + body)
    return f"{body}{97 - base % 97:02d}"


def kbo(number: int) -> str:
    """A KBO enterprise number (0 + 7 digits + check) derived from ``number``."""
    body = f"0{number % 10_000_000:07d}"
    return f"{body}{97 - int(body) % 97:02d}"


def birth_date(rng: random.Random, on: date) -> date:
    """An adult between 18 and 64 on ``on``."""
    return on - timedelta(days=rng.randint(18 * 365 + 5, 64 * 365))


def name(rng: random.Random, newcomer: bool) -> tuple[str, str]:
    families = NEWCOMER_FAMILY_NAMES if newcomer else FAMILY_NAMES
    given = NEWCOMER_GIVEN_NAMES if newcomer else GIVEN_NAMES
    return rng.choice(families), rng.choice(given)


def address(
    rng: random.Random, municipality: str, postal_code: str, streets: tuple[str, ...]
) -> Any:
    return {
        "street": rng.choice(streets),
        "house_number": str(rng.randint(1, 180)),
        "box": rng.choice([None, None, None, "b1", "b2", "001"]),
        "postal_code": postal_code,
        "municipality": municipality,
    }


def household(rng: random.Random, category: str, on: date) -> list[dict[str, Any]]:
    """Members besides the applicant that fit the leefloon category."""
    if category == "gezinslast":
        children = rng.randint(1, 3)
        return [
            {
                "relation": "child",
                "birth_date": (on - timedelta(days=rng.randint(200, 17 * 365))).isoformat(),
                "dependent": True,
            }
            for _ in range(children)
        ]
    if category == "samenwonend":
        relation = rng.choice(["partner", "parent", "sibling", "other"])
        adult = on - timedelta(days=rng.randint(20 * 365, 70 * 365))
        return [{"relation": relation, "birth_date": adult.isoformat(), "dependent": False}]
    return []
