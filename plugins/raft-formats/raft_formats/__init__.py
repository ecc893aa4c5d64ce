"""raft-core assembly components: random distractors, prompt layouts and dataset output formats."""
