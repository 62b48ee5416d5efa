"""What the tests share besides fixtures: generated feeds, real servers on loopback (SMTP,
dovecot's IMAP), certificates, the browser console's helpers, poppler, a lieu's ingestion."""
