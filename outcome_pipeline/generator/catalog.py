"""The simulated contact center's fixed shape: channels, queues, reasons, teams, profiles.

Everything the simulation draws from lives here as small numpy tables indexed by integer
codes, so the simulation itself is pure array arithmetic. The numbers are chosen to look like
a real omnichannel operation *and* to plant structures the pipeline must later reveal: a fast
team that claims more than it resolves, a thorough team that resolves more, and churn that
follows failed journeys.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from outcome_pipeline.contracts.feeds import CHANNELS, DISPOSITIONS

# --- channels (indices follow contracts.CHANNELS) ----------------------------------------
PHONE, EMAIL, CHAT, SOCIAL, MESSAGING, WEB = (CHANNELS.index(c) for c in CHANNELS)
assert CHANNELS == ("phone", "email", "chat", "social", "messaging", "web")

# Synchronous channels have a queue wait and a live conversation; asynchronous ones have a
# first response time instead.
ASYNC = np.array([False, True, False, True, True, False])
# Customers can give up before an agent answers only on these.
ABANDONABLE = np.array([True, False, True, False, True, False])
# Live transfers to another queue happen on these.
TRANSFERABLE = np.array([True, False, True, False, False, True])
HAS_HOLD = np.array([True, False, False, False, False, True])
# Median queue wait (s) for synchronous channels at average load; first response (s) for async.
WAIT_MEDIAN = np.array([30.0, 4 * 3600.0, 35.0, 50 * 60.0, 4 * 60.0, 20.0])
WAIT_SIGMA = np.array([0.8, 0.9, 0.8, 1.0, 1.0, 0.7])
# Median seconds a customer waits before giving up (only used where ABANDONABLE).
PATIENCE_MEDIAN = np.array([240.0, 1.0, 300.0, 1.0, 45 * 60.0, 1.0])
# Median talk / typing seconds before the team's multiplier.
TALK_MEDIAN = np.array([330.0, 280.0, 540.0, 150.0, 420.0, 300.0])
TALK_SIGMA = np.array([0.6, 0.7, 0.6, 0.7, 0.7, 0.6])
# Messaging conversations last longer than the agent's typing time.
DWELL_FACTOR = np.array([1.0, 1.0, 1.0, 1.0, 3.0, 1.0])
# How well a channel lends itself to resolving (a tweet is a poor place to fix a bill).
CHANNEL_RESOLVE = np.array([1.0, 0.92, 0.96, 0.8, 0.95, 1.0])
# Channel mix of a first contact by segment (rows: consumer, smb, enterprise).
CHANNEL_MIX = np.array(
    [
        [0.36, 0.12, 0.2, 0.08, 0.15, 0.09],
        [0.42, 0.22, 0.15, 0.03, 0.08, 0.1],
        [0.45, 0.35, 0.1, 0.01, 0.04, 0.05],
    ]
)
# Survey invitation rate after a handled contact, by channel.
SURVEY_SEND = np.array([0.3, 0.5, 0.45, 0.2, 0.4, 0.35])

# --- queues and reasons ------------------------------------------------------------------
QUEUES = ("billing", "tech_support", "sales", "retention", "general")
BILLING, TECH, SALES, RETENTION, GENERAL = range(len(QUEUES))
QUEUE_MIX = np.array(  # by segment
    [
        [0.32, 0.3, 0.1, 0.1, 0.18],
        [0.3, 0.35, 0.12, 0.08, 0.15],
        [0.25, 0.45, 0.12, 0.06, 0.12],
    ]
)
# Where a transferred leg goes, by the queue it leaves (rows sum to 1, no self-transfer).
TRANSFER_TARGET = np.array(
    [
        [0.0, 0.25, 0.1, 0.45, 0.2],
        [0.35, 0.0, 0.15, 0.2, 0.3],
        [0.4, 0.3, 0.0, 0.2, 0.1],
        [0.5, 0.2, 0.2, 0.0, 0.1],
        [0.35, 0.4, 0.15, 0.1, 0.0],
    ]
)

# (queue, reason code, base probability a contact resolves it, probability it opens a case)
_REASONS = (
    (BILLING, "invoice_query", 0.86, 0.2),
    (BILLING, "payment_failed", 0.72, 0.45),
    (BILLING, "refund_request", 0.62, 0.6),
    (BILLING, "price_change", 0.78, 0.25),
    (TECH, "connectivity", 0.56, 0.55),
    (TECH, "login_issue", 0.82, 0.25),
    (TECH, "device_setup", 0.7, 0.35),
    (TECH, "outage", 0.42, 0.7),
    (SALES, "new_order", 0.86, 0.3),
    (SALES, "upgrade_request", 0.86, 0.3),
    (SALES, "plan_info", 0.92, 0.1),
    (RETENTION, "cancel_request", 0.58, 0.5),
    (RETENTION, "complaint", 0.5, 0.7),
    (RETENTION, "contract_end", 0.72, 0.3),
    (GENERAL, "address_change", 0.93, 0.15),
    (GENERAL, "account_info", 0.9, 0.1),
    (GENERAL, "other", 0.76, 0.2),
)
REASONS = tuple(r[1] for r in _REASONS)
REASON_QUEUE = np.array([r[0] for r in _REASONS])
REASON_RESOLVE = np.array([r[2] for r in _REASONS])
REASON_CASE = np.array([r[3] for r in _REASONS])
PAYMENT_FAILED = REASONS.index("payment_failed")
# Reasons an onboarding customer (new signup) contacts about.
ONBOARDING_REASONS = np.array([REASONS.index(r) for r in ("device_setup", "login_issue")])


# --- teams -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Team:
    """A team's working style: how long it talks, how much it really resolves and claims."""

    name: str
    code: str
    talk_mult: float
    resolve_mult: float
    # P(agent dispositions "resolved" | the contact did NOT resolve the issue).
    claim_rate: float
    # P(agent dispositions "resolved" | it did resolve); thorough agents book a follow-up.
    confirm_rate: float
    acw_median: float
    transfer_rate: float
    agents_per_1k: float  # agents per 1,000 interactions a day


