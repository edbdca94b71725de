"""python -m bot.staff.users: manage staff accounts from the command line.

  create USERNAME [--role reviewer|responder|admin] [--password-stdin]   (prompts for the password otherwise)
  set-password USERNAME [--password-stdin]
  set-role USERNAME ROLE
  unlock USERNAME
  disable USERNAME / enable USERNAME
  list
"""

from __future__ import annotations

import argparse
import getpass
import sys

from bot.staff import accounts
from bot.staff.audit import utcnow
from bot.staff.config import staff_settings
from bot.staff.db import engine
from bot.staff.migrate import upgrade

CLI = "cli"


def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass("Password: ")
    if first != getpass.getpass("Repeat the password: "):
        raise accounts.AccountError("The passwords differ.")
    return first


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bot.staff.users", description="Manage staff console accounts.")
    commands = parser.add_subparsers(dest="command", required=True)
    create = commands.add_parser("create", help="create an account")
    create.add_argument("username")
    create.add_argument("--role", choices=accounts.ROLES, default="reviewer")
    create.add_argument("--password-stdin", action="store_true", help="read the password from the first line of stdin")
    password = commands.add_parser("set-password", help="set a new password (unlocks, ends sessions)")
    password.add_argument("username")
    password.add_argument("--password-stdin", action="store_true")
    role = commands.add_parser("set-role", help="change the role (ends sessions)")
    role.add_argument("username")
    role.add_argument("role", choices=accounts.ROLES)
    for name in ("unlock", "disable", "enable"):
        commands.add_parser(name).add_argument("username")
    commands.add_parser("list", help="list the accounts")
    args = parser.parse_args(argv)

    url = staff_settings().database_url
    upgrade(url)
    eng = engine(url)
    try:
        if args.command == "create":
            accounts.create(eng, args.username, _password(args.password_stdin), args.role, by=CLI)
        elif args.command == "set-password":
            accounts.update(eng, args.username, CLI, password=_password(args.password_stdin))
        elif args.command == "set-role":
            accounts.update(eng, args.username, CLI, role=args.role)
        elif args.command == "unlock":
            accounts.update(eng, args.username, CLI, unlock=True)
        elif args.command in ("disable", "enable"):
            accounts.update(eng, args.username, CLI, active=args.command == "enable")
        else:
            for user in accounts.all_users(eng):
                state = "active" if user["active"] else "disabled"
                until = user["locked_until"]
                locked = f", locked until {until:%Y-%m-%d %H:%M} UTC" if until and until > utcnow() else ""
                print(f"{user['username']}\t{user['role']}\t{state}{locked}")
            return 0
    except accounts.AccountError as error:
        print(f"error: {error}", file=sys.stderr)
        return 1
    print(f"{args.command}: {args.username}: done")
    return 0


if __name__ == "__main__":
    sys.exit(main())
