def test_signup_and_me(api, sent_mail):
    r = api.post(
        "auth/signup",
        json={
            "email": "Ana@Example.com",
            "password": "a-long-password",
            "name": "Ana",
            "role": "client",
            "timezone": "Europe/London",
            "country": "GB",
        },
    )
    assert r.status_code == 201, r.get_json()
    assert api.get("auth/me").get_json()["email"] == "ana@example.com"
    assert sent_mail[0].to == "ana@example.com"
