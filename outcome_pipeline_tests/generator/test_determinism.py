"""Same config → byte-identical files; another seed → other data; more days → same early days."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from outcome_pipeline_tests.generator.conftest import run


def _hashes(out: Path, days: set[str] | None = None) -> dict[str, str]:
    return {
        p.relative_to(out).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(out.rglob("*"))
        if p.is_file() and (days is None or p.parent.name in days)
    }


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory):
    def make(name: str, **overrides: object) -> Path:
        out = tmp_path_factory.mktemp(name)
        settings: dict[str, object] = dict(days=3, interactions_per_day=600, defect_rate=0.02)
        settings.update(overrides)
        run(out, **settings)
        return out

    return make


def test_same_config_writes_byte_identical_files(small) -> None:
    a, b = small("a"), small("b")
    hashes = _hashes(a)
    assert len(hashes) > 20 and "_manifest.json" in hashes
    manifest_a = (a / "_manifest.json").read_text().replace(str(a), "<out>")
    manifest_b = (b / "_manifest.json").read_text().replace(str(b), "<out>")
    assert manifest_a == manifest_b
    hashes.pop("_manifest.json")
    other = _hashes(b)
    other.pop("_manifest.json")
    assert hashes == other


def test_another_seed_writes_other_data(small) -> None:
    a, c = _hashes(small("seed7")), _hashes(small("seed8", seed=8))
    common = set(a) & set(c)
    assert common and all(a[p] != c[p] for p in common)


def test_a_longer_run_keeps_its_earlier_days(small) -> None:
    short, long = small("short", days=2), small("long", days=3)
    early = {"2024-03-28", "2024-03-29"}
    assert _hashes(short, early) == _hashes(long, early)


def test_rerun_into_the_same_folder_replaces_previous_files(tmp_path: Path) -> None:
    first = run(tmp_path, days=2, interactions_per_day=300, seed=1)
    second = run(tmp_path, days=2, interactions_per_day=300, seed=2)
    written = {p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*.*")}
    assert written - {"_manifest.json"} == {f.path for f in second.files}
    assert first.files != second.files
