"""Read a rules directory into a RuleSet, collecting every problem with file:line.

Layout (STYLE.md §6): `rules/<pack>/pack.yaml` plus one rule per `*.yaml` file beside it,
`rules/lists/*.yaml` for named lists, `rules/examples/` for the base records and reference data
that examples build on. `rules/reference/` (policy tables) and `rules/*.yaml` (routing,
validation) are read by their own modules.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from marshmallow import ValidationError

from auditcage.errors import AuditcageError
from auditcage.rulepacks.loader import LocatedDict, RuleSource, YamlError, load_file
from auditcage.rulepacks.model import (
    Aspect,
    Band,
    Example,
    Exemption,
    Kind,
    LedgerSpec,
    Period,
    RateSpec,
    Rule,
    RulePack,
    RuleSet,
    Severity,
    SeverityWhen,
    Status,
    Text,
    WithHits,
)
from auditcage.rulepacks.schemas import (
    Issue,
    ListSchema,
    PackSchema,
    RuleSchema,
    flatten_errors,
    parse_duration,
)

NOT_PACKS = frozenset({"lists", "examples", "reference"})


class RulePackError(AuditcageError):
    code = "rule_pack_invalid"

    def __init__(self, issues: list[Issue]) -> None:
        self.issues = issues
        shown = "\n".join(str(i) for i in issues[:30])
        more = f"\n… and {len(issues) - 30} more" if len(issues) > 30 else ""
        super().__init__(f"{len(issues)} problem(s) in the rule packs:\n{shown}{more}")


def load_ruleset(rules_dir: Path) -> tuple[RuleSet, list[Issue]]:
    """Every pack, list and example of a rules directory; problems are returned, not raised."""
    issues: list[Issue] = []
    digest = hashlib.sha256()
    lists = _load_lists(rules_dir / "lists", issues, digest)
    bases = _load_example_bases(rules_dir / "examples", issues, digest)
    packs = []
    for pack_dir in sorted(p for p in rules_dir.iterdir() if p.is_dir()):
        if pack_dir.name in NOT_PACKS or pack_dir.name.startswith("."):
            continue
        pack = _load_pack(pack_dir, bases, issues, digest)
        if pack is not None:
            packs.append(pack)
    _check_unique(packs, issues)
    return RuleSet(tuple(packs), lists, digest.hexdigest()), issues


def _read(path: Path, issues: list[Issue], digest: Any) -> Any:
    digest.update(str(path.name).encode())
    digest.update(path.read_bytes())
    try:
        return load_file(path)
    except YamlError as exc:
        issues.append(
            Issue(exc.source.path, exc.source.line, None, "", str(exc).split(": ", 1)[-1])
        )
        return None


def _schema_issues(
    exc: ValidationError, document: LocatedDict, path: Path, rule_id: str | None
) -> list[Issue]:
    result = []
    for field_path, message in flatten_errors(exc.messages):
        top = field_path.split(".")[0] if field_path else ""
        line = document.line_of(top) if isinstance(document, LocatedDict) else 1
        result.append(Issue(str(path), line, rule_id, field_path, message))
    return result


def _load_lists(directory: Path, issues: list[Issue], digest: Any) -> dict[str, tuple[str, ...]]:
    lists: dict[str, tuple[str, ...]] = {}
    if not directory.is_dir():
        return lists
    for path in sorted(directory.glob("*.yaml")):
        document = _read(path, issues, digest)
        if document is None:
            continue
        try:
            loaded = ListSchema().load(document)
        except ValidationError as exc:
            issues.extend(_schema_issues(exc, document, path, None))
            continue
        if loaded["name"] != path.stem:
            issues.append(Issue(str(path), 1, None, "name", "must equal the file name"))
        lists[loaded["name"]] = tuple(loaded["items"])
    return lists


def _load_example_bases(directory: Path, issues: list[Issue], digest: Any) -> dict[str, Any]:
    """Base records (one per service) and the shared reference rows examples build on."""
    bases: dict[str, Any] = {"records": {}, "reference": {}}
    path = directory / "base_records.yaml"
    if path.is_file():
        document = _read(path, issues, digest)
        if isinstance(document, dict):
            bases["records"] = document
    reference = directory / "reference.yaml"
    if reference.is_file():
        document = _read(reference, issues, digest)
        if isinstance(document, dict):
            bases["reference"] = document
    return bases


def _load_pack(
    pack_dir: Path, bases: dict[str, Any], issues: list[Issue], digest: Any
) -> RulePack | None:
    pack_file = pack_dir / "pack.yaml"
    if not pack_file.is_file():
        issues.append(Issue(str(pack_dir), 1, None, "", "a pack directory needs a pack.yaml"))
        return None
    document = _read(pack_file, issues, digest)
    if document is None:
        return None
    try:
        meta = PackSchema().load(document)
    except ValidationError as exc:
        issues.extend(_schema_issues(exc, document, pack_file, None))
        return None
    rules = []
    for path in sorted(pack_dir.glob("*.yaml")):
        if path.name == "pack.yaml":
            continue
        rule = _load_rule(path, meta, bases, issues, digest)
        if rule is not None:
            rules.append(rule)
    title = Text(**meta["title"])
    return RulePack(meta["name"], title, tuple(rules), RuleSource(str(pack_file), 1))


def _load_rule(
    path: Path, meta: dict[str, Any], bases: dict[str, Any], issues: list[Issue], digest: Any
) -> Rule | None:
    document = _read(path, issues, digest)
    if document is None:
        return None
    if not isinstance(document, LocatedDict):
        issues.append(Issue(str(path), 1, None, "", "a rule file holds one mapping"))
        return None
    rule_id = document.get("id") if isinstance(document.get("id"), str) else None
    try:
        data = RuleSchema().load(document)
    except ValidationError as exc:
        issues.extend(_schema_issues(exc, document, path, rule_id))
        return None
    source = RuleSource(str(path), document.line)
    examples = _examples(data, document, path, meta, bases, issues)
    return Rule(
        id=data["id"],
        sub=data["sub"],
        name=Text(**data["name"]),
        kind=Kind(data["kind"]),
        catalogue_kind=data["catalogue_kind"],
        status=Status(data["status"]),
        severity=Severity(data["severity"]),
        pack=meta["name"],
        source=source,
        when=data["when"],
        unless=tuple(
            Exemption(e["when"], e["reason"], RuleSource(str(path), document.line_of("unless")))
            for e in data["unless"]
        ),
        severity_when=tuple(_severity_when(s) for s in data["severity_when"]),
        bands=tuple(Band(b["at_least"], b["severity"]) for b in data["bands"]),
        aspect=Aspect(data["aspect"]) if data["aspect"] else None,
        key=data["key"],
        key_where=data["key_where"],
        key_near=data["key_near"],
        reset_when=data["reset_when"],
        field=data["field"],
        window=data["window"],
        first=data["first"],
        within=data["within"],
        same=data["same"],
        match=data["match"],
        between=data["between"],
        deadline_from=data["deadline_from"],
        look_back=data["look_back"],
        step_key=tuple(data["step_key"]),
        period=Period(**data["period"]) if isinstance(data["period"], dict) else None,
        rate=_rate_spec(data) if data["kind"] is Kind.RATE else None,
        ledger=_ledger_spec(data["ledger"]) if data["kind"] is Kind.LEDGER else None,
        expect=data["expect"],
        done_at=data["done_at"],
        message=Text(**data["message"]),
        description=data["description"],
        tags=tuple(data["tags"]),
        parameters=dict(data["parameters"]),
        examples=examples,
        lines=dict(document.key_lines),
    )


def _severity_when(data: dict[str, Any]) -> SeverityWhen:
    if data.get("any") is not None:
        return SeverityWhen(data["any"], data["severity"], scope="any")
    return SeverityWhen(data["when"], data["severity"])


def _ledger_spec(data: dict[str, Any]) -> LedgerSpec:
    link = data.get("link") or {}
    keys = data["key"]
    return LedgerSpec(
        dataset=data["dataset"],
        at=data["at"],
        key=keys[0],
        staff=data.get("staff"),
        link_record=link.get("record"),
        link_row=link.get("row"),
        link_when=link.get("when"),
        grace=data.get("grace") or timedelta(0),
        more_keys=tuple(keys[1:]),
        link_within=link.get("within"),
        link_since=link.get("since"),
        link_range=tuple(link["range"]) if link.get("range") else None,  # type: ignore[arg-type]
    )


def _rate_spec(data: dict[str, Any]) -> RateSpec:
    return RateSpec(
        group=data["group"],
        period=data["period"],
        n_min=data["n_min"],
        fires_when=data["fires_when"],
        numerator=data["numerator"],
        peers=data["peers"],
        compare=data["compare"],
        count_by=data["count_by"],
        lookback=data["lookback"],
        totals=data["totals"],
        population_totals=data["population_totals"],
        staff_key=data["staff_key"],
        below_n_min=data["below_n_min"],
        subsets=data["subsets"],
        mode_of=data["mode_of"],
        history=data["history"],
        history_days=data["history_days"],
        group_values=data["group_values"],
        with_hits=_with_hits(data["with_hits"]),
    )


def _with_hits(data: dict[str, Any] | None) -> WithHits | None:
    if not data:
        return None
    return WithHits(rules=tuple(data["rules"]), keys=tuple(data["keys"]), within=data["within"])


def _examples(
    data: dict[str, Any],
    document: LocatedDict,
    path: Path,
    meta: dict[str, Any],
    bases: dict[str, Any],
    issues: list[Issue],
) -> tuple[Example, ...]:
    label_id = f"{data['id']}{data['sub'] or ''}"
    located = document.get("examples")
    result: list[Example] = []
    for verdict in ("fires", "quiet"):
        items = data["examples"][verdict]
        lines = getattr(
            located.get(verdict) if isinstance(located, dict) else None, "item_lines", []
        )
        for n, item in enumerate(items, start=1):
            line = lines[n - 1] if n - 1 < len(lines) else document.line_of("examples")
            label = f"{label_id}-{verdict}-{n}"
            try:
                result.append(_example(label, verdict == "fires", item, meta, bases, path, line))
            except ValueError as exc:
                issues.append(Issue(str(path), line, data["id"], f"examples.{verdict}", str(exc)))
    if not any(e.should_fire for e in result) or not any(not e.should_fire for e in result):
        issues.append(
            Issue(
                str(path),
                document.line_of("examples"),
                data["id"],
                "examples",
                "a rule needs at least one example that fires and one that stays quiet",
            )
        )
    return tuple(result)


def _example(
    label: str,
    should_fire: bool,
    item: Any,
    meta: dict[str, Any],
    bases: dict[str, Any],
    path: Path,
    line: int,
) -> Example:
    if not isinstance(item, dict):
        raise ValueError("an example is a mapping (record overrides, or a scenario with records)")
    note = str(item.get("note", ""))
    if "records" in item:
        raw_records = item["records"]
        if not isinstance(raw_records, list) or not raw_records:
            raise ValueError("a scenario's records is a non-empty list")
        raw_records = [r for n, e in enumerate(raw_records, 1) for r in _expand(e, n)]
    else:
        overrides = {k: v for k, v in item.items() if k != "note"}
        raw_records = [overrides]
    records = tuple(_with_base(r, meta, bases, label, n) for n, r in enumerate(raw_records, 1))
    # The rows are shared with the base (never mutated: validation copies them); new lists only.
    reference = {dataset: list(rows) for dataset, rows in bases["reference"].items()}
    for dataset, rows in (item.get("reference") or {}).items():
        reference[dataset] = [*reference.get(dataset, []), *rows]
    expect = tuple(item.get("expect") or ())
    return Example(
        label,
        should_fire,
        records,
        reference,
        item.get("as_of"),
        expect,
        note,
        RuleSource(str(path), line),
    )


REPEAT_KEYS = ("repeat", "vary", "step")
MAX_REPEAT = 10_000


def _expand(entry: Any, position: int) -> list[Any]:
    """One entry of a scenario's `records:`, with `repeat` expanded into its records.

    An entry is a record's overrides; with ``repeat: N`` it stands for N records, numbered
    n = 1…N (i = n − 1), that differ only as written:

    - ``vary: {path: "text {n}", path2: [a, b, c]}`` — a string is formatted with ``n`` and
      ``i`` (format specs allowed: ``"S{n:03d}"``); a list is cycled (element i mod its length).
    - ``step: {action_time: 10min, license.exam.started_at: 10min}`` — the entry's (or the base
      record's) datetime plus i × the duration (30s, 10min, 2h, 1d).

    Nothing is computed beyond that: no expressions, no generators. Each record still gets
    its own default `record_id` (`example:<label>-<position>`) unless `vary` sets one.
    """
    if not isinstance(entry, dict) or "repeat" not in entry:
        if isinstance(entry, dict) and ("vary" in entry or "step" in entry):
            raise ValueError(f"record {position}: vary and step need repeat")
        return [entry]
    count = entry["repeat"]
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= MAX_REPEAT:
        raise ValueError(f"record {position}: repeat is a whole number 1…{MAX_REPEAT}")
    vary = _plain(entry.get("vary") or {})
    step = _plain(entry.get("step") or {})
    if not isinstance(vary, dict) or not isinstance(step, dict):
        raise ValueError(f"record {position}: vary and step are mappings of field paths")
    durations = {}
    for path, text in step.items():
        try:
            durations[path] = parse_duration(text)
        except ValidationError as exc:
            raise ValueError(f"record {position}: step.{path}: {exc.messages[0]}") from None
    base = {k: v for k, v in entry.items() if k not in REPEAT_KEYS}
    result = []
    for i in range(count):
        record = dict(base)
        for path, template in vary.items():
            record[path] = _varied(template, i, position, path)
        for path, duration in durations.items():
            record[f"~step:{path}"] = (duration * i).total_seconds()
        result.append(record)
    return result


def _varied(template: Any, i: int, position: int, path: str) -> Any:
    if isinstance(template, list):
        if not template:
            raise ValueError(f"record {position}: vary.{path} is an empty list")
        return template[i % len(template)]
    if isinstance(template, str):
        try:
            return template.format(n=i + 1, i=i)
        except (KeyError, ValueError, IndexError) as exc:
            raise ValueError(
                f"record {position}: vary.{path}: {template!r} may use only {{n}} and {{i}} ({exc})"
            ) from None
    raise ValueError(f"record {position}: vary.{path} is a text template or a list")


def _stepped(record: dict[str, Any], dotted: str, seconds: float) -> None:
    """Shift the datetime at `dotted` by `seconds` (an example's `step`)."""
    current: Any = record
    for part in dotted.split("."):
        current = current.get(part) if isinstance(current, dict) else None
    if isinstance(current, str):
        try:
            current = datetime.fromisoformat(current)
        except ValueError:
            current = None
    if not isinstance(current, datetime):
        raise ValueError(f"step.{dotted}: the record has no datetime there to step from")
    set_path(record, dotted, (current + timedelta(seconds=seconds)).isoformat())


def _with_base(
    overrides: Any, meta: dict[str, Any], bases: dict[str, Any], label: str, n: int
) -> dict[str, Any]:
    if not isinstance(overrides, dict):
        raise ValueError("each example record is a mapping of field overrides")
    overrides = dict(overrides)
    base_name = overrides.pop("base", None) or meta.get("example_base")
    base = bases["records"].get(base_name) if base_name else None
    if base is None:
        raise ValueError(
            f"unknown example base {base_name!r}; see rules/examples/base_records.yaml"
        )
    record = _plain(base)  # a fresh copy of every container; the scalars are immutable
    steps = {k: overrides.pop(k) for k in [k for k in overrides if k.startswith("~step:")]}
    for dotted, value in overrides.items():
        set_path(record, dotted, _plain(value))
    for marker, seconds in steps.items():
        _stepped(record, marker.removeprefix("~step:"), seconds)
    record.setdefault("record_id", f"example:{label}-{n}")
    if "record_id" not in overrides:
        record["record_id"] = f"example:{label}-{n}"
    return record


def set_path(record: dict[str, Any], dotted: str, value: Any) -> None:
    """Set (or with value `~delete`, remove) a dotted field of a nested record."""
    *parents, leaf = dotted.split(".")
    target = record
    for part in parents:
        child = target.get(part)
        if not isinstance(child, dict):
            child = target[part] = {}
        target = child
    if value == "~delete":
        target.pop(leaf, None)
    else:
        target[leaf] = value


def _plain(value: Any) -> Any:
    """Located YAML containers as plain dicts and lists."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _check_unique(packs: Iterable[RulePack], issues: list[Issue]) -> None:
    seen: dict[str, Rule] = {}
    names: dict[str, Rule] = {}
    for pack in packs:
        for rule in pack.rules:
            if rule.uid in seen:
                issues.append(
                    Issue(
                        rule.source.path,
                        rule.source.line,
                        rule.id,
                        "id",
                        f"{rule.uid} is also defined in {seen[rule.uid].source}",
                    )
                )
            seen[rule.uid] = rule
            basename = Path(rule.source.path).name
            if basename in names:
                issues.append(
                    Issue(rule.source.path, 1, rule.id, "", "file name is used by another pack too")
                )
            names[basename] = rule
