"""Source mappings against the native reader: read + typed rows per second, peak memory.

One run writes the same N interactions three ways — the native CSV, native JSON lines, and
Amazon Connect contact records (JSON, the shape of the CTR data model) — then reads each in
a fresh child process: the native reader (``read_raw`` + ``conform``) on the native files,
and ``map_files`` with (a) an identity mapping of the native CSV and (b) the shipped Connect
mapping. Ratios within one run are the stable figure on a shared machine. ``--genesys`` adds
the same rows as Genesys Cloud conversation details job pages through the shipped mapping;
``--connect-files N`` the Connect records cut into N files of one day, as Kinesis Data
Firehose delivers them (one query over the set, numbered per file).

    .venv/bin/python -m benchmarks.mapping_bench --rows 100000 [--genesys] [--vendors]
        [--connect-files 10]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa

from outcome_pipeline.contracts.feeds import INTERACTIONS

TZ = "Europe/London"


def synth(n: int, seed: int = 7) -> pa.Table:
    rng = np.random.default_rng(seed)
    base = np.datetime64("2024-01-02T07:00:00", "us")
    queued = base + rng.integers(0, 14 * 3600, n).astype("timedelta64[s]")
    wait = rng.integers(5, 300, n).astype("timedelta64[s]")
    talk = rng.integers(30, 900, n)
    abandoned = rng.random(n) < 0.1
    answered = np.where(abandoned, np.datetime64("NaT"), queued + wait)
    ended = np.where(abandoned, queued + wait, answered + talk.astype("timedelta64[s]"))
    channel = rng.choice(np.array(["phone", "chat", "email"]), n)
    ts = pa.timestamp("us", tz="UTC")
    return pa.table(
        {
            "interaction_id": [f"i{i:08d}" for i in range(n)],
            "parent_interaction_id": pa.nulls(n, pa.string()),
            "channel": channel,
            "direction": np.where(rng.random(n) < 0.9, "inbound", "outbound"),
            "customer_phone": [f"+4477{x:08d}" for x in rng.integers(0, 10**8, n)],
            "queue": rng.choice(np.array(["billing", "tech", "sales"]), n),
            "team": rng.choice(np.array(["Team A", "Team B"]), n),
            "agent_id": np.where(abandoned, None, rng.choice(np.array(["ann", "bob", "cy"]), n)),
            "queued_at": pa.array(queued, ts),
            "answered_at": pa.array(answered, ts),
            "ended_at": pa.array(ended, ts),
            "talk_seconds": np.where(abandoned, 0, talk),
            "hold_seconds": rng.integers(0, 60, n),
            "acw_seconds": rng.integers(0, 120, n),
            "abandoned": abandoned,
            "updated_at": pa.array(ended, ts),
        }
    )


def write_files(table: pa.Table, folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    out = {
        k: folder / n
        for k, n in [
            ("csv", "interactions.csv"),
            ("jsonl", "interactions.jsonl"),
            ("connect", "connect-ctr"),
        ]
    }
    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("t", table)
    iso = "strftime({c}, '%Y-%m-%dT%H:%M:%SZ')"
    cols = ", ".join(
        iso.format(c=f.name) + f" AS {f.name}" if pa.types.is_timestamp(f.type) else f.name
        for f in table.schema
    )
    con.execute(f"COPY (SELECT {cols} FROM t) TO '{out['csv']}' (HEADER, DELIMITER ',')")
    con.execute(f"COPY (SELECT {cols} FROM t) TO '{out['jsonl']}' (FORMAT json)")
    con.execute(
        f"""COPY (SELECT interaction_id AS ContactId, parent_interaction_id AS PreviousContactId,
        CASE channel WHEN 'phone' THEN 'VOICE' WHEN 'chat' THEN 'CHAT' ELSE 'EMAIL' END AS Channel,
        CASE direction WHEN 'inbound' THEN 'INBOUND' ELSE 'OUTBOUND' END AS InitiationMethod,
        {iso.format(c="queued_at")} AS InitiationTimestamp,
        {iso.format(c="ended_at")} AS DisconnectTimestamp,
        {iso.format(c="updated_at")} AS LastUpdateTimestamp,
        {{'Address': customer_phone, 'Type': 'TELEPHONE_NUMBER'}} AS CustomerEndpoint,
        {{'Name': queue, 'EnqueueTimestamp': {iso.format(c="queued_at")}}} AS Queue,
        CASE WHEN answered_at IS NULL THEN NULL ELSE {{'Username': agent_id,
          'ConnectedToAgentTimestamp': {iso.format(c="answered_at")},
          'AgentInteractionDuration': talk_seconds, 'CustomerHoldDuration': hold_seconds,
          'AfterContactWorkDuration': acw_seconds,
          'HierarchyGroups': {{'Level1': {{'GroupName': team}}}}}} END AS Agent
        FROM t) TO '{out["connect"]}' (FORMAT json)"""
    )
    con.close()
    return out


def write_genesys(table: pa.Table, folder: Path) -> Path:
    """The same rows as Genesys Cloud conversation details job pages (the generator's writer)."""
    from outcome_pipeline.generator.vendor import VENDORS

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.register("t", table)
    con.execute(
        "CREATE VIEW rows AS SELECT *, CAST(NULL AS VARCHAR) AS customer_email, "
        "CAST(NULL AS VARCHAR) AS disposition, row_number() OVER () AS __order FROM t"
    )
    (path,) = VENDORS["interactions"]["genesys"].write(con, folder, "bench")
    con.close()
    return path


def split_records(path: Path, folder: Path, n: int) -> Path:
    """The records of ``path`` (one per line) cut into ``n`` files of ``folder``, in order."""
    lines = path.read_bytes().splitlines(keepends=True)
    folder.mkdir(parents=True, exist_ok=True)
    size = -(-len(lines) // n)
    for i in range(n):
        (folder / f"part-{i:04d}").write_bytes(b"".join(lines[i * size : (i + 1) * size]))
    return folder


def _repeat_csv(path: Path, header: str, rows: list[str], n: int, skip: list[str] = ()) -> Path:
    """A CSV of ``n`` data rows cycling through ``rows`` (ids repeat: reading is measured,
    not deduplication)."""
    reps = -(-n // len(rows))
    body = "\n".join((rows * reps)[:n])
    path.write_text("\n".join([header, *skip, body]) + "\n")
    return path


def vendor_files(folder: Path, n: int) -> list[tuple[str, Path, str]]:
    """(mapping file name, sample file, note) for the shipped CSV mappings, n rows each."""
    bank_header = (
        "vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\t"
        "q_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver"
    )
    bank = [
        "AA0101\t44749\t27644400\t2\tPS\t240102\t0:00:31\t0:00:36\t5\t0:00:36\t0:03:09\t153\t"
        "AGENT\t0:03:09\t0:06:49\t220\tMICHAL",
        "AA0101\t44967\t58660291\t2\tPS\t240102\t6:55:20\t6:55:26\t6\t6:55:26\t6:55:43\t17\t"
        "HANG\t0:00:00\t0:00:00\t0\tNO_SERVER",
        "AA0102\t44751\t0\t0\tNW\t240102\t23:59:50\t23:59:58\t8\t23:59:58\t0:00:20\t22\t"
        "AGENT\t0:00:20\t0:02:00\t100\tDORIT",
    ]
    sf_header = (
        "Id,CaseNumber,AccountId,ContactId,Status,IsClosed,Origin,Reason,CreatedDate,"
        "ClosedDate,LastModifiedDate"
    )
    t1, t2 = "2024-01-01T09:00:00.000Z", "2024-01-02T11:00:00.000Z"
    sf = [
        f"5001,00001,0011,0031,Working,false,Phone,Billing,{t1},,{t2}",
        f"5002,00002,0012,0032,Closed,true,Email,Login,{t1},{t2},{t2}",
    ]
    q_fields = (
        "StartDate,EndDate,Status,IPAddress,Progress,Duration (in seconds),Finished,"
        "RecordedDate,ResponseId,RecipientLastName,RecipientFirstName,RecipientEmail,"
        "ExternalReference,LocationLatitude,LocationLongitude,DistributionChannel,"
        "UserLanguage,Q1,Q2,Q3"
    )
    qualtrics = [
        "2024-01-02 08:00:00,2024-01-02 08:01:00,0,,100,60,True,2024-01-02 08:01:01,R_1,L,F,"
        "a@example.com,ix-1,,,email,EN,4,1,quick"
    ]
    zd_fields = (
        "id,_fivetran_synced,allow_channelback,assignee_id,brand_id,created_at,description,"
        "due_at,external_id,forum_topic_id,group_id,has_incidents,is_public,organization_id,"
        "priority,problem_id,recipient,requester_id,status,subject,submitter_id,system_client,"
        "ticket_form_id,type,updated_at,url,via_channel,via_source_from_id,"
        "via_source_from_title,via_source_rel,via_source_to_address,via_source_to_name,"
        "merged_ticket_ids,via_source_from_address,followup_ids,via_followup_source_id"
    )

    def ticket(status: str) -> str:
        values = dict.fromkeys(zd_fields.split(","), "")
        values.update(
            id="16988",
            created_at="2024-01-01 09:00:00",
            status=status,
            updated_at="2024-01-02 10:00:00",
            requester_id="1500",
            type="question",
        )
        return ",".join(values.values())

    zendesk = [ticket("open"), ticket("solved"), ticket("hold")]
    cfpb = Path(__file__).parents[1] / "outcome_pipeline_tests/ingest/mapping/data"
    cfpb_lines = (cfpb / "cfpb_complaints_2016-09.csv").read_text().splitlines()
    return [
        ("bank_call_log.toml", _repeat_csv(folder / "calls.txt", bank_header, bank, n), ""),
        ("salesforce_cases.toml", _repeat_csv(folder / "Case.csv", sf_header, sf, n), ""),
        ("zendesk_tickets.toml", _repeat_csv(folder / "ticket.csv", zd_fields, zendesk, n), ""),
        (
            "qualtrics_csat.toml",
            _repeat_csv(folder / "CSAT.csv", q_fields, qualtrics, n, [q_fields, q_fields]),
            "",
        ),
        (
            "cfpb_complaints.toml",
            _repeat_csv(folder / "cfpb.csv", cfpb_lines[0], cfpb_lines[1:], n),
            "5 % quarantined",
        ),
    ]


def identity_mapping(folder: Path) -> Path:
    """The native interactions CSV through a mapping: every contract column by its name."""
    lines = [
        "[source]",
        'name = "native_csv"',
        'version = "1"',
        'table = "interactions"',
        'feed = "bench"',
        'glob = "interactions.csv"',
        'format = "csv"',
        "",
        "[columns]",
    ]
    present = {f.name for f in synth(1).schema}
    lines += [f'{c} = "{c}"' for c in INTERACTIONS.column_names if c in present]
    path = folder / "native_csv.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def _peak_mib() -> float:
    # VmHWM of this process (a fresh address space after exec, unlike ru_maxrss).
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def child(case: str, file: Path, mapping: Path | None) -> dict[str, float]:
    # Imports before the clock: both paths are timed from the file to typed Arrow.
    from outcome_pipeline.ingest.conform import conform
    from outcome_pipeline.ingest.mapping import compile_mapping, map_files
    from outcome_pipeline.ingest.readers import read_raw

    base = _peak_mib()
    t0, c0 = time.perf_counter(), time.process_time()
    if mapping is None:
        raw = read_raw(file, INTERACTIONS)
        out = conform(raw.table, INTERACTIONS, TZ)
        rows, rejected = out.table.num_rows, out.rejects.num_rows
    else:
        m = compile_mapping(mapping, TZ)
        files = sorted(file.iterdir()) if file.is_dir() else [file]
        res = map_files(m, [(f, f.name) for f in files])
        rows, rejected = res.typed.num_rows, res.rejects.num_rows
    seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
    peak = _peak_mib()
    return {
        "case": case,
        "seconds": seconds,
        "cpu_seconds": cpu,  # all threads: steadier than wall time on a shared machine
        "rows": rows,
        "rejected": rejected,
        "peak_mib": peak,
        "added_mib": peak - base,
    }


def run_child(case: str, file: Path, mapping: Path | None) -> dict[str, float]:
    args = [sys.executable, "-m", "benchmarks.mapping_bench", "--child", case, "--file", str(file)]
    if mapping:
        args += ["--mapping", str(mapping)]
    done = subprocess.run(args, check=True, capture_output=True, text=True)
    return json.loads(done.stdout.strip().splitlines()[-1])


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--repeat", type=int, default=2)
    p.add_argument("--vendors", action="store_true", help="also every shipped CSV mapping")
    p.add_argument(
        "--genesys", action="store_true", help="also Genesys Cloud conversation details pages"
    )
    p.add_argument(
        "--connect-files", type=int, default=0, help="also the Connect records cut into N files"
    )
    p.add_argument("--child")
    p.add_argument("--file", type=Path)
    p.add_argument("--mapping", type=Path)
    p.add_argument("--out", type=Path, default=Path(__file__).parent / "results")
    a = p.parse_args(argv)
    if a.child:
        print(json.dumps(child(a.child, a.file, a.mapping)))
        return 0
    from outcome_pipeline.ingest.mapping import SHIPPED_DIR

    with tempfile.TemporaryDirectory() as tmp:
        files = write_files(synth(a.rows), Path(tmp))
        ident = identity_mapping(Path(tmp))
        cases = [
            ("native CSV (native reader)", files["csv"], None),
            ("native CSV (identity mapping)", files["csv"], ident),
            ("native JSON lines (native reader)", files["jsonl"], None),
            (
                "Connect CTR JSON (amazon_connect_ctr)",
                files["connect"],
                SHIPPED_DIR / "amazon_connect_ctr.toml",
            ),
        ]
        if a.connect_files > 1:
            cases.append(
                (
                    f"Connect CTR JSON in {a.connect_files} files (amazon_connect_ctr)",
                    split_records(files["connect"], Path(tmp) / "firehose", a.connect_files),
                    SHIPPED_DIR / "amazon_connect_ctr.toml",
                )
            )
        if a.genesys:
            cases.append(
                (
                    "Genesys conversation details JSON (genesys_conversations)",
                    write_genesys(synth(a.rows), Path(tmp)),
                    SHIPPED_DIR / "genesys_conversations.toml",
                )
            )
        if a.vendors:
            cases += [
                (f"{name.removesuffix('.toml')} (shipped mapping)", path, SHIPPED_DIR / name)
                for name, path, _ in vendor_files(Path(tmp), a.rows)
            ]
        results = []
        for case, file, mapping in cases:
            runs = [run_child(case, file, mapping) for _ in range(a.repeat)]
            best = min(runs, key=lambda r: r["seconds"])
            parts = list(file.iterdir()) if file.is_dir() else [file]
            best["size_mib"] = sum(f.stat().st_size for f in parts) / 2**20
            results.append(best)
    lines = [
        f"# Source mappings vs native reader, {a.rows} rows, {date.today()}",
        "",
        f"load average {os.getloadavg()[0]:.1f} at the end (2 cores); ratio: rows/s against "
        "the native reader of the same format (CSV / JSON lines) in this run",
        "",
        "| case | rows typed | rejected | seconds (best of "
        f"{a.repeat}) | CPU s | rows/s | ratio | peak RSS MiB (above imports) | file MiB |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    native = {
        "csv": next(r for r in results if r["case"].startswith("native CSV (native")),
        "json": next(r for r in results if r["case"].startswith("native JSON lines (native")),
    }
    for r in results:
        rate = r["rows"] / r["seconds"]
        json_like = any(k in r["case"] for k in ("JSON", "Connect", "Genesys"))
        base = native["json" if json_like else "csv"]
        ratio = rate / (base["rows"] / base["seconds"])
        lines.append(
            f"| {r['case']} | {r['rows']} | {r['rejected']} | {r['seconds']:.2f} | "
            f"{r.get('cpu_seconds', float('nan')):.2f} | {rate:,.0f} | {ratio:.2f}× | "
            f"{r['peak_mib']:.0f} ({r['added_mib']:.0f}) | {r['size_mib']:.1f} |"
        )
    report = "\n".join(lines) + "\n"
    print(report)
    a.out.mkdir(parents=True, exist_ok=True)
    suffix = "_genesys" if a.genesys and not a.vendors else ""
    (a.out / f"mapping_{a.rows}{suffix}.md").write_text(report)
    return 0


if __name__ == "__main__":
    sys.exit(main())
