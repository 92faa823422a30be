"""Run localstripe bound to 127.0.0.1 only, with its pickle file in a directory we choose.

localstripe's own `start()` listens on every interface and writes /tmp/localstripe.pickle;
neither is acceptable in a test suite. This also reads the state back on start, so a killed and
restarted localstripe still knows the customers and PaymentIntents it made, as Stripe keeps them
across an outage (a fresh directory starts empty).
Usage: python -m tests.support.localstripe_server PORT DIR
"""

from __future__ import annotations

import pickle
import sys
from pathlib import Path

from aiohttp import web
from localstripe import resources
from localstripe.server import app


def main() -> None:
    port, folder = int(sys.argv[1]), Path(sys.argv[2])
    state = folder / "localstripe.pickle"

    def dump_to_disk(self: resources.Store) -> None:
        with state.open("wb") as handle:
            pickle.dump(dict(self), handle, protocol=pickle.HIGHEST_PROTOCOL)

    resources.Store.dump_to_disk = dump_to_disk  # type: ignore[method-assign]
    if state.exists():
        with state.open("rb") as handle:
            dict.update(resources.store, pickle.load(handle))
    web.run_app(app, host="127.0.0.1", port=port, print=None)


if __name__ == "__main__":
    main()
