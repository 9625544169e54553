"""Who receives an alert, when, and who stands in for whom (catalogue §4.2, §4.3, §4.5).

Pure functions over the routing policy and a ReferenceIndex: the alert service passes the facts
of one alert and the counts it took from the database, and gets back a `RoutingDecision` to turn
into outbox messages and audit entries. Nothing here reads the clock or the database.

People are found by walking the unit tree (R1) from the alert's unit upwards: window/station →
brigade → detachment → province. Only staff whose R2 row on the alert's date says `active` receive.
Whoever may not receive (§4.5) is replaced by the same role one level up, and each replacement is
returned as a `Substitution` with its reason, for the audit trail.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any

from auditcage import clock
from auditcage.calendar import WorkCalendar
from auditcage.records.enrich import related
from auditcage.reference.index import ReferenceIndex
from auditcage.rulepacks.model import Severity
from notifications.policy import (
    Digest,
    DigestDays,
    PushMode,
    RoutingPolicy,
    Selector,
)

# Severity order from the bottom; modifiers move an alert along it and never past red (§4.2).
LADDER = (Severity.BLUE, Severity.YELLOW, Severity.ORANGE, Severity.RED)
# R1 levels from the bottom of the tree; a scope starts at the first unit of at least its rank.
LEVEL_RANK = {"window": 0, "station": 1, "brigade": 2, "detachment": 3, "province": 4}
SCOPE_RANK = {"unit": 0, "brigade": 2, "detachment": 3, "province": 4}
RANK_SCOPE = {2: "brigade", 3: "detachment", 4: "province"}
# A digest's `unit` selectors go to every unit below the detachment.
UNIT_LEVELS = ("brigade", "station", "window")

Related = Callable[..., bool]  # related(a, b, *, at) over identities, as records.enrich
BACKFILLED = "back-filled: not pushed in real time, in the next digest"


# --- inputs ---------------------------------------------------------------------------------


def _ids(value: str | Iterable[str] | None) -> tuple[str, ...]:
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        return (value,)
    return tuple(v for v in value if v)


@dataclass(frozen=True)
class Actors:
    """Staff ids of who acted in the alerted records (a lead may have several of each)."""

    operator: tuple[str, ...] = ()
    reviewer: tuple[str, ...] = ()
    approver: tuple[str, ...] = ()

    @classmethod
    def of(
        cls,
        operator: str | Iterable[str] | None = None,
        reviewer: str | Iterable[str] | None = None,
        approver: str | Iterable[str] | None = None,
    ) -> Actors:
        return cls(_ids(operator), _ids(reviewer), _ids(approver))

    def roles(self) -> list[tuple[str, str]]:
        """(staff id, role) of every actor, in order, each pair once."""
        pairs = [(s, "operator") for s in self.operator]
        pairs += [(s, "reviewer") for s in self.reviewer]
        pairs += [(s, "approver") for s in self.approver]
        return list(dict.fromkeys(pairs))

    def ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(s for s, _ in self.roles()))


@dataclass(frozen=True)
class AlertFacts:
    alert_id: int | str
    severity: Severity  # after the rule's bands
    unit_code: str | None
    at: datetime  # event time of the alert; staff rows are read as of it
    rule_ids: tuple[str, ...] = ()
    actors: Actors = field(default_factory=Actors)
    subject_id_nos: tuple[str, ...] = ()  # the citizens the business was about
    money_cny: float = 0  # in the alert, or in the whole cluster for a lead
    late_data: bool = False
    shadow: bool = False  # a rule in testing: routed for the record, never pushed


@dataclass(frozen=True)
class History:
    """Counts the alert service takes from the database; the alert being routed is not in them."""

    operator_orange_30d: int = 0  # orange alerts of the operator (any rule)
    operator_red_90d: int = 0  # red alerts of the operator
    unit_red_30d: int = 0  # red alerts of the alert's brigade-level unit
    cluster: bool = False  # ≥ N different 买分卖分 rules on overlapping keys (§4.2 item 5)
    cluster_alert_ids: tuple[int | str, ...] = ()


# --- outputs --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipient:
    staff_id: str
    role: str  # the selector that found them, e.g. "brigade.head"
    unit_code: str  # the unit in whose role they receive
    notify: tuple[str, ...]  # apprise URLs from R2 `notify`
    reason: str


@dataclass(frozen=True)
class Substitution:
    original: str  # a staff id, or a role ("brigade.head") when a whole role moved
    substitute: str | None  # a staff id or a role; None when nobody is left above
    reason: str


@dataclass(frozen=True)
class AppliedModifier:
    name: str  # repeat_offender, repeat_red, unit_hot_spot, money, cluster, leadership, late_data
    reason: str


@dataclass(frozen=True)
class PushTiming:
    mode: str  # instant | at | digest | none
    at: datetime | None = None
    digest: str | None = None
    reason: str = ""

    @property
    def label(self) -> str:
        if self.mode == "at" and self.at is not None:
            return f"at:{self.at.isoformat()}"
        if self.mode == "digest":
            return f"digest:{self.digest}"
        return self.mode


@dataclass(frozen=True)
class RoutingDecision:
    alert_id: int | str
    rule_severity: Severity
    severity: Severity
    modifiers: tuple[AppliedModifier, ...]
    owners: tuple[Recipient, ...]
    copies: tuple[Recipient, ...]
    closed_by: tuple[str, ...]  # staff ids who own closure (red: the 支队长)
    push: PushTiming
    channels: str  # all | first
    personal_acknowledgement: bool
    briefing: str | None  # the digest that also lists the alert (red: the 08:00 briefing)
    substitutions: tuple[Substitution, ...]
    lead_alert_ids: tuple[int | str, ...] = ()  # members when the alert is a cluster's lead

    def modified_by(self, name: str) -> bool:
        return any(m.name == name for m in self.modifiers)

    def recipient_ids(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(r.staff_id for r in (*self.owners, *self.copies)))


# --- route ----------------------------------------------------------------------------------


def route(
    facts: AlertFacts,
    history: History,
    policy: RoutingPolicy,
    ref: ReferenceIndex,
    *,
    relatedness: Related | None = None,
) -> RoutingDecision:
    """The owners, copies, timing and substitutions of one alert under `policy`.

    - severity: the rule's, then §4.2 items 1, 4, 5 (never above red);
    - copies of items 2-5 are added when the alert ends up red (red adds recipients instead);
    - leadership among the actors moves every role at or below their level one level up;
    - recusal removes actors, their relatives and the subjects' relatives, each replaced by the
      same role one level up.
    """
    severity, modifiers, extra_copies = _severity(facts, history, policy)
    rule = policy.route_for(severity)
    owners, copies, closed_by = list(rule.owners), list(rule.copies), list(rule.closed_by)
    copies += [s for s in extra_copies if s not in copies]
    people = _People(ref, facts, relatedness or _cached_relatedness(ref))
    shifted = _leadership(people, policy)
    substitutions: list[Substitution] = list(people.tree_notes)
    if shifted is not None:
        rank, reason = shifted
        modifiers.append(AppliedModifier("leadership", reason))
        owners = _shift(owners, rank, reason, substitutions, co_owner=True)
        copies = _shift(copies, rank, reason, substitutions, co_owner=False)
        closed_by = _shift(closed_by, rank, reason, substitutions, co_owner=False)
    owner_list = people.recipients(owners, "owner", substitutions)
    taken = {r.staff_id for r in owner_list}
    copy_list = [
        r for r in people.recipients(copies, "copy", substitutions) if r.staff_id not in taken
    ]
    closers = [r.staff_id for r in people.recipients(closed_by, "closure", substitutions)]
    push = _timing(facts, severity, policy)
    if push.reason == BACKFILLED:
        modifiers.append(AppliedModifier("late_data", f"back-filled detection: {push.label}"))
    return RoutingDecision(
        alert_id=facts.alert_id,
        rule_severity=facts.severity,
        severity=severity,
        modifiers=tuple(modifiers),
        owners=tuple(owner_list),
        copies=tuple(copy_list),
        closed_by=tuple(dict.fromkeys(closers)),
        push=push,
        channels=rule.channels,
        personal_acknowledgement=rule.personal_acknowledgement,
        briefing=rule.briefing,
        substitutions=tuple(dict.fromkeys(substitutions)),
        lead_alert_ids=tuple(history.cluster_alert_ids) if history.cluster else (),
    )


def recipients_for(
    selectors: Sequence[Selector],
    facts: AlertFacts,
    ref: ReferenceIndex,
    *,
    kind: str = "escalation",
    relatedness: Related | None = None,
) -> tuple[list[Recipient], list[Substitution]]:
    """The people `selectors` name for this alert, with the same recusal as `route` (an
    escalation must not reach an actor or a relative either)."""
    people = _People(ref, facts, relatedness or _cached_relatedness(ref))
    notes: list[Substitution] = list(people.tree_notes)
    return people.recipients(selectors, kind, notes), notes


def _cached_relatedness(ref: ReferenceIndex) -> Related:
    # enrich.related builds its R4/R9 index once per ReferenceIndex
    return lambda a, b, *, at=None: related(a, b, ref, at=at)


def _raise(severity: Severity, levels: int) -> Severity:
    return LADDER[min(LADDER.index(severity) + levels, len(LADDER) - 1)]


def _severity(
    facts: AlertFacts, history: History, policy: RoutingPolicy
) -> tuple[Severity, list[AppliedModifier], list[Selector]]:
    """§4.2 items 1-5: the final severity, what applied, and the copies red adds."""
    m = policy.modifiers
    severity, applied, copies = facts.severity, [], []
    red_copies: list[Selector] = []
    if (
        severity is Severity.ORANGE
        and history.operator_orange_30d >= m.repeat_offender.orange_alerts
    ):
        severity = Severity.RED
        applied.append(
            AppliedModifier(
                "repeat_offender",
                f"operator has {history.operator_orange_30d} orange alerts in "
                f"{m.repeat_offender.within_days} d (≥ {m.repeat_offender.orange_alerts}): red",
            )
        )
    if facts.money_cny >= m.money.at_least_cny:
        raised = _raise(severity, m.money.levels)
        effect = f"{severity.value} → {raised.value}" if raised != severity else "copies added"
        applied.append(
            AppliedModifier(
                "money",
                f"{facts.money_cny:,.0f} CNY involved (≥ {m.money.at_least_cny:,.0f}): {effect}",
            )
        )
        severity = raised
        red_copies += m.money.copies
    if history.cluster:
        severity = Severity.RED
        members = ", ".join(str(a) for a in history.cluster_alert_ids)
        applied.append(AppliedModifier("cluster", f"买分卖分 cluster, one lead at red: {members}"))
        red_copies += m.cluster.copies
    if severity is Severity.RED:
        # Items 2 and 3 count this red too: "has ≥ 2 red in 90 d" is true once it is raised.
        reds = history.operator_red_90d + 1
        if reds >= m.repeat_red.red_alerts and facts.actors.operator:
            applied.append(
                AppliedModifier(
                    "repeat_red",
                    f"operator has {reds} red alerts in {m.repeat_red.within_days} d "
                    f"(≥ {m.repeat_red.red_alerts})",
                )
            )
            red_copies += m.repeat_red.copies
        unit_reds = history.unit_red_30d + 1
        if unit_reds >= m.unit_hot_spot.red_alerts:
            applied.append(
                AppliedModifier(
                    "unit_hot_spot",
                    f"brigade-level unit has {unit_reds} red alerts in "
                    f"{m.unit_hot_spot.within_days} d (≥ {m.unit_hot_spot.red_alerts})",
                )
            )
            red_copies += m.unit_hot_spot.copies
        copies = list(dict.fromkeys(red_copies))
    return severity, applied, copies


def _leadership(people: _People, policy: RoutingPolicy) -> tuple[int, str] | None:
    """The highest leadership rank held by an actor (§4.2 item 6), with the reason."""
    best: tuple[int, str] | None = None
    for staff_id, role in people.actors:
        row = people.staff(staff_id)
        position = (row or {}).get("position")
        level = policy.modifiers.leadership.get(position or "")
        held = f"holds {position}"
        if level is None:
            level, held = people.r1_head_level(staff_id)
        if level is None:
            continue
        rank = LEVEL_RANK[level]
        if best is None or rank > best[0]:
            best = (rank, f"{role} {staff_id} {held} ({level} leadership involved)")
    return best


def _shift(
    selectors: Sequence[Selector],
    rank: int,
    reason: str,
    substitutions: list[Substitution],
    *,
    co_owner: bool,
) -> list[Selector]:
    """Move every role at or below the actors' leadership rank one level up (§4.5).

    A head moved up becomes the head of the level above (the province: its leadership in charge);
    as an owner it brings that level's discipline contact as co-owner.
    """
    target = RANK_SCOPE[min(rank + 1, 4)]
    result: list[Selector] = []
    for sel in selectors:
        if max(SCOPE_RANK[sel.scope], 2) > rank:
            result.append(sel)
            continue
        leader = sel.role in ("head", "leadership")
        role = ("leadership" if target == "province" else "head") if leader else sel.role
        moved = [Selector(target, role)]
        if leader and co_owner:
            moved.append(Selector(target, "discipline"))
        for new in moved:
            if new != sel:
                substitutions.append(Substitution(str(sel), str(new), reason))
            result.append(new)
    return list(dict.fromkeys(result))


def _timing(facts: AlertFacts, severity: Severity, policy: RoutingPolicy) -> PushTiming:
    rule = policy.route_for(severity)
    if facts.shadow:
        return PushTiming("none", reason="shadow rule: routed for the record, not pushed")
    if rule.push is PushMode.DIGEST:
        return PushTiming("digest", digest=rule.digest, reason=f"{severity.value} goes to digests")
    late = policy.modifiers.late_data
    if facts.late_data and severity not in late.pushed_anyway:
        return PushTiming("digest", digest=late.digest, reason=BACKFILLED)
    if rule.push is PushMode.OUTSIDE_QUIET_HOURS and policy.quiet_hours.contains(facts.at):
        release = policy.quiet_hours.release(facts.at)
        return PushTiming("at", at=release, reason="quiet hours: queued to their end")
    return PushTiming("instant")


# --- people ---------------------------------------------------------------------------------


def _identity(value: Any) -> str:
    return str(value).strip().upper() if value else ""


class _People:
    """The alert's unit chain and who holds which role on it, with the recusal checks."""

    def __init__(self, ref: ReferenceIndex, facts: AlertFacts, related: Related) -> None:
        self.ref, self.at, self.related = ref, facts.at, related
        self.actors = facts.actors.roles()
        self.actor_ids = {s for s, _ in self.actors}
        self.actor_id_nos = [(s, (self.staff(s) or {}).get("id_no")) for s in facts.actors.ids()]
        self.subjects = [s for s in facts.subject_id_nos if s]
        self.tree_notes: list[Substitution] = []
        self.chain = self._chain(facts.unit_code)

    def staff(self, staff_id: str) -> dict[str, Any] | None:
        return self.ref.get("staff", staff_id, at=self.at)

    def _chain(self, unit_code: str | None) -> list[dict[str, Any]]:
        chain: list[dict[str, Any]] = []
        row = self.ref.get("units", unit_code) if unit_code else None
        if row is None:
            roots = [u for u in self.ref.rows("units") if not u.get("parent_code")]
            if roots:
                self.tree_notes.append(
                    Substitution(
                        f"unit {unit_code}", roots[0]["unit_code"], "unit not in R1: province"
                    )
                )
                return [roots[0]]
            return []
        seen: set[str] = set()
        while row is not None and row["unit_code"] not in seen:
            seen.add(row["unit_code"])
            chain.append(row)
            parent = row.get("parent_code")
            row = self.ref.get("units", parent) if parent else None
        return chain

    def r1_head_level(self, staff_id: str) -> tuple[str | None, str]:
        """The level of a unit that lists `staff_id` in its R1 head_staff_ids."""
        for unit in self.ref.rows("units"):
            if (
                staff_id in (unit.get("head_staff_ids") or ())
                and unit.get("level") in RANK_SCOPE.values()
            ):
                return unit["level"], f"is in R1 head_staff_ids of {unit['unit_code']}"
        return None, ""

    # --- roles -------------------------------------------------------------------------------

    def holders(self, unit: dict[str, Any], role: str) -> list[str]:
        """Staff ids holding `role` at `unit` on the alert's date (any status)."""
        level, code = unit.get("level", ""), unit["unit_code"]
        here = self.ref.where("staff", "unit_code", code, at=self.at)
        listed = list(unit.get("head_staff_ids") or ())
        if role in ("head", "deputy", "leadership"):
            deputies_listed = [s for s in listed if _is_deputy(self.staff(s))]
            heads = [s for s in listed if s not in deputies_listed]
            heads += [s["staff_id"] for s in here if s.get("position") == f"{level}_head"]
            # 分管领导: the deputies R1 lists are the ones in charge; else every deputy of the unit
            deputies = deputies_listed or [
                s["staff_id"] for s in here if s.get("position") == f"deputy_{level}_head"
            ]
            ids = {"head": heads, "deputy": deputies, "leadership": heads + deputies}[role]
        elif role == "discipline":
            ids = list(unit.get("discipline_contact_ids") or ())
            ids += [s["staff_id"] for s in here if s.get("position") == "inspector_discipline"]
        else:
            ids = [s["staff_id"] for s in here if s.get("position") == "supervision_post"]
        return list(dict.fromkeys(ids))

    def excluded(self, staff_id: str) -> str | None:
        """Why this person may not receive the alert; None when they may (§4.5)."""
        row = self.staff(staff_id)
        day = clock.to_shanghai(self.at).date()
        if row is None:
            return f"{staff_id} has no R2 staff row on {day}"
        if row.get("status") != "active":
            return f"{staff_id} is {row.get('status')} on {day}"
        if staff_id in self.actor_ids:
            roles = "/".join(r for s, r in self.actors if s == staff_id)
            return f"{staff_id} is the {roles} of the alerted records"
        own = row.get("id_no")
        for actor, actor_id_no in self.actor_id_nos:
            if actor_id_no and self.related(own, actor_id_no, at=self.at):
                return f"{staff_id} is related (R4) to actor {actor}"
        for subject in self.subjects:
            if _identity(own) == _identity(subject):
                return f"{staff_id} is a subject of the business"
            if self.related(own, subject, at=self.at):
                return f"{staff_id} is related (R4) to a subject of the business"
        return None

    def _start(self, sel: Selector) -> int | None:
        want = SCOPE_RANK[sel.scope]
        for i, unit in enumerate(self.chain):
            if LEVEL_RANK.get(unit.get("level", ""), 0) >= want:
                return i
        return None

    def resolve(
        self, sel: Selector, notes: list[Substitution]
    ) -> list[tuple[str, dict[str, Any], str]]:
        """(staff id, unit, reason) for a selector, walking up past whoever may not receive."""
        start = self._start(sel)
        if start is None:
            notes.append(Substitution(str(sel), None, "no such unit above the alert's unit"))
            return []
        first = self.chain[start]
        if sel.scope != "unit" and first.get("level") != sel.scope:
            notes.append(
                Substitution(
                    str(sel),
                    f"{first.get('level')}.{sel.role}",
                    f"no {sel.scope}-level unit above {self.chain[0]['unit_code']}",
                )
            )
        # `unit` looks for the nearest holder up to the brigade before anything counts as missing
        quiet_below = SCOPE_RANK["brigade"] if sel.scope == "unit" else 0
        return self._walk(sel, start, notes, quiet_below, replacing=[])

    def _walk(
        self,
        sel: Selector,
        i: int,
        notes: list[Substitution],
        quiet_below: int,
        replacing: list[tuple[str, str]],
    ) -> list[tuple[str, dict[str, Any], str]]:
        if i >= len(self.chain):
            for original, why in replacing:
                notes.append(Substitution(original, None, f"{why}; nobody above"))
            return []
        unit = self.chain[i]
        holders = self.holders(unit, sel.role)
        found, skipped = [], []
        for staff_id in holders:
            why = self.excluded(staff_id)
            if why is None:
                found.append(staff_id)
            else:
                skipped.append((staff_id, why))
        rank = LEVEL_RANK.get(unit.get("level", ""), 0)
        if not holders and not replacing and rank < quiet_below:
            return self._walk(sel, i + 1, notes, quiet_below, [])
        for staff_id in found:
            for original, why in replacing:
                notes.append(Substitution(original, staff_id, why))
        result = [(s, unit, f"{sel.role} of {unit['unit_code']}") for s in found]
        pending = list(skipped)
        if not holders:
            pending.append((f"{sel.role} of {unit['unit_code']}", "nobody holds the role"))
        if pending or (replacing and not found):
            carry = pending + ([] if found else replacing)
            result += [
                (s, u, f"{r}, in place of {', '.join(o for o, _ in carry)}")
                for s, u, r in self._walk(sel, i + 1, notes, quiet_below, carry)
            ]
        return result

    def recipients(
        self, selectors: Sequence[Selector], kind: str, notes: list[Substitution]
    ) -> list[Recipient]:
        result: dict[str, Recipient] = {}
        for sel in selectors:
            for staff_id, unit, reason in self.resolve(sel, notes):
                if staff_id not in result:
                    notify = tuple((self.staff(staff_id) or {}).get("notify") or ())
                    result[staff_id] = Recipient(
                        staff_id, str(sel), unit["unit_code"], notify, f"{kind}: {reason}"
                    )
        return list(result.values())


