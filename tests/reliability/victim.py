"""A reviewer's day as a process to kill: accept suggestions and reverse applications.

    RECON_DATABASE_URL=... python -m tests.reliability.victim apply [--seed N]

There is no `recon` command for review decisions (the web UI takes them), so this drives the
same service functions the UI calls (`reconciler.applying.accept_proposal`,
`reverse_application`), one decision per database transaction, exactly as the UI does. It
accepts every pending best suggestion and reverses every third automatic application; a
decision the data no longer allows (items settled meanwhile) is refused by the service and
the reviewer moves on, as in the UI.
"""

from __future__ import annotations

import argparse
import os
import random
import sys

from sqlalchemy import select

from reconciler.applying import accept_proposal, reverse_application
from reconciler.db.matching import ApplicationRow, ProposalRow
from reconciler.db.session import Database
from reconciler.errors import ReconError

ACTOR = "user:crash-test"


def apply_decisions(db: Database, seed: int) -> tuple[int, int, int]:
    with db.session() as session:
        proposals = list(session.scalars(select(ProposalRow.id).where(
            ProposalRow.state == "pending", ProposalRow.rank == 1).order_by(ProposalRow.id)))
        automatic = list(session.scalars(select(ApplicationRow.id).where(
            ApplicationRow.status == "auto", ApplicationRow.reversed_by_id.is_(None),
            ApplicationRow.reverses_id.is_(None)).order_by(ApplicationRow.id)))
    work: list[tuple[str, int]] = [("accept", p) for p in proposals]
    work += [("reverse", a) for a in automatic[::3]]
    random.Random(seed).shuffle(work)
    accepted = reversed_count = refused = 0
    for kind, number in work:
        try:
            with db.transaction() as session:
                if kind == "accept":
                    accept_proposal(session, number, actor=ACTOR, approver=True)
                    accepted += 1
                else:
                    reverse_application(session, number, actor=ACTOR,
                                        reason="crash test: undo an automatic match")
                    reversed_count += 1
        except ReconError:
            refused += 1
    return accepted, reversed_count, refused


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.reliability.victim")
    parser.add_argument("work", choices=("apply",))
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    db = Database(os.environ["RECON_DATABASE_URL"])
    try:
        accepted, reversed_count, refused = apply_decisions(db, args.seed)
    finally:
        db.dispose()
    print(f"accepted {accepted}, reversed {reversed_count}, refused {refused}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
