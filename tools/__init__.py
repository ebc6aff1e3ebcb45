"""Project tools run by hand or by CI (not part of the dashboard)."""
