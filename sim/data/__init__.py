"""Real public data: loaders that turn the publishers' files into the standard tables, and a downloader.

`load_real_tables` reads a data folder (FRED, New York Fed, Treasury files in their own layouts) into the
`daily`, `auctions` and `fails_weekly` tables of `sim.tables`; `fetch_data` downloads the same files from the
official public endpoints. Malformed files raise `DataFileError` naming file, line and column.
"""

from sim.data.errors import DataFileError
from sim.data.fetch import FetchError, fetch_data
from sim.data.real import load_real_tables

__all__ = ["DataFileError", "FetchError", "fetch_data", "load_real_tables"]