TEAMS = (
    Team("express", "EXP", 0.5, 0.68, 0.72, 0.97, 15.0, 0.14, 6.0),
    Team("care_plus", "CAR", 1.55, 1.2, 0.04, 0.88, 80.0, 0.05, 5.0),
    Team("tech_experts", "TEC", 1.3, 1.05, 0.12, 0.94, 60.0, 0.08, 4.0),
    Team("sales_desk", "SAL", 1.0, 1.0, 0.18, 0.95, 40.0, 0.06, 1.5),
    Team("retention_desk", "RET", 1.2, 1.08, 0.1, 0.94, 60.0, 0.05, 1.5),
    Team("digital_care", "DIG", 1.0, 0.95, 0.2, 0.95, 30.0, 0.0, 4.0),
)
TEAM_NAMES = tuple(t.name for t in TEAMS)
FAST_TEAM = "express"
THOROUGH_TEAM = "care_plus"
TEAM_TALK = np.array([t.talk_mult for t in TEAMS])
TEAM_RESOLVE = np.array([t.resolve_mult for t in TEAMS])
TEAM_CLAIM = np.array([t.claim_rate for t in TEAMS])
TEAM_CONFIRM = np.array([t.confirm_rate for t in TEAMS])
TEAM_ACW = np.array([t.acw_median for t in TEAMS])
TEAM_TRANSFER = np.array([t.transfer_rate for t in TEAMS])
EXP, CAR, TEC, SAL, RET, DIG = range(len(TEAMS))
# Routing of a queue's synchronous contacts (phone, chat, web) to teams.
ROUTING_SYNC = np.zeros((len(QUEUES), len(TEAMS)))
ROUTING_SYNC[BILLING, [EXP, CAR]] = [0.55, 0.45]
ROUTING_SYNC[TECH, [EXP, CAR, TEC]] = [0.25, 0.2, 0.55]
ROUTING_SYNC[SALES, [EXP, SAL]] = [0.2, 0.8]
ROUTING_SYNC[RETENTION, [CAR, RET]] = [0.15, 0.85]
ROUTING_SYNC[GENERAL, [EXP, CAR]] = [0.6, 0.4]
# Asynchronous contacts (email, social, messaging) mostly go to the digital team.
ROUTING_ASYNC = np.zeros((len(QUEUES), len(TEAMS)))
ROUTING_ASYNC[:, DIG] = 0.8
ROUTING_ASYNC[[BILLING, TECH, SALES, RETENTION, GENERAL], [CAR, TEC, SAL, RET, EXP]] = 0.2

