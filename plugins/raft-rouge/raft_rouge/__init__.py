"""raft-core judges comparing a prediction with the reference answer: ROUGE, exact match, token F1,
answer correctness, the answer tag and citations (quotes found in the retrieved chunks)."""
