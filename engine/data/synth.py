"""A seeded synthetic catalogue in the MovieLens "latest" CSV layout, for tests and scale runs.

GroupLens is not reachable from every machine, and ml-25m / ml-32m are too big for tests, so
``python -m engine synth --out DIR`` writes ``movies.csv`` (movieId,title,genres[,year,overview]),
``ratings.csv`` (userId,movieId,rating,timestamp) and ``tags.csv`` (userId,movieId,tag,timestamp)
with the shape of the real thing and structure a recommender can find:

- **popularity**: Zipf-like (weight of the r-th most popular movie ~ 1 / (r + 10) ** 1.15);
- **genres**: the 19 MovieLens genres with their ml-32m frequencies (Drama 39 %, Comedy 26 %, ...),
  1-4 per movie, ~8 % "(no genres listed)"; titles "Name (year)", years skewed to recent;
- **genre preferences** (for MF and the taste vector): every user has two favourite genres, and
  ``genre_share`` of their picks come from movies of those genres (popularity-weighted);
- **sequential patterns** (for SASRec, invisible to popularity): every movie has a fixed
  *successor* (same primary genre); with probability ``follow_prob`` a user's next movie is the
  successor of their previous one, so chains like A -> succ(A) -> succ(succ(A)) recur across users;
- **ratings** 0.5-5.0 in half stars = movie quality + user bias + a bonus for a favourite genre
  + noise; timestamps increase along each user's history (sessions a few minutes apart, days
  between sessions); each (user, movie) pair occurs once.

Everything is vectorised numpy over chunks of whole users (about ``chunk_ratings`` rows each), so
32M ratings are written in a few minutes with a few hundred MB of memory and a tqdm bar with ETA.
The same :class:`SynthConfig` (seed included) gives byte-identical files.
"""

from __future__ import annotations

import json
import logging
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from engine.core.config import Progress
from engine.core.errors import MovieDNAError

log = logging.getLogger(__name__)

#: ml-32m genre frequencies (share of movies carrying the genre), "(no genres listed)" separate
GENRE_FREQ: dict[str, float] = {
    "Drama": 0.39, "Comedy": 0.26, "Thriller": 0.13, "Romance": 0.12, "Action": 0.11, "Horror": 0.10,
    "Documentary": 0.085, "Crime": 0.08, "Adventure": 0.062, "Sci-Fi": 0.055, "Animation": 0.053,
    "Children": 0.052, "Fantasy": 0.044, "Mystery": 0.04, "War": 0.027, "Western": 0.018,
    "Musical": 0.013, "Film-Noir": 0.004, "IMAX": 0.003,
}
GENRES: tuple[str, ...] = tuple(GENRE_FREQ)
NO_GENRES = "(no genres listed)"
NO_GENRE_SHARE = 0.08

