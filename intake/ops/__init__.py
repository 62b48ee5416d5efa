"""Running the service: installation, status, systemd, logs, the master key's
rotation, backups."""
