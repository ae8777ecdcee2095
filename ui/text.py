"""Every piece of UI text in English and Korean; :func:`t` picks one by the session's language."""

from typing import TYPE_CHECKING

import streamlit as st

if TYPE_CHECKING:  # pragma: no cover
    from engine.core.notes import Note

_E = {
    "dataset": ("Data set", "데이터셋"),
    "backend": ("Vector database", "벡터 데이터베이스"),
    "backend_help": ("Where searches run: FAISS in this process, PostgreSQL + pgvector, or Milvus. Only the backends "
                     "the operator enabled (MOVIEDNA_BACKENDS) are listed. Same vectors, same answers.",
                     "검색이 실행되는 곳: 이 프로세스의 FAISS, PostgreSQL + pgvector, 또는 Milvus. 운영자가 켠 "
                     "백엔드(MOVIEDNA_BACKENDS)만 보입니다. 같은 벡터, 같은 답."),
    "backend_refused": ("The link asks for the {name} vector backend, which is not enabled on this server; using "
                        "{enabled} instead.",
                        "링크가 요청한 벡터 백엔드 {name}은(는) 이 서버에서 켜져 있지 않습니다. 대신 {enabled}을(를) 씁니다."),
    "dataset_refused": ("The link asks for the data set {name}, which is not available on this server; showing "
                        "{default} instead.",
                        "링크가 요청한 데이터셋 {name}은(는) 이 서버에서 쓸 수 없습니다. 대신 {default}을(를) 보여 줍니다."),
    "load_failed_remembered": ("This failure is remembered: the server tries again after {minutes} minutes, not on "
                               "every page load.",
                               "이 실패는 기억됩니다: 페이지를 열 때마다가 아니라 {minutes}분 뒤에 다시 시도합니다."),
    "loading_data": ("Loading {name} (first time: download, verify, cache)…", "{name} 불러오는 중 (처음 한 번: 다운로드, 검증, 캐시)…"),
    "page_home": ("Home", "홈"),
    "page_similar": ("Similar movies", "비슷한 영화"),
    "page_mood": ("Mood search", "분위기 검색"),
    "page_personal": ("Live personalization", "실시간 개인화"),
    "page_explorer": ("Embedding explorer", "임베딩 탐색기"),
    "page_pipeline": ("Retrieval + ranking", "검색 + 랭킹"),
    "page_scale": ("Scale lab", "규모 실험실"),
    "home_intro": (
        "Every movie has a different **DNA** in each model: **MF** (what it is rated like), **SASRec** (what is "
        "watched next) and **Text** (what it is about: MiniLM in English, USE in 16 languages). MovieDNA stores each model's vectors separately in SQLite, "
        "indexes them with FAISS, and shows what a vector database does for a recommender.",
        "영화는 모델마다 다른 **DNA**를 가집니다: **MF** (어떻게 평가되는가), **SASRec** (다음에 무엇을 보는가), "
        "**Text** (무엇에 관한 영화인가: 영어 MiniLM, 16개 언어 USE). MovieDNA는 모델별 벡터를 SQLite에 따로 저장하고 FAISS로 색인하여, "
        "벡터 데이터베이스가 추천 시스템에 무엇을 해 주는지 보여 줍니다."),
    "movies": ("Movies", "영화"),
    "users": ("Users", "사용자"),
    "ratings": ("Ratings", "평점"),
    "source": ("Source", "출처"),
    "hash_check": ("Hash check", "해시 검증"),
    "genre_dist": ("Movies per genre", "장르별 영화 수"),
    "rating_hist": ("Rating distribution", "평점 분포"),
    "genre": ("Genre", "장르"),
    "count": ("Count", "개수"),
    "rating": ("Rating", "평점"),
    # build and evaluation (home)
    "build_title": ("Embedding spaces", "임베딩 공간"),
    "build_missing": ("Not built yet: {models}. Building trains MF and SASRec and embeds every movie with MiniLM "
                      "and USE multilingual (about 3–5 minutes on 2 cores for ml-100k).",
                      "아직 만들지 않음: {models}. MF와 SASRec을 학습하고 MiniLM과 USE 다국어 인코더로 모든 영화를 "
                      "임베딩합니다 (ml-100k, 2코어 기준 약 3–5분)."),
    "build_button": ("Build missing models", "없는 모델 만들기"),
    "build_running": ("Building…", "만드는 중…"),
    "build_eta": (", about {secs:.0f} s left", ", 약 {secs:.0f}초 남음"),
    "build_done": ("Built in {secs:.0f} s.", "{secs:.0f}초 만에 완료."),
    "build_ok": ("Every space is built.", "모든 공간이 준비되었습니다."),
    "eval_title": ("How good is each space as a recommender?", "각 공간은 추천기로서 얼마나 좋은가?"),
    "eval_caption": ("Leave-one-out on the 5-core data: each user's last interaction is the test item. "
                     "**Sampled**: the test item among 100 random unseen movies (the SASRec paper's protocol). "
                     "**Full**: ranked against every movie, history excluded. The rows after the models are what the "
                     "pages do: the taste vector (average of the clicked movies' vectors) searched by cosine, and the "
                     "two stages (100 candidates, then a ranker); their figures are full ranking.",
                     "5-core 데이터의 leave-one-out: 각 사용자의 마지막 상호작용이 테스트 항목입니다. "
                     "**Sampled**: 본 적 없는 무작위 영화 100편 사이에서의 순위 (SASRec 논문 방식). "
                     "**Full**: 본 영화를 뺀 전체 영화 대상 순위. 모델 다음의 행은 페이지가 하는 일입니다: 취향 벡터"
                     "(클릭한 영화 벡터의 평균)를 코사인으로 검색, 그리고 두 단계 (후보 100개, 다음 랭커); 전체 순위 수치."),
    "eval_none": ("No evaluation stored yet: run `python -m engine evaluate`.",
                  "저장된 평가가 없습니다: `python -m engine evaluate` 를 실행하세요."),
    "tour_title": ("A tour", "둘러보기"),
    "tour": (
        "- **Similar movies** — one movie, its neighbours in MF | SASRec | MiniLM | USE side by side.\n"
        "- **Mood search** — type a feeling in any language; semantic, BM25 keyword and hybrid search side by side.\n"
        "- **Live personalization** — click movies; the taste vector (mean of their vectors) moves on the map.\n"
        "- **Embedding explorer** — UMAP maps of every space, lasso a cluster and see it in the others.\n"
        "- **Retrieval + ranking** — 100 candidates from the index, re-ranked by SASRec, with timings.\n"
        "- **Scale lab** — exact vs HNSW/IVF from 40k to 100 million vectors (measured): when do you need ANN?",
        "- **비슷한 영화** — 한 영화의 이웃을 MF | SASRec | MiniLM | USE 공간에서 나란히 봅니다.\n"
        "- **분위기 검색** — 어떤 언어로든 느낌을 입력하면 의미 검색, BM25 키워드 검색, 하이브리드 검색을 나란히 비교합니다.\n"
        "- **실시간 개인화** — 영화를 클릭하면 취향 벡터(클릭한 벡터의 평균)가 지도 위에서 움직입니다.\n"
        "- **임베딩 탐색기** — 공간별 UMAP 지도; 한 지도에서 고른 영화를 다른 지도에서도 봅니다.\n"
        "- **검색 + 랭킹** — 색인에서 후보 100편을 찾고 SASRec으로 다시 순위를 매깁니다 (단계별 시간).\n"
        "- **규모 실험실** — 4만에서 1억 벡터까지(실측) 정확 검색 vs HNSW/IVF: 언제 ANN이 필요한가?"),
    # shared
    "need_build": ("This page needs the {models} vectors. Build them on the Home page or with `python -m engine build`.",
                   "이 페이지에는 {models} 벡터가 필요합니다. 홈 페이지나 `python -m engine build` 로 만드세요."),
    "go_home_build": ("Go to Home to build", "홈에서 만들기"),
    "did_you_mean": ("Did you mean:", "혹시 이것인가요:"),
    "how_many": ("How many", "개수"),
    "timing": ("Timings: {parts}", "시간: {parts}"),
    "space": ("Space", "공간"),
    "url_clicks": ("clicked movies", "클릭한 영화"),
    "url_dislikes": ("disliked movies", "싫어요 영화"),
    "url_unknown_ids": ("The link names {what} this data set does not have ({ids}); they were left out.",
                        "링크에 이 데이터셋에 없는 {what}가 있어 제외했습니다 ({ids})."),
    "space_mf": ("MF — rated like", "MF — 평점 패턴"),
    "space_sasrec": ("SASRec — watched next", "SASRec — 다음 시청"),
    "space_text": ("Text — what it is about", "Text — 내용"),
    "space_use": ("USE — what it is about, in 16 languages", "USE — 내용 (16개 언어)"),
    "col_title": ("Title", "제목"),
    "col_year": ("Year", "연도"),
    "col_genres": ("Genres", "장르"),
    "col_score": ("Score", "점수"),
    "col_ratings": ("Ratings", "평점 수"),
    "col_because": ("Because you clicked", "클릭한 영화 때문에"),
    "col_move": ("Moved", "이동"),
    "col_before": ("Stage-1 rank", "1단계 순위"),
    "col_after": ("Final rank", "최종 순위"),
    "col_retrieval_score": ("Cosine (stage 1)", "코사인 (1단계)"),
    "col_rerank_score": ("SASRec score", "SASRec 점수"),
    "umap_running": ("Computing the {model} map (UMAP)…", "{model} 지도 계산 중 (UMAP)…"),
    "umap_first": ("The first map compiles UMAP (up to ~40 s); it is then cached on disk and never recomputed.",
                   "첫 지도는 UMAP을 컴파일합니다 (최대 약 40초). 이후 디스크에 저장되어 다시 계산하지 않습니다."),
    "umap_done": ("{model} map ready", "{model} 지도 준비됨"),
    "empty_query": ("Type a few words to search.", "검색할 단어를 입력하세요."),
    # similar
    "similar_caption": ("Nearest neighbours of one movie in each space (cosine, the movie itself excluded). "
                        "Highlighted rows appear in more than one space; click a row to make it the current movie.",
                        "각 공간에서 한 영화의 최근접 이웃 (코사인, 자기 자신 제외). 강조된 행은 둘 이상의 공간에 "
                        "나타납니다. 행을 클릭하면 그 영화로 바뀝니다."),
    "pick_movie": ("Movie", "영화"),
    "unknown_movie_param": ("The link asks for movie {movie}, which is not in this data set; showing {first} instead.",
                            "링크의 영화 {movie}는 이 데이터 세트에 없습니다. 대신 {first}을(를) 보여 줍니다."),
    "overlap_label": ("{a} ∩ {b}", "{a} ∩ {b}"),
    "overlap_help": ("How many of the top-k lists the two spaces share.", "두 공간의 top-k 목록이 공유하는 영화 수."),
    "shared_legend": ("Yellow rows: in more than one space's list.", "노란 행: 둘 이상의 공간 목록에 있음."),
    # mood
    "mood_caption": ("One query, three rankings: **semantic** (your words embedded by a text space's encoder — USE "
                     "multilingual or MiniLM — and the nearest movie descriptions), **keyword** (SQLite FTS5 BM25 over "
                     "titles, genres, tags and plot summaries; Korean split into words without particles) and **hybrid** (reciprocal-rank fusion, k = 60, of the text spaces that read "
                     "your language, and of BM25 when its best match holds every word of the query). The plain "
                     "SQL `LIKE` substring match, the keyword search most apps start with, is at the bottom for comparison.",
                     "하나의 질의, 세 가지 순위: **의미 검색** (텍스트 공간의 인코더 — USE 다국어 또는 MiniLM — 로 문장을 "
                     "임베딩해 가장 가까운 영화 설명을 찾음), **키워드** (제목·장르·태그·줄거리에 대한 SQLite FTS5 BM25, "
                     "한국어는 조사를 뗀 형태소로), "
                     "**하이브리드** (질의 언어를 읽는 텍스트 공간들과, 가장 잘 맞는 결과가 질의의 모든 단어를 담을 때의 BM25를 "
                     "역순위 융합, k = 60). 비교를 위해, 대부분의 앱이 처음 쓰는 SQL `LIKE` 부분 문자열 검색이 맨 아래에 있습니다."),
    "mood_input": ("Describe a mood", "분위기를 묘사하세요"),
    "mood_space": ("Text space", "텍스트 공간"),
    "mood_space_help": ("Automatic: a query that is not English (Hangul or another script, or another language) goes "
                        "to the multilingual USE space; English goes to the space the benchmark chose.",
                        "자동: 영어가 아닌 질의(한글 등 다른 문자나 다른 언어)는 다국어 USE 공간으로, 영어 질의는 "
                        "벤치마크로 고른 공간으로 갑니다."),
    "mood_space_auto": ("Automatic (by language)", "자동 (언어에 따라)"),
    "mood_space_use": ("USE multilingual (16 languages)", "USE 다국어 (16개 언어)"),
    "mood_space_text": ("MiniLM (English only)", "MiniLM (영어 전용)"),
    "served_by": ("Served by the **{space}** space ({encoder}); query language: {language}.",
                  "**{space}** 공간이 답했습니다 ({encoder}); 질의 언어: {language}."),
    "semantic_results": ("Semantic (vector search)", "의미 검색 (벡터)"),
    "bm25_results": ("Keyword (BM25)", "키워드 (BM25)"),
    "hybrid_results": ("Hybrid (RRF)", "하이브리드 (RRF)"),
    "like_baseline": ("Baseline: SQL LIKE (substring match, what most apps start with)", "기준선: SQL LIKE (부분 문자열 일치, 대부분의 앱이 처음 쓰는 방식)"),
    "encoding": ("Embedding the query…", "질의 임베딩 중…"),
    # personalize
    "personal_caption": ("Click movies you like. The taste vector is the average of their vectors (re-normalised); "
                         "recommendations are its nearest movies, each explained by the click it is closest to.",
                         "좋아하는 영화를 클릭하세요. 취향 벡터는 그 벡터들의 평균(다시 정규화)이며, 추천은 취향 벡터에 "
                         "가장 가까운 영화이고 가장 가까운 클릭으로 설명됩니다."),
    "click_means": ("A click means", "클릭의 의미"),
    "mode_like": ("👍 more like this", "👍 이런 영화 더"),
    "mode_dislike": ("👎 less like this", "👎 이런 영화 덜"),
    "rerank_toggle": ("Re-rank with SASRec", "SASRec으로 재순위"),
    "recency": ("Recency half-life (clicks)", "최근성 반감기 (클릭 수)"),
    "recency_off": ("off", "끔"),
    "clicked_movies": ("Clicked movies (search to add, × to remove)", "클릭한 영화 (검색해 추가, ×로 제거)"),
    "less_like_this": ("Less like this", "이런 영화 덜"),
    "search_to_add": ("Search a title…", "제목 검색…"),
    "clear_clicks": ("Start over", "처음부터"),
    "no_clicks_yet": ("No clicks yet: pick a movie below or search above.", "아직 클릭이 없습니다: 아래에서 고르거나 위에서 검색하세요."),
    "popular_start": ("Popular movies — click one", "인기 영화 — 하나를 클릭"),
    "recommended_for_you": ("Recommended", "추천"),
    "click_row_hint": ("Click a row to add it to your taste", "행을 클릭하면 취향에 추가됩니다"),
    "taste_map": ("Your taste on the {model} map", "{model} 지도 위의 취향"),
    "all_movies": ("all movies", "전체 영화"),
    "clicked": ("clicked", "클릭함"),
    "taste_vector": ("taste vector", "취향 벡터"),
    # explorer
    "explorer_caption": ("UMAP maps of each space. Lasso or box-select points in one map: the same movies light up in "
                         "every map (linked brushing).",
                         "공간별 UMAP 지도. 한 지도에서 올가미/사각형으로 고르면 같은 영화가 모든 지도에서 강조됩니다."),
    "colour_by": ("Colour by", "색상 기준"),
    "colour_genre": ("genre", "장르"),
    "colour_year": ("year", "연도"),
    "colour_popularity": ("popularity", "인기도"),
    "highlight_movies": ("Highlight movies", "강조할 영화"),
    "clear_selection": ("Clear selection", "선택 지우기"),
    "selected": ("selected", "선택됨"),
    "brush_hint": ("{n} movies selected. Drag a lasso in any map to select.", "{n}편 선택됨. 아무 지도에서나 올가미로 고르세요."),
    "agreement_title": ("Do the spaces agree?", "공간들은 서로 일치하는가?"),
    "agreement_caption": ("For every movie, the share of its 10 nearest neighbours that two spaces have in common.",
                          "모든 영화에 대해, 두 공간의 최근접 이웃 10편 중 겹치는 비율."),
    # pipeline
    "pipeline_caption": ("Stage 1 retrieves candidates nearest to your taste vector from a vector index; stage 2 re-ranks "
                         "only those with SASRec over your click sequence.",
                         "1단계는 벡터 색인에서 취향 벡터에 가까운 후보를 찾고, 2단계는 그 후보만 클릭 순서에 대한 "
                         "SASRec으로 다시 순위를 매깁니다."),
    "pipeline_no_taste": ("No taste yet: click movies on the Live personalization page, or use a demo taste.",
                          "아직 취향이 없습니다: 실시간 개인화 페이지에서 클릭하거나 데모 취향을 쓰세요."),
    "use_demo_taste": ("Use a demo taste (Star Wars fan)", "데모 취향 사용 (스타워즈 팬)"),
    "current_taste": ("Current taste:", "현재 취향:"),
    "stage1_space": ("Stage-1 space", "1단계 공간"),
    "n_candidates": ("Candidates", "후보 수"),
    "index_kind": ("Index", "색인"),
    "exact": ("exact", "정확"),
    "stage_taste": ("Taste vector", "취향 벡터"),
    "stage_retrieve": ("Stage 1: retrieve", "1단계: 검색"),
    "stage_retrieve_help": ("Top {n} by cosine from the index.", "색인에서 코사인 상위 {n}편."),
    "stage_rerank": ("Stage 2: {ranker}", "2단계: {ranker}"),
    "stage_rerank_help": ("{ranker} scores every candidate for your click sequence.", "{ranker}이(가) 클릭 순서에 대해 모든 후보를 점수화."),
    "ranker": ("Stage-2 ranker", "2단계 랭커"),
    "measured_curve": ("Measured on this data set: quality vs candidates", "이 데이터셋에서 측정: 후보 수에 따른 품질"),
    "measured_curve_caption": ("Leave-one-out test split (`python -m engine evaluate`): NDCG@10 of the final top 10 when "
                               "stage 1 ({space} taste vector) keeps C candidates and {ranker} orders them; 'all' = the "
                               "ranker alone. Bars: the median latency of both stages together. You use C = {n}.",
                               "Leave-one-out 테스트 분할 (`python -m engine evaluate`): 1단계 ({space} 취향 벡터)가 후보 C개를 "
                               "남기고 {ranker}이(가) 정렬할 때 최종 상위 10개의 NDCG@10; 'all' = 랭커 단독. 막대: 두 "
                               "단계를 합한 지연 시간 중앙값. 현재 C = {n}."),
    "measured_none": ("Not measured yet: run `python -m engine evaluate` to see quality vs candidates here.",
                      "아직 측정되지 않음: `python -m engine evaluate`를 실행하면 여기에 후보 수별 품질이 보입니다."),
    "taste_kind": ("Taste", "취향"),
    "taste_mean": ("average of my clicks", "내 클릭의 평균"),
    "taste_native": ("the model's own user vector", "모델 자체의 사용자 벡터"),
    "taste_ndcg": ("{label} (NDCG@{k} {v:.3f})", "{label} (NDCG@{k} {v:.3f})"),
    "taste_help": ("The guide's method is the average of the clicked movies' vectors, searched by cosine. The model's own "
                   "user vector (MF fold-in, SASRec's sequence state) is what the Home table measures. NDCG@10: measured "
                   "on the test split.", "가이드의 방법은 클릭한 영화 벡터의 평균을 코사인으로 검색하는 것입니다. 모델 자체의 "
                   "사용자 벡터(MF fold-in, SASRec 시퀀스 상태)는 홈 표가 측정하는 것입니다. NDCG@10: 테스트 분할에서 측정."),
    "stage_total": ("Total", "합계"),
    "reranked_list": ("Re-ranked candidates", "재순위된 후보"),
    "what_moved": ("What moved (top 20)", "순위 변화 (상위 20)"),
    "stage1_order": ("stage 1", "1단계"),
    "stage2_order": ("after SASRec", "SASRec 후"),
    "rank": ("rank", "순위"),
    "pipeline_summary": ("{moved} of {n} candidates changed position after re-ranking.", "재순위 후 {n}개 중 {moved}개의 위치가 바뀌었습니다."),
    # scale
    "scale_caption": ("Exact search compares the query with every vector; ANN indexes (HNSW graphs, IVF clusters) look "
                      "at a few. Synthetic clustered 64-d vectors (the hard distribution), measured on {where}.",
                      "정확 검색은 모든 벡터와 비교하고, ANN 색인(HNSW 그래프, IVF 클러스터)은 일부만 봅니다. "
                      "합성 클러스터 64차원 벡터(어려운 분포), 측정 환경: {where}."),
    "bigann_title": ("{n} vectors, measured (not estimated)", "{n}개 벡터, 추정이 아닌 실측"),
    "bigann_where": ("Measured on {where}; {d}-d vectors of the {dist} distribution. The "
                     "float32 vectors do not fit in RAM: exact search streams them from disk.",
                     "측정 환경: {where}; {dist}의 {d}차원 벡터. float32 벡터가 RAM에 들어가지 않아 "
                     "정확 검색은 디스크에서 읽어 가며 계산합니다."),
    "bigann_missing_dist": ("The 100-million row of the {dist} distribution has not been measured here: run "
                            "`python benchmarks/bench_100m.py --distribution {option}`.",
                            "{dist}의 1억 벡터 행은 아직 측정되지 않았습니다: "
                            "`python benchmarks/bench_100m.py --distribution {option}` 를 실행하세요."),
    "bigann_exact_disk": ("Exact, {n}, from disk (p50)", "정확 검색, {n}개, 디스크 (p50)"),
    "bigann_exact_disk_help": ("One query on one thread, the file's pages dropped from the page cache first; "
                               "the disk delivered {gbps} GB/s.",
                               "단일 질의, 단일 스레드, 파일의 페이지 캐시를 먼저 비움; 디스크 속도 {gbps} GB/s."),
    "bigann_exact_ram": ("Exact, {n}, in RAM (p50)", "정확 검색, {n}개, RAM (p50)"),
    "bigann_ratio_help": ("The largest prefix that fits in RAM beside the OS; from disk the same rows take {ratio}x longer.",
                          "OS와 함께 RAM에 들어가는 가장 큰 부분; 같은 행을 디스크에서 읽으면 {ratio}배 느립니다."),
    "bigann_ann": ("ANN at recall@10 ≥ 0.99 (p50)", "ANN, recall@10 ≥ 0.99 (p50)"),
    "bigann_ann_help": ("{factory}, the fastest measured setting reaching recall@10 0.99: nprobe {nprobe}, short list of 10 x {kf} "
                        "re-ranked exactly from the float32 file; recall {recall}.",
                        "recall@10 0.99에 도달한 가장 빠른 설정: nprobe {nprobe}, 10 x {kf}개 후보를 float32 파일로 "
                        "정확히 재정렬; recall {recall}. 색인: {factory}."),
    "bigann_speedup": ("Speed-up over exact from disk", "디스크 정확 검색 대비 속도 향상"),
    "bigann_build": ("{factory}: k-means {train} s, adding every vector {add} s; index {ram} GiB in RAM, {disk} GiB "
                     "on disk; build peak RSS {rss} GiB.",
                     "{factory}: k-means {train}초, 전체 벡터 추가 {add}초; 색인 RAM {ram} GiB, 디스크 {disk} GiB; "
                     "빌드 최대 RSS {rss} GiB."),
    "bigann_rerank": ("re-rank {n} from disk", "디스크에서 {n}개 재정렬"),
    "bigann_no_rerank": ("codes only", "코드만"),
    "bigann_curve": ("Recall@10 vs single-query latency at {n} vectors", "{n}개 벡터에서 Recall@10 대 단일 질의 지연"),
    "bigann_protocol": ("How this was measured", "측정 방법"),
    "scale_claims": ("**Brute force is milliseconds at movie-catalogue size; at 100 million vectors it is not — that is "
                     "where ANN indexes earn their keep.**",
                     "**영화 카탈로그 규모에서는 전수 검색도 몇 밀리초지만, 1억 벡터에서는 그렇지 않습니다 — 그때 ANN 색인이 필요합니다.**"),
    "exact_at": ("Exact, {n} vectors (p50)", "정확 검색, {n}개 (p50)"),
    "latency_vs_n": ("Single-query latency vs number of vectors (hard distribution)", "벡터 수에 따른 단일 질의 지연 (어려운 분포)"),
    "recall_vs_latency": ("Recall@10 vs latency (ANN settings, hard distribution)", "Recall@10 대 지연 (ANN 설정, 어려운 분포)"),
    "n_vectors": ("Vectors", "벡터 수"),
    "dimension": ("Dimension", "차원"),
    "all_measurements": ("All measurements", "모든 측정값"),
    "scale_best_caption": ("Fastest index setting at recall@10 ≥ 0.99 per size, against exact search timed in the same run "
                           "(timings of different runs are never divided).",
                           "크기별로 recall@10 ≥ 0.99 를 달성한 가장 빠른 인덱스 설정과, 같은 실행에서 잰 정확 검색의 비교 "
                           "(다른 실행의 시간끼리는 나누지 않습니다)."),
    "col_n": ("vectors", "벡터 수"),
    "col_index": ("index", "인덱스"),
    "col_exact_same_run": ("exact p50 (ms, same run)", "정확 검색 p50 (ms, 같은 실행)"),
    "col_speedup": ("speed-up", "속도 향상"),
    "col_run": ("run", "실행"),
    "bigann_protocol_text": (
        "100,000,000 vectors of the chosen distribution are generated in chunks into one float32 file on disk; exact top-10 of "
        "500 held-out queries is the ground truth. The IVF index (HNSW coarse quantizer, SQ8 codes) is trained on a "
        "sample and searched one query at a time on one thread; the short list is re-ranked with the exact rows read "
        "from the file, after its pages were dropped from the page cache. Exact search is timed from disk (page cache "
        "dropped) and in RAM over the largest prefix that fits. Full protocol: docs/SCALE.md, \"The 100-million row\".",
        "선택한 분포의 벡터 1억 개를 청크 단위로 디스크의 float32 파일 하나에 만들고, 따로 뗀 질의 500개의 정확한 "
        "top-10 을 정답으로 삼습니다. IVF 인덱스(HNSW 거친 양자화기, SQ8 코드)는 표본으로 학습하고 스레드 하나에서 "
        "질의를 하나씩 검색합니다. 후보 목록은 페이지 캐시를 비운 뒤 파일에서 읽은 정확한 벡터로 재정렬합니다. 정확 "
        "검색은 디스크(페이지 캐시 비움)와, RAM 에 들어가는 가장 큰 앞부분에서 잽니다. 전체 방법: docs/SCALE.md, "
        "\"The 100-million row\"."),
    "families_title": ("Index families on two distributions", "두 분포에서의 인덱스 계열"),
    "distribution": ("Distribution", "분포"),
    "dist_hard": ("hard", "어려운 분포"),
    "dist_real-like": ("real-like", "실제와 닮은 분포"),
    "dist_hard_what": ("hard: isotropic gaussian blobs around √n random centres; every direction is noise, so the "
                       "intrinsic dimension is close to the full one and a query's neighbours spread over many "
                       "clusters. ANN indexes find this the hardest.",
                       "어려운 분포: √n개 무작위 중심 주위의 등방성 가우시안 덩어리. 모든 방향이 잡음이라 내재 차원이 "
                       "전체 차원에 가깝고 질의의 이웃이 여러 클러스터에 흩어집니다. ANN 인덱스에 가장 어렵습니다."),
    "dist_real-like_what": ("real-like: a mixture of low-rank gaussians fitted to a built catalogue's own vectors "
                            "(skewed cluster sizes, few directions carrying most of the variance); its shape figures "
                            "are shown beside the real vectors'.",
                            "실제와 닮은 분포: 구축된 카탈로그의 실제 벡터에 맞춘 저차원 가우시안 혼합(치우친 클러스터 "
                            "크기, 분산 대부분을 가진 소수의 방향). 형태 지표를 실제 벡터의 것과 나란히 보입니다."),
    "families_where": ("Measured on the {dist} distribution, on {where}; load average at the start of each size: "
                       "{load}.",
                       "{dist} 분포에서 측정, 측정 환경: {where}; 크기별 시작 시 부하 평균: {load}."),
    "no_family_results": ("No index-family results for the {dist} distribution yet: run "
                          "`python benchmarks/bench_scale.py --distribution {dist}`.",
                          "{dist} 분포의 인덱스 계열 결과가 아직 없습니다: "
                          "`python benchmarks/bench_scale.py --distribution {dist}` 를 실행하세요."),
    "stats_caption": ("Shape of the vectors ({dist}): intrinsic dimension (TwoNN; principal components holding 90 % "
                      "of the variance) and neighbour distances (relative contrast: mean distance / nearest-neighbour "
                      "distance, higher is easier; mean cosine to the 10 nearest).",
                      "벡터의 형태({dist}): 내재 차원(TwoNN; 분산 90 %를 담는 주성분 수)과 이웃 거리(상대 대비: 평균 "
                      "거리 / 최근접 거리, 클수록 쉬움; 가장 가까운 10개와의 평균 코사인)."),
    "winners_caption": ("Fastest setting per size at recall@10 ≥ 0.95 and ≥ 0.99 ({dist} distribution); speed-up "
                        "against exact search of the same run. Up to 1M everything is in RAM and memory is the index "
                        "plus the float32 rows re-ranking reads. At 10M and 100M (bench_100m runs) memory is the index "
                        "alone: the re-ranked rows are read from the vector file on disk; exact search is in RAM at 10M "
                        "and streamed from disk at 100M.",
                        "크기별 recall@10 ≥ 0.95, ≥ 0.99 에서 가장 빠른 설정({dist} 분포). 속도 향상은 같은 실행의 정확 "
                        "검색 대비입니다. 1M 까지는 모두 RAM 에 있고, 메모리는 인덱스와 재정렬에 쓰는 float32 벡터의 "
                        "합입니다. 10M 과 100M (bench_100m 실행)의 메모리는 인덱스만이며, 재정렬할 벡터는 디스크의 벡터 "
                        "파일에서 읽습니다. 정확 검색은 10M 에서는 RAM, 100M 에서는 디스크에서 읽으며 계산합니다."),
    "families_sources": ("Sizes measured by bench_100m, each its own run: {sources}.",
                         "bench_100m 으로 측정한 크기(각각 별도 실행): {sources}."),
    "pareto_title": ("Recall@10 vs p50 at {n} vectors ({dist}); marker size: memory", "{n}개 벡터에서 Recall@10 대 p50 ({dist}); 점 크기: 메모리"),
    "pareto_front": ("Pareto front (memory × recall × p50)", "파레토 전선 (메모리 × 재현율 × p50)"),
    "pareto_size": ("Size", "크기"),
    "col_floor": ("recall floor", "재현율 하한"),
    "col_qps": ("QPS (batch)", "QPS (배치)"),
    "col_build_s": ("build (s)", "구축 (초)"),
    "col_memory_mb": ("memory (MB)", "메모리 (MB)"),
    "col_vectors": ("which vectors", "어떤 벡터"),
    "col_pca90": ("PCA 90 % dims", "PCA 90 % 차원"),
    "col_contrast": ("relative contrast", "상대 대비"),
    "col_nn_cos": ("10-NN cosine", "10-NN 코사인"),
    "not_reached": ("not reached", "도달하지 못함"),
    "guide_verdict_none": ("The guide's \"10 s vs 0.01 s at 99 %\" cannot be checked on this distribution: nothing was "
                           "measured on it yet.",
                           "가이드의 \"99 % 에서 10 초 대 0.01 초\" 는 이 분포에서 확인할 수 없습니다: 아직 측정한 것이 없습니다."),
    "guide_verdict_unreached": ("The guide's \"10 s vs 0.01 s at 99 %\": at {n} vectors no measured setting reached "
                                "recall@10 0.99 on this distribution.",
                                "가이드의 \"99 % 에서 10 초 대 0.01 초\": 이 분포의 {n} 개 벡터에서 recall@10 0.99 에 "
                                "도달한 설정이 없습니다."),
    "guide_verdict_smaller": ("The guide's \"10 s vs 0.01 s at 99 %\" is about 100 million vectors; this distribution "
                              "is measured up to {n} so far, so it is not checked here. At {n}: exact {exact} ({where}), "
                              "{index} {ann} at recall@10 {recall} ({ratio}x exact, same run).",
                              "가이드의 \"99 % 에서 10 초 대 0.01 초\" 는 1억 개 벡터에 대한 말인데, 이 분포는 지금까지 "
                              "{n} 개까지만 측정했으므로 여기서는 확인하지 않습니다. {n} 개에서: 정확 검색 {exact} "
                              "({where}), {index} 는 recall@10 {recall} 에서 {ann}(같은 실행의 정확 검색 대비 {ratio}배)."),
    "guide_verdict_holds": ("The guide's \"10 s vs 0.01 s at 99 %\" holds on this distribution at {n} vectors: exact "
                            "{exact} ({where}), {index} {ann} at recall@10 {recall} ({ratio}x exact).",
                            "가이드의 \"99 % 에서 10 초 대 0.01 초\" 는 이 분포의 {n} 개 벡터에서 성립합니다: 정확 검색 "
                            "{exact}({where}), {index} 는 recall@10 {recall} 에서 {ann}(정확 검색 대비 {ratio}배)."),
    "guide_verdict_fails": ("The guide's \"10 s vs 0.01 s at 99 %\" does not hold on this distribution at {n} vectors: "
                            "exact {exact} ({where}), but the fastest index at recall@10 ≥ 0.99 ({index}, recall "
                            "{recall}) takes {ann}, {times}x the guide's 0.01 s ({ratio}x faster than exact).",
                            "가이드의 \"99 % 에서 10 초 대 0.01 초\" 는 이 분포의 {n} 개 벡터에서 성립하지 않습니다: "
                            "정확 검색 {exact}({where}), recall@10 ≥ 0.99 에서 가장 빠른 인덱스({index}, recall "
                            "{recall})는 {ann}로 가이드의 0.01 초의 {times}배입니다(정확 검색보다 {ratio}배 빠름)."),
    "guide_exact_disk": ("streamed from disk", "디스크에서 읽으며"),
    "guide_exact_ram": ("in RAM, one thread", "메모리, 스레드 하나"),
    "no_scale_results": ("No saved scale results: run `python benchmarks/bench_scale.py`.",
                         "저장된 결과가 없습니다: `python benchmarks/bench_scale.py` 를 실행하세요."),
    "backends_title": ("Same vectors, three backends", "같은 벡터, 세 백엔드"),
    "backends_caption": ("{n} vectors of dimension {d} ({source}); latency of one query, recall against exact search.",
                         "차원 {d}의 벡터 {n}개 ({source}); 단일 질의 지연, 정확 검색 대비 재현율."),
    "backends_live": ("Your vectors in three databases", "내 벡터를 세 데이터베이스에서"),
    "backends_live_caption": ("Loads this data set's vectors into every enabled backend ({enabled}), then times 200 "
                              "queries in each and checks recall@10 against exact search. Not enabled on this server: "
                              "{disabled} (the operator enables them with MOVIEDNA_BACKENDS).",
                              "이 데이터셋의 벡터를 켜진 모든 백엔드({enabled})에 넣고 각각 질의 200개의 시간을 재고 "
                              "정확 검색 대비 recall@10을 확인합니다. 이 서버에서 꺼져 있음: {disabled} "
                              "(운영자가 MOVIEDNA_BACKENDS 로 켭니다)."),
    "run_backends": ("Compare backends", "백엔드 비교"),
    "backends_running": ("Loading and querying three databases (first start of PostgreSQL takes a few seconds)…",
                         "세 데이터베이스에 적재하고 질의하는 중 (PostgreSQL 첫 시작은 몇 초 걸립니다)…"),
    "live_run": ("Live run on this server", "이 서버에서 바로 실행"),
    "run_live": ("Run", "실행"),
    "live_limits": ("Up to {n} vectors and {secs} s per run on this server, one run at a time (the operator sets "
                    "MOVIEDNA_LIVE_MAX_N and MOVIEDNA_LIVE_MAX_SECONDS).",
                    "이 서버에서는 한 번에 하나씩, 최대 {n}개 벡터와 {secs}초까지 실행합니다 (운영자가 "
                    "MOVIEDNA_LIVE_MAX_N, MOVIEDNA_LIVE_MAX_SECONDS 로 정합니다)."),
    "live_cut": ("The run hit its time limit and was cut: {cut}.", "실행이 시간 제한에 걸려 잘렸습니다: {cut}."),
    "starting": ("Starting…", "시작 중…"),
    # search: hybrid fusion
    "col_ranks_lists": ("Ranks ({lists})", "순위 ({lists})"),
    # what the pages do, measured
    "measured_local": ("Measured on this data set by `python -m engine evaluate` on {when} ({where}).",
                       "이 데이터셋에서 `python -m engine evaluate` 로 {when}에 측정 ({where})."),
    "measured_published": ("Measured on this same data set with MovieDNA's default model settings (fitted on the "
                           "training split) on {when} ({where}); the file ships with MovieDNA. Run `python -m engine "
                           "evaluate` to measure it on your machine.",
                           "같은 데이터셋에서 MovieDNA 기본 모델 설정으로 (학습 분할에서 학습) {when}에 측정했으며 ({where}) "
                           "파일은 MovieDNA에 포함되어 있습니다. 내 컴퓨터에서 측정하려면 `python -m engine evaluate` 를 "
                           "실행하세요."),
    "widedeep_not_built": ("The Wide & Deep ranker is not built here; `python -m engine build --models widedeep` adds it "
                           "(about a minute on ml-100k).",
                           "Wide & Deep 랭커는 아직 빌드되지 않았습니다; `python -m engine build --models widedeep` 로 "
                           "추가합니다 (ml-100k에서 약 1분)."),
    "eval_plain": ("**In plain words:** in the MF space, the average of a user's clicks puts the movie they watched next "
                   "in its top 10 for **{taste:.0%}** of users; MF's own user vector does it for **{native:.0%}**; taking "
                   "the average's top 100 and re-ranking them with SASRec, for **{two:.0%}**.",
                   "**쉽게 말해:** MF 공간에서 사용자 클릭의 평균은 다음에 본 영화를 **{taste:.0%}**의 사용자에게 상위 10개 "
                   "안에 넣습니다; MF 자체의 사용자 벡터는 **{native:.0%}**; 평균의 상위 100개를 SASRec으로 재순위하면 "
                   "**{two:.0%}**."),
    "build_outdated": ("{models}: built by an older version of MovieDNA, whose settings differ; build again to use "
                       "it (re-ranking needs it).",
                       "{models}: 이전 버전의 MovieDNA로 빌드되어 설정이 다릅니다; 다시 빌드해야 사용할 수 있습니다 "
                       "(재순위에 필요)."),
    "rebuild_button": ("Build again", "다시 빌드"),
    "taste_recency_ndcg": ("{label} (NDCG@{k} {v:.3f} at recency {hl})", "{label} (최근성 {hl}에서 NDCG@{k} {v:.3f})"),
    "measured_latency": ("p50 ms, stage 1 + stage 2", "p50 ms, 1단계 + 2단계"),
    "rerank_measured": ("Measured on the test split: {space} taste vector, top {n} re-ranked by SASRec: NDCG@{k} {v:.3f} "
                        "(taste vector alone {alone:.3f}).",
                        "테스트 분할에서 측정: {space} 취향 벡터의 상위 {n}개를 SASRec이 재순위: NDCG@{k} {v:.3f} "
                        "(취향 벡터만 {alone:.3f})."),
    # --- evaluation ---
    "eval_col_model": ("model", "모델"),
    "eval_col_sampled_hr": ("HR@{k} sampled-{n}", "HR@{k} 샘플-{n}"),
    "eval_col_sampled_ndcg": ("NDCG@{k} sampled-{n}", "NDCG@{k} 샘플-{n}"),
    "eval_col_full_hr": ("HR@{k} full", "HR@{k} 전체"),
    "eval_col_full_ndcg": ("NDCG@{k} full", "NDCG@{k} 전체"),
    "eval_col_train_s": ("train s", "학습 초"),
    "eval_row_reference": ("  reference {name}", "  참고 {name}"),
    "eval_row_taste": ("{space} taste vector ({page})", "{space} 취향 벡터 ({page})"),
    "eval_row_two_stage": ("{space} taste vector, {n} candidates -> {ranker} ({page})",
                           "{space} 취향 벡터, 후보 {n}개 -> {ranker} ({page})"),
    "eval_split": ("{users} users, {items} items, {interactions} interactions after the 5-core filter",
                   "5-core 필터 후 사용자 {users}명, 영화 {items}편, 상호작용 {interactions}건"),
    # filter bar (Similar movies, Mood search, Live personalization, Retrieval + ranking)
    "filter_title": ("Filter", "필터"),
    "filter_genres": ("Genres", "장르"),
    "filter_any_genre": ("any genre", "모든 장르"),
    "filter_mode": ("Match", "조건"),
    "filter_mode_any": ("any of them", "하나라도"),
    "filter_mode_all": ("all of them", "모두"),
    "filter_years": ("Years", "개봉 연도"),
    "filter_min_ratings": ("At least n ratings", "최소 평점 수"),
    "filter_excluded": ("{n} movies excluded by the link", "링크로 제외된 영화 {n}편"),
    "filter_clear": ("Clear the filter", "필터 지우기"),
    "filter_matching": ("{n:,} of {total:,} movies match the filter", "전체 {total:,}편 중 {n:,}편이 필터에 맞습니다"),
    "filter_url_refused": ("The link's filter was not used: {reason}", "링크의 필터를 쓰지 않았습니다: {reason}"),
    "filter_sql_ran": ("SQL that ran", "실행된 SQL"),
    # --- beyond accuracy ---
    "eval_col_coverage": ("coverage@{k}", "커버리지@{k}"),
    "eval_col_novelty": ("novelty (bits)", "새로움 (비트)"),
    "eval_col_ild": ("diversity ({space})", "다양성 ({space})"),
    "eval_col_ild_genre": ("diversity (genres)", "다양성 (장르)"),
    "eval_col_pop": ("share of top {share}", "상위 {share} 비중"),
    "eval_beyond_plain": ("**How much is popularity?** Of the movies in a top 10, **{pop:.0%}** come from the {share} "
                          "most-rated films for popularity itself, **{mf:.0%}** for MF's own ranking and **{text:.0%}** "
                          "for the text space's taste vector; lists cover **{cov_mf:.0%}** (MF) and **{cov_text:.0%}** "
                          "(text) of the catalogue.",
                          "**인기가 얼마나 섞였나?** 상위 10개 중 가장 많이 평가된 {share} 영화의 비중은 인기순 자체 "
                          "**{pop:.0%}**, MF 자체 순위 **{mf:.0%}**, 텍스트 공간 취향 벡터 **{text:.0%}**입니다; 목록은 "
                          "카탈로그의 **{cov_mf:.0%}** (MF), **{cov_text:.0%}** (텍스트)를 덮습니다."),
    "eval_protocols_agree": ("Sampled-{n} and full ranking order the {m} models the same way by NDCG@{k}.",
                             "샘플-{n}과 전체 순위가 NDCG@{k}로 {m}개 모델을 같은 순서로 매깁니다."),
    "eval_protocols_swap": ("Sampled-{n} and full ranking order the models differently by NDCG@{k}: they swap {pairs}.",
                            "샘플-{n}과 전체 순위가 NDCG@{k}로 모델 순서를 다르게 매깁니다: {pairs}의 순서가 바뀝니다."),
    "mmr_lambda": ("Diversity (MMR λ)", "다양성 (MMR λ)"),
    "mmr_lambda_help": ("1 keeps the nearest movies in order; lower values pick each next movie also for being unlike "
                        "the ones above it (maximal marginal relevance over the 50 nearest).",
                        "1은 가까운 영화를 순서대로 둡니다; 낮을수록 다음 영화를 위 영화들과 다르다는 이유로도 "
                        "고릅니다 (가장 가까운 50편에 대한 MMR)."),
    "mmr_chart_title": ("Measured trade-off ({space}): NDCG@{k} vs diversity", "측정된 균형 ({space}): NDCG@{k} 대 다양성"),
    "mmr_x": ("intra-list diversity ({space})", "목록 내 다양성 ({space})"),
    "mmr_current": ("current λ", "현재 λ"),
    "mmr_not_measured": ("The diversity trade-off of this space is not measured yet (`python -m engine evaluate`).",
                         "이 공간의 다양성 균형은 아직 측정되지 않았습니다 (`python -m engine evaluate`)."),
    "debias_toggle": ("Also show popularity-debiased neighbours", "인기 편향을 뺀 이웃도 보기"),
    "debias_title": ("{space}, popularity debiased ({method})", "{space}, 인기 편향 제거 ({method})"),
    "debias_measured": ("Measured on the test split (taste vector): NDCG@{k} {n0:.3f} → {n1:.3f}, coverage {c0:.0%} → "
                        "{c1:.0%}, share of the most-rated 10% {p0:.0%} → {p1:.0%}.",
                        "테스트 분할에서 측정 (취향 벡터): NDCG@{k} {n0:.3f} → {n1:.3f}, 커버리지 {c0:.0%} → {c1:.0%}, "
                        "가장 많이 평가된 10% 비중 {p0:.0%} → {p1:.0%}."),
    "support_col": ("ratings", "평가 수"),
    "support_warn": ("{title} has only {n} ratings; below {threshold} ratings the {space} space was less accurate than "
                     "the text space in the measurement, so these neighbours are mostly noise. Text (MiniLM) is shown "
                     "first.",
                     "{title}은(는) 평가가 {n}개뿐입니다; 측정에서 평가가 {threshold}개 미만이면 {space} 공간이 텍스트 "
                     "공간보다 부정확했으므로 이 이웃은 대부분 잡음입니다. 텍스트 (MiniLM)를 먼저 보여 줍니다."),
    "support_warn_clicks": ("{n} of your clicks have fewer than {threshold} ratings; the {space} space knows little about "
                            "them (measured: less accurate than text below {threshold}). Try the text space.",
                            "클릭 중 {n}편은 평가가 {threshold}개 미만입니다; {space} 공간은 이들을 잘 모릅니다 (측정: "
                            "{threshold}개 미만에서 텍스트보다 부정확). 텍스트 공간을 써 보세요."),
    "strategy": ("Taste from several clicks", "여러 클릭의 취향"),
    "strategy_average": ("average of the clicks", "클릭의 평균"),
    "strategy_best": ("best match to any click", "어느 클릭과든 가장 잘 맞음"),
    "strategy_multi": ("up to 3 interests, interleaved", "최대 3개의 관심사, 번갈아"),
    "strategy_measured": ("{label} (NDCG@{k} {v:.3f} with {bucket} clicks)", "{label} (클릭 {bucket}개에서 NDCG@{k} {v:.3f})"),
    "strategy_default": ("Chosen on validation: {label}.", "검증으로 고름: {label}."),
    "genre_live": ("Your last three clicks share {genres}: {live:.0%} of this top 10 has it (catalogue: {base:.0%}).",
                   "마지막 세 클릭의 공통 장르는 {genres}: 이 상위 10개의 {live:.0%}가 해당 (카탈로그: {base:.0%})."),
    "genre_measured": ("Measured on {users} test users whose last three clicks share a genre: {share:.0%} of their top 10 "
                       "in this space and strategy has it, against a catalogue base rate of {base:.0%}{romance}.",
                       "마지막 세 클릭이 장르를 공유하는 테스트 사용자 {users}명에서 측정: 이 공간과 방식의 상위 10개 중 "
                       "{share:.0%}가 그 장르이며, 카탈로그 기준 비율은 {base:.0%}입니다{romance}."),
    "genre_romance": ("; for Romance ({users} users) {share:.0%} against {base:.0%}",
                      "; 로맨스({users}명)는 {share:.0%} 대 {base:.0%}"),
    "interest_star": ("interest {i}", "관심사 {i}"),
    # --- core ---
    "all_candidates": ("all", "전체"),
    # --- catalogue edits (only when the operator set MOVIEDNA_EDITS=1) ---
    "edit_title": ("Add / remove a movie", "영화 추가 / 삭제"),
    "edit_caption": ("Edits change the catalogue at once, without a rebuild: the text spaces embed the new movie, "
                     "MF and SASRec get a cold-start vector predicted from its text until a rebuild learns it "
                     "from ratings.",
                     "편집은 다시 빌드하지 않고 바로 카탈로그를 바꿉니다: 텍스트 공간은 새 영화를 임베딩하고, MF와 "
                     "SASRec은 다시 빌드해 평점으로 배울 때까지 텍스트로 예측한 콜드 스타트 벡터를 받습니다."),
    "edit_add_title": ("Title", "제목"),
    "edit_add_year": ("Year", "연도"),
    "edit_add_genres": ("Genres", "장르"),
    "edit_add_overview": ("Overview (optional)", "줄거리 (선택)"),
    "edit_add_tags": ("Tags, separated by | (optional)", "태그, | 로 구분 (선택)"),
    "edit_add_button": ("Add the movie", "영화 추가"),
    "edit_remove_id": ("Movie id to remove", "삭제할 영화 id"),
    "edit_remove_button": ("Remove the movie", "영화 삭제"),
    "edit_added": ("Added movie {id}: {title}. It is searchable now in {spaces}.",
                   "영화 {id}을(를) 추가했습니다: {title}. 이제 {spaces}에서 검색됩니다."),
    "edit_cold": ("{spaces}: cold start (predicted from text until a rebuild).",
                  "{spaces}: 콜드 스타트 (다시 빌드할 때까지 텍스트로 예측)."),
    "edit_removed": ("Removed movie {id}: {title}.", "영화 {id}을(를) 삭제했습니다: {title}."),
    "cold_start_label": ("cold start", "콜드 스타트"),
}

