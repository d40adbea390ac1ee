"""Email in and out: IMAP ingestion, the inbound pipeline, rendering and sending through the outbox."""
