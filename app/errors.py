"""One error shape for the whole API: HTTP status + ``{"detail": "what to change"}``."""


class ApiError(Exception):
    """A request the app refuses; ``status_code`` is the HTTP status to answer."""

    def __init__(self, status_code: int, detail: str):
        super().__init__(detail)
        self.status_code, self.detail = status_code, detail