#: every engine note (engine.core.notes.NOTES) in Korean; the English text is the engine's own
NOTES_KO: dict[str, str] = {
    "title_fuzzy": "{title!r}(으)로 찾았습니다 (비슷한 제목).",
    "title_others": "같은 제목의 다른 영화: {titles}.",
    "index_ef_capped": "{backend}는 HNSW ef_search를 {cap}까지만 받습니다. {requested} 대신 {cap}(으)로 검색했습니다.",
    "index_kind_unavailable": ("{backend} 백엔드는 여기서 {kind} 검색을 할 수 없어, 이 답은 그 백엔드의 {served}에서 "
                               "나왔습니다. 인덱스 종류를 비교하려면 faiss 백엔드를 고르세요."),
    "filter_none": "필터에 맞는 영화가 없습니다 (전체 {total}편 중 0편). 검색하지 않았습니다.",
    "filter_matched": "전체 {total}편 중 {matching}편이 필터에 맞습니다.",
    "filter_subset": "전체 {total}편 중 {matching}편이 필터에 맞습니다: 그 영화들만 정확 검색했습니다.",
    "filter_index": "전체 {total}편 중 {matching}편이 필터에 맞습니다: {index} 인덱스를 필터와 함께 검색했습니다 ({params}).",
    "filter_sql": "실행된 SQL: {sql}",
    "route_user": "사용자가 {space} 공간을 골랐습니다.",
    "route_multilingual": "{language} 질의: 다국어 {space} 공간이 답합니다.",
    "route_no_multilingual": ("{language} 질의지만 다국어 공간이 만들어지지 않았습니다 "
                              "(`python -m engine build --models use` 실행). 결과를 믿기 어렵습니다."),
    "route_english": "영어 질의: {space} 공간이 답합니다.",
    "route_english_fallback": "영어 질의: {space} 공간이 답합니다 ({default}은(는) 만들어지지 않았습니다).",
    "english_model_only": "이 텍스트 모델은 영어로 학습되어 다른 문자의 결과는 믿기 어렵습니다.",
    "bm25_no_match": "이 단어를 담은 제목, 장르, 태그, 줄거리가 없습니다 (BM25는 뜻이 아니라 단어를 맞춥니다).",
    "bm25_no_match_language": "{language} 질의와 맞는 키워드가 없습니다: 이 카탈로그의 제목은 {titles}이고 줄거리는 없습니다.",
    "bm25_no_match_language_plots": ("{language} 질의와 맞는 키워드가 없습니다: 이 카탈로그의 제목은 {titles}, "
                                     "줄거리는 {overviews}입니다."),
    "keyword_no_match": "이 단어를 담은 제목, 장르, 태그, 줄거리가 없습니다 (키워드 검색은 단어만 맞춥니다).",
    "hybrid_bm25_none": "BM25가 질의의 어떤 단어와도 맞지 않아, 하이브리드 순위는 의미 검색 순위와 같습니다.",
    "hybrid_bm25_abstained": ("BM25의 최상위 결과에 질의 단어 일부가 없어 BM25는 투표하지 않았습니다: "
                              "하이브리드 순위는 의미 검색 목록만 융합합니다."),
    "hybrid_fused": "하이브리드가 {spaces} 공간을 융합합니다.",
    "hybrid_fused_bm25": "하이브리드가 {spaces} 공간과 BM25를 융합합니다.",
    "native_ignores_dislikes": "싫어요 영화는 목록에서 빠지지만, 모델의 사용자 벡터는 그것을 쓰지 않습니다.",
    "evaluation_before_edits": ("이 수치는 편집 전의 카탈로그를 설명합니다: 그 뒤 영화 {added}편이 추가되고 {removed}편이 "
                                "삭제되었습니다. 추가된 영화의 MF와 SASRec 벡터는 텍스트로부터 예측한 콜드 스타트 벡터이며, "
                                "여기의 어떤 수치도 그것을 측정하지 않습니다."),
    "build_bounded": "{model}은(는) {summary} 조건으로 학습되었습니다.",
    "build_time_guard": "{model}: 시간 제한으로 {epochs} 에포크 뒤 학습이 멈췄습니다.",
}

