"""`auditcage account …`: console accounts from the command line (the first administrator)."""

from __future__ import annotations

import click

from auditcage.accounts.roles import Role


def register(main: click.Group, sessions_of, settings_of, actor_of) -> None:  # type: ignore[no-untyped-def]
    @main.group()
    def account() -> None:
        """Console accounts: create, list, reset a password, deactivate."""

    @account.command("create")
    @click.argument("username")
    @click.option(
        "--role",
        "roles",
        multiple=True,
        required=True,
        type=click.Choice([r.value for r in Role]),
        help="Repeat for several roles.",
    )
    @click.option("--name", "display_name", help="Shown in the console (default: USERNAME).")
    @click.option("--staff", "staff_id", help="The R2 staff member (required for loop roles).")
    @click.option("--unit", "unit_code", help="Jurisdiction (default: the staff member's unit).")
    @click.option("--locale", type=click.Choice(["zh", "en"]), default="zh")
    @click.password_option(help="Asked for when not given (at least 10 characters).")
    @click.pass_context
    def create(
        ctx: click.Context,
        username: str,
        roles: tuple[str, ...],
        display_name: str | None,
        staff_id: str | None,
        unit_code: str | None,
        locale: str,
        password: str,
    ) -> None:
        """Create the account USERNAME."""
        from auditcage.accounts import service
        from auditcage.reference.service import build_index

        with sessions_of(settings_of(ctx)).begin() as session:
            made = service.create(
                session,
                service.NewAccount(
                    username=username,
                    display_name=display_name or username,
                    password=password,
                    roles=roles,
                    unit_code=unit_code,
                    staff_id=staff_id,
                    locale=locale,
                ),
                actor=actor_of(),
                ref=build_index(session),
            )
            click.echo(f"account {made.username} created: {', '.join(made.roles)}")

    @account.command("list")
    @click.pass_context
    def list_accounts(ctx: click.Context) -> None:
        """Every account with its roles, unit and staff member."""
        from auditcage.accounts import service

        with sessions_of(settings_of(ctx)).begin() as session:
            for a in service.all_accounts(session):
                state = "active" if a.active else "inactive"
                click.echo(
                    f"{a.username:<16}{','.join(a.roles):<28}{a.unit_code or '':<14}"
                    f"{a.staff_id or '':<10}{state}"
                )

    @account.command("password")
    @click.argument("username")
    @click.password_option()
    @click.pass_context
    def password(ctx: click.Context, username: str, password: str) -> None:
        """Set USERNAME's password; every session of the account ends."""
        from auditcage.accounts import service

        with sessions_of(settings_of(ctx)).begin() as session:
            service.change_password(session, _id(session, username), password, actor=actor_of())
        click.echo(f"password of {username} changed")

    @account.command("deactivate")
    @click.argument("username")
    @click.pass_context
    def deactivate(ctx: click.Context, username: str) -> None:
        """USERNAME can no longer sign in; its sessions end."""
        from auditcage.accounts import service

        with sessions_of(settings_of(ctx)).begin() as session:
            service.set_active(session, _id(session, username), False, actor=actor_of())
        click.echo(f"{username} deactivated")


def _id(session, username: str) -> int:  # type: ignore[no-untyped-def]
    from sqlalchemy import select

    from auditcage.accounts.models import Account

    found = session.scalars(select(Account.id).where(Account.username == username)).first()
    if found is None:
        raise click.ClickException(f"no account {username}")
    return int(found)
