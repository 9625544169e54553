"""Rule packs for rule authors: browse, edit one rule in a draft with live validation, run its
examples, back-test it against the active version, compare, publish and roll back."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import Any

from flask import Blueprint, flash, g, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from marshmallow import EXCLUDE, Schema, ValidationError, fields, validate

from api import db
from api.console.auth import requires, user
from api.console.export import excel_response, wants_excel
from api.console.i18n import language, t
from auditcage import clock
from auditcage.accounts.roles import Capability
from auditcage.engine import backtest
from auditcage.errors import NotFound
from auditcage.rulepacks import draft_backtest, draft_checks, drafts, listing, publish
from auditcage.rulepacks.model import Kind
from auditcage.rulepacks.packs import RulePackError

bp = Blueprint("console_rules", __name__, url_prefix="/console/rules")

FAMILIES = ("VEH", "LIC", "ACC", "VIO", "STF", "CP")  # catalogue §2 and §3
BACKTEST_MONTHS = 3  # the default period: the last three months
BACKTEST_COLUMNS = (
    ("unit_code", "rules.unit_code"),
    ("unit_name", "common.unit"),
    ("month", "rules.month"),
    ("before", "rules.published_hits"),
    ("after", "rules.draft_hits"),
    ("gained", "rules.gained"),
    ("lost", "rules.lost"),
)


class SnippetIn(Schema):
    class Meta:
        unknown = EXCLUDE  # the CSRF token

    text = fields.String(required=True, validate=validate.Length(max=200_000))


class ReasonIn(Schema):
    class Meta:
        unknown = EXCLUDE

    reason = fields.String(required=True, validate=validate.Length(min=2, max=500))


class PeriodIn(Schema):
    class Meta:
        unknown = EXCLUDE

    since = fields.Date(load_default=None)
    until = fields.Date(load_default=None)


def _listing() -> listing.Listing:
    return listing.active_listing(db.session(), db.settings().rules_dir)


def _draft_files() -> tuple[drafts.RuleDraft | None, dict[str, str]]:
    """The author's open draft and its files, or the active files when there is no draft."""
    draft = drafts.current_draft(db.session(), user().actor)
    if draft is not None:
        return draft, dict(draft.files)
    _, files = drafts.base_files(db.session(), db.settings().rules_dir)
    return None, files


# --- browse -------------------------------------------------------------------------------------


@bp.get("/")
@requires(Capability.RULES_READ)
def index() -> ResponseReturnValue:
    current = _listing()
    wanted = {k: request.args.get(k, "") for k in ("family", "pack", "kind", "q")}
    rules = listing.matching(
        current.ruleset.rules,
        family=wanted["family"],
        pack=wanted["pack"],
        kind=wanted["kind"],
        text=wanted["q"],
    )
    draft = None
    if user().can(Capability.RULES_EDIT):
        draft = drafts.current_draft(db.session(), user().actor)
    edited = _edited_keys(draft.files) if draft else set()
    return render_template(
        "console/rules/index.html",
        rules=rules,
        total=len(current.ruleset.rules),
        version=current.version,
        packs=current.ruleset.packs,
        families=FAMILIES,
        kinds=[k.value for k in Kind],
        wanted=wanted,
        draft=draft,
        edited=edited,
        key_of=lambda r: drafts.rule_key(r.id, r.sub),
    )


def _edited_keys(files: dict[str, str]) -> set[str]:
    """The rules the author's draft changes, marked in the list."""
    _, base = drafts.base_files(db.session(), db.settings().rules_dir)
    changed = drafts.changed_files(files, base)
    return {drafts.declared_key(files[p]) or "" for p in changed if p in files}


@bp.get("/r/<key>")
@requires(Capability.RULES_READ)
def detail(key: str) -> ResponseReturnValue:
    current = _listing()
    rule = current.rule(key)
    path = listing.path_of(rule)
    files = current.version.files if current.version else None
    source = files.get(path) if files else (db.settings().rules_dir / path).read_text("utf-8")
    return render_template(
        "console/rules/detail.html",
        rule=rule,
        key=key,
        path=path,
        source=source,
    )


# --- edit one rule ------------------------------------------------------------------------------


def _snippet(files: dict[str, str], key: str) -> drafts.Snippet:
    path = drafts.find_rule(files, key)
    return drafts.extract(files[path], key, path)


@bp.get("/r/<key>/edit")
@requires(Capability.RULES_EDIT)
def edit(key: str) -> ResponseReturnValue:
    draft, files = _draft_files()  # the draft itself starts with the first save
    snippet = _snippet(files, key)
    problems = draft_checks.check_rule(files, snippet.path, key, snippet.text)
    return render_template(
        "console/rules/edit.html",
        key=key,
        snippet=snippet,
        problems=problems,
        draft=draft,
        title=_title(key),
    )


def _title(key: str) -> str:
    try:
        rule = _listing().rule(key)
    except NotFound:  # new in the draft
        return key
    return f"{rule.label} {rule.name.zh if language() == 'zh' else rule.name.en}"


@bp.post("/r/<key>/check")
@requires(Capability.RULES_EDIT)
def check(key: str) -> ResponseReturnValue:
    """Live validation: the draft with this snippet in place, its problems in snippet lines."""
    try:
        text = SnippetIn().load(request.get_json(silent=True) or {})["text"]
    except ValidationError as exc:  # a JSON endpoint: never the HTML error page
        return {"error": "invalid_payload", "fields": exc.messages}, 422
    _, files = _draft_files()
    try:
        path = drafts.find_rule(files, key)
    except NotFound as exc:
        return {"error": exc.code, "message": str(exc)}, 404
    problems = draft_checks.check_rule(files, path, key, text)
    return {"ok": not problems, "problems": [p.as_json() for p in problems]}


