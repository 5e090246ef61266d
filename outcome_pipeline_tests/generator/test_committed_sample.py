"""The committed sample in data/sample/ is what the generator writes, and it stages cleanly.

The sample is the generator's output for the configuration its own ``_manifest.json``
records, so regenerating from that configuration must give the same files: a change to the
generator that alters the data fails here until the sample is regenerated (the command is in
data/README.md).
"""

from __future__ import annotations

import json
from collections import Counter
from datetime import date
from pathlib import Path

import pyarrow.parquet as pq

from outcome_pipeline.contracts import CONTRACTS
from outcome_pipeline.generator import GeneratorConfig, generate
from outcome_pipeline.ingest.stage import stage_day
from outcome_pipeline.validation.collector import DayValidations

SAMPLE = Path(__file__).resolve().parents[2] / "data" / "sample"


def _config(out: Path) -> GeneratorConfig:
    config = json.loads((SAMPLE / "_manifest.json").read_text())["config"]
    config.update(out_dir=out, start=date.fromisoformat(config["start"]))
    return GeneratorConfig(**config)


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def test_the_committed_sample_is_what_the_generator_writes(tmp_path: Path) -> None:
    config = _config(tmp_path)
    assert config.defect_rate == 0.0 and str(config.out_dir) == str(tmp_path)
    generate(config)
    assert _files(tmp_path) == _files(SAMPLE)
    for name in _files(SAMPLE):
        fresh, committed = tmp_path / name, SAMPLE / name
        if name.endswith(".parquet"):
            # Parquet's footer names the writing library's version: compare the data instead.
            assert pq.read_table(fresh).equals(pq.read_table(committed), check_metadata=True)
        elif name == "_manifest.json":
            ours = json.loads(fresh.read_text())
            ours["config"]["out_dir"] = "data/sample"
            assert ours == json.loads(committed.read_text()), name
        else:
            assert fresh.read_bytes() == committed.read_bytes(), name


def test_the_committed_sample_stages_cleanly() -> None:
    config = _config(SAMPLE)
    read: set[str] = set()
    staged: Counter[str] = Counter()
    for name, contract in CONTRACTS.items():
        # The vectorised twins of the GX suites (the same rules; GX's agreement with them is
        # tested in validation/): GX itself would take ~50 s over these 35 small days.
        validations = DayValidations(config.timezone, engine="precheck")
        for day in config.day_list:
            result = stage_day(SAMPLE, contract, day, config.timezone, validator=validations)
            assert result.rejected_files.num_rows == 0, (name, day)
            assert result.rows_quarantined == 0, (name, day, result.quarantined.to_pylist()[:3])
            assert result.rows_read == result.rows_staged + result.rows_duplicate
            read.update(f.file for f in result.files)
            staged[name] += result.rows_staged
        assert validations.failed_dataset_expectations() == [], name
    # Every landed file is read (none skipped), and every feed table has rows to look at.
    assert read == set(_files(SAMPLE)) - {"_manifest.json"}
    assert all(staged[name] > 0 for name in CONTRACTS), staged
    # "A few hundred rows": enough to see journeys, small enough to read.
    assert 200 <= staged["interactions"] <= 1_000, staged