def _is_deputy(row: dict[str, Any] | None) -> bool:
    return bool(row) and str(row.get("position") or "").startswith("deputy_")


# --- digests --------------------------------------------------------------------------------


def digest_scheduled_on(digest: Digest, day: date, calendar: WorkCalendar) -> bool:
    """Whether `digest` goes out on `day` (statutory calendar with 调休, §0.2 item 7)."""
    if digest.days is DigestDays.EVERY_DAY:
        return True
    if digest.days is DigestDays.WORKING_DAYS:
        return calendar.is_workday(day)
    assert digest.weekday is not None  # the schema requires it for weekly digests
    planned = day - timedelta(days=(day.weekday() - digest.weekday) % 7)
    if calendar.is_workday(planned):
        return day == planned
    # A rest day moves the report to the next working day.
    return day == calendar.next_workday(planned)


def digest_slot(
    name: str, policy: RoutingPolicy, now: datetime, calendar: WorkCalendar
) -> datetime | None:
    """The latest time `name` was due at or before `now` (within 3 weeks); the caller dedupes
    digests on (name, slot)."""
    digest = policy.digests[name]
    local = clock.to_shanghai(now)
    for back in range(22):
        day = local.date() - timedelta(days=back)
        slot = datetime.combine(day, digest.at, tzinfo=clock.SHANGHAI)
        if slot <= local and digest_scheduled_on(digest, day, calendar):
            return slot
    return None


