"""Configuration from the environment (SPEC section 2), validated once at start."""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError

_RATE = re.compile(r"^\s*(\d+)\s*/\s*(second|minute|hour)\s*$")
_PERIODS = {"second": 1, "minute": 60, "hour": 3600}
Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class RateLimit:
    """`count` events per `period_s` seconds; `count == 0` turns the limit off."""

    count: int
    period_s: int

    @property
    def enabled(self) -> bool:
        return self.count > 0

    @classmethod
    def parse(cls, text: str) -> RateLimit:
        if text.strip() == "0":
            return cls(0, 3600)
        match = _RATE.match(text)
        if match is None:
            raise ValueError("expected N/second, N/minute, N/hour or 0")
        return cls(int(match.group(1)), _PERIODS[match.group(2)])


class Settings(BaseSettings):
    """Every setting of SPEC section 2, plus a few documented operational knobs."""

    model_config = SettingsConfigDict(env_prefix="INTAKE_", extra="ignore", frozen=True)

    data_dir: Path = Path("./var")
    database_url: str | None = None
    routing_file: Path | None = None
    public_url: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_account_sid: str | None = None
    secret_file: Path | None = None
    log_level: Literal["debug", "info", "warning", "error", "critical"] = "info"
    report_limit: str = "60/hour"
    # SPEC section 15.
    trusted_proxies: str = ""  # addresses or CIDR ranges, separated by commas or spaces
    report_global_limit: str = "600/minute"
    signin_limit: str = "20/hour"
    docs: bool = False
    max_connections: int = Field(default=1000, ge=1, le=100_000)

    # Not in SPEC section 2; documented in README.md.
    followup_limit: str = "20/hour"
    followup_global_limit: str = "1000/hour"
    receipt_kdf_opslimit: int = Field(default=2, ge=2)
    receipt_kdf_memlimit_mib: int = Field(default=19, ge=19)
    kdf_concurrency: int = Field(default=4, ge=1, le=64)
    password_concurrency: int = Field(default=2, ge=1, le=64)  # staff sign-ins, own slots
    receipt_pool: int = Field(default=32, ge=0, le=1024)  # receipts made ahead; 0 = off
    request_timeout_s: float = Field(default=30.0, ge=0.5, le=600)  # head + body, in all
    # Refusals (413, 429, too deep) to a source refused 3 times in a minute wait this long.
    refusal_delay_s: float = Field(default=1.0, ge=0, le=30)  # 0 = off
    # Tests only: receipts at libsodium's minimum Argon2id cost (no protection at all).
    insecure_test_kdf: bool = False
    max_body_bytes: int = Field(default=512 * 1024, ge=64 * 1024)
    token_ttl_minutes: int = Field(default=8 * 60, ge=5, le=7 * 24 * 60)
    # SPEC section 10: a staff web session ends after this long without a request.
    staff_idle_minutes: int = Field(default=15, ge=1, le=24 * 60)
    sms_idle_timeout_hours: int = Field(default=24, ge=1)
    # SPEC section 12: counts from 1 to this are shown as "<N+1>" wherever figures leave.
    small_cell: int = Field(default=4, ge=1, le=1000)
    twilio_delete_bodies: bool = True
    twilio_api_base: str | None = None  # a different Twilio API host (tests, regional edges)
    # Voice (SPEC 17): the longest spoken account, and recorded prompts for languages
    # that Twilio cannot speak (<lang>/<prompt>.mp3; see docs/voice.md).
    voice_max_seconds: int = Field(default=300, ge=10, le=14_400)
    voice_prompts_dir: Path | None = None
    # Outbound mail for focal point notifications (docs/worker.md); none: mailto: entries fail.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_from: str | None = None
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_security: Literal["starttls", "tls", "none"] = "starttls"
    default_language: str = "en"
    # SPEC 14: the one neutral <title> of every public page (nothing that names abuse
    # in a shared phone's tab list or history).
    site_name: str = Field(default="Community feedback", min_length=1, max_length=80)

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_level(cls, value: object) -> object:
        return value.lower() if isinstance(value, str) else value

    @field_validator(
        "report_limit",
        "report_global_limit",
        "signin_limit",
        "followup_limit",
        "followup_global_limit",
    )
    @classmethod
    def _rate(cls, value: str) -> str:
        RateLimit.parse(value)
        return value

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies(cls, value: str) -> str:
        parse_networks(value)
        return value

    @field_validator("public_url")
    @classmethod
    def _public_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        if not re.match(r"^https?://[^\s/]+", value):
            raise ValueError("must be an absolute http(s) URL")
        return value.rstrip("/")

    @field_validator("database_url")
    @classmethod
    def _database_url(cls, value: str | None) -> str | None:
        if value is None or value == "":
            return None
        check_database_url(value)
        return value

    @field_validator("data_dir")
    @classmethod
    def _data_dir(cls, value: Path) -> Path:
        check_folder_can_exist(value)
        return value

    @model_validator(mode="after")
    def _sqlite_folder(self) -> Settings:
        url = make_url(self.resolved_database_url)
        if url.get_backend_name() == "sqlite" and url.database not in (None, "", ":memory:"):
            try:
                check_folder_can_exist(Path(url.database).parent)
            except ValueError as exc:
                raise ValueError(f"INTAKE_DATABASE_URL: the database {exc}") from None
        return self

    @model_validator(mode="after")
    def _twilio_pair(self) -> Settings:
        if self.twilio_account_sid is not None and not re.fullmatch(
            r"AC[0-9a-fA-F]{32}", self.twilio_account_sid
        ):
            raise ValueError(
                "INTAKE_TWILIO_ACCOUNT_SID must look like AC followed by 32 hex digits"
            )
        return self

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'intake.db').as_posix()}"

    @property
    def resolved_secret_file(self) -> Path:
        return self.secret_file or self.data_dir / "secret.key"

    @property
    def report_rate(self) -> RateLimit:
        return RateLimit.parse(self.report_limit)

    @property
    def report_global_rate(self) -> RateLimit:
        return RateLimit.parse(self.report_global_limit)

    @property
    def signin_rate(self) -> RateLimit:
        return RateLimit.parse(self.signin_limit)

    @property
    def trusted_networks(self) -> tuple[Network, ...]:
        return parse_networks(self.trusted_proxies)

    @property
    def https(self) -> bool:
        """INTAKE_PUBLIC_URL is https: HSTS on every answer, `Secure` `__Host-` staff cookies."""
        return self.public_url is not None and self.public_url.startswith("https://")

    @property
    def followup_rate(self) -> RateLimit:
        return RateLimit.parse(self.followup_limit)

    @property
    def followup_global_rate(self) -> RateLimit:
        return RateLimit.parse(self.followup_global_limit)

    @property
    def sms_enabled(self) -> bool:
        return self.twilio_auth_token is not None


