"""Ways in: the extranet (HTTP), the dropbox folder, the mailbox (IMAP notifications)."""
