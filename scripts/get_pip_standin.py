"""Offline stand-in for the get-pip.py bootstrap script that ansible-test downloads.

ansible-test (sanity --venv) fetches get-pip from the internet to bootstrap pip in its virtual
environments; this machine reaches PyPI but not that host. This script does the same job with the
interpreter's own ensurepip, then upgrades to the requested pip from PyPI. scripts/sanity.sh copies
it to the cache path ansible-test checks first (~/.ansible/test/cache/get_pip_<version>.py).
"""

import subprocess
import sys

args = sys.argv[1:]
packages = [arg for arg in args if not arg.startswith("-")]
subprocess.check_call([sys.executable, "-m", "ensurepip", "--upgrade", "--default-pip"],
                      stdout=subprocess.DEVNULL)
if packages:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet",
                           "--disable-pip-version-check"] + packages)
