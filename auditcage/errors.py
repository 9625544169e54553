"""Domain errors. Each message is safe to show to the user who caused it."""

from __future__ import annotations


class AuditcageError(Exception):
    """An error the user can act on."""

    code = "error"


class ConfigError(AuditcageError):
    code = "config_error"


class NotFound(AuditcageError):
    code = "not_found"


class Forbidden(AuditcageError):
    code = "forbidden"


class InvalidInput(AuditcageError):
    """Input that cannot be read at all (as opposed to a record that is quarantined)."""

    code = "invalid_input"


class ReferenceDataError(AuditcageError):
    """A reference dataset failed validation; the load was refused as a whole."""

    code = "reference_invalid"

    def __init__(self, dataset: str, problems: list[str]) -> None:
        self.dataset = dataset
        self.problems = problems
        shown = "; ".join(problems[:10])
        more = f" (and {len(problems) - 10} more)" if len(problems) > 10 else ""
        super().__init__(f"reference dataset {dataset!r} refused: {shown}{more}")
