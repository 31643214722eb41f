"""``doorstroom tokens``: issue, list and revoke the bearer tokens of the HTTP API."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated

import typer

from services.settings import Settings

tokens_app = typer.Typer(
    help="Bearer tokens of the HTTP API (one user, office and role each).", no_args_is_help=True
)


def _now() -> datetime:
    return datetime.now(UTC)


@tokens_app.command("issue")
def issue(
    office: Annotated[str, typer.Option(help="NIS code of the user's office, e.g. 31004.")],
    user: Annotated[str, typer.Option(help="User id within the office (no name), e.g. u-1042.")],
    role: Annotated[str, typer.Option(help="social_worker, finance, inspector, dpo, ...")],
    expires_in_days: Annotated[
        int | None, typer.Option(min=1, help="Let the token expire; default: until revoked.")
    ] = None,
) -> None:
    """Issue a token and print it once (only its SHA-256 hash is stored)."""
    from services.http.tokens import TokenError, TokenStore
    from services.offices import Offices

    settings = Settings()
    if office not in Offices.load(settings.offices_file):
        typer.echo(f"unknown office {office!r}: see DOORSTROOM_OFFICES_FILE", err=True)
        raise typer.Exit(2)
    now = _now()
    expires = now + timedelta(days=expires_in_days) if expires_in_days else None
    store = TokenStore(settings.vault_url)
    try:
        issued = store.issue(user_id=user, office_id=office, role=role, now=now, expires_at=expires)
    except TokenError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(2) from None
    finally:
        store.close()
    typer.echo(
        f"token id {issued.token_id} for {user} ({issued.principal.role.value}, office {office})"
        + (f", expires {expires.isoformat()}" if expires else ""),
        err=True,
    )
    typer.echo(issued.token)


@tokens_app.command("revoke")
def revoke(
    token_id: Annotated[str, typer.Argument(help="The token id printed by `tokens issue`.")],
) -> None:
    """Revoke a token: every later request with it gets 401."""
    from services.http.tokens import TokenStore

    store = TokenStore(Settings().vault_url)
    try:
        revoked = store.revoke(token_id, _now())
    finally:
        store.close()
    if not revoked:
        typer.echo(f"no unrevoked token with id {token_id!r}", err=True)
        raise typer.Exit(1)
    typer.echo(f"token {token_id} revoked")


@tokens_app.command("list")
def list_tokens() -> None:
    """Every token: id, user, office, role, issue, expiry and revocation times."""
    from services.http.tokens import TokenStore

    store = TokenStore(Settings().vault_url)
    try:
        infos = store.tokens()
    finally:
        store.close()
    for info in infos:
        p = info.principal
        state = f"revoked {info.revoked_at}" if info.revoked_at else "active"
        expiry = f" expires {info.expires_at}" if info.expires_at else ""
        typer.echo(
            f"{p.token_id}  {p.office_id}  {p.user_id}  {p.role.value}  "
            f"issued {info.issued_at}{expiry}  {state}"
        )
