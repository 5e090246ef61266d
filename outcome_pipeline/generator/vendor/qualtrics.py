"""Qualtrics survey response exports: the vendor export of the survey responses."""

from __future__ import annotations

from pathlib import Path

import duckdb

# Qualtrics survey response CSV exports, one survey (file) per survey type (qualtrics_csat,
# qualtrics_nps, qualtrics_ces mappings). Times in the account's zone, as the export writes.
QUALTRICS_FEED = "qualtrics"
QUALTRICS_TIMEZONE = "America/Denver"
QUALTRICS_FIELDS = [
    "StartDate",
    "EndDate",
    "Status",
    "IPAddress",
    "Progress",
    "Duration (in seconds)",
    "Finished",
    "RecordedDate",
    "ResponseId",
    "RecipientLastName",
    "RecipientFirstName",
    "RecipientEmail",
    "ExternalReference",
    "LocationLatitude",
    "LocationLongitude",
    "DistributionChannel",
    "UserLanguage",
    "Q1",
    "Q2",
    "Q3",
]
_QUALTRICS_Q1 = {
    "csat": "How satisfied were you with the help you got?",
    "nps": "How likely are you to recommend us to a friend or colleague?",
    "ces": "How easy was it to get your issue handled?",
}
_QUALTRICS_QUESTIONS = {
    "Q2": "Was your issue resolved?",
    "Q3": "Anything else you would like to tell us?",
}
_Q_TS = f"strftime(timezone('{QUALTRICS_TIMEZONE}', {{c}}), '%Y-%m-%d %H:%M:%S')"
_QUALTRICS_SQL = f"""
SELECT {_Q_TS.format(c="sent_at")} AS StartDate, {_Q_TS.format(c="responded_at")} AS EndDate,
  '0' AS Status, NULL AS IPAddress, '100' AS Progress,
  CAST(epoch(responded_at) - epoch(sent_at) AS BIGINT) AS "Duration (in seconds)",
  '1' AS Finished, {_Q_TS.format(c="updated_at")} AS RecordedDate, response_id AS ResponseId,
  NULL AS RecipientLastName, NULL AS RecipientFirstName, customer_email AS RecipientEmail,
  interaction_id AS ExternalReference, NULL AS LocationLatitude, NULL AS LocationLongitude,
  'email' AS DistributionChannel, 'EN' AS UserLanguage, score AS Q1,
  CASE resolved_self_reported WHEN TRUE THEN '1' WHEN FALSE THEN '2' END AS Q2,
  comment AS Q3
FROM rows WHERE survey_type = ? ORDER BY __order
"""
QUALTRICS_CARRIES = (
    "response_id",
    "survey_type",
    "score",
    "interaction_id",
    "customer_email",
    "sent_at",
    "responded_at",
    "resolved_self_reported",
    "comment",
    "updated_at",
)


def write_qualtrics(con: duckdb.DuckDBPyConnection, folder: Path, stem: str) -> list[Path]:
    """One export per survey: the field names, the question texts, the import ids, answers."""
    written = []
    for kind in ("csat", "nps", "ces"):
        ((count,),) = con.execute(
            "SELECT count(*) FROM rows WHERE survey_type = ?", [kind]
        ).fetchall()
        if not count:
            continue
        path = folder / f"{stem}-{kind.upper()}.csv"
        con.execute(f"COPY ({_QUALTRICS_SQL}) TO '{path}' (FORMAT csv, HEADER)", [kind])
        header, _, body = path.read_text(encoding="utf-8").partition("\n")
        questions = {**_QUALTRICS_QUESTIONS, "Q1": _QUALTRICS_Q1[kind]}
        texts = ",".join('"' + questions.get(f, f) + '"' for f in QUALTRICS_FIELDS)
        ids = ",".join(
            '"{""ImportId"":""' + f + '"",""timeZone"":""' + QUALTRICS_TIMEZONE + '""}"'
            for f in QUALTRICS_FIELDS
        )
        path.write_text("\n".join([header, texts, ids, body]), encoding="utf-8")
        written.append(path)
    return written