# --- dispositions ------------------------------------------------------------------------
RESOLVED, FOLLOW_UP, ESCALATED, UNRESOLVED = (DISPOSITIONS.index(d) for d in DISPOSITIONS)
# What an agent writes when the contact did not resolve and they do not claim it did.
HONEST_DISPOSITION = np.array([FOLLOW_UP, ESCALATED, UNRESOLVED])
HONEST_P = np.array([0.55, 0.2, 0.25])

# --- calendar ----------------------------------------------------------------------------
# Relative contact volume by local hour (weekday, weekend). Peaks in business hours.
HOURLY_WEEKDAY = np.array(
    [
        [0.25, 0.12, 0.07, 0.05, 0.05, 0.1, 0.3, 0.9, 2.1, 3.3, 3.7, 3.6],  # 00-11
        [3.0, 3.1, 3.5, 3.4, 3.1, 2.7, 2.1, 1.7, 1.4, 1.0, 0.7, 0.45],  # 12-23
    ]
).ravel()
HOURLY_WEEKEND = np.array(
    [
        [0.35, 0.2, 0.1, 0.07, 0.06, 0.08, 0.2, 0.5, 1.2, 2.0, 2.5, 2.6],
        [2.5, 2.4, 2.3, 2.2, 2.1, 2.0, 1.9, 1.7, 1.5, 1.2, 0.9, 0.6],
    ]
).ravel()
# Volume by weekday (Monday first); normalised so the weekly mean is 1.
_DOW = np.array([1.18, 1.08, 1.02, 1.0, 0.97, 0.5, 0.4])
DOW_FACTOR = _DOW / _DOW.mean()

# --- customers ---------------------------------------------------------------------------
SEGMENT_P = np.array([0.8, 0.15, 0.05])
PLAN_P = np.array(  # by segment
    [[0.55, 0.35, 0.1], [0.25, 0.5, 0.25], [0.05, 0.35, 0.6]]
)
PLAN_PRICE = np.array([19.0, 39.0, 79.0])
SEGMENT_MRR_MULT = np.array([1.0, 4.0, 25.0])
REGIONS = ("london", "south_east", "south_west", "midlands", "north_west", "north_east")
REGIONS += ("scotland", "wales", "northern_ireland")
_FIRST_NAMES = (
    "olivia amelia isla ava mia sophia grace lily freya emily ivy ella rosie evie chloe noah "
    "oliver george arthur leo harry oscar archie henry theo jack charlie finley mohammed "
    "muhammad aisha priya raj anika wei ming chen siobhan niamh aoife sean ciaran dylan rhys "
    "megan zoe lucas"
)
FIRST_NAMES = tuple(_FIRST_NAMES.split())
_LAST_NAMES = (
    "smith jones taylor brown williams wilson johnson davies patel wright robinson wood "
    "thompson evans walker white roberts green hall thomas clarke jackson khan lewis harris "
    "turner hill scott cooper ward morris moore clark lee king baker harrison morgan allen "
    "james phillips ahmed murphy kelly campbell stewart singh obrien"
)
LAST_NAMES = tuple(_LAST_NAMES.split())
CONSUMER_DOMAINS = ("gmail.com", "outlook.com", "yahoo.co.uk", "btinternet.com", "icloud.com")
_COMPANY_WORDS = (
    "northwind contoso fabrikam tailspin wingtip adatum litware proseware lucerne margie "
    "alpine coho fourthcoffee humongous wideworld treyresearch bluelake"
)
COMPANY_WORDS = tuple(_COMPANY_WORDS.split())
CHANNEL_ID_RATE = np.array([0.65, 0.35, 0.8, 0.15, 0.6, 0.9])  # P(platform knows the CRM id)
