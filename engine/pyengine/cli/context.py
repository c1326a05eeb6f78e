"""What every pyctl command gets: the client, output streams, and the credential store."""

from __future__ import annotations

from pyengine.cli.client import Client, TlsOptions

TYPE_CHECKING = False  # typing is not imported on pyctl's start-up path
if TYPE_CHECKING:
    from typing import TextIO

    from pyengine.api import common_pb2
    from pyengine.cli.credentials import CredentialStore
    from pyengine.cli.wire.status import RpcError


class CliError(Exception):
    """A client-side error: printed as "Error: ..." (usage errors exit 125, others 1);
    `prefix=""` for the errors docker's CLI prints bare (its wrapped Go errors)."""

    def __init__(self, message: str, usage: bool = False, prefix: str = "Error: ") -> None:
        super().__init__(message)
        self.usage = usage
        self.prefix = prefix


class FormatError(Exception):
    """The --format value is invalid (exit 125; also pyengine.cli.output.FormatError)."""


class Context:
    """The client connects at first use; the credential store (json, base64, pathlib) is
    opened only by the verbs that use it."""

    def __init__(self, host: str, tls: TlsOptions, config: str | None, out: TextIO,
                 err: TextIO) -> None:
        self.host = host
        self.tls = tls
        self.config = config
        self.out = out
        self.err = err
        self._client: Client | None = None
        self._credentials: CredentialStore | None = None

    @property
    def credentials(self) -> CredentialStore:
        if self._credentials is None:
            from pyengine.cli.credentials import CredentialStore, config_dir

            self._credentials = CredentialStore(config_dir(self.config))
        return self._credentials

    @property
    def client(self) -> Client:
        if self._client is None:
            self._client = Client(self.host, self.tls)
        return self._client

    def close(self) -> None:
        if self._client is not None:
            self._client.close()

    def auth_for_host(self, host: str) -> common_pb2.RegistryAuth | None:
        from pyengine.api import common_pb2

        found = self.credentials.get(host)
        if found is None:
            return None
        username, password, token = found
        return common_pb2.RegistryAuth(
            server_address=host, username=username, password=password, identity_token=token
        )

    def auth_for(self, reference: str) -> common_pb2.RegistryAuth | None:
        """Stored credentials for the registry a reference points at (None if none)."""
        from pyengine import reference as refs
        from pyengine.errors import InvalidArgument

        try:
            domain = refs.parse(reference).domain
        except InvalidArgument:
            return None  # the daemon reports the bad reference
        return self.auth_for_host(domain)

    @staticmethod
    def is_connect_error(err: RpcError) -> bool:
        return err.connect_failed
