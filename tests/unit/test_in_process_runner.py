"""plugin_utils/in_process.run_module_here on a stand-in module: what a module process would hand back, nothing else.

The controller side (_update_module_args, _parse_returned_data) is ansible-core's; here it is replaced by
capturing what the runner passes it, so the test sees exactly the module's stdout and stderr.
"""

import json

import pytest

from ansible_collections.aiops.k8s.plugins.plugin_utils import in_process
from tests.support import noisy_module

pytestmark = pytest.mark.skipif(not in_process.HAS_LOADER, reason="ansible-core < 2.19 runs every module via AnsiballZ")


class Runner(in_process.InProcessAction):
    """InProcessAction without a task: module args go in as given, the raw exchange is kept."""

    def __init__(self):  # pylint: disable=super-init-not-called  # no task, connection or play context needed
        self.exchange = None

    def _update_module_args(self, module_name, module_args, task_vars, ignore_unknown_opts=False):
        module_args["_ansible_check_mode"] = False

    def _parse_returned_data(self, res, profile):
        self.exchange = res
        return json.loads(res["stdout"]) if res["stdout"].strip() else {"failed": True, "module_stderr": res["stderr"]}

    @staticmethod
    def _module_name(module_fqcn):
        return "tests.support.noisy_module"


@pytest.fixture(autouse=True)
def module_globals():
    """AnsibleModule's parameter globals as they were: the runner sets them, other tests read them."""
    from ansible.module_utils import basic
    saved = basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE, basic._PARSED_MODULE_ARGS  # pylint: disable=protected-access
    yield
    basic._ANSIBLE_ARGS, basic._ANSIBLE_PROFILE, basic._PARSED_MODULE_ARGS = saved  # pylint: disable=protected-access


def run(args, capsys):
    runner = Runner()
    data = runner.run_module_here("aiops.k8s.noisy", args, {})
    printed = capsys.readouterr()
    return runner, data, printed


def test_result_is_the_modules_stdout_and_its_stderr_goes_nowhere_else(capsys):
    noisy_module.CLEANED[:] = []
    runner, data, printed = run({"word": "hello", "secret": "s3cr3t-9"}, capsys)
    assert data["echo"] == '"hello"' and data["changed"] is False
    assert data["secret_seen"] == "VALUE_SPECIFIED_IN_NO_LOG_PARAMETER"       # AnsibleModule's own masking
    assert printed.out == "" and printed.err == ""                            # the worker's streams stay clean
    assert runner.exchange["stderr"] == "noise on stderr\n"                  # kept for a result that does not parse
    assert noisy_module.CLEANED == ["hello"]                                  # atexit cleanup ran after the module


def test_fail_json_and_an_uncaught_exception_become_failed_results(capsys):
    _runner, data, printed = run({"word": "fail", "secret": "s3cr3t-9"}, capsys)
    assert data["failed"] is True and data["msg"] == "refused ********" and printed.out == ""
    _runner, data, printed = run({"word": "raise"}, capsys)
    assert data["failed"] is True and "unexpected" in json.dumps(data["exception"]) and printed.out == ""


def test_argument_errors_are_reported_as_the_module_would(capsys):
    _runner, data, _printed = run({"bogus": 1}, capsys)
    assert data["failed"] is True and "word" in data["msg"]
