"""What every workspace service needs, and nothing more: :class:`WorkspaceCore`.

The services (planning and the worker in :mod:`govsocial.scheduling`, drafts and approvals
in :mod:`govsocial.accountability`, the inbox in :mod:`govsocial.inbox`, metrics, reports and
the archive in :mod:`govsocial.analytics`) each take a core in their constructor and use only
this public API:

- ``store``, ``plugins``, and the worker settings ``misfire_grace``, ``lease``,
  ``max_attempts``, ``processing_limit``;
- accounts: :meth:`~WorkspaceCore.account`, :meth:`~WorkspaceCore.accounts`,
  :meth:`~WorkspaceCore.account_row`, :meth:`~WorkspaceCore.account_rows`,
  :meth:`~WorkspaceCore.account_name`, :meth:`~WorkspaceCore.calendar_zone`,
  :meth:`~WorkspaceCore.validate`;
- the audit log: :meth:`~WorkspaceCore.record` (inside the caller's transaction),
  :meth:`~WorkspaceCore.audit_log`, :meth:`~WorkspaceCore.audit_head`;
- people, appointments and permissions: ``authority``
  (:class:`~govsocial.workspace.authority.Authority`);
- credentials, sealed under the workspace's one key (:mod:`govsocial.workspace.credentials`):
  :meth:`~WorkspaceCore.open_account` (what the worker uses: every credential openable here,
  else :class:`~govsocial.core.errors.AccountLocked`), :meth:`~WorkspaceCore.lock_account`,
  :meth:`~WorkspaceCore.unlock_account`, :meth:`~WorkspaceCore.account_locks`,
  :meth:`~WorkspaceCore.rotate_key`;
- one long-lived client (:meth:`~WorkspaceCore.client`), built on first use and closed by
  :meth:`~WorkspaceCore.close`;
- the media host setting (:meth:`~WorkspaceCore.media_host`).

:class:`govsocial.Workspace` is the friendly facade over a core and its services. Code that
is handed either accepts both through :func:`core_of`.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from govsocial.adapters.checkpoints import MemoryCheckpoints
from govsocial.client import Client
from govsocial.client.validation import blocking, validate
from govsocial.core._env import check_env_reference, env_reference_refusal
from govsocial.core.errors import (
    AccountLocked,
    ConfigurationError,
    GovSocialError,
    NotFound,
    NotPermitted,
    PluginError,
    ValidationError,
)
from govsocial.core.models import Account, Post, PublishResult
from govsocial.core.timing import Slots, check_zone
from govsocial.plugin.manager import Plugins, default_plugins
from govsocial.store import AccountRow, Store, Tx, open_store, redact_url
from govsocial.workspace import audit
from govsocial.workspace.authority import Authority
from govsocial.workspace.credentials import (
    NEW_SECRET_KEY_VARIABLE,
    SECRET_KEY_VARIABLE,
    KeyRecord,
    KeyRotation,
    Sealed,
    Sealer,
    check_key,
    derive,
)
from govsocial.workspace.signing import SigningKey, signed

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

    from govsocial.adapters.media import MediaHost
    from govsocial.workspace.audit import AuditAnchor, AuditEntry, AuditHead

__all__ = [
    "DEFAULT_DB",
    "MEDIA_HOST_VARIABLE",
    "DeliveryCheckpoints",
    "HasCore",
    "WorkspaceCore",
    "core_of",
]

logger = logging.getLogger("govsocial.workspace")

#: Where a workspace lives when nothing says otherwise.
DEFAULT_DB = "govsocial.db"

#: The environment variable naming the media host (``directory:/var/www/media,https://...``);
#: it wins over the setting stored with :meth:`WorkspaceCore.set_media_host`.
MEDIA_HOST_VARIABLE = "GOVSOCIAL_MEDIA_HOST"
_MEDIA_HOST_KEY = "media_host"


class WorkspaceCore:
    """A workspace's store, plugins, accounts, audit log, authority and client.

    :param store: where everything is kept (see :func:`govsocial.store.open_store`).
    :param misfire_grace: how late a delivery may still go out; later it is ``missed``.
    :param lease: seconds a worker's claim lasts without renewal.
    :param max_attempts: attempts per delivery for failures that are safe to retry.
    :param processing_limit: how long a platform may keep processing a post it accepted
        (TikTok's moderation) before the delivery ends ``unknown`` (``ProcessingTimeout``).
    :param plugins: the plugin system (default: the process-wide one).
    """

    def __init__(
        self,
        store: Store,
        *,
        misfire_grace: timedelta = timedelta(minutes=15),
        lease: float = 60.0,
        max_attempts: int = 5,
        processing_limit: timedelta = timedelta(hours=48),
        plugins: Plugins | None = None,
    ) -> None:
        self.store = store
        self.misfire_grace = misfire_grace
        self.lease = lease
        self.max_attempts = max_attempts
        self.processing_limit = processing_limit
        self.plugins = plugins or default_plugins()
        self.sealer = Sealer(self.key_record, self._sealed_sample)
        self.authority = Authority(store, self.account_row, self.calendar_zone)
        self._client: Client | None = None

    @classmethod
    def open(
        cls,
        url: str | Path | None = None,
        *,
        create: bool = True,
        workspace: str | None = None,
        **options: Any,
    ) -> WorkspaceCore:
        """Open (creating or upgrading) the workspace at ``url`` (default: ``$GOVSOCIAL_DB``,
        then ``./govsocial.db``); ``create=False`` refuses where none exists yet (see
        :func:`govsocial.store.open_store`); ``options`` as for the constructor.

        ``workspace`` (default ``$GOVSOCIAL_WORKSPACE``) opens that registered workspace of
        the database's registry instead (:mod:`govsocial.store.registry`): its own schema
        (PostgreSQL) or file (SQLite). It must have been created (``govsocial workspaces
        create``, :class:`govsocial.Workspaces`); opening never creates one.
        """
        url = url or os.environ.get("GOVSOCIAL_DB") or DEFAULT_DB
        if workspace is None:
            workspace = os.environ.get("GOVSOCIAL_WORKSPACE") or None
        if workspace is not None:
            from govsocial.store.registry import open_workspace_store

            return cls(open_workspace_store(url, workspace), **options)
        return cls(open_store(url, create=create), **options)

    @property
    def name(self) -> str | None:
        """The workspace's name in its registry (None: a workspace of its own)."""
        return self.store.workspace

    @property
    def archived(self) -> bool:
        """Whether the workspace was archived: its data kept, nothing published any more."""
        with self.store.transaction() as cur:
            return self.store.archived(cur)

    def refuse_if_archived(self, action: str) -> None:
        """Refuse ``action`` (planning or publishing) in an archived workspace.

        :raises NotPermitted: it was archived.
        """
        if self.archived:
            raise NotPermitted(
                f"workspace {self.name or self.address} is archived: {action} is refused; its "
                "data is kept and can be read",
                actor=None,
                action=action,
                hint="plan the post in a workspace in service",
            )

    @property
    def url(self) -> str:
        """The database's URL, without its password (kept only in the connection)."""
        return self.store.url

    @property
    def address(self) -> str:
        """The database's URL without user name or password: safe for logs and event hooks."""
        return redact_url(self.store.url, user=False)

    def __repr__(self) -> str:
        return f"<WorkspaceCore {self.address}>"

    def close(self) -> None:
        """Close the long-lived client (if one was built) and the database."""
        client, self._client = self._client, None
        try:
            if client is not None:
                client.close()
        finally:
            self.store.close()

    # -- the institution -----------------------------------------------------------------

    @property
    def institution(self) -> str | None:
        """The institution's name, shown in report titles (None until set)."""
        return self.store.meta("institution")

    @signed
    def set_institution(
        self, name: str, *, by: str | None = None, key: SigningKey | None = None
    ) -> None:
        """Name the institution the workspace serves (``"Dinas Kominfo Kota Contoh"``);
        once the workspace has heads of office, ``by`` must be one."""
        if not name or not name.strip():
            raise ConfigurationError("the institution needs a name", field="institution")

        def write(tx: Tx, decree: str | None) -> None:
            self.store.put_meta(tx, "institution", name.strip())
            self.record(tx, by, "set_institution", decree=decree, detail={"name": name.strip()})

        self.authority.as_head("set_institution", by, write)

    # -- the audit log -------------------------------------------------------------------

    def record(self, tx: Tx, actor: str | None, action: str, **fields: Any) -> AuditEntry:
        """Append an audit entry inside the caller's transaction ``tx`` (so the action and
        its entry commit together); ``fields``: ``obj``, ``account``, ``decree``,
        ``detail``, ``at`` (see :func:`govsocial.workspace.audit.append`)."""
        return audit.append(self.store, tx, actor=actor, action=action, **fields)

    def audit_log(
        self,
        since: str | datetime | None = None,
        *,
        until: str | datetime | None = None,
        actor: str | None = None,
        action: str | None = None,
        account: str | None = None,
    ) -> list[AuditEntry]:
        """Audit entries, oldest first: who did what, when, under which decree."""
        return audit.entries(
            self.store,
            since=_epoch(since, "since"),
            until=_epoch(until, "until"),
            actor=actor,
            action=action,
            account=account,
        )

    def verify_audit(
        self,
        anchor: AuditHead | tuple[int, str] | None = None,
        *,
        anchors: Sequence[AuditAnchor | str] = (),
    ) -> int:
        """Check the audit log (chain, times, signatures, tables, ``anchors`` published
        outside); return how many entries verified (see :func:`govsocial.workspace.audit.verify`).

        :raises AuditTampered: naming the first edited, missing, inserted or wrongly signed
            entry, or one at odds with an anchor.
        """
        return audit.verify(self.store, anchor=anchor, anchors=anchors)

    def audit_head(self) -> AuditHead | None:
        """The newest entry's (seq, hash): keep it elsewhere to detect truncation later."""
        return audit.head(self.store)

    # -- accounts ------------------------------------------------------------------------

    @signed
    def add_account(
        self,
        name: str,
        account: Account,
        *,
        slots: str | None = None,
        by: str | None = None,
        key: SigningKey | None = None,
    ) -> None:
        """Keep ``account`` under ``name`` (replacing one of that name in place, so its
        deliveries, inbox items and appointments stay attached), credentials sealed under
        the workspace's key or as ``env:`` references; ``slots`` are its posting slots.

        Audit-logged as ``add_account``, or ``change_credentials`` when it replaces an
        account (the names of the credential fields, never their values). Once the
        workspace has heads of office, ``by`` must be one (see
        :mod:`govsocial.workspace.authority`).

        :raises ConfigurationError: a secret needs ``GOVSOCIAL_SECRET_KEY`` and it is unset,
            shorter than 32 bytes or not the key the workspace is sealed with; the account
            has history and ``account`` names another platform, handle or server.
        :raises NotPermitted: the workspace has heads and ``by`` is none in force.
        """
        if not name or not name.strip():
            raise ConfigurationError("an account needs a name", field="name")
        cls = self.plugins.platform(account.platform)
        missing = [f for f in cls.credential_fields if f not in account.credentials]
        if missing:  # env: references are resolved where the worker runs, not here
            raise ConfigurationError(
                f"account {account.handle} on {cls.name} lacks credential {missing[0]!r}",
                field=f"credentials.{missing[0]}",
                hint=f"{cls.title} needs: {', '.join(cls.credential_fields)}",
            )
        if account.base_url is None and cls.default_base_url is None:
            raise ConfigurationError(
                f"account {account.handle} on {cls.name} has no base_url", field="base_url"
            )
        check_zone(account.timezone)
        self.check_env_references(name, account, by=by)
        slot_text = Slots.parse(slots).text if slots else None
        sealed = self.sealer.seal(
            account.credentials,
            public=[n for n in account.credentials if n not in cls.secret_names()],
        )
        row = AccountRow(
            name=name,
            platform=account.platform,
            handle=account.handle,
            base_url=account.base_url,
            timezone=account.timezone,
            display_name=account.name,
            credentials=sealed.values,
            slots=slot_text,
            created_at=time.time(),
        )
        replaces = self.store.account(name) is not None
        action = "change_credentials" if replaces else "add_account"

        def write(tx: Tx, decree: str | None) -> None:
            self._check_sealed_key(tx, sealed)  # the key check and the row, together
            self.store.put_account(row)
            self.record(
                tx,
                by,
                action,
                obj=name,
                account=name,
                decree=decree,
                detail={
                    "platform": account.platform,
                    "handle": account.handle,
                    "base_url": account.base_url,
                    "timezone": account.timezone,
                    "slots": slot_text,
                    "credential_fields": sorted(account.credentials),
                    "replaces": replaces,
                },
            )

        self.authority.as_head(action, by, write, obj=name, account=name)

    def check_env_references(self, name: str, account: Account, *, by: str | None = None) -> None:
        """Refuse an ``env:`` reference of ``account`` (to be kept as ``name``) to a variable
        the operator does not allow (``GOVSOCIAL_ENV_ALLOW``), recording the refusal in the
        audit log (``env_reference_refused``) before raising.

        :raises ConfigurationError: names the field, the variable, the rule and the fix.
        """
        for field, secret in account.credentials.items():
            value = secret.get_secret_value()
            if not value.startswith("env:"):
                continue
            refusal = env_reference_refusal(value[4:])
            if refusal is None:
                continue
            with self.store.transaction() as tx:
                self.record(
                    tx,
                    by,
                    "env_reference_refused",
                    obj=name,
                    detail={
                        "field": f"credentials.{field}",
                        "variable": value[4:],
                        "rule": refusal[0],
                        "platform": account.platform,
                        "handle": account.handle,
                        "base_url": account.base_url,
                    },
                )
            check_env_reference(value[4:], field=f"credentials.{field}", owner=f"account {name!r}")

    def accounts(self) -> dict[str, Account]:
        """Every account by name, credentials opened (``env:`` references stay references).

        :raises AccountLocked: one account's credentials cannot be opened with the key here
            (:meth:`accounts_lenient` shows them anyway).
        """
        return {row.name: self.account_from(row) for row in self.store.accounts()}

    def account(self, name: str) -> Account:
        """The account called ``name``, credentials opened.

        :raises NotFound: there is none; the message lists the known names.
        """
        return self.account_from(self.account_row(name))

    def account_from(self, row: AccountRow, *, batch: dict[str, Fernet] | None = None) -> Account:
        """The account a stored row describes, credentials opened (``env:`` references stay
        references).

        :param batch: shared by the calls opening one batch of accounts (see
            :meth:`govsocial.workspace.credentials.Sealer.open`).
        A credential the platform keeps only to save work (``Platform.cached_credentials``,
        Bluesky's login session) that cannot be opened here is left out: the adapter does
        without it (logs in again).

        :raises AccountLocked: a sealed credential cannot be opened with the key here.
        """
        cls = self.plugins.platforms().get(row.platform)
        cached = cls.cached_credentials if cls is not None else ()
        try:
            credentials = self.sealer.open(row.credentials, batch=batch, optional=cached)
        except AccountLocked as locked:
            raise _naming(locked, row.name) from None
        return Account(
            platform=row.platform,
            handle=row.handle,
            base_url=row.base_url,
            timezone=row.timezone,
            name=row.display_name,
            credentials=credentials,
        )

    def accounts_lenient(self) -> dict[str, Account]:
        """Accounts for display: one whose credentials cannot be opened shows without them."""
        found: dict[str, Account] = {}
        for row in self.store.accounts():
            try:
                found[row.name] = self.account_from(row)
            except ConfigurationError:
                found[row.name] = Account(
                    platform=row.platform,
                    handle=row.handle,
                    base_url=row.base_url,
                    timezone=row.timezone,
                )
        return found

    def account_row(self, name: str, rows: Sequence[AccountRow] | None = None) -> AccountRow:
        """The stored row of account ``name`` (platform, handle, zone, slots; credentials
        still sealed), looked up in ``rows`` when given.

        :raises NotFound: there is none; the message lists the known names.
        """
        if rows is None:
            found = self.store.account(name)  # by its key: the per-delivery lookup
            if found is not None:
                return found
            rows = self.store.accounts()
        for row in rows:
            if row.name == name:
                return row
        known = ", ".join(r.name for r in rows) or "none yet: add one with add_account"
        raise NotFound(
            f"no account named {name!r} in this workspace (known: {known})",
            field="accounts",
        )

    def account_rows(self, accounts: Sequence[str]) -> list[AccountRow]:
        """The rows of ``accounts`` (a name or several; duplicates dropped, order kept).

        :raises ConfigurationError: none named, or one unknown.
        """
        if isinstance(accounts, str):
            accounts = [accounts]
        if not accounts:
            raise ConfigurationError("name at least one account", field="accounts")
        known = self.store.accounts()
        names = list(dict.fromkeys(accounts))
        return [self.account_row(name, known) for name in names]

    def account_name(self, account: Account) -> str:
        """The workspace's name for ``account`` (matched by platform, handle and server).

        :raises ConfigurationError: the workspace does not hold it.
        """
        for row in self.store.accounts():
            if (row.platform, row.handle, row.base_url) == (
                account.platform,
                account.handle,
                account.base_url,
            ):
                return row.name
        raise ConfigurationError(
            f"{account.handle} on {account.platform} is not an account of this workspace",
            field="account",
        )

    def calendar_zone(self) -> str:
        """The zone periods are counted in: the first account's, else Asia/Jakarta."""
        rows = self.store.accounts()
        return rows[0].timezone if rows else "Asia/Jakarta"

    def validate(self, post: Post, rows: Sequence[AccountRow]) -> None:
        """Refuse ``post`` unless it fits every platform of ``rows``.

        :raises ValidationError: naming the platform and every problem.
        """
        for platform in dict.fromkeys(row.platform for row in rows):
            problems = blocking(validate(post, platform, plugins=self.plugins))
            if problems:
                raise ValidationError(problems, platform=platform)

    # -- credentials ---------------------------------------------------------------------

    def key_record(self) -> KeyRecord | None:
        """Which key seals the workspace's credentials (its id and derivation, never the key);
        None when nothing was sealed yet."""
        with self.store.transaction() as tx:
            found = self.store.credentials.key_record(tx)
            legacy = None if found else self.store.credentials.legacy_salt(tx)
        if found is not None:
            return KeyRecord.from_json(found)
        return KeyRecord.legacy_record(legacy) if legacy else None

    def _sealed_sample(self) -> str | None:
        for row in self.store.accounts():
            for entry in row.credentials.values():
                if "sealed" in entry:
                    return entry["sealed"]
        return None

    def _check_sealed_key(self, tx: Tx, sealed: Sealed) -> None:
        """Inside ``tx``, before the sealed values are written: record their key as the
        workspace's if none is, else refuse a different one (a rotation or another process
        may have changed it since they were sealed)."""
        if sealed.key is None:
            return
        field = next(iter(n for n, e in sealed.values.items() if "sealed" in e), "")
        in_force = KeyRecord.from_json(self.store.credentials.claim_key(tx, sealed.key.to_json()))
        if in_force.id != sealed.key.id:
            raise Sealer.second_key(in_force, field)

    def open_account(
        self, name: str, row: AccountRow | None = None, *, batch: dict[str, Fernet] | None = None
    ) -> Account:
        """The account called ``name`` (or stored as ``row``) with every credential it needs
        openable here: sealed ones under this process's key, ``env:`` variables set and
        allowed. What a worker checks before it claims an attempt.

        :raises AccountLocked: naming the account, what failed and the fix.
        :raises NotFound: there is no such account.
        """
        account = self.account_from(row if row is not None else self.account_row(name), batch=batch)
        self.check_environment(name, account)
        return account

    def check_environment(self, name: str, account: Account) -> None:
        """Whether every ``env:`` credential of ``account`` (kept as ``name``) resolves here.

        :raises AccountLocked: a variable is unset or not allowed, naming it and the fix.
        """
        for field, secret in account.credentials.items():
            if not secret.get_secret_value().startswith("env:"):
                continue
            try:
                account.credential(field)
            except ConfigurationError as error:
                locked = AccountLocked(
                    error.message, reason=error.message, field=error.field, hint=error.hint
                )
                raise _naming(locked, name) from None

    def account_locks(self) -> dict[str, tuple[str, float, str | None]]:
        """Locked accounts: name -> ``(reason, locked_at, locked_by)``: a worker could not
        open their credentials, and their deliveries wait."""
        with self.store.transaction() as tx:
            return self.store.credentials.locks(tx)

    def lock_account(
        self, error: AccountLocked, *, by: str | None = None, at: float | None = None
    ) -> bool:
        """Mark ``error.account`` locked (audit-logged as ``account_locked`` the first time);
        False when it already was. ``by``: the worker, for the record; ``at``: when."""
        name = error.account or ""
        at = time.time() if at is None else at
        with self.store.transaction() as tx:
            if not self.store.credentials.lock(tx, name, str(error), at, by):
                return False
            self.record(
                tx,
                None,
                "account_locked",
                account=name,
                detail={"reason": str(error), "by": by},
                at=at,
            )
        logger.warning("%s; its deliveries wait until a worker can open it", error)
        return True

    def unlock_account(self, name: str, *, by: str | None = None) -> bool:
        """Lift ``name``'s lock when its credentials open here (audit-logged as
        ``account_unlocked``); False when it was not locked.

        :raises AccountLocked: they still cannot be opened here; the lock stays.
        """
        self.open_account(name)
        with self.store.transaction() as tx:
            if not self.store.credentials.unlock(tx, name):
                return False
            self.record(tx, None, "account_unlocked", account=name, detail={"by": by})
        logger.info("account %r is unlocked: its credentials open again", name)
        return True

    @signed
    def rotate_key(
        self,
        new_key: str,
        *,
        old_key: str | None = None,
        by: str | None = None,
        key: SigningKey | None = None,
    ) -> KeyRotation:
        """Re-seal every credential under ``new_key`` in one transaction: all of them and
        the new key record, or (on any error or a crash) nothing, everything still under
        the old key. Audit-logged as ``rotate_key`` with both key ids, never a key.

        :param old_key: the key they are sealed with now (default ``$GOVSOCIAL_SECRET_KEY``).
        :raises ConfigurationError: ``new_key`` is shorter than 32 bytes; a sealed value
            cannot be opened with the old key (naming the account); the key changed while
            this ran (run it again).
        """
        check_key(new_key, variable=NEW_SECRET_KEY_VARIABLE)
        # who acts, and their signature when they sign: refused (and logged) before anything
        self.authority.authorize("rotate_key", by, ())
        old_secret = old_key if old_key is not None else os.environ.get(SECRET_KEY_VARIABLE)
        before = self.key_record()
        new_record = KeyRecord.new(new_key)  # slow for a passphrase: before the transaction
        if before is not None and old_secret:
            derive(old_secret, before)  # cached: the transaction only encrypts
        with self.store.transaction() as tx:
            found = self.store.credentials.key_record(tx, lock=True)
            legacy = None if found else self.store.credentials.legacy_salt(tx)
            now = (
                KeyRecord.from_json(found)
                if found
                else (KeyRecord.legacy_record(legacy) if legacy else None)
            )
            if now != before:
                raise ConfigurationError(
                    "the workspace's key changed while rotating (another rotation or a first "
                    "credential stored meanwhile); nothing was re-sealed",
                    field=SECRET_KEY_VARIABLE,
                    hint="run it again",
                )
            stored = self.store.credentials.all_credentials(tx, lock=True)
            resealed, count = self.sealer.reseal(
                stored, old_secret=old_secret, new_secret=new_key, new_record=new_record
            )
            changed = [name for name in stored if resealed[name] != stored[name]]
            for name in changed:
                self.store.credentials.set_credentials(tx, name, resealed[name])
            self.store.credentials.replace_key(tx, new_record.to_json())
            assert new_record.id is not None
            rotation = KeyRotation(
                old_key_id=before.id if before else None,
                new_key_id=new_record.id,
                derivation=new_record.describe(),
                accounts=changed,
                credentials=count,
            )
            self.record(
                tx,
                by,
                "rotate_key",
                detail={
                    "old_key_id": rotation.old_key_id,
                    "old_derivation": before.describe() if before else None,
                    "new_key_id": rotation.new_key_id,
                    "new_derivation": rotation.derivation,
                    "accounts": changed,
                    "credentials": count,
                },
            )
        return rotation

    def store_refreshed_credentials(self, account: Account, values: dict[str, str]) -> None:
        """Keep credentials an adapter refreshed (a rotated OAuth token) with their account.

        They are sealed like any credential; without ``GOVSOCIAL_SECRET_KEY`` they cannot be
        stored, and a warning says so (the next process would use the old, maybe revoked, one).
        Values the platform keeps only to save work (``Platform.cached_credentials``, such as
        Bluesky's login session) are stored the same way when they can be, and otherwise
        left out without a warning: the next process only does that work again.
        """
        from pydantic import SecretStr

        cls = self.plugins.platforms().get(account.platform)
        cached = set(values) <= set(cls.cached_credentials if cls is not None else ())

        name = account.handle
        try:
            with self.store.transaction() as tx:
                row = self.store.account_at(tx, account.platform, account.handle, account.base_url)
                if row is None:
                    return  # not this workspace's (a client of its own)
                name = row.name
                sealed = self.sealer.seal({k: SecretStr(v) for k, v in values.items()})
                self._check_sealed_key(tx, sealed)
                self.store.update_credentials(row.name, {**row.credentials, **sealed.values})
        except ConfigurationError as exc:
            (logger.debug if cached else logger.warning)(
                "refreshed credentials of %s (%s) were not stored: %s",
                name,
                ", ".join(sorted(values)),
                exc,
            )

    # -- the media host ------------------------------------------------------------------

    @signed
    def set_media_host(
        self,
        name: str | None,
        *,
        by: str | None = None,
        key: SigningKey | None = None,
        **settings: str,
    ) -> MediaHost | None:
        """Name the media host that serves local images to platforms that fetch media from a
        public URL (Instagram, Threads), with its settings, stored in the workspace so every
        process that opens it (``govsocial worker``) uses it. ``None`` removes the setting.

        ``set_media_host("directory", root="/var/www/media", base_url="https://.../media")``.
        The host is built now, so a wrong name or setting fails here, not at publish time.

        :raises PluginError: no media host of that name is registered.
        :raises ConfigurationError: the host refuses the settings.
        """
        host = None if name is None else self._build_media_host(name, settings)

        def write(tx: Tx, decree: str | None) -> None:
            value = json.dumps({"name": name, **settings}, sort_keys=True) if name else ""
            self.store.put_meta(tx, _MEDIA_HOST_KEY, value)
            self.record(tx, by, "set_media_host", decree=decree, detail={"name": name, **settings})

        self.authority.as_head("set_media_host", by, write)
        self._close_client()  # the next client is built with the new host
        return host

    def media_host(self) -> MediaHost | None:
        """The media host in force: ``$GOVSOCIAL_MEDIA_HOST`` (``name:setting,setting``, e.g.
        ``directory:/var/www/media,https://example.go.id/media``), else the stored setting,
        else None (posts with local images then fail on Instagram and Threads)."""
        text = os.environ.get(MEDIA_HOST_VARIABLE, "").strip()
        if text:
            name, _, rest = text.partition(":")
            args = [part.strip() for part in rest.split(",")] if rest.strip() else []
            return self._build_media_host(name.strip(), {}, args)
        stored = self.store.meta(_MEDIA_HOST_KEY)
        if not stored:
            return None
        settings = dict(json.loads(stored))
        return self._build_media_host(str(settings.pop("name")), settings)

    def _build_media_host(
        self, name: str, settings: dict[str, str], args: Sequence[str] = ()
    ) -> MediaHost:
        hosts = self.plugins.media_hosts()
        cls = hosts.get(name)
        if cls is None:
            raise PluginError(
                f"no media host named {name!r}",
                field="media_host",
                hint=f"registered: {', '.join(sorted(hosts)) or 'none'}",
            )
        try:
            return cls(*args, **settings)
        except TypeError as exc:
            raise ConfigurationError(
                f"media host {name!r} does not take these settings: {exc}",
                field="media_host",
                hint=f"{MEDIA_HOST_VARIABLE}=directory:/var/www/media,https://example.go.id/media",
            ) from None

    # -- the client ----------------------------------------------------------------------

    def client_options(self) -> dict[str, Any]:
        """What a client working for this workspace is given: its plugins, the delivery
        checkpoints (committed to the database, so a crashed worker's successor resumes a
        multi-step publish), a listener that stores credentials an adapter refreshed, and
        the media host when one is set.

        ``AsyncClient(**core.client_options())`` is how workers build theirs.
        """
        options: dict[str, Any] = {
            "plugins": self.plugins,
            "checkpoints": DeliveryCheckpoints(self.store),
            "on_credentials": self.store_refreshed_credentials,
        }
        host = self.media_host()
        if host is not None:
            options["media_host"] = host
        return options

    def client(self) -> Client:
        """The workspace's one long-lived :class:`~govsocial.Client` (pooled connections,
        adapters and their caches kept between calls), built on first use and closed by
        :meth:`close`."""
        if self._client is None:
            self._client = Client(**self.client_options())
        return self._client

    @contextmanager
    def using_client(self, **overrides: Any) -> Iterator[Client]:
        """The long-lived client, or, given ``overrides`` (``transport=...``), a client of
        its own with them, closed when the block ends."""
        if not overrides:
            yield self.client()
            return
        with Client(**{**self.client_options(), **overrides}) as client:
            yield client

    def _close_client(self) -> None:
        client, self._client = self._client, None
        if client is not None:
            client.close()

    def refresh_credentials(
        self, accounts: Sequence[str] | None = None, **client_options: Any
    ) -> dict[str, str]:
        """Renew expiring tokens of every account, or ``accounts``; the new ones are stored
        sealed. Returns, per account, ``"renewed"``, ``"nothing to renew"`` or why it failed."""
        names = list(accounts) if accounts else [row.name for row in self.store.accounts()]
        outcome: dict[str, str] = {}
        with self.using_client(**client_options) as client:
            for name in names:
                try:
                    renewed = client.refresh_credentials(self.account(name))
                except GovSocialError as error:
                    outcome[name] = f"failed: {error}"
                    continue
                outcome[name] = "renewed" if renewed else "nothing to renew"
        return outcome

    def direct_client(self, *, by: str | None = None, **client_options: Any) -> Client:
        """A new :class:`~govsocial.Client` for direct calls whose every publish to an
        account of this workspace is audit-logged as ``direct_publish`` by ``by``.

        :raises NotPermitted: the workspace is archived.
        """
        self.refuse_if_archived("direct_publish")

        def record(post: Post, result: PublishResult) -> None:
            try:
                name = self.account_name(result.account)
            except ConfigurationError:
                name = None
            with self.store.transaction() as tx:
                self.record(
                    tx,
                    by,
                    "direct_publish" if result.ok else "direct_publish_failed",
                    obj=result.ref.id if result.ref else None,
                    account=name,
                    detail={
                        "platform": result.account.platform,
                        "handle": result.account.handle,
                        "url": result.ref.url if result.ref else None,
                        "text": post.text[:500],
                        "error": str(result.error) if result.error else None,
                    },
                )

        return Client(**{**self.client_options(), "on_published": record, **client_options})


class HasCore(Protocol):
    """Anything that carries a workspace core (the :class:`govsocial.Workspace` facade)."""

    @property
    def core(self) -> WorkspaceCore:
        """The workspace core it carries."""


def core_of(workspace: WorkspaceCore | HasCore) -> WorkspaceCore:
    """The core itself, or the one a facade carries: services accept either."""
    return workspace if isinstance(workspace, WorkspaceCore) else workspace.core


class DeliveryCheckpoints:
    """Adapter checkpoints stored with their delivery (see :mod:`govsocial.adapters.checkpoints`).

    A save is committed before it returns. A client call made through the workspace that is
    no delivery (a reply, say) has no row: its checkpoints stay in memory.
    """

    def __init__(self, store: Store) -> None:
        self.store = store
        self._memory = MemoryCheckpoints()

    def load(self, account_key: str, idempotency_key: str) -> dict[str, str]:
        """The delivery's saved steps (or, for no delivery, those kept in memory)."""
        return self.store.checkpoint(idempotency_key) or self._memory.load(
            account_key, idempotency_key
        )

    def save(self, account_key: str, idempotency_key: str, values: dict[str, str]) -> None:
        """Save a delivery's steps, committed before this returns."""
        if not self.store.save_checkpoint(idempotency_key, values):
            self._memory.save(account_key, idempotency_key, values)


def _naming(locked: AccountLocked, name: str) -> AccountLocked:
    """``locked`` (from the sealer or an ``env:`` check) as the error naming account ``name``."""
    return AccountLocked(
        f"account {name!r} is locked: {locked.reason}",
        account=name,
        reason=locked.reason,
        field=locked.field,
        hint=locked.hint,
    )


def _epoch(value: str | datetime | None, field: str) -> float | None:
    if value is None:
        return None
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value)
        except ValueError:
            raise ConfigurationError(
                f"{field} {value!r} is not a date or time",
                field=field,
                hint="ISO 8601, e.g. 2026-11-01 or 2026-11-01T00:00+07:00",
            ) from None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.timestamp()
