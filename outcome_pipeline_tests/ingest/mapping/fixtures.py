"""Small source exports written by hand, each row told: what it is and what it must become."""

from __future__ import annotations

import json
from pathlib import Path

BANK_HEADER = (
    "vru+line\tcall_id\tcustomer_id\tpriority\ttype\tdate\tvru_entry\tvru_exit\tvru_time\t"
    "q_start\tq_exit\tq_time\toutcome\tser_start\tser_exit\tser_time\tserver"
)
# Times are Israel local time (UTC+2 in January).
BANK_ROWS = [
    # line 2: queued 0:00:36, served 0:03:09 for 220 s by MICHAL.
    "AA0101\t44749\t27644400\t2\tPS\t{d}\t0:00:31\t0:00:36\t5\t0:00:36\t0:03:09\t153\tAGENT\t0:03:09\t0:06:49\t220\tMICHAL",
    # line 3: never queued (0:00:00): counts from the VRU arrival; served straight away.
    "AA0101\t44750\t12887816\t1\tPS\t{d}\t0:34:12\t0:34:23\t11\t0:00:00\t0:00:00\t0\tAGENT\t0:34:22\t0:37:10\t168\tBASCH",
    # line 4: hung up in the queue after 17 s; no server.
    "AA0101\t44967\t58660291\t2\tPS\t{d}\t6:55:20\t6:55:26\t6\t6:55:26\t6:55:43\t17\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER",
    # line 5: arrives 23:59:50, leaves the queue after midnight: the next day.
    "AA0102\t44751\t0\t0\tNW\t{d}\t23:59:50\t23:59:58\t8\t23:59:58\t0:00:20\t22\tAGENT\t0:00:20\t0:02:00\t100\tDORIT",
    # line 6: a PHANTOM call: no contact, quarantined as an unmapped outcome.
    "AA0103\t44752\t0\t0\tNW\t{d}\t1:00:00\t1:00:05\t5\t0:00:00\t0:00:00\t0\tPHANTOM\t0:00:00\t0:00:00\t0\tNO_SERVER",
    # line 7: a day that is not YYMMDD.
    "AA0103\t44753\t0\t0\tNW\t99XX01\t1:00:00\t1:00:05\t5\t0:00:00\t0:00:00\t0\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER",
    # line 8: cut short (3 fields): malformed.
    "AA0103\t44754\t0",
    # line 9: same call_id as line 2 on another line: a different call.
    "AA0104\t44749\t0\t0\tPS\t{d}\t8:00:00\t8:00:05\t5\t8:00:05\t8:00:10\t5\tHANG\t0:00:00\t0:00:00\t0\tNO_SERVER",
]


def write_bank_log(folder: Path, yymmdd: str, name: str = "calls.txt") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("\n".join([BANK_HEADER, *(r.format(d=yymmdd) for r in BANK_ROWS)]) + "\n")
    return path


def ctr(contact_id: str, day: str, **over: object) -> dict:
    """A voice contact record answered after 50 s, 200 s of talk (field names of the CTR model)."""
    record = {
        "ContactId": contact_id,
        "Channel": "VOICE",
        "InitiationMethod": "INBOUND",
        "InitiationTimestamp": f"{day}T10:00:00Z",
        "DisconnectTimestamp": f"{day}T10:05:00Z",
        "LastUpdateTimestamp": f"{day}T10:06:00Z",
        "CustomerEndpoint": {"Address": "+441234567890", "Type": "TELEPHONE_NUMBER"},
        "Queue": {"Name": "billing", "EnqueueTimestamp": f"{day}T10:00:10Z"},
        "Agent": {
            "Username": "ann",
            "ConnectedToAgentTimestamp": f"{day}T10:01:00Z",
            "AgentInteractionDuration": 200,
            "CustomerHoldDuration": 20,
            "AfterContactWorkDuration": 30,
            "HierarchyGroups": {"Level1": {"GroupName": "Team A"}},
        },
    }
    record.update(over)
    return record


def write_firehose(folder: Path, records: list[dict], name: str) -> Path:
    """Records back to back without a delimiter, as Kinesis Data Firehose writes them."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("".join(json.dumps(r) for r in records))
    return path


# Header of the Fivetran Zendesk TICKET table (dbt_zendesk integration-test seed).
ZENDESK_TICKET_HEADER = (
    "id,_fivetran_synced,allow_channelback,assignee_id,brand_id,created_at,description,due_at,"
    "external_id,forum_topic_id,group_id,has_incidents,is_public,organization_id,priority,"
    "problem_id,recipient,requester_id,status,subject,submitter_id,system_client,ticket_form_id,"
    "type,updated_at,url,via_channel,via_source_from_id,via_source_from_title,via_source_rel,"
    "via_source_to_address,via_source_to_name,merged_ticket_ids,via_source_from_address,"
    "followup_ids,via_followup_source_id"
)


def zendesk_ticket(
    ticket_id: int, status: str, created: str, updated: str, kind: str = "question"
) -> str:
    values = dict.fromkeys(ZENDESK_TICKET_HEADER.split(","), "")
    values.update(
        id=str(ticket_id),
        created_at=created,
        updated_at=updated,
        status=status,
        requester_id=str(9000 + ticket_id),
        type=kind,
        via_channel="email",
        subject="subject",
    )
    return ",".join(values.values())


def write_zendesk_tickets(folder: Path, rows: list[str]) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "ticket.csv"
    path.write_text("\n".join([ZENDESK_TICKET_HEADER, *rows]) + "\n")
    return path
