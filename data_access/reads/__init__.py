"""Figures out: filters, the named views with their queries, small-cell suppression, the cache."""
