"""The audit trail: every state change, hash-chained, written in the caller's transaction.

The trail is AUDIT_CHAINS hash chains (default 16). A transaction appends all its events to one chain, picked
by a hash of the first object it audits, and takes that chain's advisory lock, held until COMMIT. With one
global chain every audited write of the product queued behind the previous one's fsync (~11 ms here, so ~90
writes/s in all, bench/chat_load.py); with 16, writes about different objects commit side by side and
PostgreSQL groups their WAL flushes. One lock per transaction also means no two transactions can each hold a
chain the other waits for (locking a chain per object deadlocked: accept audits the ticket and the chat).
Tamper evidence is per chain: a removed or altered event breaks its chain's links,
and each chain's head is signed by the periodic checkpoint. Lowering AUDIT_CHAINS later is safe only for
chains that were checkpointed (verification walks the configured chains and every checkpointed one).
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import connection, models, transaction
from django.utils import timezone

from helpdesk import context
from helpdesk.models import AuditCheckpoint, AuditEvent

GENESIS = "0" * 64
# Per chain, an advisory lock (this key, the chain) serialises appends so each event sees its true predecessor.
_CHAIN_LOCK = 0x0CA2DDE5
DEFAULT_CHAINS = 16
# Table and column names come from model metadata; values are bound parameters.
_LAST_HASH_SQL = f'SELECT "hash" FROM "{AuditEvent._meta.db_table}" WHERE "chain" = %s ORDER BY "id" DESC LIMIT 1'  # noqa: S608


def chain_count() -> int:
    return max(1, int(getattr(settings, "AUDIT_CHAINS", DEFAULT_CHAINS)))


def chain_for(object_type: str, object_id: str) -> int:
    """The chain an object's events go to (events about nothing in particular: chain 0)."""
    count = chain_count()
    if count == 1 or not object_type:
        return 0
    digest = hashlib.sha256(f"{object_type}:{object_id}".encode()).hexdigest()
    return int(digest[:8], 16) % count


class AuditError(Exception):
    pass


def _jsonable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return {"id": value.pk, "repr": str(value)[:100]}
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        items = [_jsonable(v) for v in value]
        return sorted(items, key=str) if isinstance(value, set) else items
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        # jsonb rewrites some floats (1e16 -> 10000000000000000): store their repr so the hash survives.
        return repr(value)
    return str(value)  # datetimes, decimals, enums, Secret (which prints masked)


def _digest(prev_hash: str, fields: dict[str, Any]) -> str:
    payload = json.dumps(fields, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256((prev_hash + payload).encode()).hexdigest()


def _hashed_fields(event: AuditEvent) -> dict[str, Any]:
    return {
        "created_at": event.created_at.isoformat(),
        "actor_id": event.actor_id,
        "actor_label": event.actor_label,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "object_repr": event.object_repr,
        "changes": event.changes,
        "ip": event.ip,
        "request_id": event.request_id,
    }


def audit_record(
    *,
    actor: Any | None,
    action: str,
    obj: models.Model | None = None,
    changes: dict[str, Any] | None = None,
) -> AuditEvent:
    """Append an event. Must run inside the transaction that makes the change it describes."""
    if not connection.in_atomic_block:
        raise AuditError("audit_record must be called inside the change's transaction")
    ctx = context.current()
    user = actor if getattr(actor, "is_authenticated", False) else None
    label = user.get_username() if user else (ctx.actor_label or "system")
    object_type = obj._meta.label_lower if obj is not None else ""
    object_id = str(obj.pk) if obj is not None else ""
    chain = _transaction_chain(object_type, object_id)
    with connection.cursor() as cursor:  # written out: every audited write runs it (a quarter of the ORM's CPU)
        cursor.execute(_LAST_HASH_SQL, [chain])
        row = cursor.fetchone()
    last = row[0] if row else None
    event = AuditEvent(
        chain=chain,
        created_at=timezone.now(),
        actor=user,
        actor_label=label[:150],
        action=action,
        object_type=object_type,
        object_id=object_id,
        object_repr=str(obj)[:200] if obj is not None else "",
        changes=_jsonable(changes or {}),
        ip=ctx.ip,
        request_id=ctx.request_id,
        prev_hash=last or GENESIS,
    )
    event.hash = _digest(event.prev_hash, _hashed_fields(event))
    event.save(force_insert=True)
    return event


def _transaction_chain(object_type: str, object_id: str) -> int:
    """The chain of the current transaction: chosen by its first event, reused by the others, and locked on
    every append. The lock is taken each time (again within one transaction it is a no-op round trip) because
    "the same transaction" cannot be told reliably from the outermost Atomic: a service decorated with
    @transaction.atomic reuses one Atomic object for every call, so a remembered chain may be a previous
    transaction's, whose lock is gone."""
    outermost = connection.atomic_blocks[0]
    held = getattr(connection, "_carddesk_audit_chain", None)
    chain = held[1] if held is not None and held[0] is outermost else chain_for(object_type, object_id)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s, %s)", [_CHAIN_LOCK, chain])
    connection._carddesk_audit_chain = (outermost, chain)
    return chain


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_bad_id: int | None = None
    reason: str = ""


