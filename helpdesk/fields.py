"""Model fields for secrets: encrypted at rest, masked when printed."""

from __future__ import annotations

from collections.abc import Callable

from django.db import models

from helpdesk.crypto import get_cipher
from helpdesk.masking import Secret, mask_card_keys


class _SecretDescriptor:
    """Wraps whatever is assigned (str from code, ciphertext-decrypted str from the DB) into a Secret."""

    def __init__(self, field: EncryptedTextField):
        self.field = field

    def __get__(self, instance, owner=None):
        if instance is None:
            return self
        return instance.__dict__.get(self.field.attname)

    def __set__(self, instance, value):
        if value is not None and not isinstance(value, Secret):
            value = Secret(str(value), self.field.masker)
        instance.__dict__[self.field.attname] = value


class EncryptedTextField(models.TextField):
    """Stores AES-GCM ciphertext; loads as a `Secret` that prints masked.

    Not filterable (ciphertexts are randomised): pair it with a blind-index column where lookups are needed.
    """

    def __init__(self, *args, masker: Callable[[str], str] = mask_card_keys, **kwargs):
        self.masker = masker
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        return name, path, args, kwargs  # masker is presentation, not schema

    def contribute_to_class(self, cls, name, private_only=False):
        super().contribute_to_class(cls, name, private_only=private_only)
        setattr(cls, self.attname, _SecretDescriptor(self))

    @property
    def _context(self) -> str:
        return f"{self.model._meta.label_lower}.{self.attname}"

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return Secret(get_cipher().decrypt(value, context=self._context), self.masker)

    def to_python(self, value):
        if value is None or isinstance(value, Secret):
            return value
        return Secret(str(value), self.masker)

    def get_prep_value(self, value):
        if value is None:
            return None
        plain = value.reveal() if isinstance(value, Secret) else str(value)
        if plain == "":
            return ""
        return get_cipher().encrypt(plain, context=self._context)

    def value_to_string(self, obj):
        # Serialisation (dumpdata) keeps the masked form: fixtures never carry secrets.
        value = self.value_from_object(obj)
        return "" if value is None else str(value)

    def formfield(self, **kwargs):
        return None  # never render a secret into a form; edit through services