#: a small vocabulary per genre: (adjectives, characters, deeds, places); titles, overviews and tags use it
VOCAB: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "Drama": (("quiet", "broken", "sincere", "restless", "tender"), ("widow", "teacher", "brother", "daughter", "miner"),
              ("rebuilds a family", "faces the past", "keeps a promise", "learns to forgive"), ("a small town", "a mill city", "the coast")),
    "Comedy": (("hapless", "cheerful", "clumsy", "absurd", "silly"), ("waiter", "uncle", "roommate", "best man", "mayor"),
               ("plans the worst wedding", "fakes a vacation", "swaps jobs", "loses the dog"), ("the suburbs", "a holiday camp", "Vegas")),
    "Thriller": (("tense", "paranoid", "relentless", "twisted", "cold"), ("witness", "agent", "hacker", "stranger", "detective"),
                 ("uncovers a conspiracy", "races a deadline", "is hunted", "hides a secret"), ("a locked city", "the border", "a night train")),
    "Romance": (("tender", "bittersweet", "passionate", "shy", "charming"), ("painter", "baker", "lover", "bride", "poet"),
                ("falls in love", "writes letters", "meets again", "chooses the heart"), ("Paris", "a summer island", "a vineyard")),
    "Action": (("explosive", "fearless", "fast", "brutal", "high-octane"), ("soldier", "mercenary", "cop", "driver", "bodyguard"),
               ("fights a cartel", "leads a rescue", "stops a heist", "takes revenge"), ("the docks", "a skyscraper", "the desert")),
    "Horror": (("creepy", "haunted", "bloody", "cursed", "dark"), ("ghost", "babysitter", "cult", "demon", "survivor"),
               ("wakes the dead", "hears whispers", "is possessed", "hunts at night"), ("an old house", "the woods", "a cabin")),
    "Documentary": (("true", "revealing", "intimate", "investigative", "historic"), ("scientist", "activist", "musician", "athlete", "chef"),
                    ("tells the story", "follows the evidence", "documents a year", "interviews witnesses"), ("the archives", "the arctic", "a studio")),
    "Crime": (("gritty", "violent", "clever", "corrupt", "noir-ish"), ("gangster", "thief", "lawyer", "informant", "boss"),
              ("plans a robbery", "launders money", "runs the mob", "betrays the crew"), ("the underworld", "Chicago", "the casino")),
    "Adventure": (("epic", "daring", "wild", "legendary", "sweeping"), ("explorer", "pirate", "treasure hunter", "sailor", "guide"),
                  ("searches for gold", "crosses the sea", "maps the jungle", "climbs the peak"), ("the jungle", "the high seas", "lost ruins")),
    "Sci-Fi": (("futuristic", "alien", "dystopian", "cosmic", "cybernetic"), ("android", "astronaut", "clone", "pilot", "AI"),
               ("travels through time", "contacts aliens", "escapes the station", "hacks the matrix"), ("Mars", "deep space", "a megacity")),
    "Animation": (("colourful", "animated", "whimsical", "magical", "musical"), ("fox", "robot", "princess", "dragon", "toy"),
                  ("finds a way home", "saves the forest", "makes friends", "learns to fly"), ("a toy box", "the kingdom", "the reef")),
    "Children": (("family-friendly", "playful", "heartwarming", "funny", "gentle"), ("kid", "puppy", "grandma", "schoolgirl", "elf"),
                 ("wins the contest", "rescues a pony", "builds a treehouse", "saves Christmas"), ("summer camp", "the farm", "school")),
    "Fantasy": (("enchanted", "mythic", "mystical", "fabled", "sorcerous"), ("wizard", "knight", "witch", "orphan", "king"),
                ("breaks the curse", "finds the sword", "battles a dragon", "rules the realm"), ("the realm", "an elven city", "the mountains")),
    "Mystery": (("puzzling", "baffling", "eerie", "clever", "secretive"), ("sleuth", "inspector", "heiress", "butler", "journalist"),
                ("solves a murder", "follows the clues", "finds the heir", "unmasks the killer"), ("a manor", "a foggy village", "the lighthouse")),
    "War": (("harrowing", "heroic", "bleak", "patriotic", "grim"), ("sergeant", "medic", "platoon", "pilot", "resistance fighter"),
            ("holds the line", "survives the front", "crosses enemy lines", "leads the charge"), ("the trenches", "Normandy", "the jungle front")),
    "Western": (("dusty", "lawless", "rugged", "lonesome", "frontier"), ("gunslinger", "sheriff", "outlaw", "rancher", "bounty hunter"),
                ("rides into town", "wins the duel", "guards the herd", "robs the train"), ("the frontier", "a mining town", "the prairie")),
    "Musical": (("singing", "dazzling", "toe-tapping", "glamorous", "joyful"), ("dancer", "singer", "choir", "band", "star"),
                ("puts on a show", "sings on Broadway", "wins the contest", "forms a band"), ("Broadway", "the stage", "a music hall")),
    "Film-Noir": (("shadowy", "fatalistic", "smoky", "cynical", "noir"), ("private eye", "femme fatale", "drifter", "cop", "singer"),
                  ("takes one last job", "is framed", "falls for trouble", "chases a lie"), ("Los Angeles", "a rainy city", "a nightclub")),
    "IMAX": (("spectacular", "immersive", "giant-screen", "breathtaking", "vast"), ("diver", "astronaut", "climber", "pilot", "whale"),
             ("dives the reef", "orbits Earth", "flies the canyon", "climbs Everest"), ("the ocean", "orbit", "the canyon")),
}
_GENERIC = (("lost", "last", "secret", "silent", "golden"), ("stranger", "hero", "friend", "child", "family"),
            ("changes everything", "starts over", "finds a way", "goes home"), ("the city", "the valley", "the north"))
