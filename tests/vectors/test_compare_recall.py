import numpy as np

from engine.vectors.compare import recall_at_k, tie_aware_recall


def test_tied_movies_count_as_correct_answers():
    # movies 1 and 2 have the same vector: either one is a correct 1st neighbour
    ids = np.array([1, 2, 3])
    vecs = np.array([[1, 0], [1, 0], [0, 1]], np.float32)
    q = np.array([[1, 0.1]], np.float32)
    assert recall_at_k(np.array([[2]]), np.array([[1]])) == 0.0  # plain id overlap says "miss"
    assert tie_aware_recall(np.array([[2]]), ids, vecs, q, k=1) == 1.0
    assert tie_aware_recall(np.array([[3]]), ids, vecs, q, k=1) == 0.0  # a worse movie is still a miss
    assert tie_aware_recall(np.array([[1, -1]]), ids, vecs, q, k=2) == 0.5  # padding is a miss
