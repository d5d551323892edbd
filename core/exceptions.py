from typing import Any


class ApplicationError(Exception):
    """A rule of the product refused the request; the message is written for the person who sent it.

    `errors` uses the API's error shape: a list of {"field" or "path", "code", "detail"}.
    """

    status_code = 400

    def __init__(self, message: str, *, errors: list[dict[str, Any]] | None = None, status_code: int | None = None):
        super().__init__(message)
        self.message = message
        self.errors = errors or []
        if status_code is not None:
            self.status_code = status_code


class PermissionDeniedError(ApplicationError):
    status_code = 403
