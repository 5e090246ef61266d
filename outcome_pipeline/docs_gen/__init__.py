"""Documentation generated from the code: feed contracts and the warehouse data dictionary."""

from outcome_pipeline.docs_gen.render import (
    render_data_dictionary,
    render_feed_contracts,
    write_docs,
)

__all__ = ["render_data_dictionary", "render_feed_contracts", "write_docs"]
