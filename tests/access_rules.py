"""Who may open what: one line per URL pattern (by its name, ``app:name``) and per API operation
(``METHOD /api/v1/path``), read by the generated access matrix in tests/test_access_roles.py.

A line names the kind of object that fills the route's id (tests/access_world.py builds one inside
the visitor's scope and one outside it) and the roles allowed, by role name (rectify/core/roles.py)
or group: "office" (office_admin, office_staff), "unit" (reporter, reviewer), "any" (every signed-in
role), "public" (any and the anonymous visitor). For a page, ``get`` and ``post`` are declared apart
(None: the page does not serve that method); an API operation has one method, its roles come second.
``shared`` names roles whose scope legitimately reaches the other side's object on that route;
``query`` puts the object in the query string (``"task={}"``) for a page whose path has no id.
"""

from __future__ import annotations

from dataclasses import dataclass

ROLES = ("office_admin", "office_staff", "supervisor", "reporter", "reviewer", "leader", "discipline", "auditor",
         "observer", "system_admin", "security_admin")
GROUPS = {
    "office": ("office_admin", "office_staff"),
    "unit": ("reporter", "reviewer"),
    "any": ROLES,
    "public": (*ROLES, "anonymous"),
}


def expand(roles: tuple[str, ...] | None) -> frozenset[str] | None:
    if roles is None:
        return None
    out: set[str] = set()
    for name in roles:
        if name in GROUPS:
            out.update(GROUPS[name])
        elif name in (*ROLES, "anonymous"):
            out.add(name)
        else:
            raise ValueError(f"unknown role or group {name!r} in tests/access_rules.py")
    return frozenset(out)


@dataclass(frozen=True)
class Rule:
    kind: str | None = None
    api_roles: tuple[str, ...] | None = None  # an API operation's roles (its one method)
    get: tuple[str, ...] | None = None
    post: tuple[str, ...] | None = None
    shared: tuple[str, ...] = ()
    lands_on_login: bool = False  # its answer is the login or second-factor page (logging out, enrolling)
    query: str = ""  # the object goes in the query string instead ("task={}"): a path without an id

    def roles(self, method: str, api: bool) -> tuple[str, ...] | None:
        if api:
            return self.api_roles
        return self.get if method == "get" else self.post

    def shared_with(self, role: str) -> bool:
        return role in expand(self.shared or None or ()) if self.shared else False


