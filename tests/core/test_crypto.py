"""The cipher and the keys (kehu/core/crypto.py): what a stored value looks like, what opens
it and what does not, where keys come from, and the blind index."""

from __future__ import annotations

import base64
import os
import stat

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import HealthCheck, given
from hypothesis import settings as hyp_settings
from hypothesis import strategies as st

from kehu.config.env import env_choices
from kehu.core import crypto

K1, K2, INDEX = (base64.b64encode(bytes([n]) * 32).decode() for n in (1, 2, 3))


@pytest.fixture
def keys(settings):
    """Two data keys from the environment, K1 current."""
    settings.KEHU_ENCRYPTION_KEYS = f"{K1},{K2}"
    settings.KEHU_BLIND_INDEX_KEY = INDEX
    settings.KEHU_ENCRYPT_FIELDS = ["phones", "emails", "wechat"]
    return settings


def test_a_value_is_sealed_with_the_current_key_and_its_id_and_opens_again(keys):
    sealed = crypto.encrypt("+8613812345678", "customers_customer.phones")
    assert sealed.startswith(f"enc:v1:{crypto.key_id(base64.b64decode(K1))}:")
    assert "13812345678" not in sealed
    assert sealed != crypto.encrypt("+8613812345678", "customers_customer.phones")  # fresh nonce
    assert crypto.decrypt(sealed, "customers_customer.phones") == "+8613812345678"


def test_an_altered_ciphertext_is_refused_loudly_never_shown_as_garbage(keys):
    sealed = crypto.encrypt("110105194912310021", "customers_customer.id_number")
    body = sealed[-10:]
    flipped = sealed[:-10] + ("A" if body[0] != "A" else "B") + body[1:]
    with pytest.raises(crypto.DecryptionError, match="integrity"):
        crypto.decrypt(flipped, "customers_customer.id_number")
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(sealed[:-20], "customers_customer.id_number")


def test_a_ciphertext_pasted_into_another_column_does_not_open(keys):
    sealed = crypto.encrypt("wx_alice_01", "customers_customer.wechat")
    with pytest.raises(crypto.DecryptionError, match="customers_contact.wechat"):
        crypto.decrypt(sealed, "customers_contact.wechat")


def test_a_relabelled_key_id_does_not_open(keys):
    sealed = crypto.encrypt("a@b.cn", "customers_contact.email")
    other = crypto.key_id(base64.b64decode(K2))
    moved = sealed.replace(crypto.stored_key_id(sealed), other, 1)
    with pytest.raises(crypto.DecryptionError):
        crypto.decrypt(moved, "customers_contact.email")


def test_an_old_key_still_decrypts_until_it_is_removed(keys):
    old = crypto.encrypt("+8613900001111", "x.y")
    keys.KEHU_ENCRYPTION_KEYS = f"{K2},{K1}"  # K2 now current, K1 decrypts only
    assert crypto.stored_key_id(crypto.encrypt("z", "x.y")) == crypto.key_id(base64.b64decode(K2))
    assert crypto.decrypt(old, "x.y") == "+8613900001111"
    keys.KEHU_ENCRYPTION_KEYS = K2
    with pytest.raises(crypto.DecryptionError, match="not configured"):
        crypto.decrypt(old, "x.y")


def test_keys_must_be_256_bits_of_base64_with_a_separate_index_key(settings):
    settings.KEHU_BLIND_INDEX_KEY = INDEX
    settings.KEHU_ENCRYPTION_KEYS = base64.b64encode(b"short").decode()
    with pytest.raises(ImproperlyConfigured, match="32 bytes"):
        crypto.keyring()
    settings.KEHU_ENCRYPTION_KEYS = "not base64!"
    with pytest.raises(ImproperlyConfigured, match="base64"):
        crypto.keyring()
    settings.KEHU_ENCRYPTION_KEYS = INDEX
    with pytest.raises(ImproperlyConfigured, match="must differ"):
        crypto.keyring()
    settings.KEHU_ENCRYPTION_KEYS, settings.KEHU_BLIND_INDEX_KEY = K1, ""
    with pytest.raises(ImproperlyConfigured, match="blind-index"):
        crypto.keyring()


