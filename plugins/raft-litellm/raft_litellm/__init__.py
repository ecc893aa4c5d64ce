"""raft-core components over LiteLLM: the ``litellm`` teacher and generator, and the ``llm`` judge."""
