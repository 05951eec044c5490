"""Worker for test_sqlite_concurrency: read-then-write transactions on one task, in its own process.

Usage: python -m tests.concurrency_worker setup|work|numbers|session DB_PATH [WORKER_ID ROUNDS | USERNAME]

``session`` prints the key of a signed-in session of USERNAME, for a test that talks to a server.
"""

import json
import os
import sys


def main() -> None:
    mode, db_path = sys.argv[1], sys.argv[2]
    os.environ["DATABASE_URL"] = f"sqlite:///{db_path}"
    os.environ["DJANGO_SETTINGS_MODULE"] = "rectify.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import OperationalError, transaction

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    if mode == "setup":
        call_command("migrate", verbosity=0)
        from tests.conftest import make_world

        make_world()
        return
    if mode == "numbers":  # allocate document numbers as fast as possible, print them
        from rectify.core.numbers import allocate_number

        worker, count = int(sys.argv[3]), int(sys.argv[4])
        numbers = [allocate_number(kind="circular" if i % 2 else "bulletin", year=2026, object_type="test.doc",
                                   object_id=f"{worker}-{i}", actor_name=f"worker {worker}") for i in range(count)]
        print(json.dumps(numbers, ensure_ascii=False))
        return
    if mode == "session":
        import time

        from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
        from django.contrib.sessions.backends.db import SessionStore

        from rectify.orgs.models import User

        user = User.objects.get(username=sys.argv[3])
        session = SessionStore()
        session.update({SESSION_KEY: str(user.pk), BACKEND_SESSION_KEY: settings.AUTHENTICATION_BACKENDS[0],
                        HASH_SESSION_KEY: user.get_session_auth_hash(), "login_at": time.time()})
        session.create()
        print(session.session_key)
        return
    from rectify.ledger.models import Task
    from rectify.ledger.services import task_input_from, update_task
    from rectify.orgs.models import User

    worker, rounds = int(sys.argv[3]), int(sys.argv[4])
    actor = User.objects.get(username="staff1")
    done, locked, other = 0, 0, []
    for i in range(rounds):
        try:
            with transaction.atomic():
                task = Task.objects.get(code="T-01")  # read ...
                data = task_input_from(task)
                data.progress_note = f"进程 {worker} 第 {i} 次调度"
                update_task(actor=actor, task=task, expected_version=task.version, data=data)  # ... then write
            done += 1
        except OperationalError as exc:
            if "locked" in str(exc):
                locked += 1
            else:
                other.append(str(exc))
        except Exception as exc:  # noqa: BLE001 - reported to the test, which fails on any
            other.append(f"{type(exc).__name__}: {exc}")
    print(json.dumps({"done": done, "locked": locked, "other": other[:3]}))


if __name__ == "__main__":
    main()