def parse_networks(text: str) -> tuple[Network, ...]:
    """`10.0.0.1, 192.168.0.0/16 ::1` as networks; ValueError (fixed text) when one is not."""
    try:
        return tuple(
            ipaddress.ip_network(part, strict=False) for part in text.replace(",", " ").split()
        )
    except ValueError:
        raise ValueError("expected IP addresses or CIDR ranges separated by commas") from None


def check_database_url(value: str) -> None:
    """A URL SQLAlchemy can open: parsable, a known dialect, its driver installed.

    Raises ValueError with a fixed text; the URL may hold a password, so never quote it.
    """
    try:
        make_url(value).get_dialect().import_dbapi()
    except ArgumentError:
        raise ValueError("not a SQLAlchemy URL such as postgresql+psycopg://...") from None
    except ImportError:
        raise ValueError("the database driver this URL names is not installed") from None


def check_folder_can_exist(path: Path) -> None:
    """`path` is a folder or can be made one: its nearest existing ancestor is a folder."""
    for candidate in (path, *path.parents):
        if candidate.exists():
            if not candidate.is_dir():
                raise ValueError(f"folder {path} cannot be used: {candidate} is not a folder")
            return


def describe_settings_error(error: Exception) -> str:
    """One line naming the bad variable, never its value (it may be a secret)."""
    errors = getattr(error, "errors", None)
    if callable(errors):
        first = errors()[0]
        loc = ".".join(str(part) for part in first.get("loc", ()))
        message = str(first.get("msg", "invalid value")).removeprefix("Value error, ")
        if not loc:  # a check across settings names its variables itself
            return f"invalid configuration: {message}"
        return f"invalid configuration: INTAKE_{loc.upper()}: {message}"
    return f"invalid configuration: {type(error).__name__}"