_TITLE_NOUNS = ("Night", "River", "Heart", "Road", "Storm", "Garden", "Promise", "Shadow", "Winter", "Summer",
                "Bridge", "Mirror", "Kingdom", "Game", "Letter", "Island", "Fire", "Echo", "Circle", "Horizon")

TS_START = 820_454_400   # 1996-01-01, ml-latest's first ratings
TS_END = 1_696_118_400   # 2023-10-01


class SynthConfigError(MovieDNAError):
    """Synthetic catalogue parameters that cannot make a catalogue."""


@dataclass(frozen=True)
class SynthConfig:
    """Size and structure of a synthetic catalogue (defaults: the size of ml-32m)."""

    movies: int = 87_585
    users: int = 200_948
    ratings: int = 32_000_000
    seed: int = 0
    overviews: bool = False        # add year and overview columns to movies.csv
    tags_per_rating: float = 0.005  # tags.csv rows per rating (0: no tags.csv)
    zipf_a: float = 1.15           # popularity exponent (ml-latest-small-like head at its size)
    genre_share: float = 0.65      # share of picks from the two favourite genres (ml-latest-small-like spread)
    follow_prob: float = 0.35      # P(next movie = successor of the previous one)
    min_per_user: int = 20         # like ml-latest (lowered when ratings / users is smaller)
    chunk_ratings: int = 2_000_000

    def check(self) -> None:
        if self.movies < 10:
            raise SynthConfigError(f"--movies must be at least 10 (got {self.movies}).")
        if self.users < 1 or self.ratings < self.users:
            raise SynthConfigError(
                f"--ratings ({self.ratings:,}) must be at least --users ({self.users:,}) so every user has a rating.")
        if self.ratings > self.users * self.movies // 2:
            raise SynthConfigError(
                f"--ratings ({self.ratings:,}) exceeds half of users x movies; raise --movies or --users.")
        for name in ("genre_share", "follow_prob", "tags_per_rating"):
            v = getattr(self, name)
            if not 0.0 <= v < 1.0:
                raise SynthConfigError(f"{name} must be in [0, 1) (got {v}).")


@dataclass(frozen=True)
class Catalogue:
    """The movie side of a synthetic data set (index i = movie i; arrays aligned, length n)."""

    movie_ids: np.ndarray    # int64 (n,), sorted, not contiguous (like MovieLens)
    titles: list[str]        # "Name (year)"
    years: np.ndarray        # int64 (n,)
    genre_mask: np.ndarray   # bool (n, len(GENRES)); all False = "(no genres listed)"
    primary: np.ndarray      # int64 (n,) index into GENRES (a genre of the movie; random one if none)
    popularity: np.ndarray   # float64 (n,), sums to 1
    quality: np.ndarray      # float32 (n,) rating offset
    successor: np.ndarray    # int64 (n,) index of the planted next movie (never the movie itself)

    def genres_text(self) -> list[str]:
        names = np.array(GENRES, dtype=object)
        return ["|".join(names[row]) if row.any() else NO_GENRES for row in self.genre_mask]


