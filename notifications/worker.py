"""One notification pass: route new alerts, escalate, queue digests, deliver what is due.

Each step commits on its own, so a crash between them loses nothing: the next pass resumes from
the database (unrouted alerts, unmet deadlines and their escalation level, pending outbox rows).
A database that is away ends the pass early with a warning; the loop calling it tries again.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker

from auditcage import clock
from auditcage.config import Settings
from auditcage.reference.cache import ReferenceCache
from notifications import digests, escalation, pipeline
from notifications.delivery import (
    DeliveryReport,
    deliver_due,
    process_worker_id,
    reclaim_own,
    rescue_orphans,
)
from notifications.policy import load_policy

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PassReport:
    routed: int
    escalations: int
    digests: int
    delivery: DeliveryReport


def rule_names(rules_dir: Path) -> dict[str, str]:
    from auditcage.engine.session import load_rules

    ruleset, _ = load_rules(rules_dir)
    return {rule.id: rule.name.zh for rule in ruleset.rules}


class NotificationWorker:
    def __init__(
        self, sessions: sessionmaker[Session], settings: Settings, *, worker_id: str | None = None
    ) -> None:
        self.sessions = sessions
        self.settings = settings
        self.worker_id = worker_id or process_worker_id(f"{id(self):x}")
        self._references = ReferenceCache()  # rebuilt only when a reference load happened
        self._notifier: pipeline.Notifier | None = None
        self._failed_delivery = False  # the last deliver_due raised: it may hold leases still

    def notifier(self, session: Session) -> pipeline.Notifier:
        """The same Notifier (policy, calendar, rule names) until the reference data changes."""
        ref = self._references.index(session)
        if self._notifier is None or self._notifier.ref is not ref:
            names = (
                self._notifier.rule_names if self._notifier else rule_names(self.settings.rules_dir)
            )
            policy = (
                self._notifier.policy
                if self._notifier
                else load_policy(self.settings.rules_dir / "routing.yaml")
            )
            self._notifier = pipeline.Notifier(
                ref=ref, policy=policy, settings=self.settings, rule_names=names
            )
        return self._notifier

    def run_once(
        self,
        *,
        now: datetime | None = None,
        deliver: bool = True,
        should_stop: Callable[[], bool] = lambda: False,
    ) -> PassReport:
        try:
            return self._pass(now or clock.now(), deliver=deliver, should_stop=should_stop)
        except OperationalError as exc:
            log.warning("notification pass stopped, the database is unavailable: %s", exc.orig)
            return PassReport(0, 0, 0, DeliveryReport())

    def _pass(self, now: datetime, *, deliver: bool, should_stop: Callable[[], bool]) -> PassReport:
        routed = 0
        while True:  # in batches, each committed: a long backlog is routed a piece at a time
            with self.sessions.begin() as session:
                batch = pipeline.route_new_alerts(session, self.notifier(session), now=now)
            routed += batch
            if batch < pipeline.ROUTE_BATCH:
                break
        with self.sessions.begin() as session:
            escalations = escalation.escalate(session, self.notifier(session), now=now)
        with self.sessions.begin() as session:
            queued = digests.send_digests(session, self.notifier(session), now=now)
        with self.sessions.begin() as session:
            digests.notify_confirmed(session, self.notifier(session), now=now)
        # Deliveries happen in real time whatever `now` the pass evaluates deadlines at.
        delivery = self.deliver_only(should_stop) if deliver else DeliveryReport()
        return PassReport(routed, escalations, queued, delivery)

    def deliver_only(self, should_stop: Callable[[], bool] = lambda: False) -> DeliveryReport:
        try:
            rescue_orphans(self.sessions)
            if self._failed_delivery:
                # The rows it may have leased then (a claim committed whose reply was lost) are
                # its own orphans: due now rather than when their lease runs out.
                reclaim_own(self.sessions, worker_id=self.worker_id)
                self._failed_delivery = False
            return deliver_due(
                self.sessions, worker_id=self.worker_id, limit=200, should_stop=should_stop
            )
        except OperationalError as exc:
            self._failed_delivery = True
            log.warning("deliveries stopped, the database is unavailable: %s", exc.orig)
            return DeliveryReport()