def test_without_settings_a_key_file_is_written_once_readable_by_its_owner_only(settings,
                                                                                tmp_path):
    settings.KEHU_ENCRYPTION_KEYS = settings.KEHU_BLIND_INDEX_KEY = ""
    settings.KEHU_KEY_FILE = tmp_path / "keys"
    ring = crypto.keyring()
    assert stat.S_IMODE(os.stat(tmp_path / "keys").st_mode) == 0o600
    text = (tmp_path / "keys").read_text()
    assert text.count("\ndata ") == 1 and text.count("\nindex ") == 1
    assert not crypto.write_key_file(tmp_path / "keys")  # never overwritten
    assert (tmp_path / "keys").read_text() == text
    crypto.reset()
    assert crypto.keyring() == ring


def test_a_key_file_lists_an_index_key_and_data_keys_first_current(tmp_path):
    ring = crypto.parse_key_file(f"# comment\nindex {INDEX}\ndata {K2}  # new\ndata {K1}\n", "f")
    assert ring.ids == [crypto.key_id(base64.b64decode(k)) for k in (K2, K1)]
    with pytest.raises(ImproperlyConfigured, match="f:2"):
        crypto.parse_key_file(f"index {INDEX}\nsecret {K1}\n", "f")
    with pytest.raises(ImproperlyConfigured, match="no data key"):
        crypto.parse_key_file(f"index {INDEX}\n", "f")
    with pytest.raises(ImproperlyConfigured, match="twice"):
        crypto.parse_key_file(f"index {INDEX}\ndata {K1}\ndata {K1}\n", "f")


def test_the_fields_to_encrypt_are_checked_at_start(monkeypatch):
    monkeypatch.setenv("KEHU_ENCRYPT_FIELDS", "phones, emails")
    assert env_choices("KEHU_ENCRYPT_FIELDS", ["phones", "emails", "wechat"]) == ["phones", "emails"]
    monkeypatch.setenv("KEHU_ENCRYPT_FIELDS", "phones,address")
    with pytest.raises(ImproperlyConfigured, match="unknown address"):
        env_choices("KEHU_ENCRYPT_FIELDS", ["phones", "emails", "wechat"])


@pytest.mark.usefixtures("keys")
@hyp_settings(max_examples=200, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=st.text(max_size=300), label=st.sampled_from(["a.b", "customers_customer.phones"]))
def test_any_text_survives_encrypt_then_decrypt(text, label):
    sealed = crypto.encrypt(text, label)
    assert crypto.is_ciphertext(sealed)
    assert crypto.decrypt(sealed, label) == text


@pytest.mark.usefixtures("keys")
@hyp_settings(max_examples=200, deadline=None,
              suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(local=st.from_regex(r"[a-z0-9._]{1,20}", fullmatch=True),
       other=st.from_regex(r"[a-z0-9._]{1,20}", fullmatch=True))
def test_equal_normalised_values_have_equal_blind_indexes_and_others_differ(local, other):
    from kehu.customers.encryption import stored_key

    email = f"{local}@example.cn"
    assert stored_key("email", email.upper()) == stored_key("email", email)
    assert crypto.is_blind(stored_key("email", email))
    if other != local:
        assert stored_key("email", f"{other}@example.cn") != stored_key("email", email)
    # one value of two kinds is two indexes: a phone never matches a WeChat id
    assert stored_key("wechat", local) != crypto.blind_index("email", local)


def test_the_blind_index_depends_on_its_key(keys):
    first = crypto.blind_index("phone", "+8613812345678")
    keys.KEHU_BLIND_INDEX_KEY = base64.b64encode(bytes([9]) * 32).decode()
    assert crypto.blind_index("phone", "+8613812345678") != first
