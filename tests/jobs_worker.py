"""Helper process for test_jobs' kill test: set up a world and a queued import job, report on it, rerun it.

Usage: python -m tests.jobs_worker setup ROWS | status JOB | rerun JOB   (DATABASE_URL, RECTIFY_DATA_DIR set)
"""

import json
import os
import sys


def main() -> None:
    mode = sys.argv[1]
    os.environ["DJANGO_SETTINGS_MODULE"] = "rectify.settings"
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client

    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    settings.ALLOWED_HOSTS = ["*"]
    from rectify.jobs.models import Job
    from rectify.ledger.models import Task
    from rectify.orgs.models import User

    if mode == "setup_report":  # a world with N more tasks and a queued 整改落实情况报告 job
        call_command("migrate", verbosity=0)
        import datetime as dt

        from rectify.ledger import services as ledger
        from rectify.ledger.models import Category, DeadlineKind
        from rectify.reports.services import start_report
        from tests.conftest import make_world

        world = make_world()
        admin = world.users["office_admin"]
        for i in range(int(sys.argv[2])):
            ledger.create_task(actor=admin, campaign=world.campaign, data=ledger.TaskInput(
                code=f"K-{i:04d}", title=f"第{i}号任务：城区污水管网建设滞后，需完成截污纳管", problem="问题。",
                target="目标", category=Category.WATER, responsible_units=[world.county_a],
                lead_supervisor=world.dept_env, deadline_kind=DeadlineKind.BY_DATE, deadline=dt.date(2026, 12, 31),
                measures=[ledger.MeasureInput(text="措施")]))
        job = start_report(actor=admin, campaign=world.campaign, as_of=dt.date(2026, 11, 30))
        print(json.dumps({"job": job.pk, "tasks": Task.objects.count()}))
        return
    if mode == "setup":
        call_command("migrate", verbosity=0)
        from rectify.jobs.services import start_job
        from rectify.ledger import excel
        from tests.conftest import make_world
        from tests.excel_helpers import generated_rows, office_workbook

        world = make_world()
        admin = world.users["office_admin"]
        data = office_workbook(generated_rows(int(sys.argv[2]), units=["零陵区", "祁阳市"]))
        preview = excel.parse_workbook(data, campaign=world.campaign, actor=admin, filename="大表.xlsx")
        assert preview.ok, preview.file_errors
        job = start_job(actor=admin, kind="ledger_import", title="导入大表", input_bytes=data, input_suffix=".xlsx",
                        params={"campaign": world.campaign.pk, "filename": "大表.xlsx", "plan": preview.fingerprint()})
        print(json.dumps({"job": job.pk, "tasks": Task.objects.count()}))
        return
    job = Job.objects.get(pk=int(sys.argv[2]))
    client = Client()
    client.force_login(User.objects.get(username="admin1"))
    if mode == "status":
        from rectify.core.audit import verify_chain
        from rectify.jobs.runner import jobs_dir

        page = client.get(f"/jobs/{job.pk}/").content.decode()
        print(json.dumps({"status": job.status, "attempt": job.attempt, "error": job.error, "tasks": Task.objects.count(),
                          "result": job.result_path, "files": sorted(p.name for p in jobs_dir().iterdir()),
                          "parts": sorted(p.name for p in jobs_dir().glob("*.part*")), "interrupted": "已中断" in page,
                          "chain_ok": verify_chain().ok, "chain": verify_chain().message}, ensure_ascii=False))
    elif mode == "rerun":
        print(json.dumps({"code": client.post(f"/jobs/{job.pk}/rerun/").status_code}))


if __name__ == "__main__":
    main()
