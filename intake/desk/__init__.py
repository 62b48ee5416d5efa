"""The console's services: what the staff read, follow up, export and upload."""
