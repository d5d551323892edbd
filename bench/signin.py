"""Signing in through a server's own login form, as a browser does: the session cookie for the HTML scenarios.

No Django here: the same code signs in to the portal and to the peer. The form's CSRF token is read from the page and
sent back with the cookie Django set beside it.
"""

import http.client
import re
from http.cookies import SimpleCookie
from urllib.parse import urlencode

CSRF_FIELD = re.compile(rb'name="csrfmiddlewaretoken" value="([^"]+)"')
TIMEOUT = 60


class SignInError(RuntimeError):
    pass


def _cookies(response: http.client.HTTPResponse) -> dict[str, str]:
    jar: SimpleCookie = SimpleCookie()
    for header in response.headers.get_all("Set-Cookie") or []:
        jar.load(header)
    return {name: morsel.value for name, morsel in jar.items()}


def session_cookie(*, host: str, port: int, login_path: str, username: str, password: str) -> str:
    """Sign in with the login form at `login_path`; the `Cookie` header value that carries the session."""
    connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
    try:
        connection.request("GET", login_path)
        page = connection.getresponse()
        body = page.read()
        cookies = _cookies(page)
        found = CSRF_FIELD.search(body)
        if page.status != 200 or found is None or "csrftoken" not in cookies:  # noqa: PLR2004
            raise SignInError(f"GET {login_path} -> {page.status}: no sign-in form with a CSRF token")
        form = urlencode({"csrfmiddlewaretoken": found.group(1).decode(), "username": username, "password": password})
        connection.close()
        connection = http.client.HTTPConnection(host, port, timeout=TIMEOUT)
        connection.request(
            "POST",
            login_path,
            body=form,
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "Cookie": f"csrftoken={cookies['csrftoken']}",
                "Referer": f"http://{host}:{port}{login_path}",
            },
        )
        answer = connection.getresponse()
        answer.read()
        cookies |= _cookies(answer)
    finally:
        connection.close()
    if answer.status != 302 or "sessionid" not in cookies:  # noqa: PLR2004
        raise SignInError(f"POST {login_path} as {username} -> {answer.status}: not signed in")
    return f"sessionid={cookies['sessionid']}; csrftoken={cookies['csrftoken']}"