ALL = ("public",)
WEB: dict[str, Rule] = {
    "/": Rule(None, get=("any",), post=("any",)),
    "accountability:case": Rule("case", get=("office_staff", "supervisor", "discipline"), post=("office_staff", "supervisor", "discipline")),
    "accountability:case_edit": Rule("case_opened", get=("office_staff",), post=("office_staff",)),
    "accountability:case_new": Rule(None, get=("office_staff", "supervisor"), post=("office_staff", "supervisor")),
    "accountability:case_step": Rule("case", get=None, post=("office_staff", "supervisor", "discipline")),
    "accountability:file": Rule("case_file", get=("office_staff", "supervisor", "discipline"), post=("office_staff", "supervisor", "discipline")),
    "accountability:file_upload": Rule("case", get=None, post=("office_staff", "supervisor", "discipline")),
    "accountability:findings": Rule("case", get=None, post=("office_staff", "supervisor", "discipline")),
    "accountability:handler_revoke": Rule("handler", get=None, post=("office_admin",)),
    "accountability:handlers": Rule(None, get=("office_admin",), post=("office_admin",)),
    "accountability:note_add": Rule("case", get=None, post=("office_staff", "supervisor", "discipline")),
    "accountability:person_add": Rule("case", get=None, post=("office_staff", "supervisor", "discipline")),
    "accountability:person_remove": Rule("person", get=None, post=("office_staff", "supervisor")),
    "accountability:referral_letter": Rule("case_referred", get=(), post=()),  # nobody gets through with this world's object: only refusals are checked
    "accountability:report_preview": Rule("case", get=("office_staff", "supervisor"), post=("office_staff", "supervisor")),
    "accountability:workspace": Rule(None, get=("office", "supervisor", "discipline"), post=("office", "supervisor", "discipline")),
    "api:api-root": Rule(None, get=(), post=()),  # django-ninja's root: 404 for everyone
    "api:openapi-json": Rule(None, get=("any",), post=("any",)),
    "api:openapi-view": Rule(None, get=("any",), post=("any",)),
    "assessment:follow_up": Rule("follow_up", get=None, post=("office", "unit", "leader")),
    "assessment:help": Rule("help", get=("office", "unit", "supervisor", "leader"), post=("office", "unit", "supervisor", "leader")),
    "assessment:help_list": Rule(None, get=("office", "unit", "supervisor", "leader", "observer", "system_admin", "security_admin"), post=("office", "unit", "supervisor", "leader", "observer", "system_admin", "security_admin")),
    "assessment:help_new": Rule("report", get=("unit",), post=("unit",)),
    "assessment:help_step": Rule("help", get=None, post=("office", "unit", "supervisor", "leader")),
    "assessment:result": Rule("result", get=("office", "unit", "supervisor", "leader", "observer"), post=("office", "unit", "supervisor", "leader", "observer")),
    "assessment:result_docx": Rule("result", get=("office", "unit", "supervisor", "leader", "observer"), post=("office", "unit", "supervisor", "leader", "observer")),
    "assessment:result_step": Rule("result", get=None, post=()),  # nobody gets through with this world's object: only refusals are checked
    "assessment:result_unit": Rule("result_unit", get=("office", "unit"), post=("office", "unit")),
    "assessment:result_xlsx": Rule("result", get=("office", "unit", "supervisor", "leader", "observer"), post=("office", "unit", "supervisor", "leader", "observer")),
    "assessment:results": Rule(None, get=("office", "unit", "supervisor", "leader", "observer", "system_admin", "security_admin"), post=("office",)),
    "assessment:scheme": Rule("scheme", get=("office",), post=("office",)),
    "assessment:scheme_new": Rule(None, get=("office",), post=("office",)),
    "assessment:visit": Rule("visit", get=("office", "unit", "leader"), post=("office", "unit", "leader")),
    "assessment:visit_step": Rule("visit", get=None, post=("office", "unit", "leader")),
    "assessment:visits": Rule(None, get=("office", "unit", "supervisor", "leader", "observer", "system_admin", "security_admin"), post=("office",)),
    "audit:event": Rule("event", get=("office_admin", "auditor"), post=None),
    "audit:list": Rule(None, get=("office_admin", "auditor", "security_admin"), post=None),
    "audit:verify": Rule(None, get=("office_admin", "auditor", "security_admin"), post=None),
    "audit:verify_run": Rule(None, get=("office_admin", "auditor", "security_admin"), post=None),
    "calendar:enter": Rule(None, get=("office_admin", "system_admin"), post=("office_admin", "system_admin")),
    "calendar:index": Rule(None, get=("office", "system_admin"), post=("office", "system_admin")),
    "calendar:year": Rule("year", get=("office", "system_admin"), post=("office", "system_admin")),
    "closeout:answer": Rule("objection", get=None, post=("office", "unit", "supervisor", "leader")),
    "closeout:assess": Rule("task", get=("reviewer",), post=("reviewer",)),
    "closeout:bulk": Rule(None, get=None, post=("any",)),
    "closeout:detail": Rule("closeout", get=("office", "unit", "supervisor", "leader"), post=("office", "unit", "supervisor", "leader")),
    "closeout:file": Rule("closeout_file", get=("office", "unit", "supervisor", "leader"), post=("office", "unit", "supervisor", "leader")),
    "closeout:list": Rule(None, get=("any",), post=("any",)),
    "closeout:lookback": Rule("lookback", get=("office", "unit", "supervisor", "leader"), post=("office", "unit", "supervisor", "leader")),
    "closeout:lookback_file": Rule("lookback_file", get=("office", "unit", "supervisor", "leader"), post=("office", "unit", "supervisor", "leader")),
    "closeout:lookback_result": Rule("lookback_check", get=None, post=("office", "unit", "supervisor", "leader")),
    "closeout:lookback_upload": Rule("lookback_check", get=None, post=("office", "unit", "supervisor", "leader")),
    "closeout:lookbacks": Rule(None, get=("any",), post=("office",)),
    "closeout:policy": Rule("campaign", get=("office",), post=("office",)),
    "closeout:record_check": Rule("closeout", get=None, post=("office", "unit", "supervisor", "leader")),
    "closeout:step": Rule("closeout", get=None, post=("office", "unit", "supervisor", "leader")),
    "closeout:upload": Rule("closeout", get=None, post=("office", "unit", "supervisor", "leader")),
    "dashboard:board": Rule(None, get=("office", "leader"), post=None),
    "dashboard:data": Rule(None, get=("office", "leader"), post=None),
    "dashboard:displays": Rule(None, get=("office",), post=("office",)),
    "dashboard:geo": Rule("region", get=("office", "leader"), post=None),
    "dashboard:instruction": Rule("instruction", get=("office", "unit", "supervisor", "leader"), post=()),  # nobody gets through with this world's object: only refusals are checked
    "dashboard:instruction_new": Rule("task", get=("leader",), post=(), query="task={}"),  # nobody gets through with this world's object: only refusals are checked
    "dashboard:instructions": Rule(None, get=("any",), post=None),
    "dashboard:wall": Rule("wall", get=("public",), post=None),
    "dashboard:wall_data": Rule("wall", get=("public",), post=None),
    "dashboard:wall_geo": Rule("wall_region", get=("public",), post=None),
    "dashboard:work": Rule(None, get=("unit", "supervisor"), post=None),
    "disclosure:article": Rule("article", get=("office",), post=("office",)),
    "disclosure:article_new": Rule(None, get=("office",), post=("office",)),
    "disclosure:campaign": Rule("campaign", get=("office",), post=("office",)),
    "disclosure:decide": Rule(None, get=None, post=("office",)),
    "disclosure:index": Rule(None, get=("office",), post=("office",)),
    "disclosure:observation": Rule("observation", get=("office", "observer"), post=("office", "observer")),
    "disclosure:observation_new": Rule(None, get=None, post=("observer",)),
    "disclosure:observation_photo": Rule("observation_photo", get=("office", "observer"), post=("office", "observer")),
    "disclosure:observations": Rule(None, get=("office", "observer"), post=("office", "observer")),
    "disclosure:publicist": Rule(None, get=None, post=("office_admin",)),
    "disclosure:publish_head": Rule(None, get=None, post=("office",)),
    "disclosure:task": Rule("task", get=("office",), post=("office",)),
    "dispatch:evidence_delete": Rule("evidence", get=None, post=("reporter",)),
    "dispatch:evidence_file": Rule("evidence", get=("office", "unit", "supervisor", "leader"), post=("office", "unit", "supervisor", "leader")),
    "dispatch:evidence_thumb": Rule("evidence", get=("office", "unit", "supervisor", "leader"), post=("office", "unit", "supervisor", "leader")),
    "dispatch:evidence_upload": Rule("report", get=None, post=("office", "unit", "supervisor", "leader")),
    "dispatch:report_detail": Rule("report", get=("office", "unit", "supervisor", "leader"), post=()),  # nobody gets through with this world's object: only refusals are checked
    "dispatch:report_list": Rule(None, get=("any",), post=("any",)),
    "dispatch:round_close": Rule("round", get=None, post=("office",)),
    "dispatch:round_detail": Rule("round", get=("office", "unit", "supervisor", "leader"), post=("office", "unit", "supervisor", "leader")),
    "dispatch:round_list": Rule(None, get=("any",), post=("any",)),
    "dispatch:round_open": Rule(None, get=None, post=("office",)),
    "documents:bulletin_docx": Rule("round", get=("office",), post=("office",)),
    "documents:bulletin_xlsx": Rule("round", get=("office",), post=("office",)),
    "documents:closeout_application": Rule("closeout", get=("office", "unit", "supervisor", "leader"), post=("office", "unit", "supervisor", "leader")),
    "documents:closeout_filing": Rule("closeout", get=("office", "unit", "supervisor", "leader"), post=("office", "unit", "supervisor", "leader")),
    "documents:closeout_notice": Rule("closeout", get=("office", "unit", "supervisor", "leader"), post=("office", "unit", "supervisor", "leader")),
    "documents:closeout_verification": Rule("closeout", get=("office", "unit", "supervisor", "leader"), post=("office", "unit", "supervisor", "leader")),
    "documents:escalation_docx": Rule("escalation", get=("office", "unit", "supervisor", "leader"), post=("office", "unit", "supervisor", "leader")),
    "documents:lookback_docx": Rule("lookback", get=("office", "unit", "supervisor", "leader"), post=("office", "unit", "supervisor", "leader")),
    "documents:lookback_xlsx": Rule("lookback", get=("office", "unit", "supervisor", "leader"), post=("office", "unit", "supervisor", "leader")),
    "inbox:list": Rule(None, get=("any",), post=("any",)),
    "inbox:open": Rule("notification", get=("any",), post=("any",)),
    "inbox:read_all": Rule(None, get=None, post=("any",)),
    "indicators:create": Rule(None, get=("office",), post=("office",)),
    "indicators:detail": Rule("indicator", get=("any",), post=("any",)),
    "indicators:edit": Rule("indicator", get=("office",), post=("office",)),
    "indicators:import": Rule("indicator", get=("office",), post=("office",)),
    "indicators:list": Rule(None, get=("any",), post=("any",)),
    "indicators:measurement_add": Rule("indicator", get=None, post=("office",)),
    "jobs:detail": Rule("job", get=("any",), post=("any",)),
    "jobs:download": Rule("job", get=(), post=()),  # the world's jobs have no result file: only refusals are checked
    "jobs:list": Rule(None, get=("any",), post=("any",)),
    "jobs:progress": Rule("job", get=("any",), post=("any",)),
    "jobs:rerun": Rule("job", get=None, post=("any",)),
    "ledger:export_xlsx": Rule(None, get=("any",), post=("any",)),
    "ledger:import_cancel": Rule(None, get=None, post=("office",)),
    "ledger:import_confirm": Rule(None, get=None, post=("office",)),
    "ledger:import_preview": Rule(None, get=("office",), post=("office",)),
    "ledger:import_upload": Rule(None, get=("office",), post=("office",)),
    "ledger:list_view_save": Rule(None, get=None, post=("any",)),
    "ledger:saved_filter_delete": Rule(None, get=None, post=("any",)),
    "ledger:saved_filter_save": Rule(None, get=None, post=("any",)),
    "ledger:task_create": Rule(None, get=("office",), post=("office",)),
    "ledger:task_detail": Rule("task", get=("office", "unit", "supervisor", "leader"), post=("office", "unit", "supervisor", "leader")),
    "ledger:task_edit": Rule("task", get=("office",), post=("office",)),
    "ledger:task_list": Rule(None, get=("any",), post=("any",)),
    "orgs:admin_area_remove": Rule("area", get=None, post=("office_admin", "system_admin")),
    "orgs:admin_leader": Rule("leader_account", get=("office_admin", "system_admin"), post=("office_admin", "system_admin")),
    "orgs:admin_leaders": Rule(None, get=("office_admin", "system_admin"), post=None),
    "orgs:admin_security": Rule(None, get=("office_admin", "system_admin", "security_admin"), post=None),
    "orgs:admin_token_revoke": Rule("any_token", get=None, post=("office_admin", "system_admin")),
    "orgs:admin_tokens": Rule(None, get=("office_admin", "system_admin"), post=None),
    "orgs:admin_unit": Rule("unit", get=("office_admin", "system_admin"), post=("office_admin", "system_admin")),
    "orgs:admin_unit_create": Rule(None, get=("office_admin", "system_admin"), post=("office_admin", "system_admin")),
    "orgs:admin_unit_move": Rule("unit", get=("office_admin", "system_admin"), post=("office_admin", "system_admin")),
    "orgs:admin_units": Rule(None, get=("office_admin", "system_admin"), post=None),
    "orgs:admin_user": Rule("account", get=("office_admin", "system_admin", "security_admin"), post=("office_admin", "system_admin")),
    "orgs:admin_user_active": Rule("account", get=None, post=("office_admin", "system_admin")),
    "orgs:admin_user_create": Rule(None, get=("office_admin", "system_admin"), post=("office_admin", "system_admin")),
    "orgs:admin_user_lock": Rule("account", get=None, post=("office_admin", "system_admin", "security_admin")),
    "orgs:admin_user_reset": Rule("account", get=None, post=("office_admin", "system_admin", "security_admin")),
    "orgs:admin_user_unlock": Rule("account", get=None, post=("office_admin", "system_admin", "security_admin")),
    "orgs:admin_users": Rule(None, get=("office_admin", "system_admin", "security_admin"), post=None),
    "orgs:login": Rule(None, get=("public",), post=("public",)),
    "orgs:logout": Rule(None, get=None, post=("public",), lands_on_login=True),
    "orgs:password_change": Rule(None, get=("any",), post=("any",)),
    # account and security administrators end other people's sessions too (orgs.scope.security_users)
    "orgs:session_end": Rule("session", get=None, post=("any",), shared=("office_admin", "system_admin", "security_admin")),
    "orgs:sessions": Rule(None, get=("any",), post=("any",)),
    "orgs:token_revoke": Rule("token", get=None, post=("any",)),
    "orgs:tokens": Rule(None, get=("any",), post=("any",)),
    "orgs:totp_confirm": Rule(None, get=None, post=("any",), lands_on_login=True),  # an empty code: back to the setup page
    "orgs:totp_setup": Rule(None, get=("any",), post=("any",), lands_on_login=True),
    "orgs:totp_verify": Rule(None, get=(), post=()),  # nobody gets through with this world's object: only refusals are checked
    "orgs:user_security": Rule("account", get=("office_admin", "system_admin", "security_admin"), post=("office_admin", "system_admin", "security_admin")),
    "orgs:user_totp_reset": Rule("account", get=None, post=("office_admin", "system_admin", "security_admin")),
    "planparse:preview": Rule("plan", get=("office_admin",), post=("office_admin",)),  # a pasted plan is its session's own
    "planparse:upload": Rule(None, get=("office",), post=("office",)),
    "portal:article_detail": Rule("portal_article", get=("public",), post=None),
    "portal:article_file": Rule("article_file", get=("public",), post=None),
    "portal:article_list": Rule(None, get=("public",), post=None),
    "portal:chain": Rule(None, get=("public",), post=("public",)),
    "portal:closed_list": Rule(None, get=("public",), post=None),
    "portal:data": Rule(None, get=("public",), post=None),
    "portal:data_file": Rule("dataset", get=("public",), post=None),
    "portal:datapackage": Rule(None, get=("public",), post=None),
    "portal:feed": Rule(None, get=("public",), post=None),
    "portal:lookback_list": Rule(None, get=("public",), post=None),
    "portal:notice_detail": Rule("portal_notice", get=("public",), post=("public",)),
    "portal:notice_list": Rule(None, get=("public",), post=None),
    "portal:overview": Rule(None, get=("public",), post=None),
    "portal:plan": Rule(None, get=("public",), post=None),
    "portal:receipt": Rule(None, get=("public",), post=()),  # the lookup is a GET form; POST is not served (404)
    "portal:task_detail": Rule("portal_task", get=("public",), post=None),
    "portal:task_history": Rule("portal_task", get=("public",), post=None),
    "portal:task_list": Rule(None, get=("public",), post=None),
    "reports:campaign": Rule("campaign", get=("office",), post=("office",)),
    "reports:deadlines": Rule("campaign", get=None, post=("office",)),
    "reports:dossier": Rule("campaign", get=None, post=("office",)),
    "reports:generate": Rule("campaign", get=None, post=("office",)),
    "reports:index": Rule(None, get=("office",), post=("office",)),
    "reports:narrative": Rule("campaign", get=None, post=("office",)),
    "reports:received": Rule("campaign", get=None, post=("office",)),
    "reports:task_dossier": Rule("task", get=None, post=("office",)),
    "reserve:detail": Rule("project", get=("office", "unit", "leader"), post=("office", "unit", "leader")),
    "reserve:edit": Rule("project", get=("office",), post=("office",)),
    "reserve:evidence": Rule("project_evidence", get=(), post=None),  # no progress evidence in this world: only refusals are checked
    "reserve:export": Rule(None, get=("any",), post=("any",)),
    "reserve:import": Rule(None, get=("office",), post=("office",)),
    "reserve:list": Rule(None, get=("any",), post=("any",)),
    "reserve:new": Rule(None, get=("office",), post=("office",)),
    "reserve:performance": Rule("project", get=None, post=("office", "unit", "leader")),
    "reserve:progress": Rule("project", get=None, post=("office", "unit", "leader")),
    "reserve:transition": Rule("project_action", get=None, post=("office",)),
    "supervision:board": Rule(None, get=("any",), post=("any",)),
    "supervision:close": Rule("escalation", get=None, post=("office", "supervisor")),
    "supervision:detail": Rule("escalation", get=("office", "unit", "supervisor", "leader"), post=("office", "unit", "supervisor", "leader")),
    "supervision:issue": Rule("task", get=("office", "supervisor"), post=("office", "supervisor")),
    "supervision:reply_file": Rule("reply_file", get=(), post=()),  # nobody gets through with this world's object: only refusals are checked
}
API: dict[str, Rule] = {
    "GET /api/v1/assessment-results": Rule(None, ("any",)),
    "POST /api/v1/assessment-results": Rule(None, ("office",)),
    "GET /api/v1/assessment-results/{result_id}": Rule("result", ("office", "unit", "supervisor", "leader", "observer")),
    "POST /api/v1/assessment-results/{result_id}/actions/{action}": Rule("result_action", ("office", "unit", "supervisor", "leader", "observer")),
    "GET /api/v1/assessment-schemes": Rule(None, ("any",)),
    "POST /api/v1/assessment-schemes": Rule(None, ("any",)),
    "PUT /api/v1/assessment-schemes/{scheme_id}": Rule("scheme", ("any",)),
    "GET /api/v1/campaigns": Rule(None, ("any",)),
    "GET /api/v1/campaigns/{campaign_id}/closeout-policy": Rule("campaign", ("office", "unit", "supervisor", "leader")),
    "PUT /api/v1/campaigns/{campaign_id}/closeout-policy": Rule("campaign", ("office",)),
    "GET /api/v1/cases": Rule(None, ("any",)),
    # the task ids are checked first: a role that sees no task hears 422 (整改任务不存在或无权查看), one
    # that sees the task but may not open a case on it 403; nothing is written either way
    "POST /api/v1/cases": Rule(None, ("office_staff", "supervisor", "discipline", "auditor", "observer", "system_admin", "security_admin")),
    "GET /api/v1/cases/{case_id}": Rule("case", ("office_staff", "supervisor", "discipline")),
    "POST /api/v1/cases/{case_id}/actions/{action}": Rule("case_action", ("supervisor",)),
    "PUT /api/v1/cases/{case_id}/findings": Rule("case", ("supervisor",)),
    "POST /api/v1/cases/{case_id}/notes": Rule("case", ("office_staff", "supervisor")),
    "POST /api/v1/cases/{case_id}/persons": Rule("case", ("office_staff", "supervisor")),
    "GET /api/v1/closeouts": Rule(None, ("any",)),
    "POST /api/v1/closeouts/bulk": Rule(None, None),
    "GET /api/v1/closeouts/{closeout_id}": Rule("closeout", ("office", "unit", "supervisor", "leader")),
    "POST /api/v1/closeouts/{closeout_id}/actions/{action}": Rule("closeout_action", ("office",)),
    "POST /api/v1/closeouts/{closeout_id}/checks": Rule("closeout", ("office", "unit", "supervisor", "leader")),
    "GET /api/v1/escalations": Rule(None, ("any",)),
    "POST /api/v1/escalations": Rule(None, ("office", "unit", "supervisor", "leader")),
    "GET /api/v1/escalations/{escalation_id}": Rule("escalation", ("office", "unit", "supervisor", "leader")),
    "POST /api/v1/escalations/{escalation_id}/close": Rule("escalation", ("office", "supervisor")),
    "POST /api/v1/escalations/{escalation_id}/reply": Rule("escalation", ("unit",)),
    "DELETE /api/v1/evidence/{evidence_id}": Rule("evidence", ("reporter",)),
    "GET /api/v1/evidence/{evidence_id}": Rule("evidence", ("office", "unit", "supervisor", "leader")),
    "GET /api/v1/help-requests": Rule(None, ("any",)),
    "GET /api/v1/help-requests/{help_id}": Rule("help", ("office", "unit", "supervisor", "leader")),
    "POST /api/v1/help-requests/{help_id}/actions/{action}": Rule("help_action", ("unit",)),
    "POST /api/v1/lookback-checks/{check_id}/result": Rule("lookback_check", ("office", "unit", "supervisor", "leader")),
    "GET /api/v1/lookbacks": Rule(None, ("any",)),
    "POST /api/v1/lookbacks": Rule(None, ("office",)),
    "GET /api/v1/lookbacks/{lookback_id}": Rule("lookback", ("office", "unit", "supervisor", "leader")),
    "GET /api/v1/measures/{measure_id}": Rule("measure", ("office", "unit", "supervisor", "leader")),
    "PATCH /api/v1/measures/{measure_id}": Rule("measure", ("office",)),
    "POST /api/v1/objections/{objection_id}/answer": Rule("objection", ("office", "unit", "supervisor", "leader")),
    "POST /api/v1/public/closeouts/{closeout_id}/objections": Rule("portal_notice", ("public",)),
    "GET /api/v1/public/objections/{receipt}": Rule("receipt", ("public",)),
    "GET /api/v1/reports": Rule(None, ("any",)),
    "GET /api/v1/reports/{report_id}": Rule("report", ("office", "unit", "supervisor", "leader")),
    "PATCH /api/v1/reports/{report_id}": Rule("report", ("reporter",)),
    "POST /api/v1/reports/{report_id}/accept": Rule("report_submitted", ("office", "supervisor")),
    "POST /api/v1/reports/{report_id}/approve": Rule("report_awaiting", ("reviewer",)),
    "POST /api/v1/reports/{report_id}/evidence": Rule("report", ("reporter",)),
    "POST /api/v1/reports/{report_id}/help-requests": Rule("report", ("unit",)),
    "POST /api/v1/reports/{report_id}/return": Rule("report_submitted", ("office", "supervisor")),
    "POST /api/v1/reports/{report_id}/send-back": Rule("report_awaiting", ("reviewer",)),
    "POST /api/v1/reports/{report_id}/submit": Rule("report", ("reporter",)),
    "GET /api/v1/rounds": Rule(None, ("any",)),
    "POST /api/v1/rounds": Rule(None, ("office",)),
    "GET /api/v1/rounds/{round_id}": Rule("round", ("office", "unit", "supervisor", "leader")),
    "POST /api/v1/rounds/{round_id}/close": Rule("round", ("office",)),
    "GET /api/v1/tasks": Rule(None, ("any",)),
    "POST /api/v1/tasks": Rule(None, ("any",)),
    "GET /api/v1/tasks/{task_id}": Rule("task", ("office", "unit", "supervisor", "leader")),
    "PUT /api/v1/tasks/{task_id}": Rule("task", ("office",)),
    "GET /api/v1/tasks/{task_id}/measures": Rule("task", ("office", "unit", "supervisor", "leader")),
    "POST /api/v1/tasks/{task_id}/measures": Rule("task", ("office",)),
    "POST /api/v1/tasks/{task_id}/self-assessment": Rule("task", ("office", "unit", "supervisor", "leader")),
    "GET /api/v1/visits": Rule(None, ("any",)),
    "GET /api/v1/visits/{visit_id}": Rule("visit", ("office", "unit", "leader")),
}
