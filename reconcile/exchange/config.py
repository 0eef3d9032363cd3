"""Clearinghouse partners from the TOML config: ``[clearinghouses.NAME]`` tables.

Each partner is an SFTP mailbox (or, with ``kind = "folder"``, a local or mounted folder pair):
claim files go into ``send_dir``, responses are fetched from ``receive_dir``. A payer profile
names the partner its claims go through with ``clearinghouse = "NAME"``; with one partner
configured it is every payer's default. Every problem in these tables is a finding (error), so the
CLI can list them all at once and exit 2. A password is never read from the file: ``password_env``
names the environment variable that holds it.
"""

from __future__ import annotations

import re
import string
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from coding.config import DEFAULT_CONFIG_PATH, Config
from coding.findings import Finding, error

KINDS = ("sftp", "folder")
USAGES = ("T", "P")
DEFAULT_PORT = 22
# What ssh-keygen -lf prints for SHA256: base64 of the digest without padding (43 characters),
# optionally the whole line "256 SHA256:... comment (ED25519)" pasted as is.
FINGERPRINT = re.compile(r"SHA256:([A-Za-z0-9+/]{43})")
KEY_TYPE = re.compile(r"\((RSA|ED25519|ECDSA|DSA)\)\s*$")
TEMPLATE_FIELDS = frozenset({"name", "stem", "suffix", "isa13", "gs06", "claim_type", "date", "time", "partner"})
UNIQUE_FIELDS = frozenset({"name", "stem", "isa13", "gs06"})  # one of them makes each upload's name its own
PARTNER_NAME = re.compile(r"[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}")
KNOWN_KEYS = frozenset(
    {
        "kind",
        "host",
        "port",
        "username",
        "key_file",
        "password_env",
        "host_key",
        "send_dir",
        "receive_dir",
        "delete_after_download",
        "usage",
        "upload_name",
    }
)
SECRET_KEYS = frozenset({"password", "passphrase", "secret", "private_key"})


@dataclass(frozen=True)
class Partner:
    """One clearinghouse mailbox."""

    name: str
    kind: str  # sftp / folder
    send_dir: str
    receive_dir: str
    usage: str  # ISA15 every file sent here must carry: T or P
    host: str = ""
    port: int = DEFAULT_PORT
    username: str = ""
    key_file: str | None = None
    password_env: str | None = None
    host_key: str = ""  # "SHA256:..." (no padding)
    host_key_type: str | None = None  # RSA / ED25519 / ECDSA when the ssh-keygen line named it
    delete_after_download: bool = False
    upload_name: str = "{name}"

    def remote_name(self, local: Path, isa13: int, gs06: int, claim_type: str, when: Any) -> str:
        """The name a file is uploaded under (the ``upload_name`` template filled in)."""
        return self.upload_name.format(
            name=local.name,
            stem=local.stem,
            suffix=local.suffix,
            isa13=f"{isa13:09d}",
            gs06=str(gs06),
            claim_type=claim_type,
            date=f"{when:%Y%m%d}",
            time=f"{when:%H%M%S}",
            partner=self.name,
        )

    def describe(self) -> str:
        """Where the partner is, for messages (never a secret)."""
        if self.kind == "folder":
            return f"folder {self.send_dir} / {self.receive_dir}"
        return f"sftp://{self.username}@{self.host}:{self.port}"


@dataclass
class ExchangeConfig:
    """The partners and which partner each payer profile's claims go through."""

    partners: dict[str, Partner]
    payer_partner: dict[str, str]  # payer profile key -> partner name
    findings: list[Finding]

    @property
    def ok(self) -> bool:
        return not any(f.severity == "error" for f in self.findings)

    def partner_for_payer(self, payer: str | None) -> str | None:
        return self.payer_partner.get(payer or "")


def _where(name: str, key: str | None = None) -> str:
    return f"clearinghouses.{name}" + (f".{key}" if key else "")


def _text(tbl: dict[str, Any], name: str, key: str, errs: list[Finding], required: bool = True) -> str:
    value = tbl.get(key)
    if value is None or value == "":
        if required:
            errs.append(error("exchange-config", f"config: missing '{_where(name, key)}'", field=_where(name, key)))
        return ""
    if not isinstance(value, str):
        errs.append(error("exchange-config", f"config: '{_where(name, key)}' must be text", field=_where(name, key)))
        return ""
    return value


