"""Close-out pages. Thin: parse, call a selector or a service, render."""

from django.contrib.auth.decorators import login_required
from django.http import Http404


@login_required
def detail(request, pk: int):
    raise Http404


@login_required
def assess(request, task_id: int):
    raise Http404