def digest_due(
    policy: RoutingPolicy,
    now: datetime,
    calendar: WorkCalendar,
    *,
    since: datetime | None = None,
) -> list[str]:
    """Digests with a slot in (since, now]; without `since`, those whose slot today has passed.

    The 08:00 red briefing runs daily, the yellow digest on working days only (an adjusted
    Saturday or Sunday included, a statutory holiday not), the weekly report on its weekday.
    """
    local = clock.to_shanghai(now)
    floor = since or datetime.combine(local.date(), time.min, tzinfo=clock.SHANGHAI)
    due = []
    for name in policy.digests:
        slot = digest_slot(name, policy, local, calendar)
        if slot is not None and (slot > floor if since else slot >= floor):
            due.append(name)
    return due


def digest_recipients(
    name: str, policy: RoutingPolicy, ref: ReferenceIndex, at: datetime
) -> list[Recipient]:
    """Who receives digest `name`, one row per (person, unit) they receive it for.

    Each selector is resolved at every unit of its scope (`unit`: every unit below the
    detachment), so a 支队长 receives the briefing of their own detachment.
    """
    people = _People(ref, AlertFacts("digest", Severity.BLUE, None, at), lambda *a, **k: False)
    result: dict[tuple[str, str], Recipient] = {}
    for sel in policy.digests[name].recipients:
        levels = UNIT_LEVELS if sel.scope == "unit" else (sel.scope,)
        for unit in ref.rows("units"):
            if unit.get("level") not in levels:
                continue
            for staff_id in people.holders(unit, sel.role):
                key = (staff_id, unit["unit_code"])
                if key in result or people.excluded(staff_id) is not None:
                    continue
                notify = tuple((people.staff(staff_id) or {}).get("notify") or ())
                result[key] = Recipient(
                    staff_id, str(sel), unit["unit_code"], notify, f"{name}: {sel.role}"
                )
    return list(result.values())