def _template(name: str, value: str, errs: list[Finding]) -> None:
    where = _where(name, "upload_name")
    try:
        fields = [f for _, f, _, _ in string.Formatter().parse(value) if f is not None]
    except ValueError as exc:
        errs.append(error("exchange-config", f"config: '{where}' is not a valid template: {exc}", field=where))
        return
    if not set(fields) & UNIQUE_FIELDS:
        errs.append(
            error(
                "exchange-config",
                f"config: '{where}' must use one of {{name}}, {{stem}}, {{isa13}} or {{gs06}} so every file gets its own name",
                field=where,
            )
        )
    unknown = sorted({f for f in fields if f not in TEMPLATE_FIELDS})
    if unknown:
        errs.append(
            error(
                "exchange-config",
                f"config: '{where}' uses unknown field(s) {', '.join(unknown)}; "
                f"known: {', '.join(sorted(TEMPLATE_FIELDS))}",
                field=where,
            )
        )
    literal = "".join(t for t, _, _, _ in string.Formatter().parse(value))
    if "/" in literal or "\\" in literal or value.startswith("."):
        errs.append(
            error(
                "exchange-config", f"config: '{where}' must name a plain file (no folder, no leading dot)", field=where
            )
        )


def parse_partner(name: str, tbl: Any) -> tuple[Partner | None, list[Finding]]:
    """One ``[clearinghouses.NAME]`` table as a :class:`Partner`, or None with error findings."""
    errs: list[Finding] = []
    if not PARTNER_NAME.fullmatch(name):
        return None, [
            error(
                "exchange-config",
                f"config: clearinghouse name {name!r} must be letters, digits, '_', '.' or '-' (it names the inbox folder)",
                field=_where(name),
            )
        ]
    if not isinstance(tbl, dict):
        return None, [error("exchange-config", f"config: '{_where(name)}' must be a table", field=_where(name))]
    for key in sorted(set(tbl) - KNOWN_KEYS):
        if key.lower() in SECRET_KEYS:
            msg = f"config: '{_where(name, key)}': never put a secret in the config; use password_env (the name of an environment variable) or key_file"
        else:
            msg = f"config: unknown key '{_where(name, key)}'; known: {', '.join(sorted(KNOWN_KEYS))}"
        errs.append(error("exchange-config", msg, field=_where(name, key)))
    kind = tbl.get("kind", "sftp")
    if kind not in KINDS:
        errs.append(
            error(
                "exchange-config",
                f'config: \'{_where(name, "kind")}\' must be "sftp" or "folder"',
                field=_where(name, "kind"),
            )
        )
        kind = "sftp"
    send_dir = _text(tbl, name, "send_dir", errs)
    receive_dir = _text(tbl, name, "receive_dir", errs)
    usage = _text(tbl, name, "usage", errs)
    if usage and usage not in USAGES:
        errs.append(
            error(
                "exchange-config",
                f'config: \'{_where(name, "usage")}\' must be "T" (test) or "P" (production)',
                field=_where(name, "usage"),
            )
        )
    delete = tbl.get("delete_after_download", False)
    if not isinstance(delete, bool):
        errs.append(
            error(
                "exchange-config",
                f"config: '{_where(name, 'delete_after_download')}' must be true or false",
                field=_where(name, "delete_after_download"),
            )
        )
        delete = False
    upload_name = _text(tbl, name, "upload_name", errs, required=False) or "{name}"
    _template(name, upload_name, errs)
    host = username = host_key = ""
    key_type: str | None = None
    key_file = password_env = None
    port = DEFAULT_PORT
    if kind == "sftp":
        host = _text(tbl, name, "host", errs)
        username = _text(tbl, name, "username", errs)
        raw_port = tbl.get("port", DEFAULT_PORT)
        if isinstance(raw_port, bool) or not isinstance(raw_port, int) or not 0 < raw_port < 65536:
            errs.append(
                error(
                    "exchange-config",
                    f"config: '{_where(name, 'port')}' must be a port number (1-65535)",
                    field=_where(name, "port"),
                )
            )
        else:
            port = raw_port
        key_file = _text(tbl, name, "key_file", errs, required=False) or None
        password_env = _text(tbl, name, "password_env", errs, required=False) or None
        if (key_file is None) == (password_env is None):
            errs.append(
                error(
                    "exchange-config",
                    f"config: '{_where(name)}' needs exactly one of key_file (a private key file) or "
                    "password_env (the name of an environment variable holding the password)",
                    field=_where(name),
                )
            )
        raw_key = _text(tbl, name, "host_key", errs)
        m = FINGERPRINT.search(raw_key)
        if raw_key and m is None:
            errs.append(
                error(
                    "exchange-config",
                    f"config: '{_where(name, 'host_key')}' must be the server's SHA256 fingerprint as "
                    "`ssh-keygen -lf` prints it (SHA256: and 43 characters)",
                    field=_where(name, "host_key"),
                )
            )
        elif m is not None:
            host_key = "SHA256:" + m.group(1)
            t = KEY_TYPE.search(raw_key)
            key_type = t.group(1) if t else None
    else:
        for key in ("host", "username", "key_file", "password_env", "host_key"):
            if key in tbl:
                errs.append(
                    error(
                        "exchange-config",
                        f"config: '{_where(name, key)}' has no meaning for a folder partner",
                        field=_where(name, key),
                    )
                )
    if errs:
        return None, errs
    return (
        Partner(
            name=name,
            kind=kind,
            send_dir=send_dir,
            receive_dir=receive_dir,
            usage=usage,
            host=host,
            port=port,
            username=username,
            key_file=key_file,
            password_env=password_env,
            host_key=host_key,
            host_key_type=key_type,
            delete_after_download=delete,
            upload_name=upload_name,
        ),
        [],
    )


