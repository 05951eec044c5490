"""Who sees a background job (后台任务).

| who | sees | acts (rerun, download) |
| --- | --- | --- |
| the account that started it, while active | its own jobs | its own jobs |
| anyone else, the office included | nothing | nothing |

A job's result was made within its owner's scope at the time (the kind checks that scope again
before it runs, and the download asks the kind again), so handing it to anyone else would leak.
"""

from __future__ import annotations

from typing import Any


def jobs_visible_to(qs, user):
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return qs.none()
    return qs.filter(owner=user)


def is_owner(user: Any, job: Any) -> bool:
    return bool(getattr(user, "is_authenticated", False) and user.is_active and job.owner_id == user.pk)
