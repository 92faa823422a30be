"""The worker: every periodic job on its schedule, each under a database lock.

`portal-marketplace worker` runs them (APScheduler); `jobs.py` is the catalogue, `runner.py`
runs one job (lock, retries, log line, status row), `locks.py` holds the database locks.
"""
