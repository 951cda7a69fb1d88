"""The base of every section of the business configuration: unknown keys are refused
(with their path) and a loaded configuration is never changed."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Section(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)
