"""A password each rule refuses, for one person: Kavya Iyer, lotus.garden@clinic.test.

Every way of setting a password (admin form, `flask create-user`, the account page) is tested
with the same table, so each proves it asks the one policy.
"""

import pytest

from app.services.password_policy import HAS_EMAIL, HAS_NAME, TOO_COMMON, TOO_LONG, TOO_SHORT

NAME = "Kavya Iyer"
EMAIL = "lotus.garden@clinic.test"
GOOD = "monsoon over the western ghats"

REFUSED = [
    pytest.param("eleven char", TOO_SHORT, id="too-short"),
    pytest.param("m" * 129, TOO_LONG, id="too-long"),
    pytest.param("Qwertyuiop123", TOO_COMMON, id="common"),
    pytest.param("the iyer household", HAS_NAME, id="name"),
    pytest.param("my garden of herbs", HAS_EMAIL, id="email"),
]
