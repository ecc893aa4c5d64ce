"""raft-core judges comparing a prediction with the reference answer: ROUGE, exact match, token F1."""
