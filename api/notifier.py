"""The Notifier (routing policy, deadlines, working-hours clock) for views that take a step of the
acknowledgement loop: the JSON API and the console build it the same way."""

from __future__ import annotations

from flask import current_app, g

from api import db
from notifications.pipeline import Notifier
from notifications.policy import load_policy


def current_notifier() -> Notifier:
    """For this request's reference data; the policy file is read once per application."""
    policy = current_app.extensions.get("auditcage.routing_policy")
    if policy is None:
        policy = current_app.extensions["auditcage.routing_policy"] = load_policy(
            db.settings().rules_dir / "routing.yaml"
        )
    return Notifier(ref=g.reference, policy=policy, settings=db.settings())
