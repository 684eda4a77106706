"""Malformed JSON: a 400 in the error shape that says what is wrong, and where."""

from __future__ import annotations

import pytest


@pytest.mark.parametrize(
    ("data", "says"),
    [
        ('{"email": "a@b.co",}', "line 1 column 20"),
        ("{not json", "line 1 column 2"),
        ("[" * 100_000 + "]" * 100_000, "nested too deeply"),
        ('{"email": "a@b.co", "password": ' + "1" * 5000 + "}", "number too large"),
        (b'{"email": "\xff"}', "UTF-8"),
    ],
)
def test_malformed_json_is_a_400_that_says_why(api, data, says):
    response = api.post("auth/login", data=data, content_type="application/json")

    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "bad_request"
    assert error["message"].startswith("The body is not valid JSON: "), error
    assert says in error["message"]
