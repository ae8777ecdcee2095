"""AppTest of the controls beyond accuracy on Similar movies, Mood search and Live personalization
(real ml-100k, every space built; the measured figures come from the published evaluation)."""

from __future__ import annotations

import json

import pytest

from tests.app.test_pages import STAR_WARS, TOY_STORY, frame, page, table_titles

pytestmark = pytest.mark.slow

RETURN_OF_THE_JEDI, EMPIRE = 181, 172


def _chart(at, key: str) -> dict:
    """The Plotly spec of the chart drawn with ``key``."""
    for el in at.get("plotly_chart"):
        if el.key == key:
            return json.loads(el.proto.spec)
    raise AssertionError(f"no chart {key}")


def _interests(at, clicks: list[int]) -> int:
    """How many interests the page's space makes of ``clicks`` at the split cosine the page uses."""
    from engine.recsys.taste import SPLIT_COSINE, interests
    from ui.evaluation import beyond
    from ui.resources import engine

    model = at.radio(key="taste_model").value
    more = beyond(engine())
    split = (more.strategies.split_for(model) if more is not None else None)
    sp = engine().space(model)
    return len(interests(sp.unit[sp.rows(clicks)], split_below=SPLIT_COSINE if split is None else split)[0])


def test_similar_mmr_debias_and_support(built):
    at = page("similar")
    at.selectbox(key="similar_movie").set_value(STAR_WARS).run()
    plain = table_titles(at, "similar_table_mf")
    assert "ratings" in frame(at, "similar_table_mf").columns                 # support behind collaborative rows
    assert "ratings" not in frame(at, "similar_table_text").columns
    spec = _chart(at, "similar_mmr_chart")
    assert any(tr.get("marker", {}).get("line", {}).get("color") == "#d62728" for tr in spec["data"])   # current λ
    at.select_slider(key="similar_lambda").set_value(0.5).run()
    div = table_titles(at, "similar_table_mf")
    assert len(div) == 10 and div != plain and div[0] == plain[0]              # MMR keeps the best, then spreads
    n = len(at.dataframe)
    at.toggle(key="similar_debias").set_value(True).run()
    assert len(at.dataframe) == n + 2                                          # MF and SASRec debiased lists
    assert any("NDCG@10" in c.value and "→" in c.value for c in at.caption)    # with their measured effect


def test_similar_warns_below_the_measured_support(built):
    from ui.resources import movies

    at = page("similar")
    rare = int(movies().query("n_ratings == 1")["movie_id"].iloc[0])
    at.selectbox(key="similar_movie").set_value(rare).run()
    assert any("only 1 ratings" in w.value for w in at.warning)
    assert at.subheader[0].value.startswith("Text")                            # the content space first


def test_mood_mmr_changes_the_lists(built):
    at = page("mood")
    at.text_input(key="mood_query").set_value("a heartwarming space adventure").run()
    plain = table_titles(at, 0)
    at.select_slider(key="mood_lambda").set_value(0.5).run()
    div = table_titles(at, 0)
    assert len(div) == 10 and div != plain
    assert _chart(at, "mood_mmr_chart")["data"]


def test_personalize_strategies_stars_and_genre_share(built):
    at = page("personalize", clicks=[STAR_WARS, TOY_STORY])
    radio = at.radio(key="taste_strategy")
    assert len(radio.options) == 3
    assert all("NDCG@10" in o for o in radio.options)                          # each with its measured figure
    assert any("Chosen on validation" in c.value for c in at.caption)
    avg = table_titles(at, "taste_recs")
    radio.set_value("multi").run()
    n = _interests(at, [STAR_WARS, TOY_STORY])             # at the split cosine chosen on validation
    assert (table_titles(at, "taste_recs") != avg) == (n > 1)  # one interest: the average's list
    stars = [tr for tr in _chart(at, "taste_map_chart")["data"] if tr.get("marker", {}).get("symbol") == "star"]
    assert len(stars[0]["x"]) == n                                             # one star per interest
    at.select_slider(key="taste_lambda").set_value(0.5).run()
    assert len(table_titles(at, "taste_recs")) == 10
    at.multiselect(key="clicks_widget").set_value([STAR_WARS, RETURN_OF_THE_JEDI, EMPIRE]).run()
    assert any("Your last three clicks share" in m.value for m in at.markdown)
    assert any("test users whose last three clicks share a genre" in c.value for c in at.caption)