@bp.post("/r/<key>/edit")
@requires(Capability.RULES_EDIT)
def save(key: str) -> ResponseReturnValue:
    text = SnippetIn().load(request.form)["text"]
    with db.transaction() as s:
        draft = drafts.open_draft(s, author=user().actor, rules_dir=db.settings().rules_dir)
        path = drafts.find_rule(draft.files, key)
        new_key = drafts.save_rule(s, draft, path=path, key=key, text=text, actor=user().actor)
        files = dict(draft.files)
    problems = draft_checks.check_rule(
        files, path, new_key, drafts.extract(files[path], new_key).text
    )
    if problems:
        flash(t("rules.saved_with_problems", count=len(problems)), "error")
    else:
        flash(t("rules.saved"), "ok")
    return redirect(url_for(".edit", key=new_key))


@bp.get("/r/<key>/examples")
@requires(Capability.RULES_EDIT)
def examples(key: str) -> ResponseReturnValue:
    draft, files = _draft_files()
    path = drafts.find_rule(files, key)
    try:
        results = draft_checks.rule_examples(files, path)
        issues = []
    except RulePackError as refused:
        results, issues = [], refused.issues
    return render_template(
        "console/rules/examples.html",
        key=key,
        title=_title(key),
        results=results,
        issues=issues,
        draft=draft,
    )


# --- back-test ----------------------------------------------------------------------------------


def _period() -> tuple[date, date]:
    wanted = PeriodIn().load(request.args)
    today = clock.now().date()
    until = wanted["until"] or today
    since = wanted["since"] or (until - timedelta(days=30 * BACKTEST_MONTHS))
    return since, until


def _start_of(day: date) -> datetime:
    return datetime.combine(day, time(0), tzinfo=clock.SHANGHAI)


def _unit_name(code: str) -> str:
    row = g.reference.get("units", code)
    return str(row.get("name") or "") if row else ""


@bp.get("/r/<key>/backtest")
@requires(Capability.RULES_EDIT)
def backtest_page(key: str) -> ResponseReturnValue:
    since, until = _period()
    draft, files = _draft_files()
    _, base = drafts.base_files(db.session(), db.settings().rules_dir)
    records = backtest.stored_records(
        db.session(), since=_start_of(since), until=_start_of(until + timedelta(days=1))
    )
    result = draft_backtest.backtest_rule(
        records, g.reference, draft_files=files, base_files=base, key=key
    )
    rows = [{**row, "unit_name": _unit_name(row["unit_code"])} for row in result.rows]
    if wants_excel():
        return excel_response(f"backtest-{key}", rows, BACKTEST_COLUMNS)
    chart: dict[str, Any] = {
        "months": result.months,
        "series": [
            {"name": t("rules.published_hits"), "data": result.before},
            {"name": t("rules.draft_hits"), "data": result.after},
        ],
    }
    return render_template(
        "console/rules/backtest.html",
        key=key,
        title=_title(key),
        result=result,
        rows=rows,
        chart=chart,
        since=since,
        until=until,
        draft=draft,
    )


# --- the draft: compare, publish, discard; versions and rollback --------------------------------


def _draft_page(status: int = 200, refused: list[str] | None = None) -> ResponseReturnValue:
    draft = drafts.current_draft(db.session(), user().actor)
    comparison = None
    if draft is not None:
        _, base = drafts.base_files(db.session(), db.settings().rules_dir)
        comparison = draft_checks.compare(draft.files, base)
    page = render_template(
        "console/rules/draft.html",
        draft=draft,
        comparison=comparison,
        version=publish.active_version(db.session()),
        refused=refused or [],
        key_of=lambda path: drafts.declared_key(draft.files.get(path, "")) if draft else None,
    )
    return page, status


@bp.get("/draft")
@requires(Capability.RULES_EDIT)
def draft_page() -> ResponseReturnValue:
    return _draft_page()


@bp.post("/draft/publish")
@requires(Capability.RULES_PUBLISH)
def publish_draft() -> ResponseReturnValue:
    reason = ReasonIn().load(request.form)["reason"]
    try:
        with db.transaction() as s:
            draft = drafts.current_draft(s, user().actor)
            if draft is None:
                raise NotFound("there is no open draft to publish")
            version = draft_checks.publish_draft(
                s, draft, rules_dir=db.settings().rules_dir, actor=user().actor, reason=reason
            )
            version_id = version.id
    except RulePackError as refused:
        return _draft_page(422, [str(i) for i in refused.issues])
    except publish.PublishRefused as refused:
        return _draft_page(409, [str(refused)])
    flash(t("rules.published", version=version_id), "ok")
    return redirect(url_for(".versions"))


@bp.post("/draft/discard")
@requires(Capability.RULES_EDIT)
def discard_draft() -> ResponseReturnValue:
    with db.transaction() as s:
        draft = drafts.current_draft(s, user().actor)
        if draft is not None:
            drafts.discard(s, draft, actor=user().actor)
    flash(t("rules.discarded"), "ok")
    return redirect(url_for(".index"))


@bp.get("/versions")
@requires(Capability.RULES_READ)
def versions() -> ResponseReturnValue:
    return render_template("console/rules/versions.html", versions=publish.versions(db.session()))


@bp.post("/versions/rollback")
@requires(Capability.RULES_PUBLISH)
def rollback() -> ResponseReturnValue:
    reason = ReasonIn().load(request.form)["reason"]
    with db.transaction() as s:
        version = publish.rollback(s, actor=user().actor, reason=reason)
        version_id = version.id
    flash(t("rules.rolled_back", version=version_id), "ok")
    return redirect(url_for(".versions"))
