import json

import pytest

from helpdesk.masking import Secret, mask_card_key, mask_card_keys, mask_phone, mask_text


@pytest.mark.parametrize(
    ("key", "masked"),
    [
        ("ABCD-EFGH-IJKL-7890", "ABCD-****-****-7890"),
        ("ABCDE-FGHIJ-KLMNO", "ABCDE-*****-KLMNO"),
        ("ABCDEFGH12347890", "ABCD********7890"),
        ("X1Y2Z3W4", "X1****W4"),
        ("ABC", "***"),
        ("", ""),
    ],
)
def test_mask_card_key(key, masked):
    assert mask_card_key(key) == masked


@pytest.mark.parametrize(
    ("phone", "masked"),
    [
        ("13812345678", "138****5678"),
        ("+86 138 1234 5678", "+86 138****5678"),
        ("8613812345678", "+86 138****5678"),
        ("123", "*23"),
    ],
)
def test_mask_phone(phone, masked):
    assert mask_phone(phone) == masked


def test_mask_card_keys_masks_each_line():
    assert mask_card_keys("AAAA-BBBB-CCCC-DDDD\nEEEE-FFFF-GGGG-HHHH") == "AAAA-****-****-DDDD\nEEEE-****-****-HHHH"


def test_mask_text_masks_known_secrets_and_shapes():
    text = "卡密 QWERTY12345678UIOP 无效，另一个 ABCD-EFGH-IJKL-7890，电话 13812345678，订单 202611220001"
    masked = mask_text(text, known_secrets=["QWERTY12345678UIOP"])
    assert "QWERTY12345678UIOP" not in masked and "QWER" in masked
    assert "ABCD-****-****-7890" in masked
    assert "138****5678" in masked
    assert "202611220001" in masked  # order numbers stay readable


def test_secret_prints_masked_everywhere_and_refuses_json():
    secret = Secret("13812345678", mask_phone)
    assert str(secret) == f"{secret}" == "138****5678"
    assert "5678" in repr(secret) and "1234" not in repr(secret)
    assert secret.reveal() == "13812345678"
    with pytest.raises(TypeError):
        json.dumps({"phone": secret})
