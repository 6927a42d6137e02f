"""Planning an audit from anywhere: load agencies, show the dialog, create the audit it returns."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from schemas.audit import AgencyOut, AuditDetail, AuditPlan
from workbench.services.audits import create_audit, list_agencies
from workbench.tui.feedback import explain
from workbench.tui.plan_audit import PlanAuditScreen

if TYPE_CHECKING:
    from workbench.tui.app import WorkbenchApp

LOAD_GROUP = "plan.agencies"
CREATE_GROUP = "plan.create"


class PlanAuditFlow:
    """One run of "plan an audit". Database work happens in worker threads on the app;
    results come back with `call_from_thread`, so nothing here blocks a key press.

    If the store refuses the plan, the dialog opens again filled with what was typed:
    a failure never costs the person their cohort.
    """

    def __init__(
        self,
        app: WorkbenchApp,
        *,
        on_created: Callable[[AuditDetail], object] | None = None,
    ) -> None:
        self._app = app
        self._on_created = on_created
        self.created: AuditDetail | None = None

    def start(self, initial: AuditPlan | None = None) -> None:
        """Read the agencies in a worker, then open the dialog (again with `initial`, if given)."""
        self._app.run_worker(
            lambda: self._load_agencies(initial),
            name="load agencies for planning",
            group=LOAD_GROUP,
            thread=True,
            exclusive=True,
            exit_on_error=False,
        )

    def _load_agencies(self, initial: AuditPlan | None) -> None:
        try:
            agencies = list_agencies(self._app.factory)
        except Exception as exc:  # every failure becomes a notice: the app must not die here
            self._app.call_from_thread(self._could_not_open, explain(exc))
            return
        self._app.call_from_thread(self._open, agencies, initial)

    def _could_not_open(self, reason: str) -> None:
        self._app.notify(
            f"Could not open the planner: {reason}", title="Audit not planned", severity="error"
        )

    def _open(self, agencies: list[AgencyOut], initial: AuditPlan | None) -> None:
        active = [a for a in agencies if a.active]
        if not active:
            self._could_not_open("there are no active agencies to choose from")
            return
        screen = PlanAuditScreen(self._app.registry, active, initial=initial)
        self._app.push_screen(screen, callback=self._planned)

    def _planned(self, plan: AuditPlan | None) -> None:
        if plan is None:
            return
        self._app.run_worker(
            lambda: self._create(plan),
            name="create the planned audit",
            group=CREATE_GROUP,
            thread=True,
            exit_on_error=False,
        )

    def _create(self, plan: AuditPlan) -> None:
        app = self._app
        try:
            detail = create_audit(app.factory, app.actor, app.registry, plan)
        except Exception as exc:  # shown in plain words, and the plan is offered again
            app.call_from_thread(self._failed, plan, explain(exc))
            return
        app.call_from_thread(self._created, detail)

    def _created(self, detail: AuditDetail) -> None:
        self.created = detail
        cases = len(detail.cases)
        agencies = len(detail.agencies)
        self._app.notify(
            f"{detail.title}: {cases} case{'s' if cases != 1 else ''}, "
            f"{agencies} agenc{'ies' if agencies != 1 else 'y'}, "
            f"{cases * agencies} returns opened.",
            title="Audit planned",
        )
        if self._on_created is not None:
            self._on_created(detail)

    def _failed(self, plan: AuditPlan, reason: str) -> None:
        self._app.notify(
            f"The audit was not planned: {reason}. Your plan is open again to correct.",
            title="Audit not planned",
            severity="error",
        )
        self.start(initial=plan)


def plan_audit(
    app: WorkbenchApp, *, on_created: Callable[[AuditDetail], object] | None = None
) -> PlanAuditFlow:
    """Start planning an audit: what a home-screen key binding calls."""
    flow = PlanAuditFlow(app, on_created=on_created)
    flow.start()
    return flow
