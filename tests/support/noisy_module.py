"""A stand-in Ansible module for tests/unit/test_in_process_runner.py: writes to stderr, registers a cleanup, exits."""

import atexit
import json
import sys

from ansible.module_utils.basic import AnsibleModule

CLEANED = []


def main():
    module = AnsibleModule(argument_spec={"word": {"type": "str", "required": True},
                                          "secret": {"type": "str", "no_log": True}})
    from tests.support import noisy_module as imported  # run as __main__, its globals are not the imported module's
    atexit.register(imported.CLEANED.append, module.params["word"])
    sys.stderr.write("noise on stderr\n")
    if module.params["word"] == "fail":
        module.fail_json(msg="refused %s" % module.params["secret"])
    if module.params["word"] == "raise":
        raise ValueError("unexpected")
    module.exit_json(changed=False, echo=json.dumps(module.params["word"]), secret_seen=module.params["secret"])


if __name__ == "__main__":
    main()
