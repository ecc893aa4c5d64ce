"""raft-core judges computing Ragas 0.4 metrics (metric collections) with an LLM reached through LiteLLM."""
