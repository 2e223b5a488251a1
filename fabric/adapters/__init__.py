"""Adapters: one module per library whose API we wrap or, lacking a public API, whose internals.

* :mod:`fabric.adapters.eapi`: eAPI through NAPALM's EOS driver and pyeapi's public API
  (``Node.run_commands``, an ``EapiConnection`` subclass pooled with urllib3 for keep-alive).
* :mod:`fabric.adapters.napalm_eos`: NAPALM's conversion of config lines to eAPI commands
  (heredocs, mode comments): private static methods of ``EOSDriver``.
* :mod:`fabric.adapters.ttp`: a TTP template's compiled line regexes: TTP's private
  ``_templates`` (TTP has no public API for them).
* :mod:`fabric.adapters.apscheduler`: APScheduler's job-processing hook (``_process_jobs``).

Every private hook has a guard in ``tests/test_adapters.py`` that fails loudly, naming the
library and the hook, when the pinned version changes it.
"""
