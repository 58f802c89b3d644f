"""A minimal watch: current objects as ADDED/MODIFIED events, then the stream closes."""

from __future__ import annotations

import time

from tests.support.emulator.api import WATCH_HOLD_MAX, _dumps
from tests.support.emulator.tables import make_table


class WatchMixin(object):

    def _watch(self, res, ns, query, table=False):
        since = int(query.get("resourceVersion") or 0)
        with self._lock:
            events = []
            for _key, entry in self._matching(res, ns, query):
                if since and entry.rv <= since:
                    continue
                obj = entry.obj
                if table:
                    obj = make_table(res.kind, [obj], {"resourceVersion": obj["metadata"]["resourceVersion"]},
                                     query.get("includeObject"))
                events.append(_dumps({"type": "MODIFIED" if since else "ADDED", "object": obj}) + b"\n")
        hold = min(float(query.get("timeoutSeconds") or WATCH_HOLD_MAX), WATCH_HOLD_MAX)
        return "watch", events, hold


def stream_watch(handler, events, hold):
    """Send watch events as one chunked response, hold the stream, then close it."""
    handler.send_response(200)
    handler.send_header("Content-Type", "application/json")
    handler.send_header("Transfer-Encoding", "chunked")
    handler.end_headers()
    for event in events:
        handler.wfile.write(b"%x\r\n%s\r\n" % (len(event), event))
    handler.wfile.flush()
    time.sleep(hold)
    handler.wfile.write(b"0\r\n\r\n")
    handler.close_connection = True
