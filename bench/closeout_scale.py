#!/usr/bin/env python3
"""Close-out at scale (issue 9's figures): 500 tasks through 受理 (申请) and 备案 in bulk, and a
回头看 draw over 10,000 closed tasks.

    .venv/bin/python bench/closeout_scale.py [--bulk 500] [--closed 10000] [--data-dir /tmp/rectify-co]
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/rectify_bench_co .venv/bin/python bench/closeout_scale.py

The world comes from bench/generate.py (``--tasks`` ≈ closed + bulk), its tasks put in one campaign. The starting states are
set in bulk, as a benchmark fixture: ``bulk`` tasks get a close-out whose notice period ended
yesterday (for 受理) and the same tasks, once accepted, a passing check of every standard and a
verification (for 备案); ``closed`` tasks are marked 已销号. What is timed goes through the product's
own services: ``bulk_transition`` (each task checked, locked and recorded on its own, as the
office's bulk button does) and ``start_lookback``. Afterwards ``verify_chain`` must pass.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import generate  # noqa: E402  (bench/generate.py)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--bulk", type=int, default=500)
    parser.add_argument("--closed", type=int, default=10_000)
    parser.add_argument("--data-dir")
    args = parser.parse_args(argv)
    data_dir = args.data_dir or tempfile.mkdtemp(prefix="rectify-closeout-")
    total = int(args.closed * 1.05) + args.bulk  # drafts stay out of the pool
    generate.TASKS_PER_CITY = total  # one city (its campaigns are merged below)
    started = time.perf_counter()
    generate.configure(data_dir=data_dir)
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=0)
    generate.generate(tasks=total, reports=total * 2, events=total * 4, log=lambda _line: None)
    print(f"world: {total} tasks generated in {time.perf_counter() - started:.1f} s ({data_dir})")

    from django.db import connection, transaction
    from django.utils import timezone

    from rectify.closeout import services
    from rectify.closeout.models import CheckRecord, Closeout, CloseoutStatus, Standard
    from rectify.core.audit import verify_chain
    from rectify.ledger.models import CloseoutStage, Task, TaskStatus
    from rectify.orgs.models import User

    admin = User.objects.get(username=generate.BENCH_USER)
    now, today = timezone.now(), timezone.localdate()
    campaign_id = Task.objects.order_by("pk").values_list("campaign_id", flat=True).first()
    # A look-back draws within one campaign: put the generated ledger in one (codes stay unique, as
    # the generator prefixes them per campaign).
    Task.objects.update(campaign_id=campaign_id)
    active = list(Task.objects.filter(campaign_id=campaign_id, status=TaskStatus.ACTIVE)
                  .order_by("pk").values_list("pk", flat=True))
    if len(active) < args.bulk:
        print(f"only {len(active)} active tasks in the first campaign; generate more", file=sys.stderr)
        return 1
    bulk_ids = active[:args.bulk]
    with transaction.atomic():
        Closeout.objects.bulk_create(
            Closeout(task_id=pk, status=CloseoutStatus.IN_NOTICE, started_by=admin, started_at=now, applied_by=admin,
                     applied_at=now, notice_workdays=5, notice_start=today - dt.timedelta(days=10),
                     notice_end=today - dt.timedelta(days=1), notice_number=f"bench公〔{today.year}〕{n}号",
                     published_by=admin)
            for n, pk in enumerate(bulk_ids, start=1))
        Task.objects.filter(pk__in=bulk_ids).update(status=TaskStatus.CLOSING, closeout_stage=CloseoutStage.IN_NOTICE)
        others = (Task.objects.filter(campaign_id=campaign_id).exclude(pk__in=bulk_ids)
                  .exclude(status=TaskStatus.DRAFT).order_by("pk").values_list("pk", flat=True)[:args.closed])
        Task.objects.filter(pk__in=list(others)).update(status=TaskStatus.CLOSED)
    closeout_ids = list(Closeout.objects.filter(task_id__in=bulk_ids).values_list("pk", flat=True))
    pool = Task.objects.filter(campaign_id=campaign_id, status=TaskStatus.CLOSED).count()

    print(f"\n{'figure':<46}{'n':>8}{'seconds':>10}{'per task (ms)':>15}")

    def row(name: str, n: int, seconds: float) -> None:
        print(f"{name:<46}{n:>8}{seconds:>10.2f}{seconds / max(n, 1) * 1000:>15.1f}")

    t0 = time.perf_counter()
    outcomes = services.bulk_transition(actor=admin, closeout_ids=closeout_ids, action="accept_application")
    row("bulk 受理销号申请 (accept_application)", sum(o.ok for o in outcomes), time.perf_counter() - t0)
    refused = [o for o in outcomes if not o.ok]
    if refused:
        print(f"  refused: {len(refused)}, first: {refused[0].message}")

    # The verifying unit's part is not a bulk step (a check per standard, on site): set it as a fixture.
    with transaction.atomic():
        CheckRecord.objects.bulk_create(
            CheckRecord(closeout_id=pk, standard=s, finding="bench", onsite=True, checked_on=today, checkers="bench",
                        passed=True, recorded_by=admin, recorded_at=now)
            for pk in closeout_ids for s in Standard.values)
        Closeout.objects.filter(pk__in=closeout_ids).update(status=CloseoutStatus.VERIFIED, verified_by=admin,
                                                            verified_at=now, verification_opinion="bench")
        Task.objects.filter(pk__in=bulk_ids).update(closeout_stage=CloseoutStage.VERIFIED)

    t0 = time.perf_counter()
    outcomes = services.bulk_transition(actor=admin, closeout_ids=closeout_ids, action="file")
    row("bulk 备案销号 (file)", sum(o.ok for o in outcomes), time.perf_counter() - t0)

    pool = Task.objects.filter(campaign_id=campaign_id, status=TaskStatus.CLOSED).count()
    t0 = time.perf_counter()
    lookback = services.start_lookback(actor=admin, campaign=Task.objects.get(pk=bulk_ids[0]).campaign,
                                       title="回头看（基准）", share_percent=10, due_date=today + dt.timedelta(days=30),
                                       seed="bench-2026")
    row(f"回头看 draw over {pool} closed tasks (10%)", lookback.checks.count(), time.perf_counter() - t0)
    t0 = time.perf_counter()
    again = services.draw_sample(list(Task.objects.filter(campaign_id=campaign_id, status=TaskStatus.CLOSED)
                                      .values_list("pk", flat=True)), share_percent=10, seed="bench-2026")
    row("  the draw alone, reproduced from the seed", len(again), time.perf_counter() - t0)
    assert again == sorted(lookback.checks.filter(picked_by="random").values_list("task_id", flat=True))

    t0 = time.perf_counter()
    result = verify_chain()
    print(f"\nverify_chain: {result.message} in {time.perf_counter() - t0:.1f} s ({connection.vendor})")
    return 0 if result.ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
