"""Sample-data generator: a simulated omnichannel contact center in the landing layout.

``generate(GeneratorConfig(...))`` writes interactions, CRM (customers, cases, subscription
events) and survey feeds for a range of business days, with the imperfections a real
landing zone has (late files, redeliveries, known defects), and returns a
:class:`GenerationReport` that is also saved as ``<out_dir>/_manifest.json``.
"""

from outcome_pipeline.generator.config import GeneratorConfig
from outcome_pipeline.generator.core import generate
from outcome_pipeline.generator.report import DayStats, FileRecord, GenerationReport

__all__ = ["DayStats", "FileRecord", "GenerationReport", "GeneratorConfig", "generate"]
