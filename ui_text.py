"""Every piece of UI text in English and Korean.  ``app_state.t(key)`` picks one."""

TEXT: dict[str, dict[str, str]] = {
    "app_title": {"en": "MovieDNA", "ko": "MovieDNA"},
    "dataset": {"en": "Data set", "ko": "데이터셋"},
    "loading_data": {"en": "Loading {name} (first time: download, verify, cache)…",
                     "ko": "{name} 불러오는 중 (처음 한 번: 다운로드, 검증, 캐시)…"},
    "page_home": {"en": "Home", "ko": "홈"},
    "page_similar": {"en": "Similar movies", "ko": "비슷한 영화"},
    "page_mood": {"en": "Mood search", "ko": "분위기 검색"},
    "page_personal": {"en": "Live personalization", "ko": "실시간 개인화"},
    "page_explorer": {"en": "Embedding explorer", "ko": "임베딩 탐색기"},
    "page_pipeline": {"en": "Retrieval + ranking", "ko": "검색 + 랭킹"},
    "page_scale": {"en": "Scale lab", "ko": "규모 실험실"},
    "home_intro": {
        "en": "Every movie has a different **DNA** in each model: **MF** (what it is rated like), "
              "**SASRec** (what is watched next) and **Text** (what it is about). MovieDNA stores each "
              "model's vectors separately in SQLite, indexes them with FAISS, and shows what a vector "
              "database does for a recommender.",
        "ko": "영화는 모델마다 다른 **DNA**를 가집니다: **MF** (어떻게 평가되는가), **SASRec** (다음에 무엇을 "
              "보는가), **Text** (무엇에 관한 영화인가). MovieDNA는 모델별 벡터를 SQLite에 따로 저장하고 "
              "FAISS로 색인하여, 벡터 데이터베이스가 추천 시스템에 무엇을 해 주는지 보여 줍니다.",
    },
    "movies": {"en": "Movies", "ko": "영화"},
    "users": {"en": "Users", "ko": "사용자"},
    "ratings": {"en": "Ratings", "ko": "평점"},
    "source": {"en": "Source", "ko": "출처"},
    "hash_check": {"en": "Hash check", "ko": "해시 검증"},
    "genre_dist": {"en": "Movies per genre", "ko": "장르별 영화 수"},
    "rating_hist": {"en": "Rating distribution", "ko": "평점 분포"},
    "genre": {"en": "Genre", "ko": "장르"},
    "count": {"en": "Count", "ko": "개수"},
    "rating": {"en": "Rating", "ko": "평점"},
}
