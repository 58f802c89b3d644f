"""The Kubernetes API emulator, split by concern; tests import it as tests.support.kube_emulator."""
