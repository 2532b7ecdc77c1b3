def test_login_page_is_served(client):
    assert client.get("/login").status_code == 200
