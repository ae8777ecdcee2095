"""Published reference figures (ml-100k test set) beside which the Home table shows ours; see docs/MODELS.md."""

from __future__ import annotations

#: data set -> model -> figure ("sampled_hr@10", "full_ndcg@10", ...), as stored in an evaluation record
REFERENCES: dict[str, dict[str, dict[str, float]]] = {
    "ml-100k": {
        "sasrec": {"sampled_ndcg@10": 0.44, "sampled_hr@10": 0.71, "full_ndcg@10": 0.104, "full_hr@10": 0.206},
        "mf": {"sampled_ndcg@10": 0.318, "sampled_hr@10": 0.539, "full_ndcg@10": 0.071, "full_hr@10": 0.139},
        "popularity": {"sampled_ndcg@10": 0.199, "sampled_hr@10": 0.356, "full_ndcg@10": 0.044, "full_hr@10": 0.085},
    }
}
#: the k of the reference figures (their keys say @10)
REFERENCE_K = 10
#: what each reference model is, in a sentence (the CLI table's notes)
REFERENCE_NOTES = {
    "sasrec": "reference PyTorch SASRec: a single BCE net, no side information (maxlen 200, hidden 50, 2 blocks), "
              "240 epochs, ~820 s CPU",
    "mf": "implicit ALS, 64 factors",
    "popularity": "most-popular",
}
#: the same in a few words (the Home table's model column)
REFERENCE_SHORT = {"sasrec": "one BCE net, no side info", "mf": "implicit ALS", "popularity": "most popular"}