#: the language names the engine's routing uses, in Korean
LANGUAGES_KO: dict[str, str] = {
    "English": "영어", "Hangul script": "한국어", "German": "독일어", "Spanish": "스페인어", "French": "프랑스어",
    "Italian": "이탈리아어", "Dutch": "네덜란드어", "Portuguese": "포르투갈어", "Polish": "폴란드어",
    "Turkish": "터키어", "Cyrillic script": "키릴 문자", "Cjk script": "한자", "Hiragana script": "일본어",
    "Katakana script": "일본어", "Arabic script": "아랍어", "Thai script": "태국어",
    "Latin script": "로마자",
}
#: note parameters that hold language or script names (one or a list), shown in the session's language
_LANGUAGE_PARAMS = ("language", "titles", "overviews")

TEXT: dict[str, dict[str, str]] = {k: {"en": en, "ko": ko} for k, (en, ko) in _E.items()}


def t(key: str, **fmt) -> str:
    """UI text in the chosen language (English or Korean)."""
    lang = st.session_state.get("lang", "en")
    entry = TEXT.get(key, {})
    text = entry.get(lang) or entry.get("en") or key
    return text.format(**fmt) if fmt else text


def title_in(lang: str, title: str, other: str | None) -> str:
    """A movie's title in ``lang`` ("en" / "ko") when the catalogue has it in two: the Hangul one for
    Korean, the other one for English; the title alone when there is no other."""
    from engine.data.fts import has_hangul

    if not other:
        return title
    hangul = lang == "ko"
    return title if has_hangul(title) == hangul or has_hangul(other) != hangul else other