def make_catalogue(cfg: SynthConfig) -> Catalogue:
    """The movies of ``cfg`` (deterministic in ``cfg.seed``); the ratings are drawn from it."""
    cfg.check()
    rng = np.random.default_rng([cfg.seed, 1])
    n, g = cfg.movies, len(GENRES)
    freq = np.array([GENRE_FREQ[x] for x in GENRES])
    mask = rng.random((n, g)) < freq
    none = rng.random(n) < NO_GENRE_SHARE
    mask[none] = False
    empty = ~mask.any(axis=1) & ~none            # every listed movie has at least one genre
    mask[np.flatnonzero(empty), rng.choice(g, size=int(empty.sum()), p=freq / freq.sum())] = True
    # primary genre: one of the movie's genres, picked at random (weighted by genre frequency)
    w = np.where(mask, freq, 0.0)
    w[none] = freq
    cum = np.cumsum(w, axis=1)
    primary = (cum < rng.random(n)[:, None] * cum[:, -1:]).sum(axis=1).astype(np.int64)

    ids = np.sort(rng.choice(np.arange(1, int(n * 2.5) + 2), size=n, replace=False)).astype(np.int64)
    years = np.clip(2023 - np.floor(rng.exponential(18.0, n)), 1902, 2023).astype(np.int64)
    rank = rng.permutation(n)                    # popularity rank of movie i
    pop = 1.0 / (rank + 10.0) ** cfg.zipf_a
    pop /= pop.sum()
    quality = rng.normal(0.0, 0.45, n).astype(np.float32)
    titles = _titles(rng, primary, years)
    # successor: a movie of the same primary genre, chosen among that genre's movies with
    # popularity ** 0.5 weights (so targets are not only the head), never the movie itself
    successor = np.empty(n, dtype=np.int64)
    for gi in range(g):
        members = np.flatnonzero(primary == gi)
        if len(members) == 0:
            continue
        if len(members) == 1:
            successor[members] = rng.integers(0, n - 1, 1) + (rng.integers(0, n - 1, 1) >= members[0])
            continue
        p = np.sqrt(pop[members])
        succ = members[_draw(rng, p / p.sum(), len(members))]
        clash = succ == members
        succ[clash] = members[(np.searchsorted(members, succ[clash]) + 1) % len(members)]
        successor[members] = succ
    return Catalogue(ids, titles, years, mask, primary, pop, quality, successor)


def _draw(rng: np.random.Generator, p: np.ndarray, size: int) -> np.ndarray:
    """``size`` indices drawn from the distribution ``p`` (inverse CDF, vectorised)."""
    cdf = np.cumsum(p)
    return np.minimum(np.searchsorted(cdf, rng.random(size) * cdf[-1], side="right"), len(p) - 1)


def _titles(rng: np.random.Generator, primary: np.ndarray, years: np.ndarray) -> list[str]:
    """"The Quiet Widow (1987)", "Storm of the Explorer (2004)", ... (one pass per movie, not per rating)."""
    out = []
    picks = rng.integers(0, 1 << 30, size=(len(primary), 4))
    for gi, y, (a, b, c, d) in zip(primary.tolist(), years.tolist(), picks.tolist()):
        adjs, chars, _, _ = VOCAB[GENRES[gi]]
        adj, char, noun = adjs[a % len(adjs)].title(), chars[b % len(chars)].title(), _TITLE_NOUNS[c % len(_TITLE_NOUNS)]
        form = d % 4
        name = (f"{char}, The" if form == 0 else f"{noun} of the {char}" if form == 1
                else f"{adj} {noun}" if form == 2 else f"{adj} {char}, The")
        out.append(f"{name} {d % 97 + 1 if d % 9 == 0 else ''}".strip() + f" ({y})")
    return out


def overviews(cat: Catalogue, seed: int) -> list[str]:
    """One or two sentences per movie from its genres' vocabularies (deterministic in ``seed``)."""
    rng = np.random.default_rng([seed, 3])
    picks = rng.integers(0, 1 << 30, size=(len(cat.primary), 6)).tolist()
    out = []
    for i, (gi, row) in enumerate(zip(cat.primary.tolist(), cat.genre_mask)):
        a, b, c, d, e, f = picks[i]
        adjs, chars, deeds, places = VOCAB[GENRES[gi]]
        text = f"{_a(adjs[a % 5])} {chars[b % 5]} {deeds[c % len(deeds)]} in {places[d % len(places)]}."
        others = [GENRES[j] for j in np.flatnonzero(row) if j != gi]
        adjs2, chars2, deeds2, _ = VOCAB[others[e % len(others)]] if others else _GENERIC
        text += f" Along the way {_a(adjs2[f % 5]).lower()} {chars2[e % 5]} {deeds2[(e + f) % len(deeds2)]}."
        out.append(text)
    return out


