"""Reports on a run: the dashboard numbers, the figures and the one-page HTML report."""
