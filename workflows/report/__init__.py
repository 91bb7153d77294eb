"""Reporting: ``metrics.json`` (:mod:`.results`), plots (:mod:`.plots`) and the self-contained
HTML report (:mod:`.html`). Imports only ``pipeline``."""
