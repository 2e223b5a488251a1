"""eAPI through NAPALM's EOS driver and pyeapi, by their public APIs.

* :func:`run_eapi`: one ``runCmds`` request with several commands, through the driver's pyeapi
  ``Node.run_commands`` (NAPALM's ``cli()`` sends one request per command).
* :class:`PooledHttpsEapiConnection` / :class:`PooledHttpEapiConnection`: pyeapi transports
  (subclasses of its public ``EapiConnection``, accepted by NAPALM as ``transport``) that send
  over a urllib3 connection pool of one kept-alive connection. pyeapi's own transports close
  the connection after every request, so each eAPI round trip would pay a TCP connect and a
  TLS handshake; urllib3 keeps the connection and replaces one the switch dropped while idle.
* :func:`configure_napalm_tls`: a host's NAPALM options with the SSL context (pyeapi without
  one silently skips verification), the timeout and the pooled transport.
"""

from __future__ import annotations

import json
import ssl
from typing import TYPE_CHECKING, Any

import pyeapi.eapilib
import urllib3

if TYPE_CHECKING:
    from nornir.core.inventory import Host


def run_eapi(device: Any, commands: list[Any], encoding: str = "json") -> list[dict[str, Any]]:
    """One eAPI request with ``commands`` over a NAPALM EOS driver's pyeapi node.

    Args:
        device: an open ``napalm.eos.EOSDriver`` (its ``device`` is a ``pyeapi.client.Node``).
        commands: the commands, run in one ``runCmds`` request.
        encoding: ``json`` or ``text`` (then each reply is ``{"output": TEXT}``).

    Raises:
        pyeapi.eapilib.CommandError: a command failed (EOS's error code and message).
        pyeapi.eapilib.ConnectionError: the switch could not be reached or refused the login.
    """
    send_enable = bool(getattr(device, "send_enable", True))
    return list(device.device.run_commands(commands, encoding=encoding, send_enable=send_enable))


def tls_context(*, insecure: bool = False, ca_file: str | None = None) -> ssl.SSLContext:
    """The SSL context for eAPI over HTTPS.

    Args:
        insecure: no certificate or hostname verification (the CLI says so loudly).
        ca_file: a CA bundle to trust instead of the system store.
    """
    if insecure:
        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        return ctx
    return ssl.create_default_context(cafile=ca_file)


def _command_error(decoded: dict[str, Any]) -> pyeapi.eapilib.CommandError:
    """Pyeapi's CommandError for an eAPI failure response (the fields pyeapi fills)."""
    error = decoded.get("error") or {}
    data = error.get("data")
    detail = None
    if isinstance(data, list):
        detail = ", ".join(f"{k}: {v!r}" for d in data if isinstance(d, dict) for k, v in d.items())
    return pyeapi.eapilib.CommandError(
        error.get("code", 0), str(error.get("message", "")), command_error=detail, output=data
    )