def _chains_to_verify() -> list[int]:
    checkpointed = AuditCheckpoint.objects.values_list("chain", flat=True).distinct()
    return sorted(set(range(chain_count())) | set(checkpointed))


def audit_chain_verify(*, batch_size: int = 5000) -> ChainReport:
    """Recompute every hash of every chain in id order; report the first event that does not match."""
    checked = 0
    for chain in _chains_to_verify():
        prev = GENESIS
        last_id = 0
        while True:
            batch = list(AuditEvent.objects.filter(chain=chain, id__gt=last_id).order_by("id")[:batch_size])
            if not batch:
                break
            for event in batch:
                if event.prev_hash != prev:
                    return ChainReport(False, checked, event.id, "previous hash does not match (event removed?)")
                if _digest(prev, _hashed_fields(event)) != event.hash:
                    return ChainReport(False, checked, event.id, "content does not match its hash (event altered)")
                prev = event.hash
                checked += 1
                last_id = event.id
        checkpoint = AuditCheckpoint.objects.filter(chain=chain).order_by("-id").first()
        if checkpoint is not None:
            if not hmac.compare_digest(checkpoint.signature, _sign(checkpoint.last_event_id, checkpoint.last_hash)):
                return ChainReport(False, checked, checkpoint.last_event_id, "checkpoint signature is invalid")
            head = (
                AuditEvent.objects.filter(id=checkpoint.last_event_id, chain=chain)
                .values_list("hash", flat=True)
                .first()
            )
            if head != checkpoint.last_hash:
                return ChainReport(False, checked, checkpoint.last_event_id, "events before the checkpoint are gone")
    return ChainReport(True, checked)


def _sign(last_event_id: int, last_hash: str) -> str:
    message = f"{last_event_id}:{last_hash}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


@transaction.atomic
def audit_checkpoint_create() -> list[AuditCheckpoint]:
    """Sign the current head of each chain that moved since its last checkpoint."""
    created = []
    for chain in range(chain_count()):
        head = AuditEvent.objects.filter(chain=chain).order_by("-id").values("id", "hash").first()
        if head is None:
            continue
        last = AuditCheckpoint.objects.filter(chain=chain).order_by("-id").first()
        if last is not None and last.last_event_id == head["id"]:
            continue
        created.append(
            AuditCheckpoint.objects.create(
                chain=chain,
                last_event_id=head["id"],
                last_hash=head["hash"],
                event_count=AuditEvent.objects.filter(chain=chain, id__lte=head["id"]).count(),
                signature=_sign(head["id"], head["hash"]),
            )
        )
    return created
