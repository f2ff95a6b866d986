import base64

import pytest
from django.db import connection

from helpdesk.crypto import DecryptionError, FieldCipher, get_cipher
from helpdesk.masking import Secret

KEY_A = base64.b64decode("dGVzdC1rZXktMDAwMDAwMDAwMDAwMDAwMDAwMDAwMDA=")
KEY_B = b"B" * 32


def test_round_trip_and_random_nonce():
    cipher = FieldCipher([KEY_A])
    one, two = cipher.encrypt("ABCD", context="c"), cipher.encrypt("ABCD", context="c")
    assert one != two and one.startswith("enc1:")
    assert cipher.decrypt(one, context="c") == "ABCD"


def test_ciphertext_is_bound_to_its_column():
    cipher = FieldCipher([KEY_A])
    token = cipher.encrypt("13812345678", context="tickets.customer.phone")
    with pytest.raises(DecryptionError):
        cipher.decrypt(token, context="tickets.order.card_keys")


def test_tampering_is_detected():
    cipher = FieldCipher([KEY_A])
    prefix, key_id, payload = cipher.encrypt("secret", context="c").split(":")
    raw = bytearray(base64.b64decode(payload))
    raw[-1] ^= 1
    with pytest.raises(DecryptionError):
        cipher.decrypt(f"{prefix}:{key_id}:{base64.b64encode(bytes(raw)).decode()}", context="c")


def test_rotation_new_key_encrypts_old_key_still_decrypts():
    old = FieldCipher([KEY_A]).encrypt("legacy", context="c")
    rotated = FieldCipher([KEY_B, KEY_A])
    assert rotated.decrypt(old, context="c") == "legacy"
    assert not rotated.is_current(old)
    assert rotated.is_current(rotated.encrypt("new", context="c"))
    with pytest.raises(DecryptionError):
        FieldCipher([KEY_B]).decrypt(old, context="c")


def test_bad_keys_are_refused():
    from django.core.exceptions import ImproperlyConfigured

    with pytest.raises(ImproperlyConfigured):
        FieldCipher([])
    with pytest.raises(ImproperlyConfigured):
        FieldCipher([b"short"])


@pytest.mark.django_db
def test_fields_are_encrypted_in_the_database_and_masked_in_python(shop):
    from tickets import services

    customer = services.customer_upsert(shop=shop, actor=None, external_id="u1", phone="13812345678")
    order = services.order_upsert(
        shop=shop, order_no="NO-9", actor=None, customer=customer, card_keys=["ABCD-EFGH-IJKL-7890"]
    )
    with connection.cursor() as cursor:
        cursor.execute("SELECT phone FROM tickets_customer WHERE id = %s", [customer.pk])
        (phone_raw,) = cursor.fetchone()
        cursor.execute("SELECT card_keys FROM tickets_order WHERE id = %s", [order.pk])
        (keys_raw,) = cursor.fetchone()
    assert phone_raw.startswith("enc1:") and "1381234" not in phone_raw
    assert keys_raw.startswith("enc1:") and "EFGH" not in keys_raw
    customer.refresh_from_db()
    order.refresh_from_db()
    assert isinstance(customer.phone, Secret) and str(customer.phone) == "138****5678"
    assert str(order.card_keys) == "ABCD-****-****-7890"
    assert order.card_keys.reveal() == "ABCD-EFGH-IJKL-7890"
    assert customer.phone_digest == get_cipher().blind_index("13812345678")
