"""Refusals a service gives: each carries a message fit to show a user as it is."""

from __future__ import annotations

from schemas.audit import FindingOut, ModeratedGradeOut, UnansweredCriterion


class ServiceError(Exception):
    """A request the workbench refuses; `str()` is one line in plain words."""


class NotFoundError(ServiceError):
    pass


class InvalidRequestError(ServiceError):
    pass


class StaleFindingError(ServiceError):
    """Someone else saved this finding since it was read: their value is in `current`."""

    def __init__(self, current: FindingOut) -> None:
        self.current = current
        super().__init__(
            f"{current.criterion_id} was changed by {current.updated_by} at "
            f"{current.updated_at:%H:%M:%S} (version {current.version}); your change was not saved"
        )


class StaleModeratedGradeError(ServiceError):
    def __init__(self, current: ModeratedGradeOut) -> None:
        self.current = current
        super().__init__(
            f"the moderated {current.heading.value} grade was changed by {current.updated_by} at "
            f"{current.updated_at:%H:%M:%S} (version {current.version}); your change was not saved"
        )


class SubmitRefusedError(ServiceError):
    def __init__(self, unanswered: list[UnansweredCriterion]) -> None:
        self.unanswered = unanswered
        ids = ", ".join(u.criterion_id for u in unanswered)
        super().__init__(f"cannot submit: {len(unanswered)} criteria unanswered ({ids})")


class AccessDeniedError(ServiceError):
    """The user's role does not allow this; the message says what and why in plain words."""
