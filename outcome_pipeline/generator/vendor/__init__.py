"""Vendor export formats: the generated native feeds rewritten as a vendor would deliver them.

The simulation writes the native contracts; a vendor format is a rewrite of those files
(same contacts, same deliveries, redeliveries and late files, one vendor file per native
file), so that the same seed can be staged through the vendors' source mappings and through
the native reader and the two compared. Columns a vendor's export cannot carry are left out,
and rows the vendor cannot express (a channel it does not have) are not written.

Formats are chosen per feed (``crm=salesforce``, ``surveys=qualtrics``) and, for the
interactions, per channel: ``interactions=amazon-connect`` sends every channel Connect has to
Connect; ``interactions:email,chat=zendesk`` sends email and chat to Zendesk. A channel named
explicitly wins over the feed-wide choice; channels left to no vendor stay native files.

Each vendor is one :class:`VendorFormat` in :data:`VENDORS` (``formats.py``) and has its own
module here (its export SQL and writer); adding one is adding its module, its entry there and
its mapping. ``rewrite.py`` rewrites the native files.
"""

from __future__ import annotations

from outcome_pipeline.generator.vendor.connect import (
    CONNECT_CARRIES,
    CONNECT_CHANNELS,
    CONNECT_FEED,
)
from outcome_pipeline.generator.vendor.formats import (
    FORMATS,
    NATIVE,
    VENDORS,
    Formats,
    VendorFormat,
    feed_formats,
    parse_formats,
)
from outcome_pipeline.generator.vendor.genesys import (
    GENESYS_CARRIES,
    GENESYS_CHANNELS,
    GENESYS_FEED,
    GENESYS_PAGE,
)
from outcome_pipeline.generator.vendor.qualtrics import (
    QUALTRICS_CARRIES,
    QUALTRICS_FEED,
    QUALTRICS_FIELDS,
    QUALTRICS_TIMEZONE,
)
from outcome_pipeline.generator.vendor.rewrite import (
    VendorRewrite,
    apply_formats,
    rewrite_interactions_as_connect,
    rewrite_table,
)
from outcome_pipeline.generator.vendor.salesforce import (
    SALESFORCE_CASE_CARRIES,
    SALESFORCE_CONTACT_CARRIES,
    SALESFORCE_FEED,
)
from outcome_pipeline.generator.vendor.zendesk import (
    ZENDESK_CARRIES,
    ZENDESK_CHANNELS,
    ZENDESK_CONTACTS_FEED,
    ZENDESK_TICKET_COLUMNS,
)

__all__ = [
    "CONNECT_CARRIES",
    "CONNECT_CHANNELS",
    "CONNECT_FEED",
    "FORMATS",
    "GENESYS_CARRIES",
    "GENESYS_CHANNELS",
    "GENESYS_FEED",
    "GENESYS_PAGE",
    "NATIVE",
    "QUALTRICS_CARRIES",
    "QUALTRICS_FEED",
    "QUALTRICS_FIELDS",
    "QUALTRICS_TIMEZONE",
    "SALESFORCE_CASE_CARRIES",
    "SALESFORCE_CONTACT_CARRIES",
    "SALESFORCE_FEED",
    "VENDORS",
    "ZENDESK_CARRIES",
    "ZENDESK_CHANNELS",
    "ZENDESK_CONTACTS_FEED",
    "ZENDESK_TICKET_COLUMNS",
    "Formats",
    "VendorFormat",
    "VendorRewrite",
    "apply_formats",
    "feed_formats",
    "parse_formats",
    "rewrite_interactions_as_connect",
    "rewrite_table",
]
