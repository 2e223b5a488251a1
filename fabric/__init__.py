"""fabric-netops: one intent for Calico BGP on Kubernetes and the Arista EOS switches it peers with.

The import package is ``fabric``; the distribution is ``fabric-netops`` (the PyPI SSH library
``fabric`` uses the same import name, ``tests/test_identity.py`` proves this one wins).
"""

__version__ = "0.1.0"

#: Marker that tells this package apart from the PyPI ``fabric`` SSH library.
PROJECT = "fabric-netops"
