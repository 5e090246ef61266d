"""Check results of a staging run: what the UI shows, and what blocks downstream assets.

Evaluated over the run's partition window only (never over all partitions). Metadata holds
counts, reason codes and a small sample of quarantined rows by file and line — no raw values,
so no customer identifier reaches the Dagster event log.
"""

from collections import Counter
from datetime import date

import dagster as dg

from outcome_pipeline.contracts import CONTRACTS, TableContract
from outcome_pipeline.ingest.stage_finish import StagedDay
from outcome_pipeline.validation.collector import DayValidations
from outcome_pipeline.warehouse import LOAD_AUDIT, Warehouse
from outcome_pipeline.warehouse.tables import QUARANTINE_TABLES, STAGING_TABLES

LOAD_OK = "load_ok"
ACCOUNTING = "row_accounting"
DRIFT_AND_LATE = "drift_and_late_rows"
REFERENCES = "references_resolve"
SAMPLE = 10


def _sample(days: list[StagedDay]) -> str:
    lines = ["| day | file | line | reasons |", "|---|---|---:|---|"]
    shown = 0
    for d in days:
        for r in d.quarantined.select(["source_file", "source_line", "reason_code"]).to_pylist():
            if shown == SAMPLE:
                return "\n".join(lines)
            lines.append(
                f"| {d.day} | {r['source_file']} | {r['source_line']} | {r['reason_code']} |"
            )
            shown += 1
    return "\n".join(lines)


def load_ok_check(
    days: list[StagedDay], validations: DayValidations, max_share: float
) -> dg.AssetCheckResult:
    """Fail when a file was lost, a dataset-level expectation failed, or a day quarantined
    more than ``max_share`` of its rows."""
    lost = [f for d in days for f in d.rejected_files.to_pylist()]
    over = []
    for d in days:
        share = d.rows_quarantined / d.rows_read if d.rows_read else 0.0
        if share > max_share:
            over.append(f"{d.day}: {share:.1%}")
    reasons = Counter(
        code
        for d in days
        for codes in d.quarantined["reason_code"].to_pylist()
        for code in codes.split(",")
    )
    read = sum(d.rows_read for d in days)
    quarantined = sum(d.rows_quarantined for d in days)
    problems = [f"file quarantined: {f['error']}" for f in lost]
    problems += [f"quarantine share over {max_share:.0%} on {o}" for o in over]
    problems += validations.failed_dataset_expectations()
    return dg.AssetCheckResult(
        check_name=LOAD_OK,
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(problems) if problems else "no file lost, quarantine under threshold",
        metadata={
            "rows_read": read,
            "rows_quarantined": quarantined,
            "quarantine_share": dg.MetadataValue.float(quarantined / read if read else 0.0),
            "max_quarantine_share": dg.MetadataValue.float(max_share),
            "files_quarantined": len(lost),
            "failed_rules": dg.MetadataValue.json(dict(sorted(reasons.items()))),
            "failed_expectations": dg.MetadataValue.json(validations.failed_counts("error")),
            "problems": dg.MetadataValue.json(problems),
            "sample": dg.MetadataValue.md(_sample(days)),
        },
    )


def accounting_check(
    wh: Warehouse, contract: TableContract, start: date, end: date
) -> dg.AssetCheckResult:
    """Reconcile load_audit with itself and with the rows really in the tables."""
    window = "partition_date >= :start AND partition_date < :end"
    params = {"start": start, "end": end, "feed": contract.name}
    audit = wh.query(
        f"SELECT partition_date, rows_read, rows_staged, rows_quarantined, rows_duplicate "
        f"FROM {wh.qualified(LOAD_AUDIT.name)} WHERE {window} AND feed = :feed",
        params,
    ).to_pylist()
    staged = wh.count(STAGING_TABLES[contract.name].name, window, params)
    quarantined = wh.count(QUARANTINE_TABLES[contract.name].name, window, params)
    broken = [
        str(a["partition_date"])
        for a in audit
        if a["rows_read"] != a["rows_staged"] + a["rows_quarantined"] + a["rows_duplicate"]
    ]
    problems = [f"rows_read != staged + quarantined + duplicate on {d}" for d in broken]
    if staged != sum(a["rows_staged"] for a in audit):
        problems.append(
            f"staging holds {staged} rows, load_audit says {sum(a['rows_staged'] for a in audit)}"
        )
    if quarantined != sum(a["rows_quarantined"] for a in audit):
        problems.append(
            f"quarantine holds {quarantined} rows, load_audit says "
            f"{sum(a['rows_quarantined'] for a in audit)}"
        )
    return dg.AssetCheckResult(
        check_name=ACCOUNTING,
        passed=not problems,
        severity=dg.AssetCheckSeverity.ERROR,
        description="; ".join(problems) if problems else "every landed row is accounted for",
        metadata={
            "days": len(audit),
            "rows_staged": staged,
            "rows_quarantined": quarantined,
            "problems": dg.MetadataValue.json(problems),
        },
    )


def drift_and_late_check(days: list[StagedDay], validations: DayValidations) -> dg.AssetCheckResult:
    """Warn (never block): columns beyond the contract, late rows, warning-level rules."""
    drift = sorted(
        {
            f"{f.file}: {', '.join(f.extra_columns)}"
            for d in days
            for f in d.files
            if f.extra_columns
        }
    )
    missing = sorted(
        {
            f"{f.file}: {', '.join(f.missing_columns)}"
            for d in days
            for f in d.files
            if f.missing_columns
        }
    )
    late = sum(d.late_rows for d in days)
    # Rows of a business day before the first partition: staged, in no outcome table.
    before_start = sum(d.rows_before_start for d in days)
    warned = validations.failed_counts("warning")
    warning_rows = validations.warning_rows()
    return dg.AssetCheckResult(
        check_name=DRIFT_AND_LATE,
        passed=not drift
        and not missing
        and late == 0
        and before_start == 0
        and not warned
        and not warning_rows,
        severity=dg.AssetCheckSeverity.WARN,
        metadata={
            "late_rows": late,
            "rows_before_start": before_start,
            "warning_expectations": dg.MetadataValue.json(warned),
            "warning_rows_by_reason": dg.MetadataValue.json(warning_rows),
            "files_with_extra_columns": dg.MetadataValue.json(drift),
            "files_missing_optional_columns": dg.MetadataValue.json(missing),
        },
    )


def references_check(
    wh: Warehouse, contract: TableContract, start: date, end: date
) -> dg.AssetCheckResult:
    """Warn when a given reference (e.g. a survey's interaction_id) matches nothing staged."""
    table = wh.qualified(STAGING_TABLES[contract.name].name)
    params = {"start": start, "end": end}
    dangling: dict[str, int] = {}
    for column, target_name in sorted(contract.references.items()):
        target = CONTRACTS[target_name]
        sql = (
            f"SELECT count(*) FROM {table} s WHERE s.partition_date >= :start "
            f'AND s.partition_date < :end AND s."{column}" IS NOT NULL AND NOT EXISTS '
            f"(SELECT 1 FROM {wh.qualified(target.staging_table)} t "
            f'WHERE t."{target.key}" = s."{column}")'
        )
        dangling[column] = int(wh.query(sql, params).column(0)[0].as_py())
    return dg.AssetCheckResult(
        check_name=REFERENCES,
        passed=not any(dangling.values()),
        severity=dg.AssetCheckSeverity.WARN,
        description=", ".join(f"{n} {c} match nothing staged" for c, n in dangling.items() if n)
        or "every given reference matches a staged row",
        metadata={"dangling_references": dg.MetadataValue.json(dangling)},
    )
