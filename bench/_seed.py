"""Seed the bench database fast: structure through the ORM (a few hundred rows), bulk data through COPY.

Everything bulk goes through psycopg 3's `cursor.copy("COPY … FROM STDIN")` in text format, in one transaction
that first truncates the bench's tables (so `COPY … FREEZE` may be used). All indexes stay in place while
copying; the time it takes is reported, not hidden. Afterwards the identity sequences and the ticket
reference sequence are moved past the copied ids, and the tables are vacuumed and analysed.

The data is meant to look like a desk that has run for two years: ids in creation order, ~1 % unsolved
backlog concentrated on recent tickets, skewed queues and shops, repeat customers, zh/en conversations from
a small vocabulary (so pg_trgm searches have common words and rare transaction ids to find).
"""

from __future__ import annotations

import json
import random
import time
from array import array
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

SHOP_PREFIX = "bench-shop-"
USER_PREFIX = "bench-"
PASSWORD = "carddesk-bench"  # noqa: S105 (bench logins on a throwaway database)
N_SHOPS = 100
N_QUEUES = 20
N_AGENTS = 50
N_CATEGORIES = 12
DAYS = 730
CHUNK = 1 << 20  # bytes per COPY write

# --- vocabulary ------------------------------------------------------------------------------------------

PRODUCTS = [
    "Steam 充值卡 100元",
    "Apple Gift Card $25",
    "京东E卡 200元",
    "腾讯Q币 50个",
    "网易一卡通 30元",
    "PSN 礼品卡 $50",
    "Google Play 礼品卡",
    "Razer Gold 100",
    "爱奇艺 VIP 月卡",
    "Xbox 游戏卡",
    "Nintendo eShop $20",
    "王者荣耀 点券",
    "原神 创世结晶",
    "Netflix 礼品卡",
    "Spotify Premium 3个月",
]
SUBJECTS = {
    "zh-hans": [
        "付款成功但没有收到卡密",
        "卡密无效",
        "申请退款",
        "重复扣款",
        "充值未到账",
        "账号安全问题",
        "发货延迟",
        "兑换码已被使用",
        "面值错误",
        "发票问题",
        "能不能换成别的商品",
        "订单一直待发货",
    ],
    "en": [
        "Paid but no card key",
        "Invalid redeem code",
        "Refund request",
        "Charged twice",
        "Top-up not received",
        "Account hacked",
        "Delivery delayed",
        "Code already used",
        "Wrong denomination",
        "Invoice question",
        "Can I exchange my order",
        "Order stuck in pending",
    ],
}
CUSTOMER_LINES = {
    "zh-hans": [
        "付款成功但是没有收到卡密",
        "卡密显示已被使用",
        "充值一直没有到账",
        "订单显示待发货",
        "请尽快帮我处理",
        "我要申请退款",
        "扣款了两次",
        "兑换码无效",
        "提示卡号或密码错误",
        "我的账号被盗了",
        "为什么还没发货",
        "客服在吗",
        "麻烦查一下订单",
        "支付宝已经扣钱了",
        "微信支付失败但是扣款了",
        "点卡面值不对",
        "买错了能不能换",
        "发票怎么开",
        "等了一个小时了",
        "能不能加急",
    ],
    "en": [
        "I paid but did not receive the card key",
        "the redeem code says it was already used",
        "my top-up has not arrived yet",
        "please refund my order",
        "I was charged twice",
        "the gift card code is invalid",
        "the order still shows pending delivery",
        "someone hacked my account",
        "the wrong denomination was delivered",
        "how long does delivery take",
        "is anyone there",
        "I need this urgently",
        "can I exchange it for another product",
        "where do I get an invoice",
    ],
}
AGENT_LINES = {
    "zh-hans": [
        "您好，请提供一下订单号",
        "已为您补发卡密，请查收",
        "退款已提交，预计1-3个工作日到账",
        "请截图兑换失败的页面",
        "我们正在联系供货商核实",
        "很抱歉给您带来不便",
        "该卡密系统显示已于昨天兑换",
        "请问还有其他问题吗",
        "已经为您加急处理",
        "请清除缓存后重试",
    ],
    "en": [
        "Hello, could you send us the order number?",
        "We have re-sent the card key, please check your inbox.",
        "Your refund was submitted and arrives in 1-3 business days.",
        "Please send a screenshot of the redeem error.",
        "We are checking with the supplier.",
        "Sorry for the trouble.",
        "Our records show this code was redeemed yesterday.",
        "Is there anything else we can help with?",
        "We escalated your order.",
        "Please clear the cache and try again.",
    ],
}
NOTES = ["供货商已确认补货", "疑似盗刷，先冻结", "VIP 客户，优先处理", "supplier confirmed the batch", "possible fraud"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林"
GIVEN = "伟芳娜敏静丽强磊洋艳勇军杰娟涛明超秀霞平刚"
EN_NAMES = ["Alice", "Bob", "Carol", "David", "Emma", "Frank", "Grace", "Henry", "Ivy", "Jack", "Kate", "Leo"]
CATEGORIES = [
    ("付款问题", "Payment"),
    ("未收到卡密", "Card key not received"),
    ("卡密无效", "Invalid card key"),
    ("退款", "Refund"),
    ("重复扣款", "Double charge"),
    ("账号安全", "Account security"),
    ("发货延迟", "Delivery delay"),
    ("充值问题", "Top-up"),
    ("发票", "Invoice"),
    ("换货", "Exchange"),
    ("商户问题", "Merchant"),
    ("其他", "Other"),
]
QUEUE_NAMES = [
    "付款",
    "卡密发货",
    "退款",
    "账号",
    "充值",
    "VIP",
    "商户",
    "游戏点卡",
    "礼品卡",
    "视频会员",
    "海外",
    "夜班",
    "投诉",
    "风控",
    "批发",
    "新客",
    "Q币",
    "Steam",
    "Apple",
    "其他",
]

# ticket status mix by age (days since creation) → probability of still being unsolved
UNSOLVED_BY_AGE = [(3, 0.60), (14, 0.25), (60, 0.03), (10_000, 0.003)]
UNSOLVED_STATUSES = [("new", 0.25), ("open", 0.40), ("pending", 0.20), ("on_hold", 0.15)]
PRIORITIES = [("low", 0.15), ("normal", 0.65), ("high", 0.15), ("urgent", 0.05)]
CHANNELS = [("web", 0.35), ("chat", 0.35), ("email", 0.15), ("api", 0.10), ("plugin", 0.04), ("phone", 0.01)]


def _check_vocabulary() -> None:
    """Text COPY needs escaping for these; the vocabulary simply never contains them."""
    texts: list[str] = [*PRODUCTS, *NOTES, *EN_NAMES, SURNAMES, GIVEN, *QUEUE_NAMES]
    for group in (SUBJECTS, CUSTOMER_LINES, AGENT_LINES):
        for lines in group.values():
            texts += lines
    texts += [name for pair in CATEGORIES for name in pair]
    bad = [t for t in texts if any(c in t for c in "\t\n\r\\")]
    assert not bad, f"vocabulary must not contain tabs, newlines or backslashes: {bad}"


def _cumulative(choices: list[tuple[str, float]]) -> tuple[list[str], list[float]]:
    values, weights, total = [], [], 0.0
    for value, weight in choices:
        total += weight
        values.append(value)
        weights.append(total)
    return values, [w / total for w in weights]


def _picker(rng: random.Random, choices: list[tuple[str, float]]) -> Callable[[], str]:
    import bisect

    values, cum = _cumulative(choices)
    rand = rng.random
    return lambda: values[bisect.bisect_left(cum, rand())]


def _zipf_weights(n: int, s: float) -> list[float]:
    return [1 / (k**s) for k in range(1, n + 1)]


# --- COPY plumbing ---------------------------------------------------------------------------------------


def _ts(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def _text(value) -> str:
    """One value in COPY text format (only for the constant columns the seeder does not write itself)."""
    if value is None:
        return r"\N"
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    if hasattr(value, "obj"):  # psycopg's Jsonb wrapper, from a JSONField default
        value = json.dumps(value.obj, ensure_ascii=False)
    elif isinstance(value, list | tuple):  # ArrayField default
        value = "{" + ",".join(json.dumps(str(v), ensure_ascii=False) for v in value) + "}"
    text = str(value)
    return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")


@dataclass
class CopyTarget:
    """A table's COPY column list: the columns the seeder writes, then every other column at its default.

    Columns added to the models later (by other features) are filled with their Django default, so the bench
    keeps working; a new NOT NULL column without a default stops it with a clear message instead.
    """

    table: str
    columns: list[str]
    tail: str  # "\t"-prefixed constant values of the remaining columns, or ""

    @classmethod
    def for_model(cls, model, written: list[str]) -> CopyTarget:
        from django.db import connection
        from django.db.models import NOT_PROVIDED

        extra_columns, extra_values = [], []
        known = {f.column for f in model._meta.concrete_fields}
        missing = [c for c in written if c not in known]
        assert not missing, f"{model._meta.db_table} has no column(s) {missing}: update bench/_seed.py"
        for f in model._meta.concrete_fields:
            if f.column in written:
                continue
            if f.has_default() or (not f.null and f.empty_strings_allowed and not f.is_relation):
                value = f.get_db_prep_save(f.get_default(), connection)
            elif f.null:
                value = None
            elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = datetime.now(UTC)
            elif f.db_default is not NOT_PROVIDED:
                continue  # the database fills it
            else:
                raise SystemExit(
                    f"{model._meta.db_table}.{f.column} is NOT NULL without a default: update bench/_seed.py"
                )
            extra_columns.append(f.column)
            extra_values.append(_text(value))
        tail = "".join("\t" + v for v in extra_values)
        return cls(model._meta.db_table, [*written, *extra_columns], tail)

    def statement(self, freeze: bool) -> str:
        cols = ", ".join(f'"{c}"' for c in self.columns)
        return f'COPY "{self.table}" ({cols}) FROM STDIN{" WITH (FREEZE)" if freeze else ""}'


def copy_rows(cursor, target: CopyTarget, lines: Iterable[str], *, freeze: bool) -> int:
    """Stream lines (tab-separated, no newline, without the tail) into the table; returns the row count."""
    count = 0
    buffer: list[str] = []
    size = 0
    tail = target.tail + "\n"
    with cursor.copy(target.statement(freeze)) as copy:
        for line in lines:
            buffer.append(line)
            buffer.append(tail)
            size += len(line)
            count += 1
            if size >= CHUNK:
                copy.write("".join(buffer))
                buffer.clear()
                size = 0
        if buffer:
            copy.write("".join(buffer))
    return count


# --- the seed ---------------------------------------------------------------------------------------------


@dataclass
class SeedPlan:
    tickets: int
    messages_per_ticket: int
    seed: int = 2026
    now: float = field(default_factory=lambda: float(int(time.time())))


@dataclass
class SeedReport:
    rows: dict[str, int] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)

    def timed(self, label: str, started: float) -> None:
        self.seconds[label] = time.perf_counter() - started


@dataclass
class Org:
    shop_ids: list[int]
    queue_ids: list[int]
    category_ids: list[int]
    agent_ids: list[int]
    agent_names: dict[int, str]
    queue_agents: dict[int, list[int]]
    supervisor_id: int


COPIED = ["helpdesk_shop", "tickets_queue", "tickets_customer", "tickets_order", "tickets_ticket", "tickets_message"]
TRUNCATE = [
    "tickets_message",
    "tickets_attachment",
    "tickets_ticket_tags",
    "tickets_ticket",
    "tickets_order",
    "tickets_customer",
    "tickets_savedview",
    "tickets_cannedreply",
    "tickets_category",
    "tickets_agentprofile",
    "tickets_queue",
    "helpdesk_shop",
    "helpdesk_auditevent",
    "guardian_userobjectpermission",
    "guardian_groupobjectpermission",
    "django_session",
    "auth_user_groups",
    "auth_user_user_permissions",
    "auth_user",
]


def _existing(cursor, tables: list[str]) -> list[str]:
    cursor.execute(
        "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename = ANY(%s)", [tables]
    )
    found = {row[0] for row in cursor.fetchall()}
    return [t for t in tables if t in found]


def _organisation(plan: SeedPlan, rng: random.Random, report: SeedReport) -> Org:
    """Shops and queues by COPY; users, agent profiles, groups and guardian grants through the ORM."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.hashers import make_password
    from django.contrib.auth.models import Group
    from django.db import connection
    from guardian.shortcuts import assign_perm

    from helpdesk.models import Shop
    from helpdesk.roles import GROUP_NAMES, Role, roles_sync
    from tickets.models import AgentProfile, Category, Queue

    started = time.perf_counter()
    now = _ts(plan.now - DAYS * 86400)
    cursor = connection.cursor().cursor  # the psycopg cursor under Django's wrapper
    shops = CopyTarget.for_model(Shop, ["id", "created_at", "updated_at", "name", "slug", "widget_secret"])
    copy_rows(
        cursor,
        shops,
        (f"{i}\t{now}\t{now}\tBench Shop {i:03d}\t{SHOP_PREFIX}{i:03d}\t" for i in range(1, N_SHOPS + 1)),
        freeze=True,
    )
    queues = CopyTarget.for_model(Queue, ["id", "created_at", "updated_at", "name", "slug", "shop_id"])
    copy_rows(
        cursor,
        queues,
        (f"{i}\t{now}\t{now}\t{QUEUE_NAMES[i - 1]}\t{USER_PREFIX}q{i:02d}\t\\N" for i in range(1, N_QUEUES + 1)),
        freeze=True,
    )
    report.rows["shops"], report.rows["queues"] = N_SHOPS, N_QUEUES
    categories = Category.objects.bulk_create(
        Category(name=zh, name_en=en, slug=f"{USER_PREFIX}cat-{i:02d}", default_queue_id=(i % N_QUEUES) + 1)
        for i, (zh, en) in enumerate(CATEGORIES[:N_CATEGORIES], start=1)
    )

    roles_sync()
    User = get_user_model()
    password = make_password(PASSWORD)  # hashed once: PBKDF2 per user would dominate the structure step
    users = User.objects.bulk_create(
        [User(username=f"{USER_PREFIX}agent{i:02d}", password=password, is_staff=True) for i in range(1, N_AGENTS + 1)]
        + [User(username=f"{USER_PREFIX}supervisor", password=password, is_staff=True)]
    )
    agents, supervisor = users[:-1], users[-1]
    Group.objects.get(name=GROUP_NAMES[Role.AGENT]).user_set.add(*agents)
    Group.objects.get(name=GROUP_NAMES[Role.SUPERVISOR]).user_set.add(supervisor)
    AgentProfile.objects.bulk_create(
        AgentProfile(user=u, display_name=u.username.removeprefix(USER_PREFIX).title(), presence="online")
        for u in [*agents, supervisor]
    )
    queue_objects = {q.pk: q for q in Queue.objects.all()}
    queue_agents: dict[int, list[int]] = {qid: [] for qid in queue_objects}
    for agent in agents:
        for qid in rng.sample(sorted(queue_objects), rng.choice([2, 2, 3])):
            assign_perm("tickets.work_queue", agent, queue_objects[qid])
            queue_agents[qid].append(agent.pk)
    for qid, members in queue_agents.items():  # every queue has somebody working it
        if not members:
            agent = rng.choice(agents)
            assign_perm("tickets.work_queue", agent, queue_objects[qid])
            members.append(agent.pk)
    report.rows["agents"] = len(agents)
    report.timed("structure (shops, queues, users, grants)", started)
    return Org(
        shop_ids=list(range(1, N_SHOPS + 1)),
        queue_ids=sorted(queue_objects),
        category_ids=[c.pk for c in categories],
        agent_ids=[a.pk for a in agents],
        agent_names={a.pk: a.username.removeprefix(USER_PREFIX).title() for a in agents},
        queue_agents=queue_agents,
        supervisor_id=supervisor.pk,
    )


def _customers(cursor, plan: SeedPlan, rng: random.Random, org: Org, n: int) -> tuple[array, array]:
    from tickets.models import Customer

    shop_of = array("i", [0]) * (n + 1)
    lang_of = array("b", [0]) * (n + 1)  # 1 = English
    shop_weights = _zipf_weights(len(org.shop_ids), 0.9)
    shops = rng.choices(org.shop_ids, weights=shop_weights, k=n)
    created = _ts(plan.now - DAYS * 86400)
    target = CopyTarget.for_model(
        Customer,
        [
            "id",
            "created_at",
            "updated_at",
            "shop_id",
            "external_id",
            "name",
            "email",
            "phone",
            "phone_digest",
            "tier",
            "language",
            "user_id",
        ],
    )

    def lines() -> Iterator[str]:
        rand = rng.random
        for cid in range(1, n + 1):
            shop = shops[cid - 1]
            shop_of[cid] = shop
            english = rand() < 0.3
            lang_of[cid] = english
            if english:
                name = f"{EN_NAMES[cid % len(EN_NAMES)]} {cid}"
            else:
                name = SURNAMES[cid % len(SURNAMES)] + GIVEN[(cid * 7) % len(GIVEN)]
            email = f"user{cid}@example.com" if rand() < 0.7 else ""
            tier = "vip" if rand() < 0.03 else "normal"
            lang = "en" if english else "zh-hans"
            yield f"{cid}\t{created}\t{created}\t{shop}\tu{cid}\t{name}\t{email}\t\t\t{tier}\t{lang}\t\\N"

    copy_rows(cursor, target, lines(), freeze=True)
    return shop_of, lang_of


def seed(plan: SeedPlan, *, log: Callable[[str], None] = print) -> SeedReport:
    """Truncate the bench's tables and fill them. The caller has checked this is the bench database."""
    from django.db import connection, transaction

    from tickets.models import Message, Order

    _check_vocabulary()
    rng = random.Random(plan.seed)
    report = SeedReport()
    n = plan.tickets
    total_started = time.perf_counter()
    with transaction.atomic():
        with connection.cursor() as wrapper:
            wrapper.execute("SET LOCAL synchronous_commit = off")
            wrapper.execute("SET LOCAL maintenance_work_mem = '256MB'")
            tables = _existing(wrapper, TRUNCATE)
            wrapper.execute(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE")
        org = _organisation(plan, rng, report)
        cursor = connection.cursor().cursor

        # customers: ~0.4 per ticket, so many customers come back
        started = time.perf_counter()
        n_customers = max(10, int(n * 0.4))
        shop_of, lang_of = _customers(cursor, plan, rng, org, n_customers)
        report.rows["customers"] = n_customers
        report.timed("customers", started)
        log(f"  customers: {n_customers:,} in {report.seconds['customers']:.1f}s")

        # plan each ticket's customer, creation time and order (orders are copied before tickets: FK)
        started = time.perf_counter()
        span = DAYS * 86400
        start = plan.now - span
        step = span / n
        ticket_customer = array("i", [0]) * (n + 1)
        ticket_order = array("i", [0]) * (n + 1)
        rand = rng.random
        order_target = CopyTarget.for_model(
            Order,
            [
                "id",
                "created_at",
                "updated_at",
                "shop_id",
                "order_no",
                "customer_id",
                "product",
                "quantity",
                "amount",
                "currency",
                "payment_status",
                "payment_channel",
                "delivery_status",
                "card_keys",
                "paid_at",
                "delivered_at",
                "raw",
            ],
        )

        null = r"\N"

        def order_lines() -> Iterator[str]:
            order_id = 0
            for tid in range(1, n + 1):
                customer = 1 + int(n_customers * rand() ** 1.6)  # skewed: regulars open many tickets
                customer = min(customer, n_customers)
                ticket_customer[tid] = customer
                if rand() >= 0.75:
                    continue
                order_id += 1
                ticket_order[tid] = order_id
                at = start + (tid - 1) * step - rand() * 3600
                ts = _ts(at)
                product = PRODUCTS[int(rand() * len(PRODUCTS))]
                quantity = 1 + int(rand() * 3)
                amount = f"{quantity * (10 + int(rand() * 490))}.00"
                paid = rand() < 0.92
                payment = "paid" if paid else "failed"
                delivery = ("delivered" if rand() < 0.7 else "pending") if paid else "failed"
                day = datetime.fromtimestamp(at, UTC).strftime("%Y%m%d")
                order_no = f"{day}{order_id:010d}"
                channel = "alipay" if rand() < 0.6 else "wechat"
                yield (
                    f"{order_id}\t{ts}\t{ts}\t{shop_of[customer]}\t{order_no}\t{customer}\t{product}\t{quantity}\t"
                    f"{amount}\tCNY\t{payment}\t{channel}\t{delivery}\t\t{ts if paid else null}\t"
                    f"{ts if delivery == 'delivered' else null}\t{{}}"
                )

        report.rows["orders"] = copy_rows(cursor, order_target, order_lines(), freeze=True)
        report.timed("orders", started)
        log(f"  orders: {report.rows['orders']:,} in {report.seconds['orders']:.1f}s")

        # tickets
        started = time.perf_counter()
        ticket_state = _copy_tickets(cursor, plan, rng, org, ticket_customer, ticket_order, shop_of, lang_of)
        report.rows["tickets"] = n
        report.timed("tickets", started)
        log(f"  tickets: {n:,} in {report.seconds['tickets']:.1f}s")

        started = time.perf_counter()
        report.rows["messages"] = _copy_messages(cursor, plan, rng, org, ticket_state, Message)
        report.timed("messages", started)
        log(f"  messages: {report.rows['messages']:,} in {report.seconds['messages']:.1f}s")

        started = time.perf_counter()
        with connection.cursor() as wrapper:
            for table in COPIED:  # constants, not input
                wrapper.execute(
                    f"SELECT setval(pg_get_serial_sequence(%s, 'id'), GREATEST((SELECT max(id) FROM {table}), 1))",  # noqa: S608
                    [table],
                )
            wrapper.execute("SELECT setval('tickets_ticket_reference_seq', %s)", [max(n, 1)])
    report.timed("FK checks (deferred) + commit", started)

    started = time.perf_counter()
    with connection.cursor() as wrapper:
        tables = _existing(wrapper, TRUNCATE)
        wrapper.execute(f"VACUUM (ANALYZE) {', '.join(tables)}")
    report.timed("vacuum analyze", started)
    report.seconds["total"] = time.perf_counter() - total_started
    return report


@dataclass
class TicketState:
    """What the message pass needs to know about each ticket, kept in compact arrays."""

    lang: array  # 1 = English
    messages: array
    assignee: array
    created: array
    updated: array
    internal_ok: array


def _copy_tickets(cursor, plan, rng, org: Org, ticket_customer, ticket_order, shop_of, lang_of) -> TicketState:
    from tickets.models import Ticket

    n = plan.tickets
    span = DAYS * 86400
    start = plan.now - span
    step = span / n
    rand = rng.random
    queue_weights = _zipf_weights(len(org.queue_ids), 0.8)
    queues = rng.choices(org.queue_ids, weights=queue_weights, k=n)
    unsolved_status = _picker(rng, UNSOLVED_STATUSES)
    priority = _picker(rng, PRIORITIES)
    channel = _picker(rng, CHANNELS)
    categories = org.category_ids
    agents = org.agent_ids
    queue_agents = org.queue_agents
    per_ticket = plan.messages_per_ticket
    state = TicketState(
        lang=array("b", [0]) * (n + 1),
        messages=array("H", [0]) * (n + 1),
        assignee=array("i", [0]) * (n + 1),
        created=array("d", [0.0]) * (n + 1),
        updated=array("d", [0.0]) * (n + 1),
        internal_ok=array("b", [0]) * (n + 1),
    )
    target = CopyTarget.for_model(
        Ticket,
        [
            "id",
            "created_at",
            "updated_at",
            "shop_id",
            "reference",
            "subject",
            "status",
            "priority",
            "category_id",
            "channel",
            "customer_id",
            "order_id",
            "queue_id",
            "assignee_id",
            "language",
            "last_seq",
            "first_response_at",
            "last_customer_message_at",
            "last_agent_message_at",
            "solved_at",
            "closed_at",
            "csat_score",
            "csat_comment",
        ],
    )
    null = r"\N"

    def lines() -> Iterator[str]:
        for tid in range(1, n + 1):
            created = start + (tid - 1) * step + rand() * step
            age_days = (plan.now - created) / 86400
            p_unsolved = next(p for limit, p in UNSOLVED_BY_AGE if age_days < limit)
            unsolved = rand() < p_unsolved
            status = unsolved_status() if unsolved else ("solved" if age_days < 7 else "closed")
            queue = queues[tid - 1] if rand() < 0.98 else None
            if status == "new":
                assigned = rand() < 0.2
            elif unsolved:
                assigned = rand() < 0.9
            else:
                assigned = rand() < 0.95
            assignee = 0
            if assigned:
                pool = queue_agents[queue] if queue is not None and rand() < 0.97 else agents
                assignee = pool[int(rand() * len(pool))]
            customer = ticket_customer[tid]
            english = lang_of[customer]
            lang = "en" if english else "zh-hans"
            subject_pool = SUBJECTS[lang]
            subject = subject_pool[int(rand() * len(subject_pool))]
            if rand() < 0.5:
                subject = f"{subject} - {PRODUCTS[int(rand() * len(PRODUCTS))]}"
            count = 1 + int(rand() * (2 * per_ticket - 1)) if per_ticket > 0 else 0
            if unsolved:
                updated = created + rand() * min(plan.now - created, 3 * 86400)
            else:
                updated = created + rand() * min(plan.now - created, 7 * 86400)
            updated = min(updated, plan.now)
            if status == "new":
                count = min(count, 1)
            answered = status != "new" and count > 1
            first_response = _ts(created + (updated - created) * 0.2) if answered else null
            last_customer = _ts(created) if count else null
            last_agent = _ts(updated) if answered else null
            solved_at = _ts(updated) if status in ("solved", "closed") else null
            closed_at = _ts(updated) if status == "closed" else null
            csat = str(1 + min(4, int(rand() * 6))) if status == "closed" and rand() < 0.2 else null
            order = ticket_order[tid]
            category = categories[int(rand() * len(categories))] if rand() < 0.8 else None
            state.lang[tid] = english
            state.messages[tid] = count
            state.assignee[tid] = assignee
            state.created[tid] = created
            state.updated[tid] = updated
            ts_created, ts_updated = _ts(created), _ts(updated)
            yield (
                f"{tid}\t{ts_created}\t{ts_updated}\t{shop_of[customer]}\tT-{tid:06d}\t{subject}\t{status}\t"
                f"{priority()}\t{category or null}\t{channel()}\t{customer}\t{order or null}\t{queue or null}\t"
                f"{assignee or null}\t{lang}\t{count}\t{first_response}\t{last_customer}\t{last_agent}\t"
                f"{solved_at}\t{closed_at}\t{csat}\t"
            )

    copy_rows(cursor, target, lines(), freeze=True)
    return state


def _copy_messages(cursor, plan, rng, org: Org, state: TicketState, Message) -> int:
    n = plan.tickets
    rand = rng.random
    target = CopyTarget.for_model(
        Message,
        [
            "id",
            "ticket_id",
            "seq",
            "author_kind",
            "author_id",
            "author_name",
            "body",
            "is_internal",
            "channel",
            "client_msg_id",
            "created_at",
        ],
    )
    names = org.agent_names
    agents = org.agent_ids
    null = r"\N"

    def body(lines: list[str], k: int) -> str:
        parts = [lines[int(rand() * len(lines))] for _ in range(k)]
        return "<br>".join(parts)

    def rows() -> Iterator[str]:
        mid = 0
        for tid in range(1, n + 1):
            count = state.messages[tid]
            if not count:
                continue
            english = state.lang[tid]
            lang = "en" if english else "zh-hans"
            customer_lines, agent_lines = CUSTOMER_LINES[lang], AGENT_LINES[lang]
            created, updated = state.created[tid], state.updated[tid]
            gap = (updated - created) / count
            assignee = state.assignee[tid] or agents[int(rand() * len(agents))]
            for seq in range(1, count + 1):
                mid += 1
                at = _ts(created + gap * (seq - 1))
                if seq % 2 == 1:  # customer
                    text = body(customer_lines, 1 + int(rand() * 2))
                    if seq == 1 and rand() < 0.5:
                        text += f"<br>{PRODUCTS[int(rand() * len(PRODUCTS))]}"
                    if rand() < 0.1:
                        text += f"<br>{'transaction' if english else '交易号'} TX{int(rand() * 1e8):08d}"
                    yield f"{mid}\t{tid}\t{seq}\tcustomer\t{null}\t\t{text}\tf\tweb\t{null}\t{at}"
                elif rand() < 0.05:  # internal note
                    text = NOTES[int(rand() * len(NOTES))]
                    yield f"{mid}\t{tid}\t{seq}\tagent\t{assignee}\t{names[assignee]}\t{text}\tt\tweb\t{null}\t{at}"
                else:
                    text = body(agent_lines, 1 + int(rand() * 2))
                    yield f"{mid}\t{tid}\t{seq}\tagent\t{assignee}\t{names[assignee]}\t{text}\tf\tweb\t{null}\t{at}"

    return copy_rows(cursor, target, rows(), freeze=True)
