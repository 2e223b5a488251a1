"""The built-in lab: simulated EOS switches, a Kubernetes API and Calico nodes on loopback.

The core never imports this package (see docs/architecture.md).
"""
