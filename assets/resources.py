"""Dagster resources: the project's settings, overridable per run (tests point them at tmp dirs)."""

from dataclasses import replace
from pathlib import Path

import dagster as dg

from datapakke.config import Settings, get_settings


class DatapakkeSettings(dg.ConfigurableResource):
    """Where to read raw files and write marts; empty = the config module's defaults."""

    raw_dir: str = ""
    marts_dir: str = ""

    def get(self) -> Settings:
        settings = get_settings()
        if self.raw_dir:
            settings = replace(settings, raw_dir=Path(self.raw_dir))
        if self.marts_dir:
            settings = replace(settings, marts_dir=Path(self.marts_dir))
        return settings
