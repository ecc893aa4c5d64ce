"""Options shared by all splitters: the core passes chunk_size and chunk_overlap from the split section."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field, model_validator


class SizeOptions(BaseModel):
    """Chunk size and overlap (in the splitter's unit); unknown keys are errors."""

    model_config = ConfigDict(extra="forbid")

    chunk_size: int = Field(1000, gt=0)
    chunk_overlap: int = Field(100, ge=0)

    @model_validator(mode="after")
    def _overlap_below_size(self) -> SizeOptions:
        if self.chunk_overlap >= self.chunk_size:
            raise ValueError("chunk_overlap must be smaller than chunk_size")
        return self
