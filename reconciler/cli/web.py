"""`recon serve` (the web UI and JSON API under waitress, plus the scheduled jobs) and
`recon user ...`."""

from __future__ import annotations

import argparse
import getpass
import os

from reconciler import users
from reconciler.cli.context import CommandGroups, Context
from reconciler.errors import InputError


def register(groups: CommandGroups) -> None:
    serve = groups.command("serve", cmd_serve,
                           "serve the web UI and JSON API (waitress, the production server)")
    serve.add_argument("--host", help="address to listen on (default: settings web.host)")
    serve.add_argument("--port", type=int, help="port (default: settings web.port)")
    serve.add_argument("--threads", type=int, help="worker threads (default: settings web.threads)")
    serve.add_argument("--no-scheduler", action="store_true",
                       help="serve only; run no scheduled jobs in this process")

    add = groups.command("add", cmd_user_add, "add a web user (password from RECON_PASSWORD or "
                         "a prompt)", group="user")
    add.add_argument("name")
    add.add_argument("--role", required=True, choices=users.ROLES)
    groups.command("list", cmd_user_list, "list web users", group="user")
    disable = groups.command("disable", cmd_user_disable, "disable a web user and their tokens",
                             group="user")
    disable.add_argument("name")
    token = groups.command("token", cmd_user_token, "print a new API token for a user",
                           group="user")
    token.add_argument("name")
    token.add_argument("--label", default="", help="what the token is for")


def cmd_serve(ctx: Context, args: argparse.Namespace) -> int:
    from web import create_app, serve

    settings = ctx.settings
    app = create_app(settings, ctx.db)
    scheduler = None
    if not args.no_scheduler:
        from reconciler.scheduler import start_scheduler

        # Bank pulls, outbox delivery and the daily runs live beside the web server; jobs
        # take a lease in the database, so several `recon serve` processes run each once.
        scheduler = start_scheduler(settings, ctx.db)
    try:
        serve(app, args.host or settings.web.host, args.port or settings.web.port,
              threads=args.threads or settings.web.threads)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)
    return 0


def _read_password() -> str:
    password = os.environ.get("RECON_PASSWORD")
    if password:
        return password
    first = getpass.getpass("password: ")
    if first != getpass.getpass("again: "):
        raise InputError("the two passwords differ")
    return first


def cmd_user_add(ctx: Context, args: argparse.Namespace) -> int:
    password = _read_password()
    with ctx.db.transaction() as session:
        user = users.add_user(session, args.name, args.role, password, actor="cli")
    print(f"user {user.name} added with role {user.role}")
    return 0


def cmd_user_list(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.db.session() as session:
        rows = users.list_users(session)
    for user in rows:
        state = "active" if user.active else "disabled"
        print(f"{user.name:<24} {user.role:<9} {state:<8} {user.created_at:%Y-%m-%d}")
    return 0


def cmd_user_disable(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.db.transaction() as session:
        users.disable_user(session, args.name, actor="cli")
    print(f"user {args.name} disabled")
    return 0


def cmd_user_token(ctx: Context, args: argparse.Namespace) -> int:
    with ctx.db.transaction() as session:
        token = users.create_token(session, args.name, actor="cli", label=args.label)
    print(token)
    return 0
