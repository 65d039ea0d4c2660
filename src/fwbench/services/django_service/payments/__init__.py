"""The article's fintech case study: transactions, the audit log, auth and the admin."""
