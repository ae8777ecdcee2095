import pytest

from engine.data.titles import parse_title


@pytest.mark.parametrize("raw, title, year", [
    ("Shawshank Redemption, The (1994)", "The Shawshank Redemption", 1994),
    ("Toy Story (1995)", "Toy Story", 1995),
    ("Big Lebowski, The (1998) ", "The Big Lebowski", 1998),
    ("Appartement, L' (1996)", "L'Appartement", 1996),
    ("Misérables, Les (1995)", "Les Misérables", 1995),
    ("City of Lost Children, The (Cité des enfants perdus, La) (1995)",
     "The City of Lost Children (La Cité des enfants perdus)", 1995),
    ("Twelve Monkeys (a.k.a. 12 Monkeys) (1995)", "Twelve Monkeys (a.k.a. 12 Monkeys)", 1995),
    ("Cosmos (1980–)", "Cosmos", 1980),
    ("unknown", "unknown", None),
    ("Stranger Things", "Stranger Things", None),
])
def test_parse_title(raw, title, year):
    assert parse_title(raw) == (title, year)
