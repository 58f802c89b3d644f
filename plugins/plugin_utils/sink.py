# -*- coding: utf-8 -*-
# Copyright: aiops.k8s contributors
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""The PHR HTTP sink (controller only): POST one JSON document with bounded retries."""

from __future__ import absolute_import, division, print_function

__metaclass__ = type

import json
import time


def http_post(url, body, opener, timeout=10.0, retries=3, token=None, backoff=0.5, sleep=time.sleep):
    """POST a JSON document; retry on connection errors and 5xx/429 with exponential backoff.

    opener(url, data=, headers=, method=, timeout=) is Ansible's open_url, passed in by the callback so
    this file stays free of Ansible. Returns (ok, attempts, detail). Never raises: a sink failure is reported.
    """
    from urllib import error as urlerror

    data = json.dumps(body, sort_keys=True, default=str).encode("utf-8")
    headers = {"Content-Type": "application/json", "User-Agent": "aiops.k8s-phr/1"}
    if token:
        headers["Authorization"] = "Bearer %s" % token
    attempts = 0
    detail = ""
    for attempt in range(max(1, int(retries) + 1)):
        attempts = attempt + 1
        try:
            response = opener(url, data=data, headers=headers, method="POST", timeout=timeout)
            return True, attempts, "HTTP %s" % getattr(response, "status", getattr(response, "code", "?"))
        except urlerror.HTTPError as exc:
            detail = "HTTP %s" % exc.code
            if exc.code < 500 and exc.code != 429:
                return False, attempts, detail
        except (urlerror.URLError, OSError, ValueError) as exc:
            detail = str(getattr(exc, "reason", exc))
        if attempt < retries:
            sleep(backoff * (2 ** attempt))
    return False, attempts, detail