class _PooledEapiConnection(pyeapi.eapilib.EapiConnection):  # type: ignore[misc]
    """An eAPI transport over one kept-alive urllib3 connection (see the module docstring)."""

    scheme = "https"

    def __init__(
        self,
        host: str,
        port: int | None = None,
        path: str | None = None,
        username: str | None = None,
        password: str | None = None,
        context: ssl.SSLContext | None = None,
        timeout: float = 60,
        **kwargs: Any,
    ) -> None:
        # NAPALM passes the arguments this signature names (it inspects it).
        super().__init__()
        self.host = host
        self.port = int(port or (443 if self.scheme == "https" else 80))
        self.path = path or "/command-api"
        self.headers = urllib3.make_headers(
            basic_auth=f"{username or ''}:{password or ''}", keep_alive=True
        )
        self.headers["Content-Type"] = "application/json-rpc"
        pool_timeout = urllib3.Timeout(connect=timeout, read=timeout)
        self.pool: urllib3.HTTPConnectionPool
        if self.scheme == "https":
            ctx = context if context is not None else tls_context()
            verify = ctx.verify_mode != ssl.CERT_NONE
            if not verify:
                # --insecure was asked for and announced once; urllib3 would warn per request
                urllib3.disable_warnings(urllib3.exceptions.InsecureRequestWarning)
            self.pool = urllib3.HTTPSConnectionPool(
                host,
                self.port,
                maxsize=1,
                timeout=pool_timeout,
                retries=False,
                ssl_context=ctx,
                cert_reqs="CERT_REQUIRED" if verify else "CERT_NONE",
                assert_hostname=None if ctx.check_hostname else False,
            )
        else:
            self.pool = urllib3.HTTPConnectionPool(
                host, self.port, maxsize=1, timeout=pool_timeout, retries=False
            )

    def __str__(self) -> str:
        return f"{self.scheme}://{self.host}:{self.port}{self.path}"

    def send(self, data: str) -> dict[str, Any]:
        """POST one JSON-RPC request; the reply decoded (pyeapi's contract and exceptions)."""
        try:
            resp = self.pool.urlopen(
                "POST", self.path, body=data.encode(), headers=self.headers, retries=False
            )
        except urllib3.exceptions.HTTPError as exc:
            self.error = exc
            raise pyeapi.eapilib.ConnectionError(
                str(self), f"Socket error during eAPI connection: {exc}"
            ) from exc
        body = resp.data.decode("utf-8", errors="replace")
        if resp.status == 401:
            raise pyeapi.eapilib.ConnectionError(str(self), f"{resp.reason}. {body}")
        try:
            decoded: dict[str, Any] = json.loads(body)
        except ValueError as exc:
            raise pyeapi.eapilib.ConnectionError(str(self), "unable to connect to eAPI") from exc
        if "error" in decoded:
            raise _command_error(decoded)
        return decoded

    def close(self) -> None:
        """Close the kept connection (NAPALM's ``close()`` calls this)."""
        self.pool.close()


class PooledHttpsEapiConnection(_PooledEapiConnection):
    """eAPI over HTTPS, one kept-alive connection (one TLS handshake per switch and run)."""

    scheme = "https"


class PooledHttpEapiConnection(_PooledEapiConnection):
    """eAPI over HTTP, one kept-alive connection."""

    scheme = "http"


_POOLED = {"https": PooledHttpsEapiConnection, "http": PooledHttpEapiConnection}


def configure_napalm_tls(
    host: Host, *, insecure: bool, ca_file: str | None, timeout: float | None = None
) -> str:
    """Put the SSL context, timeout and pooled transport in ``host``'s NAPALM options.

    A CA bundle comes from ``ca_file`` if given, else ``optional_args.ca_file`` of the inventory
    (in lab mode: the lab's CA, set by the lab overlay), else the system store. The ``http`` and
    ``https`` transports become the pooled ones above (NAPALM accepts a transport class).

    Returns:
        A short description of the TLS policy for the report (``verified (CA ...)`` ...).
    """
    from nornir.core.inventory import ConnectionOptions

    opts = host.get_connection_parameters("napalm")
    extras: dict[str, Any] = dict(opts.extras or {})
    optional = dict(extras.get("optional_args") or {})
    bundle = ca_file or optional.pop("ca_file", None)
    optional.pop("ca_file", None)
    optional["context"] = tls_context(insecure=insecure, ca_file=bundle)
    transport = optional.get("transport", optional.get("eos_transport", "https"))
    if isinstance(transport, str) and transport in _POOLED:
        optional["transport"] = _POOLED[transport]
    extras["optional_args"] = optional
    if timeout is not None:
        extras["timeout"] = timeout
    host.connection_options["napalm"] = ConnectionOptions(
        hostname=opts.hostname,
        port=opts.port,
        username=opts.username,
        password=opts.password,
        platform=opts.platform or "eos",
        extras=extras,
    )
    if insecure:
        return "NOT VERIFIED (--insecure)"
    return f"verified (CA {bundle})" if bundle else "verified (system CA store)"
