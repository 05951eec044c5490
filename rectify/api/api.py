"""/api/v1 — one router per domain app, all behind token authentication."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from ninja import NinjaAPI

from rectify.accountability.api import router as accountability_router
from rectify.api.auth import TokenAuth, docs_access
from rectify.assessment.api import router as assessment_router
from rectify.closeout.api import public_router as closeout_public_router
from rectify.closeout.api import router as closeout_router
from rectify.dispatch.api import router as dispatch_router
from rectify.ledger.api import router as ledger_router
from rectify.ledger.services import StaleVersionError
from rectify.supervision.api import router as supervision_router

api = NinjaAPI(title="督察整改调度平台 API", version="1", urls_namespace="api", auth=TokenAuth(),
               docs_decorator=docs_access,
               description="Rectify /api/v1：台账任务与措施。所有接口使用 Bearer 令牌认证，范围与网页一致。")
api.add_router("/", ledger_router)
api.add_router("/", dispatch_router)
api.add_router("/", supervision_router)
api.add_router("/", closeout_router)
api.add_router("/public/", closeout_public_router)
api.add_router("/", accountability_router)
api.add_router("/", assessment_router)


@api.exception_handler(StaleVersionError)
def stale(request, exc):
    return api.create_response(request, {"detail": str(exc), "current_version": exc.task.version}, status=409)


@api.exception_handler(ValidationError)
def invalid(request, exc):
    detail = exc.message_dict if hasattr(exc, "error_dict") else {"__all__": exc.messages}
    return api.create_response(request, {"detail": "数据校验失败", "errors": detail}, status=422)


@api.exception_handler(PermissionDenied)
def denied(request, exc):
    return api.create_response(request, {"detail": str(exc) or "无权执行该操作"}, status=403)


@api.exception_handler(OverflowError)
def out_of_range(request, exc):
    # The last line behind the schemas' bounds: SQLite cannot bind an integer past 2**63.
    return api.create_response(request, {"detail": "请求中的数值超出范围"}, status=422)


@api.exception_handler(Http404)
def not_found(request, exc):
    return api.create_response(request, {"detail": "对象不存在或无权访问"}, status=404)
