"""Monitoring across months and regions: a household's history, periodic duties done."""