def _a(word: str) -> str:
    return f"{'An' if word[0].lower() in 'aeiou' else 'A'} {word}"


def _user_counts(cfg: SynthConfig, rng: np.random.Generator) -> np.ndarray:
    """int64 (users,): ratings per user, heavy-tailed (log-normal), summing to cfg.ratings."""
    lo = max(1, min(cfg.min_per_user, cfg.ratings // cfg.users // 2))
    hi = max(lo, int(cfg.movies * 0.6))          # nobody rates more than 60 % of the catalogue
    extra = cfg.ratings - lo * cfg.users
    w = rng.lognormal(0.0, 1.3, cfg.users)
    counts = lo + np.floor(w / w.sum() * extra).astype(np.int64)
    for _ in range(20):                           # cap, then hand the surplus to everybody below the cap
        over = np.maximum(counts - hi, 0).sum()
        counts = np.minimum(counts, hi)
        short = cfg.ratings - counts.sum()
        if short == 0 and over == 0:
            break
        room = np.flatnonzero(counts < hi)
        add = np.full(len(room), short // max(len(room), 1))
        add[: short - add.sum()] += 1
        counts[room] += add
    return counts


@dataclass(frozen=True)
class SynthReport:
    out: str
    movies: int
    users: int
    ratings: int
    tags: int
    seconds: float
    config: dict


def write_synthetic(out: str | Path, cfg: SynthConfig = SynthConfig(), progress: Progress | None = None) -> SynthReport:
    """Write movies.csv, ratings.csv (and tags.csv) for ``cfg`` into ``out``; return counts.

    Files are written to temporary names and renamed at the end, so an interrupted run never
    leaves a half-written catalogue that looks complete.  Raises SynthConfigError.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv
    from tqdm.auto import tqdm

    cfg.check()
    t0 = time.perf_counter()
    out = Path(out).expanduser()
    out.mkdir(parents=True, exist_ok=True)
    cat = make_catalogue(cfg)
    movie_cols = {"movieId": cat.movie_ids, "title": cat.titles, "genres": cat.genres_text()}
    if cfg.overviews:
        movie_cols["year"] = cat.years
        movie_cols["overview"] = overviews(cat, cfg.seed)
    opts = pacsv.WriteOptions(quoting_header="none", batch_size=1 << 16)   # MovieLens headers are unquoted
    tmp = {name: out / f".{name}.part" for name in ("movies.csv", "ratings.csv", "tags.csv")}
    pacsv.write_csv(pa.table(movie_cols), tmp["movies.csv"], write_options=opts)

    rng = np.random.default_rng([cfg.seed, 2])
    counts = _user_counts(cfg, rng)
    # Per genre: the movies carrying it and their popularity CDF (genre-preference draws).
    g_members = [np.flatnonzero(cat.genre_mask[:, gi]) for gi in range(len(GENRES))]
    g_cdf = [np.cumsum(cat.popularity[m]) for m in g_members]
    g_freq = np.array([len(m) for m in g_members], dtype=np.float64)
    cdf_all = np.cumsum(cat.popularity)
    words = _tag_words()

    r_schema = pa.schema([("userId", pa.int64()), ("movieId", pa.int64()), ("rating", pa.float64()), ("timestamp", pa.int64())])
    t_schema = pa.schema([("userId", pa.int64()), ("movieId", pa.int64()), ("tag", pa.string()), ("timestamp", pa.int64())])
    n_written = n_tags = 0
    bounds = np.concatenate([[0], np.cumsum(counts)])
    starts = np.searchsorted(bounds, np.arange(0, cfg.ratings, cfg.chunk_ratings), side="right") - 1
    user_chunks = np.unique(np.concatenate([starts, [cfg.users]]))
    with pacsv.CSVWriter(tmp["ratings.csv"], r_schema, write_options=opts) as rw, pacsv.CSVWriter(tmp["tags.csv"], t_schema, write_options=opts) as tw, \
            tqdm(total=cfg.ratings, unit="rating", unit_scale=True, desc="synth ratings", disable=None) as bar:
        for a, b in zip(user_chunks[:-1], user_chunks[1:]):
            crng = np.random.default_rng([cfg.seed, 4, int(a)])   # per chunk: same output whatever the chunk size order
            users, items, ratings, ts = _chunk(crng, cat, counts[a:b], a, g_members, g_cdf, g_freq, cdf_all, cfg)
            rw.write_table(pa.table([users + 1, cat.movie_ids[items], ratings, ts], schema=r_schema))
            if cfg.tags_per_rating > 0:
                sel = np.flatnonzero(crng.random(len(items)) < cfg.tags_per_rating)
                g_of = cat.primary[items[sel]]
                tag = words[g_of, crng.integers(0, words.shape[1], len(sel))]
                tw.write_table(pa.table([users[sel] + 1, cat.movie_ids[items[sel]], pa.array(tag, pa.string()),
                                         ts[sel] + 60], schema=t_schema))
                n_tags += len(sel)
            n_written += len(items)
            bar.update(int(counts[a:b].sum()))
            if progress:
                progress(min(1.0, n_written / cfg.ratings), f"synth: {n_written:,} ratings written")
    for name, path in tmp.items():
        if name == "tags.csv" and n_tags == 0:
            path.unlink(missing_ok=True)
            (out / name).unlink(missing_ok=True)
            continue
        path.replace(out / name)
    report = SynthReport(str(out), cfg.movies, cfg.users, n_written, n_tags, round(time.perf_counter() - t0, 2), asdict(cfg))
    (out / "synth.json").write_text(json.dumps(asdict(report), indent=2) + "\n")
    log.info("synthetic catalogue: %d movies, %d users, %d ratings in %.1fs", cfg.movies, cfg.users, n_written, report.seconds)
    return report


def _tag_words() -> np.ndarray:
    """object (n_genres, 5): the adjectives of each genre, used as tags."""
    return np.array([list(VOCAB[x][0]) for x in GENRES], dtype=object)


def _first_per_user(user: np.ndarray, items: np.ndarray, counts: np.ndarray, n_movies: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """Drop repeated (user, movie) pairs (keep the first), then keep the first ``counts[u]`` per user.

    ``user`` must be grouped (non-decreasing); order within a user is preserved.
    """
    _, first = np.unique(user * n_movies + items, return_index=True)
    keep = np.zeros(len(user), dtype=bool)
    keep[first] = True
    user, items = user[keep], items[keep]
    starts = np.concatenate([[0], np.flatnonzero(np.diff(user)) + 1])
    rank = np.arange(len(user)) - np.repeat(starts, np.diff(np.concatenate([starts, [len(user)]])))
    keep = rank < counts[user]
    return user[keep], items[keep]


def _chunk(rng, cat: Catalogue, counts: np.ndarray, first_user: int, g_members, g_cdf, g_freq, cdf_all,
           cfg: SynthConfig) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Histories of users ``first_user ..`` with ``counts`` ratings each, time-ordered.

    Returns (user index int64, movie index int64, rating float64, timestamp int64), each (m,),
    grouped by user and increasing in time within a user.  Oversamples 25 % to make up for the
    (user, movie) repeats that are dropped, tops up users still short, keeps ``counts[u]`` per user.
    """
    nu, ng = len(counts), len(GENRES)
    want = np.ceil(counts * 1.25).astype(np.int64) + 2
    user = np.repeat(np.arange(nu, dtype=np.int64), want)
    m = len(user)
    pos = np.arange(m, dtype=np.int64) - np.repeat(np.cumsum(want) - want, want)   # position in history
    # two favourite genres per user, drawn by genre frequency (Drama fans are common, Film-Noir fans rare)
    favs = np.stack([_draw(rng, g_freq / g_freq.sum(), nu), _draw(rng, g_freq / g_freq.sum(), nu)], axis=1)
    bias = rng.normal(0.0, 0.35, nu).astype(np.float32)
    # base picks: favourite genre (share genre_share) or the whole catalogue, popularity-weighted
    base = np.searchsorted(cdf_all, rng.random(m) * cdf_all[-1], side="right")
    from_genre = rng.random(m) < cfg.genre_share
    genre = favs[user, rng.integers(0, 2, m)]
    for gi in range(ng):
        sel = np.flatnonzero(from_genre & (genre == gi))
        if len(sel) and len(g_members[gi]):
            cdf = g_cdf[gi]
            base[sel] = g_members[gi][np.minimum(np.searchsorted(cdf, rng.random(len(sel)) * cdf[-1], side="right"),
                                                 len(cdf) - 1)]
    base = np.minimum(base, len(cdf_all) - 1)
    # planted chains: where follow[t], item[t] = successor(item[t-1]) = successor^k(base[start of run])
    follow = (rng.random(m) < cfg.follow_prob) & (pos > 0)
    idx = np.arange(m)
    start = np.maximum.accumulate(np.where(follow, 0, idx))
    k = idx - start
    items = base[start]
    for j in range(1, int(k.max(initial=0)) + 1):
        sel = k >= j
        items[sel] = cat.successor[items[sel]]
    user, items = _first_per_user(user, items, counts, len(cat.successor))
    # Heavy users on a Zipf catalogue repeat themselves a lot; top them up with flatter draws
    # (popularity ** 0.5, then uniform) appended to their histories until each has counts[u].
    flat = np.cumsum(np.sqrt(cat.popularity))
    for round_ in range(30):
        short = counts - np.bincount(user, minlength=nu)
        if not short.any():
            break
        extra_n = np.ceil(short * (1.5 if round_ < 4 else 3.0)).astype(np.int64) + (short > 0) * 4
        eu = np.repeat(np.arange(nu, dtype=np.int64), extra_n)
        if round_ < 4:
            ei = np.minimum(np.searchsorted(flat, rng.random(len(eu)) * flat[-1], side="right"), len(flat) - 1)
        else:
            ei = rng.integers(0, len(flat), len(eu))
        order = np.argsort(np.concatenate([user, eu]), kind="stable")   # history first, top-ups after it
        user, items = _first_per_user(np.concatenate([user, eu])[order], np.concatenate([items, ei])[order],
                                      counts, len(cat.successor))
    else:
        log.warning("synth: %d users have fewer ratings than planned", int((np.bincount(user, minlength=nu) < counts).sum()))
    n = len(user)
    # time: a start per user, then gaps of minutes within a session and days between sessions
    t_user = rng.integers(TS_START, TS_END - 86_400 * 30, nu)
    gaps = np.where(rng.random(n) < 0.1, rng.exponential(86_400 * 6, n), rng.exponential(240.0, n)) + 1
    starts = np.concatenate([[0], np.flatnonzero(np.diff(user)) + 1])
    gaps[starts] = 0
    csum = np.cumsum(gaps)
    ts = t_user[user] + (csum - np.repeat(csum[starts], np.diff(np.concatenate([starts, [n]])))).astype(np.int64)
    ts = np.minimum(ts, TS_END)   # heavy users stop at the end of the window (same second is allowed)
    fav_hit = cat.genre_mask[items, favs[user, 0]] | cat.genre_mask[items, favs[user, 1]]
    score = 3.45 + cat.quality[items] + bias[user] + 0.45 * fav_hit - 0.25 + rng.normal(0.0, 0.8, n)
    ratings = np.clip(np.round(score * 2.0) / 2.0, 0.5, 5.0)
    return user + first_user, items, ratings, ts