def shown_title(title: str, other: str | None) -> str:
    """:func:`title_in` the session's language."""
    return title_in(st.session_state.get("lang", "en"), title, other)


def language_name(name: str | None) -> str:
    """A language or script name as the engine says it, in the session's language."""
    name = name or ""
    return LANGUAGES_KO.get(name, name) if st.session_state.get("lang", "en") == "ko" else name


def note_text(note: "Note") -> str:
    """An engine note in the session's language, as Markdown-safe text: the template is ours, every
    parameter (a title, a query's language, a backend's name) is shown as plain text."""
    from engine.core.notes import NOTES, in_words
    from ui.plain import escape

    ko = st.session_state.get("lang", "en") == "ko"
    template = NOTES_KO.get(note.code) if ko else None
    params = {}
    for key, value in note.params.items():
        if key in _LANGUAGE_PARAMS and ko:
            value = ([LANGUAGES_KO.get(str(v), v) for v in value] if isinstance(value, (list, tuple))
                     else LANGUAGES_KO.get(str(value), value))
        # a list reads as text: "use and text" in English, "use, text" in Korean
        value = ", ".join(map(str, value)) if ko and isinstance(value, (list, tuple)) else in_words(value)
        # {x!r} templates quote the value themselves; escape inside the quotes
        params[key] = value if isinstance(value, (int, float)) else _Escaped(escape(value))
    return (template or NOTES[note.code]).format(**params)


class _Escaped(str):
    """Escaped text whose repr is the quoted text (``{title!r}`` in a template)."""

    def __repr__(self) -> str:
        return "'" + str(self) + "'"