def exchange_config(data: dict[str, Any], cfg: Config) -> ExchangeConfig:
    """Partners from the parsed TOML ``data`` and the payer profiles of ``cfg``."""
    findings: list[Finding] = []
    partners: dict[str, Partner] = {}
    tables = data.get("clearinghouses", {})
    if not isinstance(tables, dict):
        tables = {}
        findings.append(error("exchange-config", "config: 'clearinghouses' must hold [clearinghouses.NAME] tables"))
    for name, tbl in tables.items():
        partner, errs = parse_partner(name, tbl)
        findings.extend(errs)
        if partner is not None:
            partners[name] = partner
    payer_partner: dict[str, str] = {}
    for key, payer in cfg.payers.items():
        named = payer.settings.get("clearinghouse")
        if named is None:
            if len(tables) == 1 and partners:
                payer_partner[key] = next(iter(partners))
            continue
        if not isinstance(named, str) or named not in tables:
            findings.append(
                error(
                    "exchange-config",
                    f"config: payers.{key}.clearinghouse names {named!r}, which is not a [clearinghouses.NAME] table",
                    field=f"payers.{key}.clearinghouse",
                )
            )
        elif named in partners:
            payer_partner[key] = named
    return ExchangeConfig(partners, payer_partner, findings)


def load_exchange_config(path: str | Path | None, cfg: Config) -> ExchangeConfig:
    """The ``[clearinghouses]`` of the config file at ``path`` (the bundled one when None)."""
    p = Path(path) if path else DEFAULT_CONFIG_PATH
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        return ExchangeConfig({}, {}, [error("exchange-config", f"config file {p} cannot be read: {exc}")])
    return exchange_config(data, cfg)


def select_partners(xc: ExchangeConfig, only: str | None) -> tuple[list[Partner], list[Finding]]:
    """The partners a job runs for: ``only`` (must exist) or all of them."""
    if only is not None:
        if only in xc.partners:
            return [xc.partners[only]], []
        known = ", ".join(sorted(xc.partners)) or "none configured"
        return [], [error("exchange-unknown-partner", f"no clearinghouse named {only!r} in the config ({known})")]
    if not xc.partners:
        return [], [
            error("exchange-no-partner", "no [clearinghouses.NAME] table in the config: nothing to exchange with")
        ]
    return list(xc.partners.values()), []
